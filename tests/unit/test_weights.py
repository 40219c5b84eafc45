"""Survey weights: post-stratification and raking against hand-computed values, Kish's design
effect, the mapping of population size classes to segments, and the unweighted fallback."""

from __future__ import annotations

import copy
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from smesocial.config import load_yaml, validate_config
from smesocial.errors import InputError
from smesocial.segment import Scheme, load_schemes
from smesocial.weights import (POSTSTRATIFICATION, RAKING, SUMMARY_COLUMNS, UNWEIGHTED,
                               WEIGHT_COLUMNS, Diagnostics, MarginTargets, kish_design_effect,
                               load_margin, parse_size_class, population_targets, poststratify,
                               rake, read_population, weight_wave, weighting_spec)

ROOT = Path(__file__).resolve().parents[2]

POPULATION_FILE = ROOT / "data/raw/official/population_firms_by_size.csv"
# The eu_sme segments (0-9, 10-49, 50-249, 250+) hold every Norwegian size class whole.
EU_MAPPING = {"0": "micro", "1-4": "micro", "5-9": "micro", "10-19": "small", "20-49": "small",
              "50-99": "medium", "100-249": "medium", "250+": "large"}


def cells(counts: dict[str, int], name: str = "segment") -> pd.Series:
    return pd.Series([c for c, n in counts.items() for _ in range(n)], name=name)


@pytest.fixture(scope="module")
def schemes(config):
    return load_schemes(config)


@pytest.fixture(scope="module")
def norway():
    return read_population(POPULATION_FILE)


# ---------------------------------------------------------------- post-stratification


def test_poststratification_matches_hand_computed_weights():
    # Sample 50/30/20, population 60/30/10: weight = population share / sample share.
    sample = cells({"a": 50, "b": 30, "c": 20})
    weights = poststratify(sample, {"a": 600, "b": 300, "c": 100})
    assert weights.groupby(sample).first().to_dict() == pytest.approx({"a": 1.2, "b": 1.0, "c": 0.5})
    assert weights.sum() == pytest.approx(100)  # mean 1
    assert weights.index.equals(sample.index)
    # Kish: 100 * (50*1.44 + 30*1 + 20*0.25) / 100^2 = 1.07
    assert kish_design_effect(weights) == pytest.approx(1.07)


def test_an_empty_sample_cell_with_a_population_target_is_named():
    with pytest.raises(InputError, match=r"no respondents in cell\(s\) of 'segment'.*'?large'? "
                       r"\(population 734\)"):
        poststratify(cells({"micro": 5, "small": 3}), {"micro": 90, "small": 10, "large": 734})


def test_a_respondent_in_a_cell_without_target_is_named():
    with pytest.raises(InputError, match="no population target") as caught:
        poststratify(cells({"micro": 5, "large": 2}), {"micro": 90, "small": 10})
    assert caught.value.found == {"large": 2}


def test_a_respondent_without_a_cell_is_named_by_index():
    sample = pd.Series(["micro", None, "small"], index=["r1", "r2", "r3"], name="segment_eu_sme")
    with pytest.raises(InputError, match="1 respondent.*no value of 'segment_eu_sme'") as caught:
        poststratify(sample, {"micro": 1, "small": 1})
    assert caught.value.found == ["r2"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 500), st.floats(0.5, 1e6)), min_size=1, max_size=8))
def test_weighted_cell_shares_equal_population_shares(cell_specs):
    names = [f"c{i}" for i in range(len(cell_specs))]
    sample = cells({name: n for name, (n, _pop) in zip(names, cell_specs)})
    targets = {name: pop for name, (_n, pop) in zip(names, cell_specs)}
    weights = poststratify(sample, targets)
    weighted = weights.groupby(sample).sum() / weights.sum()
    total = sum(targets.values())
    for name in names:
        assert weighted[name] == pytest.approx(targets[name] / total, rel=1e-9, abs=1e-12)
    assert weights.mean() == pytest.approx(1.0)


# ---------------------------------------------------------------- raking


