"""Snakemake entry: clean.parquet + population counts -> weights.parquet
(one weight per respondent) and weights_summary.csv (cells, design effect, method)."""

import pandas as pd

from smesocial.tables import write_parquet
from smesocial.runner import log, run_step
from smesocial.segment import load_schemes
from smesocial.tables import write_csv
from smesocial.weights import load_margin, weight_wave, weighting_spec


def step(snakemake) -> None:
    wave = snakemake.wildcards.wave
    config = snakemake.params.config
    spec = weighting_spec(config, wave)
    scheme = load_schemes(config)[spec.scheme] if spec.scheme else None
    margins = [load_margin(margin, scheme) for margin in spec.margins]
    for margin in margins:
        log.info("margin %s: population %s (%s)", margin.variable, margin.targets, margin.source)
    # A margin's variable is a column of the analysis table (segment_<scheme> among them).
    clean = pd.read_parquet(snakemake.input.clean)
    result = weight_wave(clean, margins, wave=wave, reason=spec.reason,
                         max_iter=spec.max_iter, tol=spec.tol,
                         weighted_samples=spec.weighted_samples,
                         source=f"config/config.yaml (weighting.{wave})")
    write_parquet(result.weights, snakemake.output.weights)
    write_csv(result.summary, snakemake.output.summary)
    d = result.diagnostics
    log.info("%s: %s, n %d, deff %.4f, efficiency %.4f, effective n %.1f", wave, result.method,
             d.n, d.deff, d.efficiency, d.effective_n)


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
