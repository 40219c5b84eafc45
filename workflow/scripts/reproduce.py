"""Snakemake entry: published vs recomputed -> reproduction.csv and a readable reproduction.md."""

from pathlib import Path

import pandas as pd

from smesocial.config import load_yaml
from smesocial.reproduce import check_rank_claims, compare_published, reproduction_markdown
from smesocial.runner import log, run_step
from smesocial.tables import write_csv


def step(snakemake) -> None:
    wave = snakemake.wildcards.wave
    estimates = pd.read_csv(snakemake.input.estimates)
    published = load_yaml(snakemake.input.published)
    config = snakemake.params.config
    table = compare_published(estimates, published, config["reproduction"]["tolerance_pp"])
    claims = check_rank_claims(estimates, published)
    write_csv(table, snakemake.output.table)
    disclosure = " ".join(config["waves"][wave]["disclosure"].split())
    Path(snakemake.output.summary).write_text(
        reproduction_markdown(wave, table, claims, published, disclosure), encoding="utf-8"
    )
    log.info("reproduction: %s", table["status"].value_counts().to_dict())


run_step(snakemake, step)  # noqa: F821