def two_by_two(counts: dict[tuple[str, str], int]) -> pd.DataFrame:
    return pd.DataFrame([k for k, n in counts.items() for _ in range(n)], columns=["size", "sector"])


def test_raking_converges_to_the_hand_solved_two_by_two():
    # Sample [[30, 20], [10, 40]] raked to rows 50/50 and columns 60/40. Raking keeps the sample's
    # odds ratio (30*40 / (20*10) = 6), so the fitted table [[x, 50-x], [60-x, x-10]] solves
    # x(x-10) = 6(50-x)(60-x), i.e. x^2 - 130x + 3600 = 0, x = 40: [[40, 10], [20, 30]], and the
    # weights are fitted / sample: 40/30, 10/20, 20/10, 30/40.
    frame = two_by_two({("small", "retail"): 30, ("small", "services"): 20,
                        ("large", "retail"): 10, ("large", "services"): 40})
    weights = rake(frame, {"size": {"small": 50, "large": 50},
                           "sector": {"retail": 60, "services": 40}})
    by_cell = weights.groupby([frame["size"], frame["sector"]]).first()
    assert by_cell[("small", "retail")] == pytest.approx(4 / 3, rel=1e-8)
    assert by_cell[("small", "services")] == pytest.approx(0.5, rel=1e-8)
    assert by_cell[("large", "retail")] == pytest.approx(2.0, rel=1e-8)
    assert by_cell[("large", "services")] == pytest.approx(0.75, rel=1e-8)
    assert weights.groupby(frame["size"]).sum().to_dict() == pytest.approx({"small": 50, "large": 50})
    assert weights.groupby(frame["sector"]).sum().to_dict() == pytest.approx({"retail": 60, "services": 40})


def test_raking_on_one_margin_is_poststratification():
    frame = pd.DataFrame({"segment": cells({"a": 50, "b": 30, "c": 20})})
    targets = {"a": 600, "b": 300, "c": 100}
    raked = rake(frame, {"segment": targets})
    pd.testing.assert_series_equal(raked, poststratify(frame["segment"], targets), rtol=1e-12)


def test_raking_that_cannot_meet_the_margins_stops():
    # Only (small, retail) and (large, services) are sampled, so the row and column shares are
    # forced equal: 50/50 rows and 70/30 columns cannot both hold.
    frame = two_by_two({("small", "retail"): 20, ("large", "services"): 20})
    with pytest.raises(InputError, match="did not converge in 50 iterations"):
        rake(frame, {"size": {"small": 50, "large": 50}, "sector": {"retail": 70, "services": 30}},
             max_iter=50)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 60), min_size=6, max_size=6),
       st.lists(st.floats(1, 1000), min_size=2, max_size=2),
       st.lists(st.floats(1, 1000), min_size=3, max_size=3))
def test_raking_meets_every_margin_when_every_cell_is_sampled(counts, rows, cols):
    frame = two_by_two({(f"r{i // 3}", f"c{i % 3}"): n for i, n in enumerate(counts)})
    row_t = {f"r{i}": v for i, v in enumerate(rows)}
    col_t = {f"c{i}": v for i, v in enumerate(cols)}
    weights = rake(frame, {"size": row_t, "sector": col_t})
    for column, targets in (("size", row_t), ("sector", col_t)):
        shares = weights.groupby(frame[column]).sum() / weights.sum()
        for name, value in targets.items():
            assert shares[name] == pytest.approx(value / sum(targets.values()), abs=1e-9)


# ---------------------------------------------------------------- design effect


def test_kish_design_effect_of_equal_weights_is_one():
    assert kish_design_effect([2.5] * 7) == pytest.approx(1.0)
    assert Diagnostics.of(np.ones(10)) == Diagnostics(10, pytest.approx(1.0), pytest.approx(1.0),
                                                      pytest.approx(10.0))


def test_kish_design_effect_of_a_known_vector():
    # n = 4, sum w^2 = 1 + 1 + 4 + 16 = 22, (sum w)^2 = 64: deff = 4 * 22 / 64 = 1.375.
    d = Diagnostics.of([1, 1, 2, 4])
    assert d.deff == pytest.approx(1.375)
    assert d.efficiency == pytest.approx(1 / 1.375)
    assert d.effective_n == pytest.approx(4 / 1.375)


