"""Snakemake entry: shares per indicator x sample (and all) with Wilson CIs ->
results/<wave>/estimates_by_sample.csv, for a wave drawn in several samples. The wave-profile
notebook draws presence by sample from it (notebooks read tables; they compute no share)."""

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
    # `sample` is categorical over every harmonised sample; only this wave's samples get rows.
    clean["sample"] = clean["sample"].astype("category").cat.remove_unused_categories()
    asked, _not_asked = asked_indicators(clean, indicators)  # as the estimates stage
    estimates = share_estimates(clean, asked, wave=snakemake.wildcards.wave,
                                segment_column="sample", alpha=snakemake.params.config["alpha"])
    write_csv(estimates.rename(columns={"segment": "sample"}), snakemake.output[0])
    log.info("%d estimates for %d indicators by sample (%s)", len(estimates), len(asked),
             ", ".join(str(s) for s in clean["sample"].cat.categories))


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
