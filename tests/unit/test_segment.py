"""Segmentation schemes: validation, assignment (bounds, open ends, ranges) and counts."""

from __future__ import annotations

import pandas as pd
import pytest

from smesocial.errors import InputError
from smesocial.segment import (STRADDLES, Scheme, assign, load_schemes, segment_counts,
                               unassigned_reasons)


# The two schemes these tests count against, fixed here so that adding a scheme to
# config/config.yaml does not change the expected counts.
SCHEMES_CONFIG = {"segmentation": {
    "report_dk_2024": {"description": "report", "segments": [
        {"name": "micro", "min": 1, "max": 10}, {"name": "small", "min": 11, "max": 50},
        {"name": "medium", "min": 51, "max": None}]},
    "eu_sme": {"description": "EU", "segments": [
        {"name": "micro", "min": 0, "max": 9}, {"name": "small", "min": 10, "max": 49},
        {"name": "medium", "min": 50, "max": 249}, {"name": "large", "min": 250, "max": None}]},
}}


@pytest.fixture(scope="module")
def schemes():
    return load_schemes(SCHEMES_CONFIG)


def test_every_configured_scheme_loads(config):
    assert {"report_dk_2024", "eu_sme"} <= set(load_schemes(config))


def names(categorical) -> list[object]:
    return [None if pd.isna(v) else v for v in pd.Series(categorical).astype("object")]


def test_report_scheme_bounds(schemes):
    report = schemes["report_dk_2024"]
    out = assign(pd.Series([1, 10, 11, 50, 51, 5000, 0]), report)
    assert names(out) == ["micro", "micro", "small", "small", "medium", "medium", None]
    assert out.ordered and list(out.categories) == ["micro", "small", "medium"]


def test_eu_scheme_bounds(schemes):
    eu = schemes["eu_sme"]
    out = assign(pd.Series([0, 9, 10, 49, 50, 249, 250, 100000]), eu)
    assert names(out) == ["micro", "micro", "small", "small", "medium", "medium", "large", "large"]


def test_ranges_must_fit_one_segment(schemes):
    report, eu = schemes["report_dk_2024"], schemes["eu_sme"]
    ranges = pd.DataFrame({"low": pd.array([1, 40, 200, 200, 51, None], dtype="Int64"),
                           "high": pd.array([10, 60, None, 240, None, None], dtype="Int64")})
    assert names(assign(ranges, report)) == ["micro", None, "medium", "medium", "medium", None]
    # Under the EU scheme 1-10 crosses 9|10, 40-60 crosses 49|50 and '200+' may be medium or
    # large: none of them is assigned.
    assert names(assign(ranges, eu)) == [None, None, None, "medium", None, None]
    reasons = unassigned_reasons(ranges, report)
    assert reasons.isna().tolist() == [True, False, True, True, True, False]
    assert reasons[1] == STRADDLES == "employee range straddles segment boundary"
    assert reasons[5] == "no employee count given"


def test_outside_every_segment_reason(schemes):
    reasons = unassigned_reasons(pd.Series([0, 3]), schemes["report_dk_2024"])
    assert reasons[0] == "0 employees is outside every segment of scheme 'report_dk_2024' (1+)"
    assert pd.isna(reasons[1])


def test_accepts_clean_table_column_names(schemes):
    frame = pd.DataFrame({"employees_low": [5, 45], "employees_high": [5, 55]})
    assert names(assign(frame, schemes["report_dk_2024"])) == ["micro", None]


