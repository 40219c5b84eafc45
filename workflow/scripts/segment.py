"""Snakemake entry: ingested.parquet -> segments.parquet: every raw row's segment under each
configured scheme (NA where no single segment holds its stated range, or it gave no count)."""

import pandas as pd

from smesocial.readers import RAW_ROW
from smesocial.tables import write_parquet
from smesocial.runner import log, run_step
from smesocial.segment import load_schemes, segment_table


def step(snakemake) -> None:
    schemes = load_schemes(snakemake.params.config)
    ingested = pd.read_parquet(snakemake.input.ingested,
                               columns=[RAW_ROW, "employees_low", "employees_high"])
    segments = segment_table(ingested, schemes)
    write_parquet(segments, snakemake.output[0])
    for name in schemes:
        counts = segments[f"segment_{name}"].value_counts(sort=False, dropna=False).to_dict()
        log.info("%s: %s", name, counts)


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
