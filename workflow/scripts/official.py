"""Snakemake entry: check the official statistics file -> results/official/trends.csv, then
each wave's level beside the official figure -> results/official/benchmarks.csv."""

import pandas as pd

from smesocial.compare import load_spec, wave_info
from smesocial.config import load_harmonised
from smesocial.official import benchmarks, read_official, trends
from smesocial.runner import log, run_step
from smesocial.tables import write_csv


def write_trends(snakemake) -> None:
    official = snakemake.params.config.get("official") or {}
    recorded = official.get("disagreements") or []
    frame = read_official(snakemake.input.official, recorded)
    notes = {(str(r["country"]), int(r["year"]), str(r["indicator"]), str(r["size_class"])):
             str(r.get("note", "")) for r in recorded}
    table = trends(frame, notes)
    write_csv(table, snakemake.output.trends)
    for _, row in table[table["disagreement"]].iterrows():
        log.warning("sources disagree on %s %s %s %s: %s (both kept)", row["country"], row["year"],
                    row["indicator"], row["size_class"], row["values_pct"])
    log.info("%d figures, %d series, years %d-%d", len(frame), len(table),
             frame["year"].min(), frame["year"].max())


def write_benchmarks(snakemake) -> None:
    config = snakemake.params.config
    harmonised = load_harmonised(snakemake.input.harmonised)
    spec = load_spec(snakemake.input.harmonisation, config, harmonised)
    waves = list(snakemake.params.waves)
    tables = {wave: pd.read_parquet(path) for wave, path in zip(waves, snakemake.input.clean)}
    # The trends as written (the table a reader audits); keep_default_na=False: the country
    # code NO is not a missing value
    trend = pd.read_csv(snakemake.output.trends, keep_default_na=False, na_values=[""],
                        dtype={"values_pct": "str", "quality": "str", "source_urls": "str"})
    table = benchmarks(tables, [wave_info(config, w) for w in waves], spec, trend,
                       harmonised.platforms, alpha=config["alpha"])
    write_csv(table, snakemake.output.benchmarks)
    for _, row in table[table["sample"] == "all"].iterrows():
        log.info("%s %s: %.1f%% of %d (%s employees) vs official %s %s", row["wave"],
                 row["item"], row["share_pct"], row["n"], row["size_class"], row["official_year"],
                 row["official_values_pct"])


def step(snakemake) -> None:
    write_trends(snakemake)
    write_benchmarks(snakemake)


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
