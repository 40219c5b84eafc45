"""Snakemake entry: ingested.parquet -> clean.parquet, exclusions.csv, flow.csv.

The clean table is checked against its data contract (smesocial.contract) before anything is
written, so a violation leaves no partial output behind.
"""

import pandas as pd

from smesocial.clean import apply_exclusions
from smesocial.config import load_codebook, load_harmonised
from smesocial.contract import clean_schema, validate_clean
from smesocial.io import write_parquet
from smesocial.runner import log, run_step
from smesocial.segment import load_schemes
from smesocial.tables import write_csv


def step(snakemake) -> None:
    wave = snakemake.wildcards.wave
    config = snakemake.config
    wave_cfg = config["waves"][wave]
    codebook = load_codebook(snakemake.input.codebook)
    harmonised = load_harmonised(snakemake.input.harmonised)
    ingested = pd.read_parquet(snakemake.input.ingested)
    # Unreadable employee counts are reported against the raw export and its column, because
    # raw_row is a line number in that file.
    clean, exclusions, flow = apply_exclusions(
        ingested, config, wave,
        source=wave_cfg["raw_file"],
        employees_column=codebook.employees_column,
        answer_columns=list(harmonised.variables),
    )
    scheme = load_schemes(config)[wave_cfg["segmentation"]]
    schema = clean_schema(harmonised, wave=wave, wave_cfg=wave_cfg, scheme=scheme)
    validate_clean(clean, schema, source=wave_cfg["raw_file"])
    log.info("clean table of %s meets its data contract (%d columns, %d rows)",
             wave, clean.shape[1], clean.shape[0])
    write_parquet(clean, snakemake.output.clean)
    write_csv(exclusions, snakemake.output.exclusions)
    write_csv(flow, snakemake.output.flow)
    for row in flow.itertuples():
        log.info("%-24s in %4d  excluded %4d  out %4d", row.step, row.n_in, row.n_excluded, row.n_out)
    log.info("segments: %s", clean["segment"].value_counts(sort=False).to_dict())


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
