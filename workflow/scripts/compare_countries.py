"""Snakemake entry: the cross-country comparison of the items config/harmonisation.yaml declares
comparable -> dk_no.csv (+ .parquet) and non_comparabilities.csv."""

import pandas as pd

from smesocial.config import load_harmonised
from smesocial.compare import (compare_cross_country, load_spec, non_comparabilities_table, wave_info, with_segment)
from smesocial.tables import write_parquet
from smesocial.runner import log, run_step
from smesocial.tables import write_csv


def step(snakemake) -> None:
    config = snakemake.params.config
    harmonised = load_harmonised(snakemake.input.harmonised)
    spec = load_spec(snakemake.input.harmonisation, config, harmonised)
    waves = [spec.first, spec.second]
    tables = {wave: with_segment(pd.read_parquet(clean), spec.common_scheme, clean)
              for wave, clean in zip(waves, snakemake.input.clean)}
    categories = list(tables[spec.first]["segment"].cat.categories)  # the scheme's, in order
    for wave, table in tables.items():
        counts = table["segment"].value_counts(sort=False, dropna=False).to_dict()
        log.info("%s under %s: %s", wave, spec.common_scheme, counts)
    table = compare_cross_country(tables, {w: wave_info(config, w) for w in waves}, spec,
                                  categories, harmonised.platforms, alpha=config["alpha"])
    write_csv(table, snakemake.output.table)
    write_parquet(table, snakemake.output.parquet)
    write_csv(non_comparabilities_table(spec), snakemake.output.non_comparabilities)
    log.info("%d rows for %d comparable items (%s vs %s)", len(table), table["item"].nunique(),
             *waves)


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
