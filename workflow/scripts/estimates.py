"""Snakemake entry: shares per indicator x segment with Wilson CIs -> estimates.csv."""

import pandas as pd

from smesocial.config import load_harmonised, load_indicators
from smesocial.runner import log, run_step
from smesocial.estimates import asked_indicators, share_estimates
from smesocial.tables import write_csv


def step(snakemake) -> None:
    harmonised = load_harmonised(snakemake.input.harmonised)
    indicators = load_indicators(snakemake.input.indicators, harmonised.platforms,
                                 harmonised.purposes)
    clean = pd.read_parquet(snakemake.input.clean)
    indicators, not_asked = asked_indicators(clean, indicators)
    if not_asked:
        log.info("not asked in this wave, no estimates: %s", ", ".join(not_asked))
    estimates = share_estimates(
        clean, indicators, wave=snakemake.wildcards.wave, alpha=snakemake.params.config["alpha"]
    )
    write_csv(estimates, snakemake.output[0])
    log.info("%d estimates for %d indicators", len(estimates), estimates["indicator"].nunique())


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
