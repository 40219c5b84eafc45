"""Snakemake entry: results/summary.md from the flow, segment, reproduction and raw-column tables."""

from pathlib import Path

import pandas as pd

from smesocial.runner import run_step
from smesocial.summary import summary_markdown


def by_wave(paths, **read_options) -> dict[str, pd.DataFrame]:
    # results/<wave>/<file>: the wave is the parent folder's name.
    return {Path(p).parent.name: pd.read_csv(p, **read_options) for p in paths}


def step(snakemake) -> None:
    text = summary_markdown(
        snakemake.params.config,
        by_wave(snakemake.input.flows),
        by_wave(snakemake.input.counts),
        by_wave(snakemake.input.reproductions),
        # a raw column named "NA" or "None" is a name, not a missing value
        by_wave(snakemake.input.raw_columns, keep_default_na=False),
    )
    Path(snakemake.output[0]).write_text(text, encoding="utf-8")


run_step(snakemake, step)  # noqa: F821
