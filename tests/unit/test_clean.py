"""Employee counts, exclusion rules, the respondent flow and the clean table."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from smesocial.clean import (EmployeeCount, apply_exclusions, parse_employee_column,
                             parse_employee_count)
from smesocial.errors import InputError
from smesocial.io import write_parquet


@pytest.mark.parametrize("text, expected", [
    ("12", EmployeeCount(12, 12, 12, "exact")),
    (" 12 ", EmployeeCount(12, 12, 12, "exact")),
    ("0", EmployeeCount(0, 0, 0, "exact")),
    ("8 ansatte", EmployeeCount(8, 8, 8, "exact")),
    ("1.200", EmployeeCount(1200, 1200, 1200, "exact")),
    ("1 200", EmployeeCount(1200, 1200, 1200, "exact")),
    ("ca. 40", EmployeeCount(40, 40, 40, "approximate")),
    ("ca 40", EmployeeCount(40, 40, 40, "approximate")),
    ("Cirka 40", EmployeeCount(40, 40, 40, "approximate")),
    ("~40", EmployeeCount(40, 40, 40, "approximate")),
    ("ca. 40 medarbejdere", EmployeeCount(40, 40, 40, "approximate")),
    ("1-10", EmployeeCount(5, 1, 10, "range")),
    ("1 - 10", EmployeeCount(5, 1, 10, "range")),
    ("100–150", EmployeeCount(125, 100, 150, "range")),  # en dash
    ("1.000-1.500", EmployeeCount(1250, 1000, 1500, "range")),
    ("200+", EmployeeCount(200, 200, None, "open_ended")),
    ("200 +", EmployeeCount(200, 200, None, "open_ended")),
    ("over 200", EmployeeCount(201, 201, None, "open_ended")),  # strictly more than 200
    ("Mere end 50", EmployeeCount(51, 51, None, "open_ended")),
    ("1000000", EmployeeCount(1_000_000, 1_000_000, 1_000_000, "exact")),
])
def test_parse_employee_count(text, expected):
    assert parse_employee_count(text) == expected


@pytest.mark.parametrize("text, says", [
    ("mange", "is not an employee count"),
    ("", "empty employee count"),
    ("   ", "empty employee count"),
    (None, "no employee count given"),
    ("-5", "is negative"),
    ("abc", "is not an employee count"),
    ("10-5", "lower bound exceeds its upper bound"),
    ("1,5", "decimal number"),
    ("2.5", "decimal number"),
    ("1000001", "implausibly large"),
    ("5-2000000", "implausibly large"),
    ("12 eller 13", "is not an employee count"),
])
def test_invalid_employee_counts_say_what_was_expected(text, says):
    with pytest.raises(ValueError) as err:
        parse_employee_count(text)
    assert says in str(err.value)
    assert "expected a whole number of employees" in str(err.value)


def test_employee_count_is_frozen():
    with pytest.raises(AttributeError):
        parse_employee_count("3").value = 4  # type: ignore[misc]


def test_parse_column_reports_every_bad_row():
    texts = pd.Series(["12", "mange", None, "1,5", "3"], dtype="str")
    rows = pd.Series([2, 3, 4, 5, 6])
    with pytest.raises(InputError) as err:
        parse_employee_column(texts, rows, source="raw.csv", column="Ansatte?")
    e = err.value
    assert (e.file, e.column, e.rows, e.found) == ("raw.csv", "Ansatte?", [3, 5], ["mange", "1,5"])
    assert "2 employee count(s) cannot be read" in e.problem


def test_parse_column_keeps_na_and_types():
    out = parse_employee_column(pd.Series(["12", None, "200+"], dtype="str"), pd.Series([2, 3, 4]),
                                source="raw.csv", column="c")
    assert out["employees"].tolist() == [12, pd.NA, 200]
    assert out["employees_high"].tolist() == [12, pd.NA, pd.NA]
    assert out["employees_kind"].tolist()[::2] == ["exact", "open_ended"]


# --- exclusions ---------------------------------------------------------------------------------

ITEMS = 27


def row(raw_row, response_id, *, key=None, status="complete", started="2023-12-10 10:00",
        employees="12", test=False, answered=ITEMS, post="weekly"):
    return dict(raw_row=raw_row, response_id=response_id, status=status,
                started=pd.Timestamp(started), finished=pd.NaT,
                respondent_key_hash=key or f"h{response_id}", employees_raw=employees,
                is_test_marked=test, items_answered=answered, items_total=ITEMS, post_facebook=post,
                barrier_time=True)


def ingested_frame(rows):
    frame = pd.DataFrame(rows)
    frame["employees_raw"] = frame["employees_raw"].astype("str")
    frame["respondent_key_hash"] = frame["respondent_key_hash"].astype("str")
    frame["post_facebook"] = pd.Categorical(frame["post_facebook"], ordered=True,
                                            categories=["never", "almost_never", "monthly", "weekly", "daily"])
    frame["barrier_time"] = frame["barrier_time"].astype("boolean")
    return frame.sample(frac=1, random_state=1)  # rule order must not depend on input order


@pytest.fixture
def synthetic():
    return ingested_frame([
        row(2, "A1", key="firmA", employees="12"),
        row(3, "T1", test=True, employees="mange"),  # a test row's unreadable count is no error
        row(4, "B1", key="firmB", status="partial", started="2023-12-01", answered=5),
        row(5, "P1", status="partial", answered=10),  # 10/27 < 50%
        row(6, "B2", key="firmB", started="2023-12-02", employees="60"),
        row(7, "B3", key="firmB", started="2023-12-03", employees="60"),
        row(8, "P2", status="partial", answered=20, employees="3"),  # 20/27 >= 50%: kept
        row(9, "Z1", employees="0"),
        row(10, "S1", employees="40-60"),
        row(11, "N1", employees=None),
        row(12, "O1", employees="200+"),
        row(13, "A2", key="firmA", test=True),  # test and duplicate: the first rule wins
        row(14, "R1", employees="1-10"),
        row(15, "X1", employees="ca. 50"),
    ])


def test_each_rule_fires_first_rule_wins(synthetic, config):
    _clean, exclusions, _flow = apply_exclusions(synthetic, config, "dk_2024")
    by_row = exclusions.set_index("raw_row")["rule"].to_dict()
    assert by_row == {3: "test_response", 13: "test_response",
                      4: "duplicate_submission", 7: "duplicate_submission",
                      5: "partial_below_threshold",
                      9: "out_of_scope", 10: "out_of_scope", 11: "out_of_scope"}
    assert exclusions.columns.tolist() == ["wave", "raw_row", "response_id", "rule", "reason"]
    assert exclusions["raw_row"].is_monotonic_increasing
    assert (exclusions["wave"] == "dk_2024").all()


def test_reasons_are_sentences_with_specifics(synthetic, config):
    _clean, exclusions, _flow = apply_exclusions(synthetic, config, "dk_2024")
    reason = exclusions.set_index("raw_row")["reason"]
    assert "kept the first complete submission, response B2" in reason[4]
    assert "response B2" in reason[7]
    assert "answered 10 of 27 items (37%), below the 50% threshold" in reason[5]
    assert "0 employees" in reason[9]
    assert reason[10].startswith("employee range straddles segment boundary")
    assert "no employee count given" in reason[11]
    assert "'test'" in reason[3]


def test_first_complete_submission_is_kept_not_the_earlier_partial(synthetic, config):
    clean, _exclusions, _flow = apply_exclusions(synthetic, config, "dk_2024")
    assert "dk_2024-B2" in clean["respondent_id"].tolist()
    assert not {"dk_2024-B1", "dk_2024-B3"} & set(clean["respondent_id"])


def test_last_complete_keeps_the_latest_complete(synthetic, config):
    cfg = copy.deepcopy(config)
    cfg["exclusions"]["duplicate_keep"] = "last_complete"
    clean, exclusions, _flow = apply_exclusions(synthetic, cfg, "dk_2024")
    assert "dk_2024-B3" in clean["respondent_id"].tolist()
    assert "kept the last complete submission, response B3" in \
        exclusions.set_index("raw_row").loc[6, "reason"]


def test_threshold_is_configurable(synthetic, config):
    cfg = copy.deepcopy(config)
    cfg["exclusions"]["partial_min_answered_share"] = 0.8  # 20/27 = 74% now too low
    _clean, exclusions, _flow = apply_exclusions(synthetic, cfg, "dk_2024")
    assert set(exclusions.loc[exclusions.rule == "partial_below_threshold", "raw_row"]) == {5, 8}


def test_flow_adds_up(synthetic, config):
    clean, exclusions, flow = apply_exclusions(synthetic, config, "dk_2024")
    assert flow.columns.tolist() == ["step", "n_in", "n_excluded", "n_out"]
    assert flow["step"].tolist() == ["raw", "test_response", "duplicate_submission",
                                     "partial_below_threshold", "out_of_scope", "analysed"]
    assert flow["n_excluded"].tolist() == [0, 2, 2, 1, 3, 0]
    assert flow["n_in"].tolist() == [14, 14, 12, 10, 9, 6]
    assert flow["n_out"].tolist() == [14, 12, 10, 9, 6, 6]
    assert flow["n_excluded"].sum() == len(exclusions) == 14 - len(clean)
    # Nothing vanishes: every raw row is either analysed or in exclusions.csv, never both.
    assert sorted([*clean["raw_row"], *exclusions["raw_row"]]) == list(range(2, 16))


def test_invalid_count_on_a_retained_row_stops_naming_all_rows(synthetic, config):
    bad = synthetic.copy()
    bad.loc[bad.raw_row == 2, "employees_raw"] = "mange"
    bad.loc[bad.raw_row == 14, "employees_raw"] = "10-5"
    with pytest.raises(InputError) as err:
        apply_exclusions(bad, config, "dk_2024", source="data/raw/x.csv", employees_column="Ansatte?")
    assert err.value.rows == [2, 14]
    assert err.value.file == "data/raw/x.csv" and err.value.column == "Ansatte?"
    assert err.value.found == ["mange", "10-5"]


def test_clean_table_columns_types_and_order(synthetic, config):
    clean, _exclusions, _flow = apply_exclusions(synthetic, config, "dk_2024")
    assert clean["respondent_id"].tolist() == sorted(clean["respondent_id"])
    assert clean["respondent_id"].tolist() == ["dk_2024-A1", "dk_2024-B2", "dk_2024-O1",
                                               "dk_2024-P2", "dk_2024-R1", "dk_2024-X1"]
    assert clean.columns[:5].tolist() == ["respondent_id", "wave", "country", "year", "sample"]
    assert (clean["country"] == "DK").all() and (clean["sample"] == "main").all()
    assert clean["year"].dtype == "int64" and (clean["year"] == 2024).all()
    assert clean["employees"].dtype == "int64"
    assert clean["employees"].tolist() == [12, 60, 200, 3, 5, 50]
    assert clean["employees_kind"].tolist() == ["exact", "exact", "open_ended", "exact", "range",
                                                "approximate"]
    seg = clean["segment"]
    assert seg.cat.ordered and list(seg.cat.categories) == ["micro", "small", "medium"]
    assert seg.astype("object").tolist() == ["small", "medium", "medium", "micro", "micro", "small"]
    assert not {"respondent_key_hash", "is_test_marked", "started", "finished"} & set(clean.columns)
    assert clean["post_facebook"].cat.ordered and clean["barrier_time"].dtype == "boolean"


def test_clean_parquet_is_byte_identical_when_rewritten(synthetic, config, tmp_path):
    first, *_ = apply_exclusions(synthetic, config, "dk_2024")
    second, *_ = apply_exclusions(synthetic.sample(frac=1, random_state=7), config, "dk_2024")
    write_parquet(first, tmp_path / "a.parquet")
    write_parquet(second, tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
