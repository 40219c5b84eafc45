"""Snakemake entry: ingested.parquet + segments.parquet -> clean.parquet (the analysis table),
exclusions.csv, flow.csv and segment_counts.csv.

The clean table is checked against its data contract (smesocial.contract) before anything is
written, so a violation leaves no partial output behind.
"""

import pandas as pd

from smesocial.clean import apply_exclusions
from smesocial.config import load_harmonised
from smesocial.contract import clean_schema, validate_clean
from smesocial.tables import write_parquet
from smesocial.runner import log, run_step
from smesocial.segment import load_schemes, segment_column, segment_counts
from smesocial.tables import write_csv


def step(snakemake) -> None:
    wave = snakemake.wildcards.wave
    config = snakemake.params.config
    wave_cfg = config["waves"][wave]
    harmonised = load_harmonised(snakemake.input.harmonised)
    ingested = pd.read_parquet(snakemake.input.ingested)
    segments = pd.read_parquet(snakemake.input.segments)
    clean, exclusions, flow = apply_exclusions(
        ingested, segments, config, wave,
        source=wave_cfg["raw_file"], answer_columns=list(harmonised.variables),
    )
    schemes = load_schemes(config)
    schema = clean_schema(harmonised, wave=wave, wave_cfg=wave_cfg,
                          scheme=schemes[wave_cfg["segmentation"]], schemes=schemes)
    validate_clean(clean, schema, source=wave_cfg["raw_file"])
    log.info("clean table of %s meets its data contract (%d columns, %d rows)",
             wave, clean.shape[1], clean.shape[0])
    counts = segment_counts(clean["employees"],
                            {name: clean[segment_column(name)] for name in schemes}, schemes,
                            boundary_checks=wave_cfg.get("boundary_checks", []),
                            check_scheme=wave_cfg["segmentation"])
    write_parquet(clean, snakemake.output.clean)
    write_csv(exclusions, snakemake.output.exclusions)
    write_csv(flow, snakemake.output.flow)
    write_csv(counts, snakemake.output.counts)
    for row in flow.itertuples():
        log.info("%-24s in %4d  excluded %4d  out %4d", row.step, row.n_in, row.n_excluded, row.n_out)
    log.info("segments: %s", clean["segment"].value_counts(sort=False).to_dict())


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
