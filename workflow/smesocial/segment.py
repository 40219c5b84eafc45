"""Size segments: configured schemes, assignment of respondents, and counts.

A respondent is assigned to the segment that contains its whole employee range [low, high]
(an exact count is a range of one; "200+" is [200, open)). A range that crosses a segment
boundary, e.g. "40-60" under 11-50 / 51+, is *not* assigned: picking a side would invent
information the respondent did not give. The clean stage excludes such a respondent as
out_of_scope with reason "employee range straddles segment boundary".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from smesocial.errors import InputError

STRADDLES = "employee range straddles segment boundary"
UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class Segment:
    name: str
    min: int
    max: int | None  # None = no upper bound

    def label(self) -> str:
        return f"{self.min}+" if self.max is None else f"{self.min}-{self.max}"


@dataclass(frozen=True)
class Scheme:
    name: str
    segments: tuple[Segment, ...]
    description: str = ""

    @property
    def categories(self) -> list[str]:
        return [s.name for s in self.segments]

    def bounds(self) -> list[int]:
        """Every distinct finite bound, ascending."""
        values = {s.min for s in self.segments} | {s.max for s in self.segments if s.max is not None}
        return sorted(values)

    @classmethod
    def from_config(cls, name: str, spec: Mapping[str, Any], source: str = "config/config.yaml") -> Scheme:
        """Build and validate: ascending, contiguous, non-overlapping, only the last open."""
        raw = spec.get("segments") or []
        if not raw:
            raise InputError(source, f"segmentation scheme {name!r} has no segments")
        segments = tuple(Segment(str(s["name"]), int(s["min"]),
                                 None if s.get("max") is None else int(s["max"])) for s in raw)
        names = [s.name for s in segments]
        if len(set(names)) != len(names):
            raise InputError(source, f"segmentation scheme {name!r} repeats a segment name",
                             found=names)
        for seg in segments:
            if seg.max is not None and seg.max < seg.min:
                raise InputError(source, f"segmentation scheme {name!r}: segment {seg.name!r} "
                                 "ends before it starts", found=seg.label(), expected="min <= max")
        for prev, nxt in zip(segments, segments[1:]):
            if prev.max is None:
                raise InputError(source, f"segmentation scheme {name!r}: open-ended segment "
                                 f"{prev.name!r} is followed by {nxt.name!r}",
                                 expected="only the last segment to have max null")
            if nxt.min <= prev.max:
                raise InputError(source, f"segmentation scheme {name!r}: segments {prev.name!r} "
                                 f"({prev.label()}) and {nxt.name!r} ({nxt.label()}) overlap",
                                 expected=f"{nxt.name!r} to start at {prev.max + 1}, in ascending order")
            if nxt.min > prev.max + 1:
                raise InputError(source, f"segmentation scheme {name!r}: gap between "
                                 f"{prev.name!r} ({prev.label()}) and {nxt.name!r} ({nxt.label()})",
                                 found=f"{prev.max + 1}-{nxt.min - 1} unassigned",
                                 expected=f"{nxt.name!r} to start at {prev.max + 1}")
        return cls(name, segments, str(spec.get("description", "")))


def load_schemes(config: Mapping[str, Any], source: str = "config/config.yaml") -> dict[str, Scheme]:
    """All schemes under config `segmentation`, validated, in config order."""
    return {name: Scheme.from_config(name, spec, source)
            for name, spec in config["segmentation"].items()}


def _bounds(employees: pd.Series | pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(low, high) as float Series (NaN high = open-ended) from an int Series or a low/high frame."""
    if isinstance(employees, pd.DataFrame):
        for low_col, high_col in (("low", "high"), ("employees_low", "employees_high")):
            if low_col in employees and high_col in employees:
                return (employees[low_col].astype("Float64").astype(float),
                        employees[high_col].astype("Float64").astype(float))
        raise KeyError("employees frame needs columns low/high or employees_low/employees_high")
    value = employees.astype("Float64").astype(float)
    return value, value


def assign(employees: pd.Series | pd.DataFrame, scheme: Scheme) -> pd.Categorical:
    """Ordered Categorical of segment names (scheme order); NA where no single segment holds the
    whole range (straddling, outside every segment, or no count)."""
    low, high = _bounds(employees)
    codes = np.full(len(low), -1, dtype=np.int8)
    for i, seg in enumerate(scheme.segments):
        upper_ok = np.ones(len(low), bool) if seg.max is None else (high <= seg.max).to_numpy()
        inside = (low >= seg.min).to_numpy() & upper_ok  # NaN compares False: NA stays unassigned
        codes[inside & (codes == -1)] = i
    return pd.Categorical.from_codes(codes, categories=scheme.categories, ordered=True)


