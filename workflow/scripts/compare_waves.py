"""Snakemake entry: waves of one country on every indicator they measure ->
<country>_waves.csv (+ .parquet)."""

import pandas as pd

from smesocial.config import load_codebook, load_harmonised, load_indicators
from smesocial.compare import compare_waves, question_texts, wave_info, with_segment
from smesocial.tables import write_parquet
from smesocial.runner import log, run_step
from smesocial.tables import write_csv


def step(snakemake) -> None:
    config = snakemake.params.config
    harmonised = load_harmonised(snakemake.input.harmonised)
    indicators = load_indicators(snakemake.input.indicators, harmonised.platforms,
                                 harmonised.purposes)
    scheme = snakemake.params.scheme
    waves = list(snakemake.params.waves)  # in time order
    tables = {wave: with_segment(pd.read_parquet(clean), scheme, clean)
              for wave, clean in zip(waves, snakemake.input.clean)}
    categories = list(tables[waves[0]]["segment"].cat.categories)  # the scheme's, in order
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
