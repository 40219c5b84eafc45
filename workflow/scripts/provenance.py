"""Snakemake entry: results/provenance.json (checksums, producing rule/script, versions, config)."""

from pathlib import Path

from smesocial.provenance import build_manifest, write_manifest
from smesocial.runner import read_everything, run_step


def step(snakemake) -> None:
    manifest = build_manifest(
        config=read_everything(snakemake.params.config),
        inputs=[*snakemake.input.raw, *snakemake.input.config_files],
        outputs=list(snakemake.input.outputs),
        scripts_by_rule=snakemake.params.scripts_by_rule,
        inputs_of=snakemake.params.inputs_of,
        metadata_dir=Path(".snakemake/metadata"),
        repo=Path("."),
        requirements=Path("workflow/envs/requirements.txt"),
    )
    write_manifest(manifest, snakemake.output[0])


run_step(snakemake, step)  # noqa: F821
