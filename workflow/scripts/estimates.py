"""Snakemake entry: a wave's shares -> estimates.csv (per indicator x segment, Wilson CIs) and
item_estimates.parquet (the shares behind the hypothesis battery's tests, unweighted and, where
the wave's weights vary, weighted)."""

import pandas as pd

from smesocial.config import load_harmonised, load_indicators
from smesocial.estimates import asked_indicators, item_estimates, share_estimates
from smesocial.hypotheses import load_hypotheses
from smesocial.runner import log, run_step
from smesocial.tables import write_csv, write_parquet


def step(snakemake) -> None:
    wave, alpha = snakemake.wildcards.wave, snakemake.params.config["alpha"]
    harmonised = load_harmonised(snakemake.input.harmonised)
    indicators = load_indicators(snakemake.input.indicators, harmonised.platforms,
                                 harmonised.purposes)
    clean = pd.read_parquet(snakemake.input.clean)
    asked, not_asked = asked_indicators(clean, indicators)
    if not_asked:
        log.info("not asked in this wave, no estimates: %s", ", ".join(not_asked))
    estimates = share_estimates(clean, asked, wave=wave, alpha=alpha)
    write_csv(estimates, snakemake.output.estimates)
    log.info("%d estimates for %d indicators", len(estimates), estimates["indicator"].nunique())
    declarations = load_hypotheses(snakemake.input.hypotheses, harmonised.platforms)
    items = item_estimates(declarations, clean, wave, indicators=indicators,
                           weights=pd.read_parquet(snakemake.input.weights), alpha=alpha,
                           interval=snakemake.params.config["design_based"]["interval"])
    write_parquet(items, snakemake.output.item_estimates)
    log.info("%d shares behind the hypothesis tests (%d weighted)", len(items),
             int(items["weighted"].sum()))


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