def test_kish_design_effect_rejects_empty_and_negative_weights():
    with pytest.raises(ValueError, match="n > 0"):
        kish_design_effect([])
    with pytest.raises(ValueError, match="non-negative"):
        kish_design_effect([1.0, -1.0, 2.0])


# ---------------------------------------------------------------- population classes


@pytest.mark.parametrize("label, expected", [("0", (0, 0)), ("1-4", (1, 4)), ("100-249", (100, 249)),
                                             ("250+", (250, None))])
def test_parse_size_class(label, expected):
    assert parse_size_class(label) == expected


def test_norwegian_classes_map_whole_onto_the_eu_segments(norway, schemes):
    margin = population_targets(norway, EU_MAPPING, variable="segment_eu_sme",
                                scheme=schemes["eu_sme"], filter={"country": "NO", "year": "2017"})
    # 152002 + 243829 + 30803 | 17781 + 9861 | 2485 + 1385 | 734
    assert margin.targets == {"micro": 426634, "small": 27642, "medium": 3870, "large": 734}
    assert margin.total == 458880  # the file's `total` row
    assert margin.notes == ()


def test_a_class_outside_the_scheme_is_dropped_with_a_note(norway, caplog):
    # Segments from 1 employee: the 152,002 enterprises with 0 persons employed are out of scope.
    scheme = Scheme.from_config("from_one", {"segments": [
        {"name": "micro", "min": 1, "max": 9}, {"name": "small", "min": 10, "max": 49},
        {"name": "larger", "min": 50, "max": None}]})
    mapping = {k: v for k, v in EU_MAPPING.items() if k != "0"} | {"100-249": "larger",
                                                                 "50-99": "larger", "250+": "larger"}
    with caplog.at_level(logging.INFO, logger="smesocial"):
        margin = population_targets(norway, mapping, variable="segment_from_one", scheme=scheme,
                                    filter={"country": "NO"})
    assert margin.targets == {"micro": 274632, "small": 27642, "larger": 4604}
    assert "'0'" in margin.notes[0] and "dropped" in margin.notes[0]
    assert any("'0'" in r.message and "dropped" in r.message for r in caplog.records)


def test_classes_straddling_a_segment_boundary_are_named(norway, schemes):
    # The report's 1-10 / 11-50 / 51+ cut through SSB's 10-19 and 50-99.
    with pytest.raises(InputError, match="straddles") as caught:
        population_targets(norway, {"1-4": "micro", "5-9": "micro"},
                           variable="segment_report_dk_2024", scheme=schemes["report_dk_2024"],
                           filter={"country": "NO"}, where="weighting.x.margins[0]")
    message = caught.value.message()
    assert "class '10-19' straddles" in message and "micro (1-10), small (11-50)" in message
    assert "class '50-99' straddles" in message
    assert message.startswith("weighting.x.margins[0]:")


def test_every_class_inside_a_segment_must_be_mapped_explicitly(norway, schemes):
    mapping = {k: v for k, v in EU_MAPPING.items() if k != "250+"}
    with pytest.raises(InputError, match="class '250\\+' lies in segment 'large'.*is not mapped"):
        population_targets(norway, mapping, variable="segment_eu_sme", scheme=schemes["eu_sme"],
                           filter={"country": "NO"})
    with pytest.raises(InputError, match="class '1-4' lies in segment 'micro'.*mapped to 'small'"):
        population_targets(norway, EU_MAPPING | {"1-4": "small"}, variable="segment_eu_sme",
                           scheme=schemes["eu_sme"], filter={"country": "NO"})


def test_classes_that_do_not_add_up_to_the_total_stop(norway, schemes):
    tampered = norway.copy()
    tampered.loc[tampered["size_class_persons_employed"] == "250+", "count"] = "735"
    with pytest.raises(InputError, match="do not add up to the stated total"):
        population_targets(tampered, EU_MAPPING, variable="segment_eu_sme",
                           scheme=schemes["eu_sme"], filter={"country": "NO"})