@pytest.mark.parametrize("segments, says", [
    ([{"name": "a", "min": 1, "max": 10}, {"name": "b", "min": 12, "max": None}], "gap between 'a'"),
    ([{"name": "a", "min": 1, "max": 10}, {"name": "b", "min": 10, "max": None}], "overlap"),
    ([{"name": "a", "min": 11, "max": 20}, {"name": "b", "min": 1, "max": 10}], "overlap"),
    ([{"name": "a", "min": 1, "max": None}, {"name": "b", "min": 2, "max": 3}], "open-ended"),
    ([{"name": "a", "min": 5, "max": 1}], "ends before it starts"),
    ([{"name": "a", "min": 1, "max": 2}, {"name": "a", "min": 3, "max": None}], "repeats a segment name"),
    ([], "no segments"),
])
def test_invalid_schemes_raise_naming_the_scheme(segments, says):
    with pytest.raises(InputError) as err:
        Scheme.from_config("odd_scheme", {"description": "", "segments": segments}, "cfg.yaml")
    assert says in err.value.problem
    assert "'odd_scheme'" in err.value.problem
    assert err.value.file == "cfg.yaml"


def test_gap_message_names_the_missing_counts():
    with pytest.raises(InputError) as err:
        Scheme.from_config("s", {"segments": [{"name": "a", "min": 1, "max": 10},
                                              {"name": "b", "min": 13, "max": None}]})
    assert err.value.found == "11-12 unassigned"


@pytest.fixture
def counted(schemes):
    employees = pd.Series([1, 5, 10, 10, 11, 49, 50, 50, 50, 51, 249, 250, 300])
    ranges = pd.DataFrame({"low": employees, "high": employees})
    assigned = {name: assign(ranges, scheme) for name, scheme in schemes.items()}
    return segment_counts(employees, assigned, schemes, boundary_checks=[50],
                          check_scheme="report_dk_2024")


def test_segment_counts(counted):
    seg = counted[counted.count_type == "segment"].set_index(["scheme", "segment"])
    assert seg["n"].to_dict() == {
        ("report_dk_2024", "micro"): 4, ("report_dk_2024", "small"): 5,
        ("report_dk_2024", "medium"): 4,
        ("eu_sme", "micro"): 2, ("eu_sme", "small"): 4, ("eu_sme", "medium"): 5,
        ("eu_sme", "large"): 2}
    assert seg.loc[("report_dk_2024", "small"), ["min", "max"]].tolist() == [11, 50]
    assert pd.isna(seg.loc[("eu_sme", "large"), "max"])
    assert counted.columns.tolist() == ["count_type", "scheme", "segment", "min", "max", "n", "note"]


def test_counts_on_every_bound(counted):
    on = counted[counted.count_type.str.startswith("at_")].set_index(["scheme", "segment", "count_type"])
    assert on.loc[("report_dk_2024", "small", "at_upper_bound"), "n"] == 3  # exactly 50
    assert on.loc[("report_dk_2024", "small", "at_lower_bound"), "n"] == 1  # exactly 11
    assert on.loc[("report_dk_2024", "micro", "at_upper_bound"), "n"] == 2  # exactly 10
    assert on.loc[("eu_sme", "medium", "at_lower_bound"), "n"] == 3  # exactly 50
    assert on.loc[("eu_sme", "large", "at_lower_bound"), "n"] == 1
    assert ("report_dk_2024", "medium", "at_upper_bound") not in on.index  # open end: no bound
    assert (on["min"] == on["max"]).all()


def test_boundary_check_line(counted):
    check = counted[counted.count_type == "boundary_check"]
    assert len(check) == 1
    line = check.iloc[0]
    assert (line.segment, line.n, line["min"], line["max"], line.scheme) == (
        "boundary_50_employees", 3, 50, 50, "report_dk_2024")
    assert line.note == "report_dk_2024: small; eu_sme: medium"


def test_unassigned_row_only_when_some_are_unassigned(schemes):
    employees = pd.Series([5, 200])
    ranges = pd.DataFrame({"low": [5, 200], "high": pd.array([5, None], dtype="Int64")})
    assigned = {name: assign(ranges, scheme) for name, scheme in schemes.items()}
    table = segment_counts(employees, assigned, schemes)
    unassigned = table[table.count_type == "unassigned"]
    assert unassigned[["scheme", "n"]].values.tolist() == [["eu_sme", 1]]
    assert not (table.count_type == "boundary_check").any()
