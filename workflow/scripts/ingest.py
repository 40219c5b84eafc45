"""Snakemake entry: raw export -> results/{wave}/ingested.parquet (identifiers dropped, labels
recoded, employee counts parsed)."""

import os

from smesocial.ingest import with_employee_counts
from smesocial.ingest import build_ingested, respondent_key_salt
from smesocial.config import load_codebook, load_harmonised
from smesocial.readers import read_export
from smesocial.tables import write_parquet
from smesocial.runner import log, run_step


def step(snakemake) -> None:
    config = snakemake.params.config
    codebook = load_codebook(snakemake.input.codebook)
    harmonised = load_harmonised(snakemake.input.harmonised)
    salt, salt_source = respondent_key_salt(config, os.environ)
    log.info("respondent key salt from %s", salt_source)  # where from, never the value
    raw = read_export(snakemake.input.raw, codebook)
    ingested = build_ingested(
        raw, codebook, harmonised,
        source=str(snakemake.input.raw),
        salt=salt,
        test_markers=config["exclusions"]["test_response_markers"],
    )
    # Counts are parsed once, here, so an unreadable one stops the run before anything is written.
    ingested = with_employee_counts(ingested, source=str(snakemake.input.raw),
                                    column=codebook.employees_column)
    write_parquet(ingested, snakemake.output[0])
    log.info("%s: %d rows ingested (%d complete, %d marked as test), %d columns",
             snakemake.wildcards.wave, len(ingested), int((ingested["status"] == "complete").sum()),
             int(ingested["is_test_marked"].sum()), ingested.shape[1])


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
