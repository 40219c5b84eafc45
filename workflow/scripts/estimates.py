"""Snakemake entry: shares per indicator x segment with Wilson CIs -> estimates.csv."""

import pandas as pd

from smesocial.config import load_harmonised, load_indicators
from smesocial.runner import log, run_step
from smesocial.stats import share_estimates
from smesocial.tables import write_csv


def step(snakemake) -> None:
    harmonised = load_harmonised(snakemake.input.harmonised)
    indicators = load_indicators(snakemake.input.indicators, harmonised.platforms,
                                 harmonised.purposes)
    clean = pd.read_parquet(snakemake.input.clean)
    # The clean table carries every harmonised variable; one this wave never asked is all NA.
    # Its indicators are left out (and listed in the log) rather than reported as empty rows.
    not_asked = {i for i, ind in indicators.items()
                 if ind.variable in clean.columns and clean[ind.variable].isna().all()}
    if not_asked:
        log.info("not asked in this wave, no estimates: %s", ", ".join(sorted(not_asked)))
    indicators = {i: ind for i, ind in indicators.items() if i not in not_asked}
    estimates = share_estimates(
        clean, indicators, wave=snakemake.wildcards.wave, alpha=snakemake.config["alpha"]
    )
    write_csv(estimates, snakemake.output[0])
    log.info("%d estimates for %d indicators", len(estimates), estimates["indicator"].nunique())


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
