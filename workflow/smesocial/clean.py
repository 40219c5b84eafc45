"""Clean: employee counts, exclusion rules and the respondent flow.

Rules run in a fixed order and a row is excluded by the first rule that catches it, so each
excluded raw row has exactly one line in exclusions.csv and the flow adds up:

  test_response -> duplicate_submission -> partial_below_threshold -> speeder -> out_of_scope

Why this order:
  1. test_response: not a firm at all, so it must not count as anyone's first submission nor
     set the median duration speeders are measured against.
  2. duplicate_submission: same respondent key, or identical answers and employee count started
     within `duplicate_window_minutes`. Before the partial rule, so a firm that broke off and
     then answered in full keeps its complete submission and the break-off is the duplicate.
  3. partial_below_threshold: a break-off is short by nature; saying "partial" is the truer
     reason than "speeder" for it.
  4. speeder: duration below `speeder_min_share_of_median` x the median duration of the complete
     responses still in play (rows without both timestamps are never speeders; a wave without
     timings skips the rule with a log line, the flow still shows the step with 0).
  5. out_of_scope: no usable count, outside the wave's population (`waves.<wave>.population`,
     default the segmentation scheme's range), or a range no single segment of the wave's
     scheme holds (the segment stage's `segment_<scheme>` is NA).

Employee counts arrive parsed (ingest) and segments assigned (segment); this stage decides who
is analysed and writes the analysis table every later stage reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from smesocial.errors import InputError
from smesocial.readers import RAW_ROW
from smesocial.segment import Scheme, load_schemes, segment_column, unassigned_reasons

RULES = ("test_response", "duplicate_submission", "partial_below_threshold", "speeder",
         "out_of_scope")
# How figures and the manuscript name the respondent flow's steps (flow.csv `step`): the raw
# export, each rule of RULES, and what is left.
RULE_LABELS = {
    "raw": "Rows in the raw export",
    "test_response": "Test responses",
    "duplicate_submission": "Duplicate submissions",
    "partial_below_threshold": "Partial responses below the answered-share threshold",
    "speeder": "Speeders",
    "out_of_scope": "Outside the surveyed firm sizes",
    "analysed": "Analysed respondents",
}

# Columns of the ingested table that must not reach clean.parquet (bookkeeping for the rules).
_INGEST_ONLY = ("respondent_key_hash", "is_test_marked", "started", "finished")
# Every ingested column that is not an answer: the rest are the harmonised variables, which is
# what "identical answers" compares when the caller does not name them.
INGEST_BOOKKEEPING = ("raw_row", "response_id", "status", "started", "finished",
                      "respondent_key_hash", "employees_raw", "is_test_marked", "items_answered",
                      "items_total", "employees", "employees_low", "employees_high",
                      "employees_kind")

log = logging.getLogger(__name__)


class BookkeepingError(RuntimeError):
    """The respondent flow does not account for every raw row: a bug, never bad input."""

# --- exclusion rules ---------------------------------------------------------------------------
# Each rule gets the rows still in play (sorted by raw_row) and returns a reason per row it
# excludes (NA = kept).


@dataclass(frozen=True)
class Context:
    config: Mapping[str, Any]
    wave: str
    scheme: Scheme
    answer_columns: tuple[str, ...]
    source: str = "ingested table"

    @property
    def rules(self) -> Mapping[str, Any]:
        return self.config["exclusions"]


@dataclass(frozen=True)
class Population:
    """The firms a wave samples, by head count (max None = no upper bound)."""

    min_employees: int
    max_employees: int | None
    origin: str  # where the bounds come from, for the reason text

    def label(self) -> str:
        if self.max_employees is None:
            return f"{self.min_employees} or more employees"
        return f"{self.min_employees}-{self.max_employees} employees"


def wave_population(config: Mapping[str, Any], wave: str, scheme: Scheme,
                    source: str = "config/config.yaml") -> Population:
    """`waves.<wave>.population` if configured, else the range the wave's scheme covers."""
    spec = config["waves"][wave].get("population")
    if spec is None:
        return Population(scheme.segments[0].min, scheme.segments[-1].max,
                          f"the range of segmentation scheme {scheme.name!r}")
    low, high = int(spec["min_employees"]), spec.get("max_employees")
    high = None if high is None else int(high)
    if high is not None and high < low:
        raise InputError(source, f"waves.{wave}.population ends before it starts",
                         found=f"min_employees {low}, max_employees {high}",
                         expected="min_employees <= max_employees (or max_employees null)")
    return Population(low, high, f"waves.{wave}.population")


