"""Snakemake entry: the battery's rows x the synthetic parameters' provenance ->
results/identification/tests.csv (identified / bounded / assumed, with ranges)."""

import time
from pathlib import Path

import pandas as pd
from smesocial.config import load_harmonised, load_indicators, load_yaml
from smesocial.hypotheses import load_hypotheses
from smesocial.identification import Context, identification_table, load_provenance
from smesocial.runner import log, run_step
from smesocial.tables import write_csv


def step(snakemake) -> None:
    started = time.perf_counter()
    config = snakemake.params.config
    inp = snakemake.input
    harmonised = load_harmonised(inp.harmonised)
    indicators = load_indicators(inp.indicators, harmonised.platforms, harmonised.purposes)
    settings = load_hypotheses(inp.hypotheses, harmonised.platforms).settings
    published = {str(doc["wave"]): doc for doc in (load_yaml(p) for p in inp.published)}
    # config/synthetic/<wave>.yaml: the wave is the file's stem
    provenance = {
        Path(p).stem: load_provenance(load_yaml(p), published.get(Path(p).stem, {}), harmonised,
                                      indicators)
        for p in inp.synthetic
    }
    tables = {Path(p).parent.name: pd.read_parquet(p) for p in inp.clean}
    ctx = Context(provenance, tables, harmonised, indicators, alpha=float(config["alpha"]),
                  segment=settings.segment, seed=int(config["random_seed"]),
                  mc_resamples=settings.monte_carlo_resamples)
    table = identification_table(pd.read_csv(inp.tests), ctx)
    write_csv(table, snakemake.output.tests)
    log.info("identification: %s in %.1f s", table["class"].value_counts().to_dict(),
             time.perf_counter() - started)


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
