"""Employee counts, exclusion rules, the respondent flow and the clean table."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from smesocial.clean import BookkeepingError, apply_exclusions, check_flow
from smesocial.ingest import (EmployeeCount, parse_employee_column, parse_employee_count, with_employee_counts)
from smesocial.errors import InputError
from smesocial.tables import write_parquet
from smesocial.segment import load_schemes, segment_table


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


def row(raw_row, response_id, *, key=None, status="complete", started=None, minutes=None,
        employees="12", test=False, answered=ITEMS, post="weekly", barrier=True):
    """One ingested row. Each raw row starts on its own day unless told otherwise, so the
    identical-answers duplicate rule only fires where a test means it to; `minutes` sets the
    finish time (default none: no timing, the speeder rule cannot judge the row)."""
    start = pd.Timestamp(started if started is not None else f"2023-12-{raw_row:02d} 10:00")
    finish = start + pd.Timedelta(minutes=minutes) if minutes is not None else pd.NaT
    return dict(raw_row=raw_row, response_id=response_id, status=status,
                started=start, finished=finish,
                respondent_key_hash=key or f"h{response_id}", employees_raw=employees,
                is_test_marked=test, items_answered=answered, items_total=ITEMS, post_facebook=post,
                barrier_time=barrier)


def run_clean(frame, config, wave, *, source="ingested table", employees_column="employees_raw",
              answer_columns=None):
    """What the ingest (counts), segment and clean stages do to an ingested table, in turn."""
    counted = with_employee_counts(frame, source=source, column=employees_column)
    segments = segment_table(counted, load_schemes(config))
    return apply_exclusions(counted, segments, config, wave, source=source,
                            answer_columns=answer_columns)


def ingested_frame(rows):
    frame = pd.DataFrame(rows)
    frame["started"] = frame["started"].astype("datetime64[us]")
    frame["finished"] = frame["finished"].astype("datetime64[us]")
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
    _clean, exclusions, _flow = run_clean(synthetic, config, "dk_2024")
    by_row = exclusions.set_index("raw_row")["rule"].to_dict()
    assert by_row == {3: "test_response", 13: "test_response",
                      4: "duplicate_submission", 7: "duplicate_submission",
                      5: "partial_below_threshold",
                      9: "out_of_scope", 10: "out_of_scope", 11: "out_of_scope"}
    assert exclusions.columns.tolist() == ["wave", "raw_row", "response_id", "rule", "reason"]
    assert exclusions["raw_row"].is_monotonic_increasing
    assert (exclusions["wave"] == "dk_2024").all()


def test_an_ingested_table_without_a_variable_names_it_as_missing(synthetic, config):
    with pytest.raises(InputError) as err:
        run_clean(synthetic, config, "dk_2024", answer_columns=["post_facebook", "post_tiktok"])
    assert err.value.missing == ["post_tiktok"]
    assert "lacks harmonised variables; missing ['post_tiktok']" in str(err.value)
    assert "found" not in str(err.value)


def test_reasons_are_sentences_with_specifics(synthetic, config):
    _clean, exclusions, _flow = run_clean(synthetic, config, "dk_2024")
    reason = exclusions.set_index("raw_row")["reason"]
    assert "kept the first complete submission, response B2" in reason[4]
    assert "response B2" in reason[7]
    assert "answered 10 of 27 items (37%), below the 50% threshold" in reason[5]
    assert "0 employees" in reason[9]
    assert reason[10].startswith("employee range straddles segment boundary")
    assert "no employee count given" in reason[11]
    assert "'test'" in reason[3]


def test_first_complete_submission_is_kept_not_the_earlier_partial(synthetic, config):
    clean, _exclusions, _flow = run_clean(synthetic, config, "dk_2024")
    assert "dk_2024-B2" in clean["respondent_id"].tolist()
    assert not {"dk_2024-B1", "dk_2024-B3"} & set(clean["respondent_id"])


def test_last_complete_keeps_the_latest_complete(synthetic, config):
    cfg = copy.deepcopy(config)
    cfg["exclusions"]["duplicate_keep"] = "last_complete"
    clean, exclusions, _flow = run_clean(synthetic, cfg, "dk_2024")
    assert "dk_2024-B3" in clean["respondent_id"].tolist()
    assert "kept the last complete submission, response B3" in \
        exclusions.set_index("raw_row").loc[6, "reason"]


def test_threshold_is_configurable(synthetic, config):
    cfg = copy.deepcopy(config)
    cfg["exclusions"]["partial_min_answered_share"] = 0.8  # 20/27 = 74% now too low
    _clean, exclusions, _flow = run_clean(synthetic, cfg, "dk_2024")
    assert set(exclusions.loc[exclusions.rule == "partial_below_threshold", "raw_row"]) == {5, 8}


def test_flow_adds_up(synthetic, config):
    clean, exclusions, flow = run_clean(synthetic, config, "dk_2024")
    assert flow.columns.tolist() == ["step", "n_in", "n_excluded", "n_out"]
    assert flow["step"].tolist() == ["raw", "test_response", "duplicate_submission",
                                     "partial_below_threshold", "speeder", "out_of_scope",
                                     "analysed"]
    # No timings in this fixture: the speeder step is shown with 0.
    assert flow["n_excluded"].tolist() == [0, 2, 2, 1, 0, 3, 0]
    assert flow["n_in"].tolist() == [14, 14, 12, 10, 9, 9, 6]
    assert flow["n_out"].tolist() == [14, 12, 10, 9, 9, 6, 6]
    assert flow["n_excluded"].sum() == len(exclusions) == 14 - len(clean)
    # Nothing vanishes: every raw row is either analysed or in exclusions.csv, never both.
    assert sorted([*clean["raw_row"], *exclusions["raw_row"]]) == list(range(2, 16))


def test_invalid_count_on_a_retained_row_stops_naming_all_rows(synthetic, config):
    bad = synthetic.copy()
    bad.loc[bad.raw_row == 2, "employees_raw"] = "mange"
    bad.loc[bad.raw_row == 14, "employees_raw"] = "10-5"
    with pytest.raises(InputError) as err:
        run_clean(bad, config, "dk_2024", source="data/raw/x.csv", employees_column="Ansatte?")
    assert err.value.rows == [2, 14]
    assert err.value.file == "data/raw/x.csv" and err.value.column == "Ansatte?"
    assert err.value.found == ["mange", "10-5"]


def test_clean_table_columns_types_and_order(synthetic, config):
    clean, _exclusions, _flow = run_clean(synthetic, config, "dk_2024")
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
    first, *_ = run_clean(synthetic, config, "dk_2024")
    second, *_ = run_clean(synthetic.sample(frac=1, random_state=7), config, "dk_2024")
    write_parquet(first, tmp_path / "a.parquet")
    write_parquet(second, tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


# --- duplicates by identical answers within a time window ---------------------------------------


def _with(config, **rules):
    cfg = copy.deepcopy(config)
    cfg["exclusions"].update(rules)
    return cfg


def _rules(exclusions):
    return exclusions.set_index("raw_row")["rule"].to_dict()


def test_identical_answers_within_window_are_duplicates_whatever_the_key(config):
    frame = ingested_frame([
        row(2, "D1", key="cvrA", started="2023-12-05 10:00", employees="12", post="daily"),
        # 20 min later, same answers, count typed differently only in case and spacing, new key
        row(3, "D2", key="cvrB", started="2023-12-05 10:20", employees=" 12 ", post="daily"),
        row(4, "D3", key=None, started="2023-12-05 10:30", employees="12", post="daily"),
        row(5, "E1", started="2023-12-05 10:10", employees="12", post="weekly"),  # other answers
    ])
    frame.loc[frame.response_id == "D3", "respondent_key_hash"] = pd.NA  # no key at all
    _clean, exclusions, _flow = run_clean(frame, _with(config, duplicate_window_minutes=30),
                                                 "dk_2024")
    assert _rules(exclusions) == {3: "duplicate_submission", 4: "duplicate_submission"}
    reason = exclusions.set_index("raw_row")["reason"]
    assert reason[3] == ("duplicate submission with answers and employee count identical to "
                         "response D1, started 20 min 00 s after it (within the 30-minute window; "
                         "the respondent key differs); kept the first complete submission, "
                         "response D1")
    assert "started 30 min 00 s after it" in reason[4] and "a respondent key is missing" in reason[4]


def test_evidence_chains_make_one_firm_across_keys_and_answers(config):
    # F1 and F2 give identical answers 10 minutes apart under different keys; F3 shares F2's key
    # but answers otherwise, days later. All three are one firm (linked through F2); G1 is not.
    frame = ingested_frame([
        row(2, "F1", key="cvrA", started="2023-12-05 10:00", post="daily"),
        row(3, "F2", key="cvrB", started="2023-12-05 10:10", post="daily"),
        row(4, "F3", key="cvrB", started="2023-12-09 09:00", post="never"),
        row(5, "G1", key="cvrC", started="2023-12-05 10:05", post="monthly"),
    ])
    clean, exclusions, _flow = run_clean(frame, _with(config, duplicate_window_minutes=30),
                                         "dk_2024")
    assert _rules(exclusions) == {3: "duplicate_submission", 4: "duplicate_submission"}
    assert sorted(clean["response_id"]) == ["F1", "G1"]
    reason = exclusions.set_index("raw_row")["reason"]
    assert "identical to response F1" in reason[3]
    assert reason[4].startswith("duplicate submission of the same firm as response F1 through "
                                "another of its submissions")


def test_identical_answers_do_not_chain_beyond_the_window(config):
    # Identical answers every 20 minutes: each within the window of the previous one, but only
    # the second is within the window of the first; the third starts a new firm.
    frame = ingested_frame([
        row(2, "R1", started="2023-12-05 10:00"),
        row(3, "R2", started="2023-12-05 10:20"),
        row(4, "R3", started="2023-12-05 10:40"),
        row(5, "R4", started="2023-12-05 10:55"),
    ])
    clean, exclusions, _flow = run_clean(frame, config, "dk_2024")
    assert clean["response_id"].tolist() == ["R1", "R3"]
    reason = exclusions.set_index("raw_row")["reason"]
    assert reason[3].endswith("kept the first complete submission, response R1")
    assert reason[5].endswith("kept the first complete submission, response R3")


def test_identical_answers_outside_the_window_or_different_are_kept(config):
    frame = ingested_frame([
        row(2, "F1", started="2023-12-05 10:00", post="daily"),
        row(3, "F2", started="2023-12-05 10:31", post="daily"),  # 31 min: outside 30
        row(4, "G1", started="2023-12-06 10:00", post="daily", barrier=False),
        row(5, "G2", started="2023-12-06 10:05", post="daily", barrier=True),  # one answer differs
        row(6, "H1", started="2023-12-07 10:00", employees="12"),
        row(7, "H2", started="2023-12-07 10:05", employees="13"),  # employee count differs
    ])
    _clean, exclusions, _flow = run_clean(frame, _with(config, duplicate_window_minutes=30),
                                                 "dk_2024")
    assert exclusions.empty
    # A wider window takes F2 as F1's resubmission.
    _clean, exclusions, _flow = run_clean(frame, _with(config, duplicate_window_minutes=31),
                                                 "dk_2024")
    assert _rules(exclusions) == {3: "duplicate_submission"}
    # null turns the answer comparison off; the same-key rule still works.
    _clean, exclusions, _flow = run_clean(frame, _with(config, duplicate_window_minutes=None),
                                                 "dk_2024")
    assert exclusions.empty


def test_answer_duplicates_keep_the_first_complete_submission(config):
    frame = ingested_frame([
        # the firm's first try is marked partial but answered everything the same
        row(2, "K1", key="k1", status="partial", started="2023-12-05 10:00", answered=20),
        row(3, "K2", key="k2", started="2023-12-05 10:10"),
        row(4, "K3", key="k3", started="2023-12-05 10:15"),
    ])
    clean, exclusions, _flow = run_clean(frame, config, "dk_2024")
    assert clean["response_id"].tolist() == ["K2"]
    reason = exclusions.set_index("raw_row")["reason"]
    assert set(reason.index) == {2, 4}
    assert all(r.endswith("kept the first complete submission, response K2") for r in reason)
    assert "started 10 min 00 s before it" in reason[2]
    cfg = _with(config, duplicate_keep="last_complete")
    clean, exclusions, _flow = run_clean(frame, cfg, "dk_2024")
    assert clean["response_id"].tolist() == ["K3"]
    assert "kept the last complete submission, response K3" in exclusions["reason"].iloc[0]


def test_empty_or_undated_submissions_are_not_matched_on_answers(config):
    frame = ingested_frame([
        row(2, "Q1", status="partial", started="2023-12-05 10:00", employees=None, answered=0,
            post=None, barrier=None),
        row(3, "Q2", status="partial", started="2023-12-05 10:01", employees=None, answered=0,
            post=None, barrier=None),
        row(4, "U1", employees="12"),
        row(5, "U2", employees="12"),
    ])
    frame.loc[frame.raw_row >= 4, "started"] = pd.NaT
    _clean, exclusions, _flow = run_clean(frame, config, "dk_2024")
    # Q1/Q2 answered nothing (they go as partials, not duplicates); U1/U2 have no start time.
    assert _rules(exclusions) == {2: "partial_below_threshold", 3: "partial_below_threshold"}


# --- speeders ------------------------------------------------------------------------------------


@pytest.fixture
def timed():
    """Complete responses of 1, 2, 3, 8, 10, 10, 10, 12 and 14 minutes (median 10; the fast ones
    count too), the partials and the test that do not, and the untimed one."""
    return ingested_frame([
        row(2, "C1", minutes=8, post="daily"),
        row(3, "C2", minutes=10, post="monthly"),
        row(4, "C3", minutes=10, post="never"),
        row(5, "C4", minutes=12, post="almost_never"),
        row(6, "C5", minutes=14),
        row(14, "C6", minutes=10),
        row(7, "S1", minutes=2),  # 2 < 0.3 x 10: speeder
        row(8, "S2", minutes=3),  # exactly the cut-off: not below it
        row(9, "S3", minutes=1, status="partial", answered=5),  # a break-off: partial first
        row(10, "S4", minutes=1, test=True),  # a test: test first
        row(11, "S5", minutes=1, employees="12"),
        row(12, "S6", minutes=None),  # no finish time: cannot be judged
        row(13, "L1", minutes=300, status="partial", answered=20),  # partials set no median
    ])


def test_speeder_fires_below_the_share_of_the_median(timed, config):
    _clean, exclusions, flow = run_clean(timed, _with(config, speeder_min_share_of_median=0.3),
                                                "dk_2024")
    assert _rules(exclusions) == {7: "speeder", 9: "partial_below_threshold",
                                  10: "test_response", 11: "speeder"}
    assert exclusions.set_index("raw_row").loc[7, "reason"] == (
        "speeder: took 2 min 00 s, less than 30% of the median duration of complete responses "
        "(10 min 00 s; cut-off 3 min 00 s)")
    assert flow.set_index("step").loc["speeder", "n_excluded"] == 2


def test_speeder_threshold_is_configurable(timed, config):
    _clean, exclusions, _flow = run_clean(timed, _with(config, speeder_min_share_of_median=0.85),
                                                 "dk_2024")
    # cut-off 8.5 min: C1 (8 min) too; the 300-minute partial does not move the median
    assert {r for r, rule in _rules(exclusions).items() if rule == "speeder"} == {2, 7, 8, 11}


def test_speeder_rule_off_or_without_timings_is_skipped_with_a_log_line(timed, config, caplog):
    caplog.set_level("INFO", logger="smesocial.clean")
    off = _with(config, speeder_min_share_of_median=None)
    _clean, exclusions, _flow = run_clean(timed, off, "dk_2024")
    assert "speeder" not in set(exclusions["rule"])  # S1 and S5 (1-2 minutes) are kept
    assert "rule off for wave dk_2024" in caplog.text
    caplog.clear()
    untimed = timed[timed.raw_row != 11].assign(finished=pd.NaT).astype({"finished": "datetime64[us]"})
    _clean, exclusions, flow = run_clean(untimed, _with(config, speeder_min_share_of_median=0.3),
                                                "dk_2024")
    assert "speeder" not in set(exclusions["rule"])
    assert flow.set_index("step").loc["speeder"].tolist() == [10, 0, 10]
    assert "wave dk_2024 has no start and finish times; rule skipped" in caplog.text


def test_finish_before_start_stops_the_run(timed, config):
    bad = timed.copy()
    bad.loc[bad.raw_row == 3, "finished"] = bad.loc[bad.raw_row == 3, "started"] - pd.Timedelta(minutes=5)
    with pytest.raises(InputError) as err:
        run_clean(bad, _with(config, speeder_min_share_of_median=0.3), "dk_2024",
                         source="data/raw/x.csv")
    assert err.value.file == "data/raw/x.csv" and err.value.rows == [3]
    assert "finished before they started" in err.value.problem


# --- population -----------------------------------------------------------------------------------


@pytest.fixture
def sized():
    return ingested_frame([
        row(2, "P0", employees="0"),
        row(3, "P3", employees="3"),
        row(4, "P120", employees="120"),
        row(5, "P300", employees="300"),
        row(6, "Popen", employees="200+"),
        row(7, "Prange", employees="3-8"),
    ])


def _population(config, population):
    cfg = copy.deepcopy(config)
    if population is None:
        cfg["waves"]["dk_2024"].pop("population", None)
    else:
        cfg["waves"]["dk_2024"]["population"] = population
    return cfg


def test_population_bounds_exclude_firms_outside_it(sized, config):
    cfg = _population(config, {"min_employees": 5, "max_employees": 249})
    clean, exclusions, _flow = run_clean(sized, cfg, "dk_2024")
    assert clean["response_id"].tolist() == ["P120"]
    reason = exclusions.set_index("raw_row")["reason"]
    assert (exclusions["rule"] == "out_of_scope").all()
    assert reason[5] == ("reports '300', i.e. 300 employees; the population of wave 'dk_2024' is "
                         "firms with 5-249 employees (waves.dk_2024.population)")
    assert "i.e. 200 or more employees" in reason[6]  # an open end may exceed the maximum
    assert "i.e. 3-8 employees" in reason[7]  # a range reaching below the minimum
    assert "i.e. 0 employees" in reason[2]


def test_population_defaults_to_the_scheme_range(sized, config):
    clean, exclusions, _flow = run_clean(sized, _population(config, None), "dk_2024")
    assert set(clean["response_id"]) == {"P3", "P120", "P300", "Popen", "Prange"}
    assert exclusions.set_index("raw_row").loc[2, "reason"] == (
        "reports '0', i.e. 0 employees; the population of wave 'dk_2024' is firms with 1 or more "
        "employees (the range of segmentation scheme 'report_dk_2024')")
    # Under a scheme that starts at 0, a firm with no employees is in scope.
    cfg = _population(config, None)
    cfg["waves"]["dk_2024"]["segmentation"] = "eu_sme"
    clean, exclusions, _flow = run_clean(sized, cfg, "dk_2024")
    assert "P0" in set(clean["response_id"])
    # ... and "200+" now straddles medium (50-249) and large (250+)
    assert exclusions["response_id"].tolist() == ["Popen"]
    assert exclusions["reason"].iloc[0].startswith("employee range straddles segment boundary")


def test_population_wider_than_the_scheme_leaves_the_rest_to_the_segments(sized, config):
    cfg = _population(config, {"min_employees": 0, "max_employees": None})
    _clean, exclusions, _flow = run_clean(sized, cfg, "dk_2024")
    assert exclusions.set_index("raw_row").loc[2, "reason"] == (
        "0 employees is outside every segment of scheme 'report_dk_2024' (1+) "
        "(segmentation scheme 'report_dk_2024')")


def test_population_that_ends_before_it_starts_is_bad_config(sized, config):
    with pytest.raises(InputError) as err:
        run_clean(sized, _population(config, {"min_employees": 50, "max_employees": 10}),
                         "dk_2024")
    assert "waves.dk_2024.population ends before it starts" in err.value.problem


# --- order and bookkeeping ------------------------------------------------------------------------


def test_every_rule_fires_in_order_and_the_flow_adds_up(config):
    frame = ingested_frame([
        row(2, "A", minutes=10), row(3, "B", minutes=10, post="daily"),
        row(4, "C", minutes=12, post="never"),
        row(5, "T", minutes=1, test=True, status="partial", answered=1),  # all rules: test wins
        row(6, "D", key="hA", minutes=1, status="partial", answered=1),  # duplicate wins
        row(7, "P", minutes=1, status="partial", answered=1, employees="0"),  # partial wins
        row(8, "S", minutes=1, employees="0"),  # speeder wins over out_of_scope
        row(9, "O", minutes=10, employees="0", post="monthly"),
    ])
    frame.loc[frame.response_id == "A", "respondent_key_hash"] = "hA"
    cfg = _with(config, speeder_min_share_of_median=0.3)
    clean, exclusions, flow = run_clean(frame, cfg, "dk_2024")
    assert _rules(exclusions) == {5: "test_response", 6: "duplicate_submission",
                                  7: "partial_below_threshold", 8: "speeder", 9: "out_of_scope"}
    assert flow["n_excluded"].tolist() == [0, 1, 1, 1, 1, 1, 0]
    assert flow["n_out"].tolist() == [8, 7, 6, 5, 4, 3, 3]
    assert (flow["n_in"] - flow["n_excluded"] == flow["n_out"]).all()
    assert (flow["n_out"].iloc[:-1].to_numpy() == flow["n_in"].iloc[1:].to_numpy()).all()
    per_rule = exclusions["rule"].value_counts()
    assert all(per_rule[s.step] == s.n_excluded for s in flow.itertuples() if s.n_excluded)
    assert sorted([*clean["raw_row"], *exclusions["raw_row"]]) == list(range(2, 10))


def _bookkeeping(synthetic, config):
    clean, exclusions, flow = run_clean(synthetic, config, "dk_2024")
    raw_rows = synthetic["raw_row"].sort_values()
    return flow, raw_rows, exclusions, clean


def test_check_flow_accepts_the_real_bookkeeping(synthetic, config):
    check_flow(*_bookkeeping(synthetic, config))


@pytest.mark.parametrize("tamper, says", [
    (lambda f, r, e, c: (f, r, e.iloc[1:], c), "flow says"),  # an exclusion line lost
    (lambda f, r, e, c: (f, r, pd.concat([e, e.iloc[[0]]]), c), "excluded more than once"),
    (lambda f, r, e, c: (f, r, e.assign(rule=e["rule"].where(e.index != 0, "out_of_scope")), c),
     "rule test_response: flow says 2 excluded, exclusions list 1"),
    (lambda f, r, e, c: (f, pd.concat([r, pd.Series([99])]), e, c), "neither analysed nor excluded"),
    (lambda f, r, e, c: (f, r, e, c.iloc[1:]), "neither analysed nor excluded"),
    (lambda f, r, e, c: (f.assign(n_out=f["n_out"].where(f.index != 2, 0)), r, e, c),
     "does not start where the previous one ended"),
    (lambda f, r, e, c: (f.iloc[[0, 1, 2, 3, 5, 6]], r, e, c), "flow steps are"),
])
def test_check_flow_catches_rows_dropped_or_counted_twice(synthetic, config, tamper, says):
    with pytest.raises(BookkeepingError) as err:
        check_flow(*tamper(*_bookkeeping(synthetic, config)))
    assert says in str(err.value)