def test_a_filter_that_selects_nothing_stops(norway):
    with pytest.raises(InputError, match="no population rows match"):
        population_targets(norway, EU_MAPPING, variable="segment_eu_sme",
                           filter={"country": "DK"}, file="population_firms_by_size.csv")


# ---------------------------------------------------------------- configuration and whole wave


def with_norwegian_wave(config):
    extended = copy.deepcopy(config)
    extended["weighting"]["no_2010"] = yaml.safe_load("""
        scheme: eu_sme
        margins:
          - variable: segment_eu_sme
            population: no_firms_2017
            mapping: {"0": micro, "1-4": micro, "5-9": micro, "10-19": small, "20-49": small,
                      "50-99": medium, "100-249": medium, "250+": large}
        """)
    return extended


def test_the_configured_danish_wave_has_no_targets_and_says_why(config):
    spec = weighting_spec(config, "dk_2024")
    assert spec.margins == ()
    assert "no published count of Danish enterprises by size class" in spec.reason
    assert "no entry under `weighting`" in weighting_spec(config, "xx_1999").reason


def test_a_norwegian_wave_can_reference_the_named_population_target(config, schemes, monkeypatch):
    monkeypatch.chdir(ROOT)  # config paths are relative to the repository
    extended = with_norwegian_wave(config)
    validate_config(extended, load_yaml(ROOT / "config/schemas/config.schema.yaml"), "config")
    spec = weighting_spec(extended, "no_2010")
    (margin,) = spec.margins
    assert margin.file == "data/raw/official/population_firms_by_size.csv"
    assert margin.filter == {"country": "NO", "year": "2017"}
    assert "ssb.no" in margin.source
    targets = load_margin(margin, schemes["eu_sme"])
    assert targets.total == 458880


def test_the_schema_rejects_a_margin_with_both_a_named_and_an_inline_population(config):
    extended = with_norwegian_wave(config)
    extended["weighting"]["no_2010"]["margins"][0]["population_file"] = "x.csv"
    with pytest.raises(InputError, match="weighting.no_2010"):
        validate_config(extended, load_yaml(ROOT / "config/schemas/config.schema.yaml"), "config")


def test_a_wave_without_targets_gets_unit_weights_and_a_warning(caplog):
    frame = pd.DataFrame({"respondent_id": [f"dk-{i}" for i in range(5)],
                          "segment": ["micro", "micro", "small", "medium", "medium"]})
    with caplog.at_level(logging.WARNING, logger="smesocial"):
        result = weight_wave(frame, [], wave="dk_2024", reason="no Danish size classes published")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "dk_2024" in warnings[0].message and "no Danish size classes published" in warnings[0].message
    assert result.method == UNWEIGHTED
    assert list(result.weights.columns) == WEIGHT_COLUMNS
    assert result.weights["weight"].eq(1.0).all()
    assert result.weights["weight_population"].isna().all()
    assert result.weights["respondent_id"].tolist() == frame["respondent_id"].tolist()
    row = result.summary.iloc[0]
    assert list(result.summary.columns) == SUMMARY_COLUMNS and len(result.summary) == 1
    assert (row["method"], row["n"], row["deff"], row["efficiency"], row["effective_n"]) == \
        (UNWEIGHTED, 5, 1.0, 1.0, 5.0)
    assert "no Danish size classes published" in row["note"]


