"""Snakemake entry: every draw's battery beside the shipped one -> robustness.csv (per battery
row: share of draws significant after Holm, median and range of p and effect) and draws.csv."""

import pandas as pd

from smesocial.ensemble import draw_tests, draws_table, robustness
from smesocial.runner import log, run_step
from smesocial.tables import write_csv


def step(snakemake) -> None:
    draws = draw_tests(list(snakemake.input.batches), list(snakemake.params.draws))
    table = robustness(pd.read_csv(snakemake.input.shipped), draws,
                       alpha=snakemake.params.config["alpha"],
                       identification=pd.read_csv(snakemake.input.identification))
    write_csv(table, snakemake.output.robustness)
    write_csv(draws_table(snakemake.params.draws), snakemake.output.draws)
    log.info("%d battery rows over %d draws; %d significant after Holm in every draw; %s",
             len(table), len(draws), int((table["share_significant"] == 1).sum()),
             table["class"].value_counts().to_dict())


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
