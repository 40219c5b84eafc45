"""smesocial.columns: each distinct value converted once gives what converting every value
gives (the battery's and estimates' segment and group labels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smesocial.columns import as_text, map_distinct

COLUMNS = {
    "categorical": pd.Series(pd.Categorical(["small", None, "micro", "small"],
                                            categories=["micro", "small", "medium"],
                                            ordered=True), name="segment"),
    "text": pd.Series(["panel", None, "expert", "panel"], dtype="str", name="sample"),
    "boolean": pd.Series([True, None, False, True], dtype="boolean", name="flag"),
    "float": pd.Series([1.0, np.nan, 2.5, 1.0], name="score"),
    "mixed objects": pd.Series(["x", None, 3, "x"], dtype=object, index=[10, 11, 12, 13]),
}


@pytest.mark.parametrize("name", list(COLUMNS))
def test_as_text_equals_converting_every_value(name):
    column = COLUMNS[name]
    expected = column.astype("object").astype(str)
    got = as_text(column)
    assert got.equals(expected) and got.dtype == expected.dtype
    assert got.index.equals(column.index) and got.name == column.name
    assert got.isna().tolist() == [False, True, False, False]


def test_as_text_of_a_million_rows_keeps_each_label():
    column = pd.Series(pd.Categorical(np.tile(["micro", "small", "medium"], 400_000)))
    text = as_text(column)
    assert text.value_counts().to_dict() == {"micro": 400_000, "small": 400_000,
                                             "medium": 400_000}


def test_map_distinct_calls_the_function_once_per_distinct_value():
    calls = []
    rank = {"micro": 0.0, "small": 1.0, "medium": 2.0}

    def score(label):
        calls.append(label)
        return rank.get(str(label), np.nan)

    column = COLUMNS["categorical"]
    scores = map_distinct(column, score, np.nan, dtype=float)
    np.testing.assert_array_equal(scores, [1.0, np.nan, 0.0, 1.0])
    assert sorted(calls) == ["micro", "small"]
    assert map_distinct(COLUMNS["text"], str.upper, "").tolist() == ["PANEL", "", "EXPERT",
                                                                    "PANEL"]
