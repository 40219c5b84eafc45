"""smesocial.official: the checks on the official statistics, trends, and benchmarks."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from smesocial.errors import InputError
from smesocial.compare import WaveInfo, load_spec
from smesocial.official import (benchmarks, nearest_year, read_official, size_class_membership,
                                trends)
from smesocial.estimates import wilson_interval

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL = ROOT / "data/raw/official/official_social_media_enterprises.csv"
HEADER = "country,year,indicator,size_class,value_pct,quality,source_url"
GOOD = "DK,2019,any_social_media,10+,75,exact,https://www.dst.dk/a"
RECORDED = [{"country": "NO", "year": 2013, "indicator": "social_networks", "size_class": "10+"}]


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "official.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_shipped_file_is_the_shared_record_and_passes(config: dict[str, Any]):
    shared = Path("/work/shared/data/official_social_media_enterprises.csv")
    digest = hashlib.sha256(OFFICIAL.read_bytes()).hexdigest()
    assert digest == "29976dee787892c8b675e11520510882d6fcb351a6f53d218773275c2129c728"
    if shared.is_file():  # the copy is unchanged
        assert shared.read_bytes() == OFFICIAL.read_bytes()
    frame = read_official(OFFICIAL, config["official"]["disagreements"])
    assert len(frame) == 55
    assert (frame["year"].min(), frame["year"].max()) == (2013, 2021)
    flagged = frame[frame["disagreement"]]
    assert flagged["line"].tolist() == [3, 4]
    assert flagged["value_pct"].tolist() == [45.0, 44.0]


@pytest.mark.parametrize(("row", "column", "line"), [
    ("SE,2019,any_social_media,10+,70,exact,https://x.se/a", "country", 3),
    ("DK,1999,any_social_media,10+,70,exact,https://x.dk/a", "year", 3),
    ("DK,20x9,any_social_media,10+,70,exact,https://x.dk/a", "year", 3),
    ("DK,2019,any social media,10+,70,exact,https://x.dk/a", "indicator", 3),
    ("DK,2019,any_social_media,ten+,70,exact,https://x.dk/a", "size_class", 3),
    ("DK,2019,any_social_media,10+,101,exact,https://x.dk/a", "value_pct", 3),
    ("DK,2019,any_social_media,10+,,exact,https://x.dk/a", "value_pct", 3),
    ("DK,2019,any_social_media,10+,70,rough,https://x.dk/a", "quality", 3),
    ("DK,2019,any_social_media,10+,70,exact,", "source_url", 3),
])
def test_a_bad_cell_stops_naming_line_and_column(tmp_path, row, column, line):
    path = write(tmp_path, HEADER, GOOD.replace("2019", "2016"), row)
    with pytest.raises(InputError) as caught:
        read_official(path)
    assert caught.value.column == column
    assert caught.value.rows == [line]
    assert f"column '{column}'" in str(caught.value) and f"row(s) {line}" in str(caught.value)


def test_a_missing_column_or_short_row_stops(tmp_path):
    with pytest.raises(InputError) as caught:
        read_official(write(tmp_path, HEADER.replace(",quality", ""), GOOD))
    assert caught.value.column == "quality"
    with pytest.raises(InputError, match="wrong number of fields") as caught:
        read_official(write(tmp_path, HEADER, GOOD, "DK,2016,any_social_media,10+,64"))
    assert caught.value.rows == [3]


def test_a_repeated_key_is_allowed_only_as_a_recorded_disagreement(tmp_path):
    no_a = "NO,2013,social_networks,10+,45,exact,https://ssb.no/a"
    no_b = "NO,2013,social_networks,10+,44,exact,https://ssb.no/b"
    frame = read_official(write(tmp_path, HEADER, GOOD, no_a, no_b), RECORDED)
    assert frame["disagreement"].tolist() == [False, True, True]
    with pytest.raises(InputError, match="not a recorded disagreement") as caught:
        read_official(write(tmp_path, HEADER, GOOD, no_a, no_b))
    assert caught.value.rows == [3, 4]
    with pytest.raises(InputError, match="same value") as caught:
        read_official(write(tmp_path, HEADER, no_a, no_a.replace("/a", "/b")), RECORDED)
    assert caught.value.column == "value_pct"
    with pytest.raises(InputError, match=r"official\.disagreements\[0\]"):
        read_official(write(tmp_path, HEADER, GOOD), RECORDED)


def test_trends_keep_both_values_where_sources_disagree(config):
    frame = read_official(OFFICIAL, config["official"]["disagreements"])
    table = trends(frame, {("NO", 2013, "social_networks", "10+"): "StatBank 45, article 44"})
    assert len(table) == 54  # 55 figures, two of them one key
    key = ["country", "indicator", "size_class", "year"]
    row = table.set_index(key).loc[("NO", "social_networks", "10+", 2013)]
    assert pd.isna(row["value_pct"])
    assert (row["value_min_pct"], row["value_max_pct"], row["values_pct"]) == (44, 45, "45; 44")
    assert row["n_sources"] == 2 and row["disagreement"]
    assert "both kept" in row["note"] and "StatBank 45, article 44" in row["note"]
    single = table.set_index(key).loc[("DK", "any_social_media", "10+", 2019)]
    assert (single["value_pct"], single["n_sources"], single["disagreement"]) == (75, 1, False)
    approximate = table.set_index(key).loc[("NO", "purpose_recruit_employees", "10+", 2015)]
    assert approximate["quality"] == "approximate" and "phrase" in approximate["note"]


def test_nearest_year_breaks_ties_towards_the_earlier_year():
    assert nearest_year([2013, 2016, 2019], 2024) == 2019
    assert nearest_year([2013, 2014, 2017], 2010) == 2013
    assert nearest_year([2016, 2018], 2017) == 2016
    assert nearest_year([], 2017) is None


def test_size_class_membership_uses_the_whole_range():
    clean = pd.DataFrame({"employees_low": pd.array([12, 1, 5, 10, 200, None], dtype="Int64"),
                          "employees_high": pd.array([12, 10, 8, 10, None, None], dtype="Int64")})
    inside, undetermined = size_class_membership(clean, 10)
    assert inside.tolist() == [True, False, False, True, True, False]
    assert undetermined.tolist() == [False, True, False, False, False, True]  # "1-10", unknown


def test_benchmark_is_restricted_to_firms_in_the_official_size_class(config, harmonised):
    spec = load_spec(ROOT / "config/harmonisation.yaml", config, harmonised)
    # Small firms are all active, firms with 10+ employees half: the benchmark must see 1 of 2.
    dk = pd.DataFrame({
        "employees_low": pd.array([1, 2, 3, 1, 20, 60], dtype="Int64"),
        "employees_high": pd.array([1, 2, 3, 10, 20, 60], dtype="Int64"),
        "post_facebook": ["daily", "daily", "weekly", "daily", "never", "monthly"],
        "sample": ["main"] * 6,
    })
    no = pd.DataFrame({
        "employees_low": pd.array([1, 10, 50, 250], dtype="Int64"),
        "employees_high": pd.array([4, 19, 99, None], dtype="Int64"),
        "present_facebook": pd.array([True, True, False, True], dtype="boolean"),
        "sample": ["panel", "panel", "expert", "expert"],
    })
    frame = read_official(OFFICIAL, config["official"]["disagreements"])
    trend = trends(frame)
    waves = [WaveInfo("dk_2024", "DK", 2024, "Synthetic DK."),
             WaveInfo("no_2010", "NO", 2010, "Synthetic NO.")]
    out = benchmarks({"dk_2024": dk, "no_2010": no}, waves, spec, trend, harmonised.platforms)
    assert out[["wave", "sample"]].values.tolist() == [
        ["dk_2024", "all"], ["no_2010", "all"], ["no_2010", "expert"], ["no_2010", "panel"]]
    row = out.iloc[0]
    assert (row["n_in_size_class"], row["n_size_undetermined"], row["n"], row["k"]) == (2, 1, 2, 1)
    assert row["share_pct"] == pytest.approx(50.0)
    assert (row["ci_low_pct"] / 100, row["ci_high_pct"] / 100) == pytest.approx(wilson_interval(1, 2))
    assert (row["official_year"], row["year_gap"], row["official_value_pct"]) == (2019, 5, 75)
    assert "not comparable in design" in row["note"] and "'1-10'" in row["note"]
    assert row["disclosure"] == "Synthetic DK."
    norway = out[out["wave"] == "no_2010"].set_index("sample").loc[["all", "expert", "panel"]]
    assert norway["n"].tolist() == [3, 2, 1] and norway["k"].tolist() == [2, 1, 1]
    assert norway["official_year"].tolist() == [2013] * 3  # nearest to 2010; 3 years after
    assert norway["year_gap"].tolist() == [-3] * 3
    assert "3 year(s) after the wave" in norway["note"].iloc[0]


def test_benchmark_without_official_figure_says_so(config, harmonised):
    spec = load_spec(ROOT / "config/harmonisation.yaml", config, harmonised)
    trend = trends(read_official(OFFICIAL, config["official"]["disagreements"]))
    trend = trend[trend["country"] != "DK"]
    dk = pd.DataFrame({"employees_low": pd.array([20], dtype="Int64"),
                       "employees_high": pd.array([20], dtype="Int64"),
                       "post_facebook": ["daily"], "sample": ["main"]})
    out = benchmarks({"dk_2024": dk}, [WaveInfo("dk_2024", "DK", 2024, "Synthetic DK.")], spec,
                     trend, harmonised.platforms)
    assert out["share_pct"].tolist() == [100.0]
    assert pd.isna(out["official_year"].iloc[0]) and pd.isna(out["official_value_pct"].iloc[0])
    assert "no official any_social_media figure for DK" in out["note"].iloc[0]
