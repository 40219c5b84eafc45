"""Snakemake entry: every notebook's figure manifest as one table -> results/figures/figures.csv
(figure, format, path, sha256, caption, sources, notebook, executed notebook, rule)."""

from smesocial.notebooks import merge_manifests
from smesocial.runner import log, run_step
from smesocial.tables import write_csv


def step(snakemake) -> None:
    merged = merge_manifests(snakemake.input.manifests)
    write_csv(merged, snakemake.output[0])
    log.info("%d figure files of %d figures", len(merged), merged["figure"].nunique())


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
