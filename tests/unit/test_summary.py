"""The run summary (results/summary.md): per wave, the raw columns the codebook does not map."""

from __future__ import annotations

import pandas as pd

from smesocial.summary import summary_markdown

WAVE = {"country": "DK", "year": 2024, "sample": "main",
        "disclosure": "Synthetic data: a reconstruction, not the survey's responses."}
FLOW = pd.DataFrame({"step": ["raw", "analysed"], "n": [3, 3]})
COUNTS = pd.DataFrame({"scheme": ["s"], "count_type": ["segment"], "segment": ["micro"], "n": [3]})


def uses(*unmapped: str) -> pd.DataFrame:
    columns = ["Respons-ID", "E-mail", *unmapped, "Q1"]
    use = ["meta", "identifier", *["unmapped"] * len(unmapped), "item"]
    return pd.DataFrame({"position": range(1, len(columns) + 1), "column": columns, "use": use,
                         "maps_to": ["response_id", "", *[""] * len(unmapped), "post_facebook"]})


def summary(raw_columns: pd.DataFrame) -> str:
    return summary_markdown({"waves": {"dk_2024": WAVE}}, {"dk_2024": FLOW},
                            {"dk_2024": COUNTS}, {}, {"dk_2024": raw_columns})


def test_summary_names_the_unmapped_columns_of_each_wave():
    text = summary(uses("Andet, angiv", "NA"))
    assert ("Raw export: 2 of its 5 columns are not in the codebook and were not read "
            "(results/dk_2024/raw_columns.csv): `Andet, angiv`, `NA`.") in text.splitlines()


def test_summary_says_when_every_column_is_accounted_for():
    assert ("Raw export: all 3 columns are in the codebook (results/dk_2024/raw_columns.csv)."
            in summary(uses()).splitlines())
