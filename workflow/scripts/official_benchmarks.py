"""Snakemake entry: each wave's level beside the official figure -> benchmarks.csv."""

import pandas as pd

from smesocial.config import load_harmonised
from smesocial.compare import load_spec, wave_info
from smesocial.official import benchmarks
from smesocial.runner import log, run_step
from smesocial.tables import write_csv


def step(snakemake) -> None:
    config = snakemake.params.config
    harmonised = load_harmonised(snakemake.input.harmonised)
    spec = load_spec(snakemake.input.harmonisation, config, harmonised)
    waves = list(snakemake.params.waves)
    tables = {wave: pd.read_parquet(path) for wave, path in zip(waves, snakemake.input.clean)}
    # keep_default_na=False: the country code NO is not a missing value
    trend = pd.read_csv(snakemake.input.trends, keep_default_na=False, na_values=[""],
                        dtype={"values_pct": "str", "quality": "str", "source_urls": "str"})
    table = benchmarks(tables, [wave_info(config, w) for w in waves], spec, trend,
                       harmonised.platforms, alpha=config["alpha"])
    write_csv(table, snakemake.output[0])
    for _, row in table[table["sample"] == "all"].iterrows():
        log.info("%s %s: %.1f%% of %d (%s employees) vs official %s %s", row["wave"],
                 row["item"], row["share_pct"], row["n"], row["size_class"], row["official_year"],
                 row["official_values_pct"])


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
