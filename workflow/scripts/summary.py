"""Snakemake entry: results/summary.md from the flow, segment and reproduction tables."""

from pathlib import Path

import pandas as pd

from smesocial.runner import run_step
from smesocial.summary import summary_markdown


def by_wave(paths) -> dict[str, pd.DataFrame]:
    # results/<wave>/<file>: the wave is the parent folder's name.
    return {Path(p).parent.name: pd.read_csv(p) for p in paths}


def step(snakemake) -> None:
    text = summary_markdown(
        snakemake.params.config,
        by_wave(snakemake.input.flows),
        by_wave(snakemake.input.counts),
        by_wave(snakemake.input.reproductions),
    )
    Path(snakemake.output[0]).write_text(text, encoding="utf-8")


run_step(snakemake, step)  # noqa: F821
