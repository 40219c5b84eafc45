"""Clean: employee counts, exclusion rules and the respondent flow.

Rules run in a fixed order and a row is excluded by the first rule that catches it, so each
excluded raw row has exactly one line in exclusions.csv and the flow adds up:
  test_response -> duplicate_submission -> partial_below_threshold -> out_of_scope.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from smesocial.errors import InputError
from smesocial.io import RAW_ROW
from smesocial.segment import Scheme, assign, load_schemes, unassigned_reasons

Kind = Literal["exact", "approximate", "range", "open_ended"]

MAX_EMPLOYEES = 1_000_000  # beyond any Danish/Norwegian firm: a typo, not a head count
EXPECTED_COUNT = ("a whole number of employees such as '12' or '1.200', an approximate one "
                  "('ca. 40'), a range ('1-10') or an open-ended one ('200+', 'over 200')")

RULES = ("test_response", "duplicate_submission", "partial_below_threshold", "out_of_scope")

# Columns of the ingested table that must not reach clean.parquet (bookkeeping for the rules).
_INGEST_ONLY = ("respondent_key_hash", "is_test_marked", "started", "finished")


@dataclass(frozen=True)
class EmployeeCount:
    """A parsed head count. `value` is what analyses use: the count itself; for a range the
    midpoint rounded down; for an open-ended answer its lower bound. [low, high] is what the
    respondent actually said (high None = no upper bound); segmentation uses it."""

    value: int
    low: int
    high: int | None
    kind: Kind


# A count: plain digits, or digits grouped in threes by '.' (Danish thousands) or a space.
_NUM = r"\d{1,3}(?:[. ]\d{3})+|\d+"
_APPROX = re.compile(r"^(?:ca\.?|cirka|circa|omkring|approx\.?|~)\s*(?P<rest>.+)$")
_UNIT = re.compile(r"\s*(?:ansatte|ansat|medarbejdere|medarbejder|personer|pers\.?|"
                   r"tilsette|employees)\.?$")
_EXACT = re.compile(rf"^(?P<n>{_NUM})$")
_RANGE = re.compile(rf"^(?P<a>{_NUM})\s*-\s*(?P<b>{_NUM})$")
_PLUS = re.compile(rf"^(?:(?P<n>{_NUM})\s*\+|(?:mindst|min\.?|>=)\s*(?P<m>{_NUM}))$")
_OVER = re.compile(rf"^(?:over|mere end|flere end|mer enn|fler enn|>)\s*(?P<n>{_NUM})$")
_DECIMAL = re.compile(r"^\d+[.,]\d+$")


def _int(text: str) -> int:
    return int(text.replace(".", "").replace(" ", ""))


def _checked(count: EmployeeCount, text: str) -> EmployeeCount:
    top = count.high if count.high is not None else count.low
    if top > MAX_EMPLOYEES:
        raise ValueError(f"{text!r} is implausibly large (more than {MAX_EMPLOYEES:,} employees); "
                         f"expected {EXPECTED_COUNT}")
    return count


def parse_employee_count(text: str | None) -> EmployeeCount:
    """Parse a typed employee count ("12", "ca. 40", "1-10", "100–150", "200+", "1.200").

    Raises ValueError, saying what was expected, for anything else: empty, words ("mange"),
    negative, decimals ("1,5"), reversed ranges ("10-5"), more than a million.
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        raise ValueError(f"no employee count given; expected {EXPECTED_COUNT}")
    t = unicodedata.normalize("NFKC", str(text)).strip().casefold()
    t = re.sub(r"[\u2010-\u2015\u2212]", "-", t)  # en/em dashes and minus signs -> hyphen
    t = " ".join(t.split())
    if not t:
        raise ValueError(f"empty employee count; expected {EXPECTED_COUNT}")
    t = _UNIT.sub("", t).strip()
    approximate = False
    if m := _APPROX.match(t):
        approximate, t = True, m["rest"].strip()
    if re.match(r"^-\s*\d", t):
        raise ValueError(f"{text!r} is negative; expected {EXPECTED_COUNT}")
    if m := _EXACT.match(t):
        n = _int(m["n"])
        return _checked(EmployeeCount(n, n, n, "approximate" if approximate else "exact"), text)
    if m := _RANGE.match(t):
        a, b = _int(m["a"]), _int(m["b"])
        if a > b:
            raise ValueError(f"{text!r} is a range whose lower bound exceeds its upper bound; "
                             f"expected {EXPECTED_COUNT}")
        return _checked(EmployeeCount((a + b) // 2, a, b, "range"), text)
    if m := _PLUS.match(t):
        n = _int(m["n"] or m["m"])
        return _checked(EmployeeCount(n, n, None, "open_ended"), text)
    if m := _OVER.match(t):
        n = _int(m["n"]) + 1  # "over 200" is strictly more than 200
        return _checked(EmployeeCount(n, n, None, "open_ended"), text)
    if _DECIMAL.match(t):
        raise ValueError(f"{text!r} is a decimal number, but a head count is whole; "
                         f"expected {EXPECTED_COUNT}")
    raise ValueError(f"{text!r} is not an employee count; expected {EXPECTED_COUNT}")


def parse_employee_column(texts: pd.Series, rows: pd.Series, *, source: str,
                          column: str) -> pd.DataFrame:
    """Parse every non-empty count; NA stays NA. All unreadable rows are reported in one
    InputError (file `source`, the raw `column`, their `raw_row`s and values)."""
    parsed: dict[Any, EmployeeCount] = {}
    bad: list[tuple[int, str, str]] = []
    for idx, text in texts.items():
        if pd.isna(text):
            continue
        try:
            parsed[idx] = parse_employee_count(text)
        except ValueError as exc:
            # The shared "expected ..." goes once into the error, not once per value.
            bad.append((int(rows[idx]), text, str(exc).split("; expected")[0]))
    if bad:
        bad.sort()
        raise InputError(source, f"{len(bad)} employee count(s) cannot be read "
                         f"(first: {bad[0][2]})", column=column, rows=[r for r, _t, _m in bad],
                         found=[t for _r, t, _m in bad], expected=EXPECTED_COUNT)

    def pick(attr: str) -> list[Any]:
        return [getattr(parsed[i], attr) if i in parsed else None for i in texts.index]

    return pd.DataFrame({
        "employees": pd.array(pick("value"), dtype="Int64"),
        "employees_low": pd.array(pick("low"), dtype="Int64"),
        "employees_high": pd.array(pick("high"), dtype="Int64"),
        "employees_kind": pd.array(pick("kind"), dtype="str"),
    }, index=texts.index)


# --- exclusion rules ---------------------------------------------------------------------------
# Each rule gets the rows still in play (sorted by raw_row) and returns a reason per row it
# excludes (NA = kept).


@dataclass(frozen=True)
class Context:
    config: Mapping[str, Any]
    wave: str
    scheme: Scheme


def _rule_test_response(frame: pd.DataFrame, ctx: Context) -> pd.Series:
    markers = ", ".join(repr(m) for m in ctx.config["exclusions"]["test_response_markers"])
    reason = (f"test response: an identifier or comment field contains a test marker ({markers}) "
              "or the firm name is 'TEST'")
    return pd.Series(reason, index=frame.index, dtype="str").where(frame["is_test_marked"].astype(bool))


def _rule_duplicate(frame: pd.DataFrame, ctx: Context) -> pd.Series:
    keep = ctx.config["exclusions"]["duplicate_keep"]
    reasons = pd.Series(pd.NA, index=frame.index, dtype="str")
    keyed = frame[frame["respondent_key_hash"].notna()]
    # Submission order: start time, then file order (NaT last, so undated rows count as later).
    ordered = keyed.sort_values(["started", RAW_ROW], na_position="last", kind="stable")
    for _key, group in ordered.groupby("respondent_key_hash", sort=False):
        if len(group) < 2:
            continue
        complete = group[group["status"] == "complete"]
        pool = complete if len(complete) else group
        kept = pool.index[0] if keep == "first_complete" else pool.index[-1]
        which = "first" if keep == "first_complete" else "last"
        basis = "complete submission" if len(complete) else "submission (none is complete)"
        kept_id = frame.at[kept, "response_id"]
        for idx in group.index.drop(kept):
            reasons[idx] = (f"duplicate submission from the same firm (same respondent key); "
                            f"kept the {which} {basis}, response {kept_id}")
    return reasons


def _rule_partial(frame: pd.DataFrame, ctx: Context) -> pd.Series:
    threshold = float(ctx.config["exclusions"]["partial_min_answered_share"])
    share = frame["items_answered"] / frame["items_total"]
    # Only rows the tool marked partial: a complete response that skipped optional items stays.
    hit = (frame["status"] == "partial") & (share < threshold)
    reasons = pd.Series(pd.NA, index=frame.index, dtype="str")
    for idx in frame.index[hit.to_numpy()]:
        reasons[idx] = (f"partial response: answered {frame.at[idx, 'items_answered']} of "
                        f"{frame.at[idx, 'items_total']} items ({share[idx]:.0%}), below the "
                        f"{threshold:.0%} threshold")
    return reasons


def _rule_out_of_scope(frame: pd.DataFrame, ctx: Context) -> pd.Series:
    reasons = pd.Series(pd.NA, index=frame.index, dtype="str")
    zero = frame["employees"].eq(0).fillna(False).astype(bool)
    reasons[zero] = "reports 0 employees; the survey covers firms with at least one employee"
    no_segment = unassigned_reasons(frame[["employees_low", "employees_high"]], ctx.scheme)
    fill = ~zero & no_segment.notna()
    reasons[fill] = (no_segment[fill] + f" (segmentation scheme {ctx.scheme.name!r})")
    return reasons


_RULES: dict[str, Callable[[pd.DataFrame, Context], pd.Series]] = {
    "test_response": _rule_test_response,
    "duplicate_submission": _rule_duplicate,
    "partial_below_threshold": _rule_partial,
    "out_of_scope": _rule_out_of_scope,
}


def apply_exclusions(ingested: pd.DataFrame, config: Mapping[str, Any], wave: str, *,
                     source: str = "ingested table",
                     employees_column: str = "employees_raw") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Apply the exclusion rules in order; return (clean, exclusions, flow).

    Employee counts are parsed only for rows that reach out_of_scope, so an unreadable count on
    a test or partial response does not stop the run; an unreadable count on any other row does
    (InputError naming `source`, `employees_column` and every such raw_row).
    """
    wave_cfg = config["waves"][wave]
    schemes = load_schemes(config)
    ctx = Context(config, wave, schemes[wave_cfg["segmentation"]])
    remaining = ingested.sort_values(RAW_ROW, kind="stable").reset_index(drop=True)
    n_raw = len(remaining)
    flow = [dict(step="raw", n_in=n_raw, n_excluded=0, n_out=n_raw)]
    excluded: list[pd.DataFrame] = []
    for rule in RULES:
        if rule == "out_of_scope":
            counts = parse_employee_column(remaining["employees_raw"], remaining[RAW_ROW],
                                           source=source, column=employees_column)
            remaining = pd.concat([remaining, counts], axis=1)
        reasons = _RULES[rule](remaining, ctx)
        hit = reasons.notna().to_numpy()
        excluded.append(pd.DataFrame({
            "wave": wave, RAW_ROW: remaining.loc[hit, RAW_ROW].astype("int64"),
            "response_id": remaining.loc[hit, "response_id"], "rule": rule,
            "reason": reasons[hit]}))
        flow.append(dict(step=rule, n_in=len(remaining), n_excluded=int(hit.sum()),
                         n_out=int((~hit).sum())))
        remaining = remaining.loc[~hit].reset_index(drop=True)
    flow.append(dict(step="analysed", n_in=len(remaining), n_excluded=0, n_out=len(remaining)))

    exclusions = (pd.concat(excluded, ignore_index=True)
                  .sort_values(RAW_ROW, kind="stable").reset_index(drop=True))
    exclusions = exclusions.astype({"wave": "str", "response_id": "str", "rule": "str",
                                    "reason": "str", RAW_ROW: "int64"})
    flow_table = pd.DataFrame(flow, columns=["step", "n_in", "n_excluded", "n_out"])
    check_flow(flow_table, n_raw, exclusions, remaining)
    clean = build_clean(remaining, wave_cfg, wave, ctx.scheme)
    return clean, exclusions, flow_table


def check_flow(flow: pd.DataFrame, n_raw: int, exclusions: pd.DataFrame,
               analysed: pd.DataFrame) -> None:
    """The bookkeeping invariants; a failure here is a bug, not bad input."""
    assert (flow["n_in"] - flow["n_excluded"] == flow["n_out"]).all(), "a flow step does not add up"
    assert (flow["n_out"].iloc[:-1].to_numpy() == flow["n_in"].iloc[1:].to_numpy()).all(), \
        "a flow step does not start where the previous one ended"
    assert flow["n_in"].iloc[0] == n_raw and flow["n_out"].iloc[-1] == len(analysed)
    assert int(flow["n_excluded"].sum()) == len(exclusions) == n_raw - len(analysed), \
        "excluded rows and exclusions.csv disagree"
    assert exclusions[RAW_ROW].is_unique, "a raw row was excluded twice"
    assert not set(exclusions[RAW_ROW]) & set(analysed[RAW_ROW]), "a row is both excluded and kept"


def build_clean(frame: pd.DataFrame, wave_cfg: Mapping[str, Any], wave: str,
                scheme: Scheme) -> pd.DataFrame:
    """The analysed table: identity and wave columns first, then the harmonised variables."""
    head = pd.DataFrame({
        "respondent_id": (wave + "-" + frame["response_id"]).astype("str"),
        "wave": pd.Series(wave, index=frame.index, dtype="str"),
        "country": pd.Series(wave_cfg["country"], index=frame.index, dtype="str"),
        "year": pd.Series(int(wave_cfg["year"]), index=frame.index, dtype="int64"),
        "sample": pd.Series(wave_cfg["sample"], index=frame.index, dtype="str"),
        RAW_ROW: frame[RAW_ROW].astype("int64"),
        "response_id": frame["response_id"].astype("str"),
        "status": frame["status"].astype("str"),
        "employees": frame["employees"].astype("int64"),  # no NA left: out_of_scope took them
        "employees_low": frame["employees_low"].astype("int64"),
        "employees_high": frame["employees_high"].astype("Int64"),
        "employees_raw": frame["employees_raw"].astype("str"),
        "employees_kind": frame["employees_kind"].astype("str"),
        "segment": assign(frame[["employees_low", "employees_high"]], scheme),
        "items_answered": frame["items_answered"].astype("int64"),
        "items_total": frame["items_total"].astype("int64"),
    }, index=frame.index)
    assert head["segment"].notna().all(), "an analysed respondent has no segment"
    used = set(head.columns) | set(_INGEST_ONLY)
    rest = frame[[c for c in frame.columns if c not in used]]
    clean = pd.concat([head, rest], axis=1)
    return clean.sort_values("respondent_id", kind="stable").reset_index(drop=True)
