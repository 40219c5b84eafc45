"""Snakemake entry: ingested.parquet -> clean.parquet, exclusions.csv, flow.csv."""

import pandas as pd

from smesocial.clean import apply_exclusions
from smesocial.config import load_codebook
from smesocial.io import write_parquet
from smesocial.runner import log, run_step
from smesocial.tables import write_csv


def step(snakemake) -> None:
    wave = snakemake.wildcards.wave
    codebook = load_codebook(snakemake.input.codebook)
    ingested = pd.read_parquet(snakemake.input.ingested)
    # Unreadable employee counts are reported against the raw export and its column, because
    # raw_row is a line number in that file.
    clean, exclusions, flow = apply_exclusions(
        ingested, snakemake.config, wave,
        source=snakemake.config["waves"][wave]["raw_file"],
        employees_column=codebook.employees_column,
    )
    write_parquet(clean, snakemake.output.clean)
    write_csv(exclusions, snakemake.output.exclusions)
    write_csv(flow, snakemake.output.flow)
    for row in flow.itertuples():
        log.info("%-24s in %4d  excluded %4d  out %4d", row.step, row.n_in, row.n_excluded, row.n_out)
    log.info("segments: %s", clean["segment"].value_counts(sort=False).to_dict())


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