def test_a_poststratified_wave_scales_to_the_population():
    frame = pd.DataFrame({"respondent_id": [f"r{i}" for i in range(100)],
                          "segment": cells({"a": 50, "b": 30, "c": 20}).to_numpy()})
    margin = MarginTargets("segment", {"a": 600, "b": 300, "c": 100}, source="a census")
    result = weight_wave(frame, [margin], wave="no_2010")
    assert result.method == POSTSTRATIFICATION
    w = result.weights
    assert w["weight"].sum() == pytest.approx(100)
    assert w["weight_population"].sum() == pytest.approx(1000)
    assert w.groupby("weighting_cell")["weight"].first().to_dict() == pytest.approx(
        {"a": 1.2, "b": 1.0, "c": 0.5})
    summary = result.summary.set_index("cell")
    assert summary["population_share"].to_dict() == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1})
    assert summary["weighted_share"].to_dict() == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1})
    assert summary["sample_share"].to_dict() == pytest.approx({"a": 0.5, "b": 0.3, "c": 0.2})
    assert summary["n_sample"].to_dict() == {"a": 50, "b": 30, "c": 20}
    assert summary["deff"].iloc[0] == pytest.approx(1.07)
    assert summary["effective_n"].iloc[0] == pytest.approx(100 / 1.07)
    assert (summary["source"] == "a census").all()


def test_a_raked_wave_labels_joint_cells():
    frame = two_by_two({("small", "retail"): 30, ("small", "services"): 20,
                        ("large", "retail"): 10, ("large", "services"): 40})
    frame.insert(0, "respondent_id", [f"r{i}" for i in range(len(frame))])
    margins = [MarginTargets("size", {"small": 500, "large": 500}),
               MarginTargets("sector", {"retail": 600, "services": 400})]
    result = weight_wave(frame, margins, wave="no_2010")
    assert result.method == RAKING
    by_cell = result.weights.groupby("weighting_cell")["weight"].first()
    assert by_cell["size=small; sector=retail"] == pytest.approx(4 / 3)
    assert result.weights["weight_population"].sum() == pytest.approx(1000)
    assert len(result.summary) == 4 and set(result.summary["margin"]) == {"size", "sector"}
    assert math.isclose(result.summary["deff"].iloc[0], kish_design_effect(result.weights["weight"]))


def test_only_the_weighted_samples_are_weighted_and_each_sample_is_a_stratum():
    """A self-selected sample (weighted_samples leaves it out) keeps unit weights, no population
    weight, a stratum and a calibration cell of its own; the weighted sample alone is post-
    stratified, to mean 1 among its respondents, and the diagnostics describe it."""
    frame = pd.DataFrame({"respondent_id": [f"r{i}" for i in range(130)],
                          "sample": ["panel"] * 100 + ["expert"] * 30,
                          "segment": [*cells({"a": 50, "b": 30, "c": 20}), *["a"] * 30]})
    margin = MarginTargets("segment", {"a": 600, "b": 300, "c": 100})
    result = weight_wave(frame, [margin], wave="no_2010", weighted_samples=["panel"])
    w = result.weights.set_index("respondent_id")
    panel, expert = w.iloc[:100], w.iloc[100:]
    assert panel.groupby("weighting_cell")["weight"].first().to_dict() == pytest.approx(
        {"a": 1.2, "b": 1.0, "c": 0.5})
    assert panel["weight_population"].sum() == pytest.approx(1000)
    assert (expert["weight"] == 1.0).all() and expert["weight_population"].isna().all()
    assert set(expert["weighting_cell"]) == {"unweighted (expert)"}
    assert set(w["stratum"]) == {"panel", "expert"}
    assert w["in_population"].tolist() == [True] * 100 + [False] * 30
    assert set(expert["margin_1"]) == {"unweighted:expert"} and set(panel["margin_1"]) == {"a", "b", "c"}
    assert result.diagnostics.n == 100 and result.diagnostics.deff == pytest.approx(1.07)
    unweighted = result.summary.set_index("cell").loc["unweighted (expert)"]
    assert unweighted["n_sample"] == 30 and "samples not weighted" in unweighted["note"]


def test_weighted_samples_must_name_a_sample_of_the_wave():
    frame = pd.DataFrame({"respondent_id": ["r1", "r2", "r3"], "sample": ["panel"] * 3,
                          "segment": ["a", "b", "a"]})
    with pytest.raises(InputError, match="weighted_samples names a sample") as error:
        weight_wave(frame, [MarginTargets("segment", {"a": 2, "b": 1})], wave="no_2010",
                    weighted_samples=["pannel"])
    assert "pannel" in str(error.value) and "panel" in str(error.value)
