"""Snakemake entry: waves of one country on every indicator they measure ->
<country>_waves.csv (+ .parquet)."""

import pandas as pd

from smesocial.config import load_codebook, load_harmonised, load_indicators
from smesocial.harmonise import attach_segment, compare_waves, question_texts, wave_info
from smesocial.io import write_parquet
from smesocial.runner import log, run_step
from smesocial.segment import load_schemes
from smesocial.tables import write_csv


def step(snakemake) -> None:
    config = snakemake.config
    harmonised = load_harmonised(snakemake.input.harmonised)
    indicators = load_indicators(snakemake.input.indicators, harmonised.platforms,
                                 harmonised.purposes)
    scheme = snakemake.params.scheme
    categories = load_schemes(config)[scheme].categories
    waves = list(snakemake.params.waves)  # in time order
    tables = {
        wave: attach_segment(pd.read_parquet(clean), pd.read_parquet(segments), scheme, categories)
        for wave, clean, segments in zip(waves, snakemake.input.clean, snakemake.input.segments)
    }
    texts = {wave: question_texts(load_codebook(path), harmonised)
             for wave, path in zip(waves, snakemake.input.codebooks)}
    table = compare_waves(tables, [wave_info(config, w) for w in waves], indicators, categories,
                          texts=texts, scheme=scheme, alpha=config["alpha"])
    write_csv(table, snakemake.output.table)
    write_parquet(table, snakemake.output.parquet)
    differences = table[table["row_type"] == "difference"]
    log.info("%s: %d rows, %d indicators, %d compared between waves",
             snakemake.wildcards.country, len(table), table["item"].nunique(),
             differences["item"].nunique())


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