def _rule_test_response(frame: pd.DataFrame, ctx: Context) -> pd.Series:
    markers = ", ".join(repr(m) for m in ctx.rules["test_response_markers"])
    reason = (f"test response: an identifier or comment field contains a test marker ({markers}) "
              "or the firm name is 'TEST'")
    return pd.Series(reason, index=frame.index, dtype="str").where(frame["is_test_marked"].astype(bool))


def _linked_submissions(n: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Submissions linked by any duplicate evidence (pairs of positions) are one firm: the
    connected components of that graph, one label per position (scipy's csgraph)."""
    # Imported here: scipy.sparse costs ~0.3 s to import, and the manuscript and the figure
    # code import this module for its RULE_LABELS alone.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(first), dtype=np.int8), (first, second)), shape=(n, n))
    _count, labels = connected_components(graph, directed=False)
    return labels


def answer_signatures(frame: pd.DataFrame, answer_columns: Sequence[str]) -> np.ndarray:
    """One code per distinct combination of a row's harmonised answers and typed employee
    count (white space and case ignored; NA equals NA), in order of first appearance; -1 where
    the row answered nothing, which identifies no one. Whole columns at a time (pandas'
    grouping), never a tuple per row."""
    employees = frame["employees_raw"]
    codes, distinct = pd.factorize(employees)
    normalised = [" ".join(str(t).split()).casefold() for t in distinct]
    # the same typed count after normalising is one value: its first spelling's code
    first_code = {text: code for code, text in reversed(list(enumerate(normalised)))}
    employee_code = np.array([first_code[text] for text in normalised] + [-1])[codes]
    missing = frame[list(answer_columns)].isna()
    # A column missing in every row (an item the wave did not ask) splits no group: without it
    # the groups and their order of first appearance are the same, at a fraction of the cost.
    asked = [column for column, none in zip(answer_columns, missing.all(axis=0)) if not none]
    keys = [frame[column] for column in asked]
    keys.append(pd.Series(employee_code, index=frame.index, name="_employees"))
    grouped = pd.concat(keys, axis=1).groupby([*asked, "_employees"], dropna=False,
                                              sort=False, observed=True)
    signature = grouped.ngroup().to_numpy(dtype=np.int64, copy=True)
    empty = missing.all(axis=1).to_numpy() & (employee_code < 0)
    signature[empty] = -1
    return signature


def _minutes(delta: pd.Timedelta) -> str:
    seconds = int(round(abs(delta.total_seconds())))
    return f"{seconds // 60} min {seconds % 60:02d} s"


def _window_links(signature: np.ndarray, starts: np.ndarray, window: np.timedelta64
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(anchor, member) positions of identical answers started close together, positions in
    submission order (`starts` ascending among the dated rows; signature -1 or NaT = not
    matchable). A submission joins the first identical one if it started within the window
    of it; the first one beyond the window starts anew (no chaining).

    Only runs of identical answers whose consecutive starts lie within the window need the
    sequential walk: a submission more than the window after the previous identical one
    starts anew whatever came before."""
    dated = np.flatnonzero((signature >= 0) & ~np.isnat(starts))
    if len(dated) < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    # identical answers together, each group in submission order
    order = dated[np.lexsort((dated, signature[dated]))]
    same = signature[order[1:]] == signature[order[:-1]]
    close = same & (starts[order[1:]] - starts[order[:-1]] <= window)
    anchors: list[int] = []
    members: list[int] = []
    run_starts = np.flatnonzero(close & ~np.concatenate([[False], close[:-1]]))
    for first in run_starts:  # a run: order[first], order[first + 1], ... each close to the last
        last = first + 1
        while last + 1 < len(order) and close[last]:
            last += 1
        anchor = order[first]
        for position in order[first + 1:last + 1]:
            if starts[position] - starts[anchor] <= window:
                anchors.append(int(anchor))
                members.append(int(position))
            else:
                anchor = position
    return np.array(anchors, dtype=np.int64), np.array(members, dtype=np.int64)


def _rule_duplicate(frame: pd.DataFrame, ctx: Context) -> pd.Series:
    keep = ctx.rules["duplicate_keep"]
    window_minutes = ctx.rules.get("duplicate_window_minutes")
    reasons = pd.Series(pd.NA, index=frame.index, dtype="str")
    # Submission order: start time, then file order (NaT last, so undated rows count as later).
    ordered = frame.sort_values(["started", RAW_ROW], na_position="last", kind="stable")
    keys = ordered["respondent_key_hash"]
    key_values = keys.to_numpy(dtype=object, na_value=None)
    # Same respondent key: every submission linked to the key's first one.
    keyed = np.flatnonzero(keys.notna().to_numpy())
    codes, _uniques = pd.factorize(keys.to_numpy()[keyed])
    _levels, first_of_code = np.unique(codes, return_index=True)
    key_from, key_to = keyed[first_of_code[codes]], keyed
    signature = answer_signatures(ordered, ctx.answer_columns)
    starts = ordered["started"].to_numpy(dtype="datetime64[us]")
    # Matchable on answers: answered something and has a start time to compare.
    dated = (signature >= 0) & ~np.isnat(starts)
    window = None if window_minutes is None else pd.Timedelta(minutes=float(window_minutes))
    window_from = window_to = np.empty(0, dtype=np.int64)
    if window is not None:
        # Identical answers started close together: a resubmission, whatever the key says (the
        # key field may be empty or mistyped the second time). No chaining, so identical
        # answers every 25 minutes (plausible for different small firms) never make one firm.
        # Undated rows cannot be placed in time and are never matched.
        window_from, window_to = _window_links(signature, starts,
                                               window.to_timedelta64().astype("timedelta64[us]"))
    which = "first" if keep == "first_complete" else "last"
    component = _linked_submissions(len(ordered), np.concatenate([key_from, window_from]),
                                    np.concatenate([key_to, window_to]))
    # Only firms with several submissions, each in submission order (positions ascending).
    shared = np.flatnonzero(np.bincount(component)[component] >= 2)
    if not len(shared):
        return reasons
    groups = shared[np.argsort(component[shared], kind="stable")]
    complete = (ordered["status"].to_numpy(dtype=object) == "complete")
    response_ids = ordered["response_id"].to_numpy(dtype=object)
    labels = ordered.index.to_numpy()
    started = ordered["started"]
    found: dict[Any, str] = {}
    bounds = np.flatnonzero(np.diff(component[groups])) + 1
    for members in np.split(groups, bounds):
        finished = members[complete[members]]
        pool = finished if len(finished) else members
        kept = pool[0] if keep == "first_complete" else pool[-1]
        basis = "complete submission" if len(finished) else "submission (none is complete)"
        kept_id = response_ids[kept]
        kept_note = f"kept the {which} {basis}, response {kept_id}"
        for position in members:
            if position == kept:
                continue
            same_key = key_values[position] is not None and key_values[position] == key_values[kept]
            same_answers = (window is not None and bool(dated[position]) and bool(dated[kept])
                            and signature[position] == signature[kept])
            if same_key:
                evidence = "from the same firm (same respondent key)"
            elif same_answers:
                delta = started.iloc[position] - started.iloc[kept]
                side = "after" if delta >= pd.Timedelta(0) else "before"
                key_note = ("the respondent key differs" if key_values[position] is not None
                            and key_values[kept] is not None else "a respondent key is missing")
                evidence = (f"with answers and employee count identical to response {kept_id}, "
                            f"started {_minutes(delta)} {side} it (within the "
                            f"{window_minutes:g}-minute window; {key_note})")
            else:  # linked to the kept one only through a third submission
                evidence = (f"of the same firm as response {kept_id} through another of its "
                            "submissions (same respondent key, or identical answers started "
                            f"within {window_minutes} minutes)")
            found[labels[position]] = f"duplicate submission {evidence}; {kept_note}"
    reasons.loc[list(found)] = list(found.values())
    return reasons


def _rule_partial(frame: pd.DataFrame, ctx: Context) -> pd.Series:
    threshold = float(ctx.rules["partial_min_answered_share"])
    share = frame["items_answered"] / frame["items_total"]
    # Only rows the tool marked partial: a complete response that skipped optional items stays.
    hit = ((frame["status"] == "partial") & (share < threshold)).to_numpy()
    reasons = pd.Series(pd.NA, index=frame.index, dtype="str")
    return _with_reasons(reasons, hit, [
        f"partial response: answered {answered} of {total} items ({fraction:.0%}), below the "
        f"{threshold:.0%} threshold" for answered, total, fraction in
        zip(frame["items_answered"][hit], frame["items_total"][hit], share[hit])])


def _with_reasons(reasons: pd.Series, hit: np.ndarray, texts: Sequence[str]) -> pd.Series:
    """`reasons` with `texts` set where `hit` (in order): all at once, since setting a string
    column's values one by one copies the column each time."""
    if len(texts):
        reasons.iloc[np.flatnonzero(hit)] = list(texts)
    return reasons


def _rule_speeder(frame: pd.DataFrame, ctx: Context) -> pd.Series:
    reasons = pd.Series(pd.NA, index=frame.index, dtype="str")
    share = ctx.rules.get("speeder_min_share_of_median")
    if share is None:
        log.info("speeder: rule off for wave %s (exclusions.speeder_min_share_of_median is null)",
                 ctx.wave)
        return reasons
    timed = (frame["started"].notna() & frame["finished"].notna()).to_numpy()
    if not timed.any():
        log.info("speeder: wave %s has no start and finish times; rule skipped", ctx.wave)
        return reasons
    duration = frame["finished"] - frame["started"]
    backwards = timed & (duration < pd.Timedelta(0)).fillna(False).to_numpy()
    if backwards.any():
        raise InputError(ctx.source, "responses that finished before they started",
                         rows=frame.loc[backwards, RAW_ROW].astype(int).tolist(),
                         expected="the finish time at or after the start time")
    # The yardstick: complete responses still in play (tests and resubmissions are gone).
    base = duration[timed & (frame["status"] == "complete").to_numpy()]
    if base.empty:
        log.info("speeder: wave %s has no timed complete response to take a median from; "
                 "rule skipped", ctx.wave)
        return reasons
    median = base.median()
    cutoff = median * float(share)
    hit = timed & (duration < cutoff).fillna(False).to_numpy()
    reasons = _with_reasons(reasons, hit, [
        f"speeder: took {_minutes(took)}, less than {float(share):.0%} of the median duration "
        f"of complete responses ({_minutes(median)}; cut-off {_minutes(cutoff)})"
        for took in duration[hit]])
    log.info("speeder: wave %s median %s over %d timed complete responses, cut-off %s, %d below",
             ctx.wave, _minutes(median), len(base), _minutes(cutoff), int(hit.sum()))
    return reasons


def _rule_out_of_scope(frame: pd.DataFrame, ctx: Context) -> pd.Series:
    population = wave_population(ctx.config, ctx.wave, ctx.scheme)
    reasons = pd.Series(pd.NA, index=frame.index, dtype="str")
    low = frame["employees_low"].astype("Float64")
    high = frame["employees_high"].astype("Float64")
    counted = low.notna().to_numpy()
    # The whole stated range must lie in the population: "5-20" with a minimum of 10 may be
    # a firm outside it, and picking a side would invent information.
    below = counted & (low < population.min_employees).fillna(False).to_numpy()
    above = np.zeros(len(frame), dtype=bool)
    if population.max_employees is not None:
        above = counted & (high.isna() | (high > population.max_employees)).fillna(True).to_numpy()
    outside = below | above
    reasons = _with_reasons(reasons, outside, [
        f"reports {typed.strip()!r}, i.e. {_count_label(row)} employees; the population of wave "
        f"{ctx.wave!r} is firms with {population.label()} ({population.origin})"
        for typed, (_index, row) in zip(frame.loc[outside, "employees_raw"],
                                        frame.loc[outside, ["employees_low",
                                                            "employees_high"]].iterrows())])
    # The segment stage found no single segment of the wave's scheme for these: say why.
    fill = ~outside & frame[segment_column(ctx.scheme.name)].isna().to_numpy()
    no_segment = unassigned_reasons(frame.loc[fill, ["employees_low", "employees_high"]], ctx.scheme)
    reasons[fill] = (no_segment + f" (segmentation scheme {ctx.scheme.name!r})")
    return reasons


def _count_label(row: pd.Series) -> str:
    low, high = int(row["employees_low"]), row["employees_high"]
    if pd.isna(high):
        return f"{low} or more"
    return str(low) if int(high) == low else f"{low}-{int(high)}"


_RULES: dict[str, Callable[[pd.DataFrame, Context], pd.Series]] = {
    "test_response": _rule_test_response,
    "duplicate_submission": _rule_duplicate,
    "partial_below_threshold": _rule_partial,
    "speeder": _rule_speeder,
    "out_of_scope": _rule_out_of_scope,
}
assert tuple(_RULES) == RULES


def apply_exclusions(ingested: pd.DataFrame, segments: pd.DataFrame, config: Mapping[str, Any],
                     wave: str, *, source: str = "ingested table",
                     answer_columns: Sequence[str] | None = None,
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Apply the exclusion rules in order; return (clean, exclusions, flow).

    `ingested` has its employee counts parsed (`with_employee_counts`); `segments` is the
    segment stage's table (`segment.segment_table`: raw_row and segment_<scheme> for every
    scheme). `config` holds `exclusions`, `segmentation` and this wave's entry. `answer_columns`
    are what "identical answers" compares (the harmonised variables); by default every ingested
    column that is not bookkeeping.
    """
    wave_cfg = config["waves"][wave]
    schemes = load_schemes(config)
    if answer_columns is None:
        answer_columns = [c for c in ingested.columns if c not in INGEST_BOOKKEEPING]
    missing = [c for c in answer_columns if c not in ingested.columns]
    if missing:
        raise InputError(source, "the ingested table lacks harmonised variables", missing=missing,
                         expected="every variable of the harmonised spec (re-run ingest)")
    ctx = Context(config, wave, schemes[wave_cfg["segmentation"]], tuple(answer_columns), source)
    wave_population(config, wave, ctx.scheme)  # a bad population stops the run before any rule
    remaining = (ingested.merge(segments, on=RAW_ROW, how="left", validate="one_to_one")
                 .sort_values(RAW_ROW, kind="stable").reset_index(drop=True))
    raw_rows = remaining[RAW_ROW].astype("int64")
    n_raw = len(remaining)
    flow = [dict(step="raw", n_in=n_raw, n_excluded=0, n_out=n_raw)]
    excluded: list[pd.DataFrame] = []
    for rule in RULES:
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
    check_flow(flow_table, raw_rows, exclusions, remaining)
    clean = build_clean(remaining, wave_cfg, wave, ctx.scheme, list(schemes))
    return clean, exclusions, flow_table


def check_flow(flow: pd.DataFrame, raw_rows: pd.Series, exclusions: pd.DataFrame,
               analysed: pd.DataFrame) -> None:
    """Nothing dropped silently: raw rows = analysed + excluded, row by row and step by step.

    Raises BookkeepingError (a bug, not bad input) when
      - a step's n_in - n_excluded != n_out, or a step does not start where the last one ended;
      - the steps are not raw, each rule in order, analysed;
      - a rule's n_excluded differs from its number of lines in exclusions.csv;
      - a raw row is excluded twice, both excluded and analysed, or neither.
    """
    problems: list[str] = []
    steps = flow["step"].tolist()
    if steps != ["raw", *RULES, "analysed"]:
        problems.append(f"flow steps are {steps}, expected raw, {', '.join(RULES)}, analysed")
    if not (flow["n_in"] - flow["n_excluded"] == flow["n_out"]).all():
        problems.append("a flow step's n_in - n_excluded is not its n_out")
    if not (flow["n_out"].iloc[:-1].to_numpy() == flow["n_in"].iloc[1:].to_numpy()).all():
        problems.append("a flow step does not start where the previous one ended")
    if flow["n_in"].iloc[0] != len(raw_rows) or flow["n_out"].iloc[-1] != len(analysed):
        problems.append(f"the flow runs from {flow['n_in'].iloc[0]} to {flow['n_out'].iloc[-1]}, "
                        f"but there are {len(raw_rows)} raw rows and {len(analysed)} analysed")
    per_rule = exclusions["rule"].value_counts().to_dict()
    for step in flow.itertuples():
        if step.step in RULES and per_rule.get(step.step, 0) != step.n_excluded:
            problems.append(f"rule {step.step}: flow says {step.n_excluded} excluded, "
                            f"exclusions list {per_rule.get(step.step, 0)}")
    unknown = set(per_rule) - set(RULES)
    if unknown:
        problems.append(f"exclusions name unknown rules {sorted(unknown)}")
    excluded_rows = exclusions[RAW_ROW]
    twice = sorted(set(excluded_rows[excluded_rows.duplicated()]))
    if twice:
        problems.append(f"raw rows excluded more than once: {twice[:10]}")
    both = sorted(set(excluded_rows) & set(analysed[RAW_ROW]))
    if both:
        problems.append(f"raw rows both excluded and analysed: {both[:10]}")
    accounted = set(excluded_rows) | set(analysed[RAW_ROW])
    lost = sorted(set(raw_rows) - accounted)
    invented = sorted(accounted - set(raw_rows))
    if lost:
        problems.append(f"raw rows neither analysed nor excluded: {lost[:10]}")
    if invented:
        problems.append(f"rows that are not raw rows: {invented[:10]}")
    if int(flow["n_excluded"].sum()) != len(exclusions) or len(raw_rows) != len(analysed) + len(exclusions):
        problems.append(f"{len(raw_rows)} raw rows != {len(analysed)} analysed + "
                        f"{len(exclusions)} excluded")
    if problems:
        raise BookkeepingError("the respondent flow does not account for every raw row: "
                               + "; ".join(problems))


def sample_column(frame: pd.DataFrame, wave_cfg: Mapping[str, Any], wave: str) -> pd.Series:
    """Each respondent's sample: the harmonised `sample` variable where the wave's codebook maps
    a sample column (waves with several samples), else the wave's configured `sample` for all.

    The result keeps the harmonised variable's categorical type when the frame has one, so the
    clean table's `sample` has one type across waves.
    """
    mapped = frame["sample"] if "sample" in frame else None
    if mapped is not None and mapped.notna().any():
        return mapped
    fixed = str(wave_cfg["sample"])
    if mapped is not None and isinstance(mapped.dtype, pd.CategoricalDtype):
        if fixed not in mapped.cat.categories:
            raise InputError("config/config.yaml", f"waves.{wave}.sample is not a level of the "
                             "harmonised `sample` scale", found=fixed,
                             expected="one of " + ", ".join(map(repr, mapped.cat.categories)))
        return pd.Series(pd.Categorical([fixed] * len(frame), dtype=mapped.dtype), index=frame.index)
    return pd.Series(fixed, index=frame.index, dtype="str")


def build_clean(frame: pd.DataFrame, wave_cfg: Mapping[str, Any], wave: str,
                scheme: Scheme, scheme_names: Sequence[str]) -> pd.DataFrame:
    """The analysed table: identity and wave columns first, the segment under the wave's
    scheme (`segment`) and under every scheme (`segment_<scheme>`), then the harmonised
    variables."""
    head = pd.DataFrame({
        "respondent_id": (wave + "-" + frame["response_id"]).astype("str"),
        "wave": pd.Series(wave, index=frame.index, dtype="str"),
        "country": pd.Series(wave_cfg["country"], index=frame.index, dtype="str"),
        "year": pd.Series(int(wave_cfg["year"]), index=frame.index, dtype="int64"),
        "sample": sample_column(frame, wave_cfg, wave),
        RAW_ROW: frame[RAW_ROW].astype("int64"),
        "response_id": frame["response_id"].astype("str"),
        "status": frame["status"].astype("str"),
        "employees": frame["employees"].astype("int64"),  # no NA left: out_of_scope took them
        "employees_low": frame["employees_low"].astype("int64"),
        "employees_high": frame["employees_high"].astype("Int64"),
        "employees_raw": frame["employees_raw"].astype("str"),
        "employees_kind": frame["employees_kind"].astype("str"),
        "segment": frame[segment_column(scheme.name)],
        **{segment_column(name): frame[segment_column(name)] for name in scheme_names},
        "items_answered": frame["items_answered"].astype("int64"),
        "items_total": frame["items_total"].astype("int64"),
    }, index=frame.index)
    assert head["segment"].notna().all(), "an analysed respondent has no segment"
    used = set(head.columns) | set(_INGEST_ONLY)
    rest = frame[[c for c in frame.columns if c not in used]]
    clean = pd.concat([head, rest], axis=1)
    return clean.sort_values("respondent_id", kind="stable").reset_index(drop=True)
