"""Snakemake entry: raw export -> results/{wave}/ingested.parquet (identifiers dropped, labels
recoded, employee counts parsed) and raw_columns.csv (what the codebook does with each column)."""

import os

from smesocial.ingest import (build_ingested, check_raw_sha256, check_unmapped_columns,
                              raw_column_uses, with_employee_counts)
from smesocial.config import load_codebook, load_harmonised
from smesocial.readers import read_export
from smesocial.respondent_key import is_synthetic, key_secret
from smesocial.tables import write_csv, write_parquet
from smesocial.runner import log, run_step


def step(snakemake) -> None:
    config = snakemake.params.config
    wave = snakemake.wildcards.wave
    wave_config = config["waves"][wave]
    raw_path = str(snakemake.input.raw)
    # Before anything is parsed: results come only from the export the config declares.
    if snakemake.wildcards.prefix:
        log.info("%s: no sha256 declared for a draw's export (rule ensemble_generate wrote it in "
                 "this run and logged its sha256 in results/logs/%s%s/generate.log)", raw_path,
                 snakemake.wildcards.prefix, wave)
    else:
        sha256 = check_raw_sha256(raw_path, wave_config["raw_sha256"], wave)
        log.info("%s: sha256 %s, as declared (waves.%s.raw_sha256)", raw_path, sha256, wave)
    # The secret's value stays in this process: params carry only the variable's name.
    secret, secret_origin = key_secret(wave, is_synthetic(wave_config), os.environ,
                                       snakemake.params.key_env)
    log.info("respondent key hashed with HMAC-SHA256 under %s", secret_origin)
    codebook = load_codebook(snakemake.input.codebook)
    harmonised = load_harmonised(snakemake.input.harmonised)
    raw = read_export(raw_path, codebook)
    uses = raw_column_uses(list(raw.columns), codebook)
    check_unmapped_columns(uses, wave_config.get("unmapped_columns", "warn"), source=raw_path,
                           wave=wave, codebook=codebook)
    ingested = build_ingested(
        raw, codebook, harmonised,
        source=raw_path,
        secret=secret,
        test_markers=config["exclusions"]["test_response_markers"],
    )
    # Counts are parsed once, here, so an unreadable one stops the run before anything is written.
    ingested = with_employee_counts(ingested, source=raw_path, column=codebook.employees_column)
    write_parquet(ingested, snakemake.output.ingested)
    write_csv(uses, snakemake.output.columns)
    log.info("%s: %d rows ingested (%d complete, %d marked as test), %d columns",
             wave, len(ingested), int((ingested["status"] == "complete").sum()),
             int(ingested["is_test_marked"].sum()), ingested.shape[1])


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
