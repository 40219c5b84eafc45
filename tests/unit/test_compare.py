"""smesocial.compare: the spec's checks, Newcombe's interval, and the comparison tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from smesocial.config import Harmonised, Indicator, load_codebook
from smesocial.errors import InputError
from smesocial.compare import (WaveInfo, compare_cross_country, compare_waves, country_waves, definition_masks, load_spec, newcombe_difference, non_comparabilities_table, question_texts, with_segment)
from smesocial.estimates import wilson_interval

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "config" / "harmonisation.yaml"
SEGMENTS = ["micro_small", "medium_large"]


# --- Newcombe (1998) -----------------------------------------------------------------------

# Newcombe RG (1998), "Interval estimation for the difference between independent proportions:
# comparison of eleven methods", Statistics in Medicine 17:873-890, Table II, method 10 (score
# method without continuity correction): (k1, n1, k2, n2) -> 95% limits for p1 - p2.
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "limits"), NEWCOMBE_TABLE_II)
def test_newcombe_interval_matches_newcombe_1998_table_ii(counts, limits):
    k1, n1, k2, n2 = counts
    diff, low, high = newcombe_difference(k1, n1, k2, n2)
    assert diff == pytest.approx(k1 / n1 - k2 / n2)
    assert (round(low, 4), round(high, 4)) == limits


def test_newcombe_interval_needs_both_samples():
    with pytest.raises(ValueError, match="n2=0"):
        newcombe_difference(1, 5, 0, 0)


# --- the spec --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec(config: dict[str, Any], harmonised: Harmonised):
    return load_spec(SPEC, config, harmonised)


def test_shipped_spec_declares_the_comparable_items(spec):
    assert list(spec.items) == [
        "active_facebook", "active_linkedin", "active_youtube", "active_any",
        "posts_weekly_among_active_facebook", "posts_weekly_among_active_linkedin",
        "posts_weekly_among_active_youtube"]
    dk = spec.items["active_facebook"].definitions["dk_sme_survey"]
    assert (dk.variable, dk.values) == ("post_facebook", ("monthly", "weekly", "daily"))
    no = spec.items["active_facebook"].definitions["no_dataforeningen"]
    assert (no.variable, no.values) == ("present_facebook", (True,))
    assert spec.common_scheme == "common_size"
    assert (spec.first, spec.second) == ("dk_2024", "no_2010")
    assert spec.cited(spec.items["active_any"]) == [
        "year", "instrument_activity", "platforms_asked", "sample", "employee_measure",
        "synthetic_data"]
    specific = {v for entry in spec.country_specific for v in entry.variables}
    assert {"professionalism", "post_instagram", "future_plans", "present_twitter"} <= specific


def test_non_comparabilities_table_lists_each_with_both_instruments(spec):
    table = non_comparabilities_table(spec)
    assert list(table["id"]) == ["year", "instrument_activity", "instrument_wording",
                                 "platforms_asked", "sample", "employee_measure", "synthetic_data"]
    platforms = table.set_index("id").loc["platforms_asked"]
    assert platforms["no_dataforeningen"] == "Facebook, Twitter, LinkedIn, YouTube, blog"
    assert platforms["items"] == "active_any"


def _write_spec(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "harmonisation.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _set(raw: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split("|")
    for key in parents:
        raw = raw[int(key)] if isinstance(raw, list) else raw[key]
    raw[last] = value


@pytest.mark.parametrize(("where", "value", "key"), [
    ("common_scheme", "no_such_scheme", "common_scheme"),
    ("cross_country|second", "se_2020", "cross_country.second"),
    ("comparable|active_{platform}|platforms", ["facebook", "myspace"],
     "comparable.active_{platform}.platforms"),
    ("comparable|active_{platform}|definitions|dk_sme_survey|values", ["sometimes"],
     "comparable.active_{platform}.definitions.dk_sme_survey.values"),
    ("comparable|active_{platform}|definitions|no_dataforeningen|variable", "present_x_{platform}",
     "comparable.active_{platform}.definitions.no_dataforeningen.variable"),
    ("country_specific|0|variables", ["post_{platform}"], None),  # valid as shipped: control
    ("country_specific|0|platforms", ["facebook"], "country_specific[0].variables"),
    ("non_comparabilities|year|applies_to", ["active_{nothing}"],
     "non_comparabilities.year.applies_to"),
    ("instruments|no_dataforeningen|country", "DK", "instruments.no_dataforeningen.country"),
    ("official_benchmarks|0|item", "active_facebook", "official_benchmarks[0].item"),
])
def test_a_bad_spec_stops_naming_the_key(tmp_path, config, harmonised, where, value, key):
    path = _write_spec(tmp_path, lambda raw: _set(raw, where, value))
    if key is None:
        assert load_spec(path, config, harmonised).common_scheme == "common_size"
        return
    with pytest.raises(InputError) as caught:
        load_spec(path, config, harmonised)
    assert f"at key '{key}'" in str(caught.value)


def test_a_schema_violation_names_the_key(tmp_path, config, harmonised):
    path = _write_spec(tmp_path, lambda raw: raw["comparable"]["active_any"].pop("label"))
    with pytest.raises(InputError, match="comparable.active_any"):
        load_spec(path, config, harmonised)


def test_an_item_missing_a_definition_for_a_compared_instrument_stops(tmp_path, config, harmonised):
    path = _write_spec(tmp_path,
                       lambda raw: raw["comparable"]["active_any"]["definitions"].pop("no_dataforeningen"))
    with pytest.raises(InputError, match=r"comparable\.active_any\.definitions.*no_dataforeningen"):
        load_spec(path, config, harmonised)


# --- masks and tables --------------------------------------------------------------------------


def dk_table() -> pd.DataFrame:
    """Six Danish firms: posting frequency on two platforms, a DK-only item, segments."""
    return pd.DataFrame({
        "respondent_id": [f"dk-{i}" for i in range(6)],
        "post_facebook": ["daily", "monthly", "never", "almost_never", None, "weekly"],
        "post_linkedin": ["never", None, "never", "monthly", None, None],
        "post_youtube": ["never"] * 4 + [None, "never"],
        "professionalism": ["professional"] * 6,
        "segment": pd.Categorical(["micro_small"] * 3 + ["medium_large"] * 3,
                                  categories=SEGMENTS, ordered=True),
    })


def no_table() -> pd.DataFrame:
    """Four Norwegian firms: presence (with routing: frequency only where present)."""
    return pd.DataFrame({
        "respondent_id": [f"no-{i}" for i in range(4)],
        "present_facebook": pd.array([True, True, False, None], dtype="boolean"),
        "present_linkedin": pd.array([False, True, False, False], dtype="boolean"),
        "present_youtube": pd.array([False, False, False, False], dtype="boolean"),
        "post_facebook": ["weekly", "almost_never", None, None],
        "post_linkedin": [None, "monthly", None, None],
        "post_youtube": [None, None, None, None],
        "segment": pd.Categorical(["micro_small", "medium_large", "medium_large", None],
                                  categories=SEGMENTS, ordered=True),
    })


WAVES = {
    "dk_2024": WaveInfo("dk_2024", "DK", 2024, "Synthetic DK.", "main"),
    "no_2010": WaveInfo("no_2010", "NO", 2010, "Synthetic NO.", "panel+expert"),
}


def test_combine_any_counts_a_hit_on_any_platform_and_a_base_of_any_answer(spec, harmonised):
    masks = definition_masks(dk_table(), spec.items["active_any"].definitions["dk_sme_survey"],
                             harmonised.platforms)
    # firm 4 answered nothing -> out of the base; firms 0, 1, 3 (linkedin monthly), 5 active
    assert masks.answered.tolist() == [True, True, True, True, False, True]
    assert masks.hit.tolist() == [True, True, False, True, False, True]
    assert masks.definition.startswith("any of post_facebook, post_linkedin, post_youtube in")


def test_among_restricts_the_base(spec, harmonised):
    definition = spec.items["posts_weekly_among_active_facebook"].definitions["dk_sme_survey"]
    masks = definition_masks(dk_table(), definition, harmonised.platforms)
    assert masks.answered.tolist() == [True, True, False, False, False, True]
    assert masks.hit.tolist() == [True, False, False, False, False, True]


def test_cross_country_compares_only_declared_items(spec, harmonised):
    tables = {"dk_2024": dk_table(), "no_2010": no_table()}
    table = compare_cross_country(tables, WAVES, spec, SEGMENTS, harmonised.platforms)
    assert set(table["item"]) == set(spec.items)  # professionalism is in the data, not compared
    assert "professionalism" not in " ".join(table["definition"])
    assert len(table) == len(spec.items) * 3 * 3  # items x (all + 2 segments) x (2 waves + diff)

    facebook = table[(table["item"] == "active_facebook") & (table["segment"] == "all")].set_index("wave")
    assert (facebook.loc["dk_2024", "k"], facebook.loc["dk_2024", "n"]) == (3, 5)
    assert (facebook.loc["no_2010", "k"], facebook.loc["no_2010", "n"]) == (2, 3)
    assert (facebook.loc["dk_2024", "ci_low"], facebook.loc["dk_2024", "ci_high"]) == \
        pytest.approx(wilson_interval(3, 5))
    difference = facebook.loc["dk_2024 - no_2010"]
    assert difference["row_type"] == "difference"
    assert (difference["difference"], difference["ci_low"], difference["ci_high"]) == \
        pytest.approx(newcombe_difference(3, 5, 2, 3))
    assert "year, instrument_activity, sample, employee_measure, synthetic_data" in difference["note"]
    # the Norwegian firm without a segment is counted in `all` only, and the note says so
    assert "1 respondent(s) without a common_size segment" in facebook.loc["no_2010", "note"]
    assert facebook.loc["no_2010", "disclosure"] == "Synthetic NO."


def test_cross_country_notes_an_item_a_wave_did_not_ask(spec, harmonised):
    tables = {"dk_2024": dk_table().drop(columns=["post_youtube"]), "no_2010": no_table()}
    table = compare_cross_country(tables, WAVES, spec, SEGMENTS, harmonised.platforms)
    youtube = table[(table["item"] == "active_youtube") & (table["segment"] == "all")].set_index("wave")
    assert youtube.loc["dk_2024", "n"] == 0
    assert "did not ask" in youtube.loc["dk_2024", "note"]
    assert pd.isna(youtube.loc["dk_2024 - no_2010", "difference"])


def test_with_segment_takes_the_schemes_column():
    clean = pd.DataFrame({"respondent_id": ["a", "b", "c"], "segment": ["x", "y", "z"],
                          "segment_common_size": ["micro_small", None, "medium_large"]})
    out = with_segment(clean, "common_size")
    assert [None if pd.isna(s) else s for s in out["segment"]] == ["micro_small", None, "medium_large"]
    assert clean["segment"].tolist() == ["x", "y", "z"]  # the caller's table is left alone
    with pytest.raises(InputError, match="segment_other"):
        with_segment(clean, "other")


def test_country_waves_lists_countries_with_two_or_more_waves_in_time_order():
    config = {"waves": {"dk_2025": {"country": "DK", "year": 2025},
                        "no_2010": {"country": "NO", "year": 2010},
                        "dk_2024": {"country": "DK", "year": 2024}}}
    assert country_waves(config) == {"DK": ["dk_2024", "dk_2025"]}
    assert country_waves({"waves": {"dk_2024": {"country": "DK", "year": 2024}}}) == {}


def test_compare_waves_keeps_one_wave_items_and_differences_consecutive_waves():
    def table(answers: list[Any], extra: dict[str, list[Any]]) -> pd.DataFrame:
        return pd.DataFrame({"respondent_id": range(len(answers)), "professionalism": answers,
                             **extra, "segment": pd.Categorical(
                                 ["micro_small"] * len(answers), categories=SEGMENTS)})

    waves = [WaveInfo("dk_2024", "DK", 2024, "D24.", "main"),
             WaveInfo("dk_2025", "DK", 2025, "D25.", "main")]
    tables = {"dk_2024": table(["professional", "random", "neutral", "professional"],
                               {"handling": ["in_house"] * 4, "post_threads": [None] * 4}),
              "dk_2025": table(["professional", "professional", "random", "professional"],
                               {"handling": [None] * 4, "post_threads": ["daily", "never", None, "weekly"]})}
    indicators = {
        "professional": Indicator("professional", "professionalism",
                                  ("professional", "very_professional"), "Professional"),
        "handling_in_house": Indicator("handling_in_house", "handling", ("in_house",), "In house"),
        "post_daily_weekly_threads": Indicator("post_daily_weekly_threads", "post_threads",
                                               ("daily", "weekly"), "Threads", "threads"),
        "never_asked": Indicator("never_asked", "not_a_column", ("x",), "Nothing"),
    }
    texts = {"dk_2024": {"professionalism": "Old wording?"},
             "dk_2025": {"professionalism": "New wording?"}}
    out = compare_waves(tables, waves, indicators, SEGMENTS, texts=texts, scheme="common_size")
    assert set(out["item"]) == {"professional", "handling_in_house", "post_daily_weekly_threads"}
    assert set(out.loc[out["item"] == "handling_in_house", "wave"]) == {"dk_2024"}
    assert set(out.loc[out["item"] == "post_daily_weekly_threads", "wave"]) == {"dk_2025"}
    assert (out["row_type"] == "difference").sum() == 3  # professional: all + 2 segments
    difference = out[(out["item"] == "professional") & (out["row_type"] == "difference")
                     & (out["segment"] == "all")].iloc[0]
    assert difference["wave"] == "dk_2025 - dk_2024"
    assert difference["difference"] == pytest.approx(0.75 - 0.5)
    assert (difference["ci_low"], difference["ci_high"]) == \
        pytest.approx(newcombe_difference(3, 4, 2, 4)[1:])
    assert "question text differs (dk_2024: 'Old wording?'; dk_2025: 'New wording?')" in difference["note"]
    empty = out[(out["item"] == "professional") & (out["segment"] == "medium_large")]
    assert empty["n"].fillna(0).eq(0).all()  # nobody in that segment: n = 0, never a crash


def test_question_texts_follow_derived_variables(harmonised):
    texts = question_texts(load_codebook(ROOT / "config/codebook/dk_2024.yaml"), harmonised)
    assert texts["professionalism"] == "Hvor professionelt arbejder din virksomhed med sociale medier?"
    assert texts["important_facebook"] == texts["important_facebook_likert"]
    assert texts["important_facebook"].endswith("- Facebook")


def test_segment_name_of_everyone_is_the_estimates_one():
    from smesocial import compare as harmonise
    from smesocial import estimates as stats

    assert harmonise.ALL_SEGMENTS == stats.ALL_SEGMENTS == "all"
