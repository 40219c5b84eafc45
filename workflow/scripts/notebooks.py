"""Snakemake entry: execute every source notebook (jupytext percent scripts, notebooks/*.py)
with papermill on one kernel (`smesocial`, cwd = the repository root so their relative paths
work, parameters from the rule), keep each executed notebook for audit without the times
papermill records, so that two runs give the same bytes, and merge the notebooks' figure
manifests into results/figures/figures.csv. A notebook that fails is kept beside the rule's log
(results/logs/notebooks/<name>.failed.ipynb) to show where it stopped."""

from pathlib import Path

from smesocial.figure_manifest import merge_manifests, write_manifest
from smesocial.notebook_runs import NotebookRun, execute_notebooks
from smesocial.runner import log, run_step


def step(snakemake) -> None:
    runs = [NotebookRun(**run) for run in snakemake.params.runs]
    log_file = Path(snakemake.log[0])
    execute_notebooks(runs, snakemake.rule, failed_dir=log_file.with_suffix(""))
    merged = merge_manifests(snakemake.output.manifests)
    write_manifest(merged, snakemake.output.merged)
    log.info("%d notebooks; %d figure files of %d figures", len(runs), len(merged),
             len({row["figure"] for row in merged}))


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