def unassigned_reasons(employees: pd.Series | pd.DataFrame, scheme: Scheme) -> pd.Series:
    """Why each respondent has no segment (NA where it has one)."""
    low, high = _bounds(employees)
    segment = pd.Series(assign(employees, scheme), index=low.index)
    low_fits = pd.Series(assign(low, scheme), index=low.index).notna()
    reasons = pd.Series(pd.NA, index=low.index, dtype="str")
    first, last = scheme.segments[0], scheme.segments[-1]
    span = f"{first.min}-{last.max}" if last.max is not None else f"{first.min}+"
    unassigned = segment.isna().to_numpy()
    texts = []
    for lo, hi, fits in zip(low[unassigned], high[unassigned], low_fits[unassigned]):
        if pd.isna(lo):
            texts.append("no employee count given")
        elif fits:
            texts.append(STRADDLES)
        else:
            shown = int(lo) if pd.isna(hi) or lo == hi else f"{int(lo)}-{int(hi)}"
            texts.append(f"{shown} employees is outside every segment of scheme "
                         f"{scheme.name!r} ({span})")
    if texts:  # at once: setting a string column's values one by one copies it each time
        reasons.iloc[np.flatnonzero(unassigned)] = texts
    return reasons


def segment_column(scheme: str) -> str:
    """The analysis table's column holding a respondent's segment under `scheme`."""
    return f"segment_{scheme}"


def segment_table(rows: pd.DataFrame, schemes: Mapping[str, Scheme]) -> pd.DataFrame:
    """`raw_row` and one `segment_<scheme>` column per scheme for every row of `rows` (which has
    raw_row, employees_low and employees_high): NA where no single segment holds the range."""
    ranges = rows[["employees_low", "employees_high"]]
    table = pd.DataFrame({"raw_row": rows["raw_row"].astype("int64").to_numpy()})
    for name, scheme in schemes.items():
        table[segment_column(name)] = assign(ranges, scheme)
    return table


def segment_counts(employees: pd.Series, segments: Mapping[str, pd.Series | pd.Categorical],
                   schemes: Mapping[str, Scheme], boundary_checks: Iterable[int] = (),
                   check_scheme: str = "") -> pd.DataFrame:
    """Counts per scheme and segment, respondents on each bound, and configured boundary checks.

    Rows (column `count_type`):
      segment         n respondents in the segment (every segment listed, n may be 0)
      unassigned      n with no segment under the scheme (only when n > 0)
      at_lower_bound  n with employees exactly the segment's min (min = max = that bound)
      at_upper_bound  n with employees exactly the segment's max (open ends have none)
      boundary_check  segment `boundary_<k>_employees`: n with exactly k employees; `note` says
                      which segment k falls in under each scheme (for definitions that disagree)
    `employees` is the analysed count (for a range: its midpoint, see clean.parse_employee_count).
    """
    values = employees.astype("Int64")
    rows: list[dict[str, Any]] = []
    for name, scheme in schemes.items():
        assigned = pd.Series(segments[name]).reset_index(drop=True)
        for seg in scheme.segments:
            rows.append(dict(count_type="segment", scheme=name, segment=seg.name, min=seg.min,
                             max=seg.max, n=int((assigned == seg.name).sum()), note=""))
        n_unassigned = int(assigned.isna().sum())
        if n_unassigned:
            rows.append(dict(count_type=UNASSIGNED, scheme=name, segment=UNASSIGNED, min=None,
                             max=None, n=n_unassigned, note="no single segment holds the range"))
        for seg in scheme.segments:
            for kind, bound in (("at_lower_bound", seg.min), ("at_upper_bound", seg.max)):
                if bound is None:
                    continue
                rows.append(dict(count_type=kind, scheme=name, segment=seg.name, min=bound,
                                 max=bound, n=int((values == bound).sum()), note=""))
    for k in boundary_checks:
        where = []
        for name, scheme in schemes.items():
            seg = assign(pd.Series([k]), scheme)[0]
            where.append(f"{name}: {seg if isinstance(seg, str) else 'none'}")
        rows.append(dict(count_type="boundary_check", scheme=check_scheme,
                         segment=f"boundary_{k}_employees", min=k, max=k,
                         n=int((values == k).sum()), note="; ".join(where)))
    table = pd.DataFrame(rows, columns=["count_type", "scheme", "segment", "min", "max", "n", "note"])
    for column in ("min", "max"):
        table[column] = table[column].astype("Int64")
    table["n"] = table["n"].astype("int64")
    return table
