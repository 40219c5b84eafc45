"""Survey weights: post-stratification to population counts, raking over several margins, and the
Kish design effect.

A wave is weighted to published population counts (e.g. Norwegian enterprises by persons
employed, SSB 2017) configured under `weighting:` in config/config.yaml. One margin is
post-stratification (weight = population share / sample share of the respondent's cell); several
are raked (iterative proportional fitting). A wave without population targets is not weighted:
it gets unit weights, and a WARNING says which wave and why. Weights have mean 1 (they sum to the
number of respondents); `weight_population` is the same weight scaled to the population total.

Size classes of the population file are mapped to a wave's segments explicitly in the config; a
class that straddles a segment boundary cannot be split without inventing numbers and stops the
run, a class outside the wave's scope (e.g. firms with 0 persons employed when the segments start
at 1) is dropped with a logged note.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smesocial.config import (DEFAULT_MAX_ITER, DEFAULT_SOURCE, DEFAULT_TOL, SEGMENT_PREFIX,  # noqa: F401
                              MarginSpec, WeightingSpec, weighting_spec)
from smesocial.errors import InputError
from smesocial.segment import Scheme, Segment

log = logging.getLogger("smesocial.weights")

POSTSTRATIFICATION = "poststratification"
RAKING = "raking"
UNWEIGHTED = "unweighted"
UNWEIGHTED_CELL = "all"
TOTAL_LABEL = "total"

WEIGHT_COLUMNS = ["respondent_id", "weight", "weight_population", "weighting_cell", "stratum",
                  "in_population"]
# After WEIGHT_COLUMNS, one `margin_<k>` column per calibration margin (k = 1, 2, ... in raking
# order): the respondent's cell, which design-based variances residualise on
# (smesocial.design.Design.from_frame). Respondents outside the weighted samples sit in one
# cell per stratum, `unweighted:<stratum>`.
MARGIN_PREFIX = "margin_"
SAMPLE_COLUMN = "sample"
SUMMARY_COLUMNS = ["wave", "method", "margin", "cell", "n_sample", "sample_share", "population",
                   "population_share", "weighted_share", "weight", "n", "deff", "efficiency",
                   "effective_n", "population_total", "source", "note"]

_SIZE_CLASS = re.compile(r"^\s*(\d+)\s*(?:(-)\s*(\d+)|(\+))?\s*$")


# --------------------------------------------------------------------------------------------
# Population targets


@dataclass(frozen=True)
class MarginTargets:
    """Population count per cell of one respondent variable, with where the counts come from."""

    variable: str
    targets: dict[str, float]
    source: str = ""
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        return float(sum(self.targets.values()))


def parse_size_class(label: str) -> tuple[int, int | None]:
    """'0' -> (0, 0), '10-19' -> (10, 19), '250+' -> (250, None)."""
    match = _SIZE_CLASS.match(str(label))
    if not match:
        raise ValueError(f"not a size class: {label!r} (expected e.g. '0', '10-19' or '250+')")
    low = int(match.group(1))
    if match.group(4):
        return low, None
    high = int(match.group(3)) if match.group(2) else low
    if high < low:
        raise ValueError(f"size class {label!r} ends before it starts")
    return low, high


def _overlaps(low: int, high: int | None, seg: Segment) -> bool:
    return (high is None or seg.min <= high) and (seg.max is None or seg.max >= low)


def _contains(seg: Segment, low: int, high: int | None) -> bool:
    return seg.min <= low and (seg.max is None or (high is not None and high <= seg.max))


def population_targets(population: pd.DataFrame, mapping: Mapping[str, str | None], *,
                       variable: str, scheme: Scheme | None = None,
                       filter: Mapping[str, str] | None = None, source: str = "",
                       file: str = DEFAULT_SOURCE, where: str = DEFAULT_SOURCE,
                       class_column: str = "size_class_persons_employed",
                       count_column: str = "count") -> MarginTargets:
    """Population counts per cell of `variable` from a table of counts per population class.

    Rows are selected by `filter` (column -> value, compared as text); a `total` row, if present,
    must equal the sum of the classes. With a `scheme` the classes are size classes checked
    against its segments: a class inside one segment must be mapped to it, a class outside every
    segment is dropped (with a logged note), a class straddling a boundary is an error. Without a
    scheme every class must be mapped (to a cell, or to None = out of scope, dropped). `source`
    is the counts' citation, kept with the targets; errors about the mapping name `where` (the
    config key), errors about the table name `file`.
    """
    for column in (class_column, count_column, *(filter or {})):
        if column not in population.columns:
            raise InputError(file, "population table lacks a column", column=column,
                             expected=f"columns {class_column!r}, {count_column!r} and the filter's")
    rows = population
    for column, value in (filter or {}).items():
        rows = rows[rows[column].astype(str).str.strip() == str(value)]
    shown_filter = dict(filter or {})
    if rows.empty:
        raise InputError(file, "no population rows match the filter", found=shown_filter,
                         expected=f"rows with {shown_filter}")
    labels = rows[class_column].astype(str).str.strip()
    counts = pd.to_numeric(rows[count_column], errors="coerce")
    bad = labels[counts.isna() | (counts < 0)].tolist()
    if bad:
        raise InputError(file, "population counts must be non-negative numbers", column=count_column,
                         found=bad)
    if labels.duplicated().any():
        raise InputError(file, f"population classes repeat under filter {shown_filter}",
                         found=sorted(set(labels[labels.duplicated()])), expected="one row per class")
    is_total = labels.str.lower() == TOTAL_LABEL
    classes = dict(zip(labels[~is_total], counts[~is_total].astype(float)))
    if is_total.any():
        stated = float(counts[is_total].iloc[0])
        if not math.isclose(stated, sum(classes.values()), rel_tol=1e-9):
            raise InputError(file, f"population classes do not add up to the stated total under "
                             f"filter {shown_filter}", found=sum(classes.values()),
                             expected=f"{stated:g} (row {TOTAL_LABEL!r})")

    unknown = sorted(set(mapping) - set(classes))
    if unknown:
        raise InputError(where, f"the mapping for {variable!r} names population classes "
                         f"not in {file}", found=unknown, expected=f"some of {list(classes)}")
    notes: list[str] = []
    problems: list[str] = []
    cell_of: dict[str, str] = {}
    if scheme is not None:
        names = set(scheme.categories)
        for label, count in classes.items():
            mapped = mapping.get(label)
            if mapped is not None and mapped not in names:
                problems.append(f"class {label!r} is mapped to {mapped!r}, not a segment of "
                                f"scheme {scheme.name!r} ({', '.join(scheme.categories)})")
                continue
            try:
                low, high = parse_size_class(label)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            hit = [seg for seg in scheme.segments if _overlaps(low, high, seg)]
            if not hit:
                if mapped is not None:
                    problems.append(f"class {label!r} is mapped to {mapped!r} but lies outside "
                                    f"every segment of scheme {scheme.name!r}")
                else:
                    notes.append(f"population class {label!r} ({count:,.0f}) lies outside scheme "
                                 f"{scheme.name!r} ({_span(scheme)}): dropped")
            elif len(hit) > 1 or not _contains(hit[0], low, high):
                spans = ", ".join(f"{seg.name} ({seg.label()})" for seg in hit)
                problems.append(f"class {label!r} straddles a segment boundary of scheme "
                                f"{scheme.name!r}: it overlaps {spans}"
                                + ("" if len(hit) > 1 else " and lies partly outside the scheme"))
            elif mapped != hit[0].name:
                given = f"is mapped to {mapped!r}" if label in mapping else "is not mapped"
                problems.append(f"class {label!r} lies in segment {hit[0].name!r} "
                                f"({hit[0].label()}) but {given}: map it explicitly as "
                                f"{label!r}: {hit[0].name}")
            else:
                cell_of[label] = mapped
        order = scheme.categories
    else:
        for label, count in classes.items():
            if label not in mapping:
                problems.append(f"class {label!r} is not mapped (map it to a cell of {variable!r}, "
                                "or to null if it lies outside the wave's scope)")
            elif mapping[label] is None:
                notes.append(f"population class {label!r} ({count:,.0f}) is mapped to null "
                             "(outside the wave's scope): dropped")
            else:
                cell_of[label] = str(mapping[label])
        order = list(dict.fromkeys(cell_of.values()))
    if problems:
        raise InputError(where, f"population classes of {file} cannot be mapped to the "
                         f"cells of {variable!r} ({len(problems)} problem(s)): "
                         + "; ".join(problems), expected="size classes that each lie inside one "
                         "segment, mapped explicitly; change the scheme or the population table")
    if not cell_of:
        raise InputError(where, f"no population class maps to a cell of {variable!r}",
                         found=dict(mapping))
    targets = {cell: 0.0 for cell in order if cell in cell_of.values()}
    for label, cell in cell_of.items():
        targets[cell] += classes[label]
    for note in notes:
        log.info("%s", note)
    return MarginTargets(variable, targets, source, tuple(notes))


def _span(scheme: Scheme) -> str:
    first, last = scheme.segments[0], scheme.segments[-1]
    return f"{first.min}-{last.max}" if last.max is not None else f"{first.min}+"


def read_population(path: str | Path) -> pd.DataFrame:
    """A population table as text (counts are parsed by population_targets)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "population file not found",
                         expected="the file named by the wave's weighting margin")
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def load_margin(spec: MarginSpec, scheme: Scheme | None) -> MarginTargets:
    """Read a configured margin's population file and map its classes to the variable's cells."""
    bounds = scheme if scheme is not None and spec.variable == SEGMENT_PREFIX + scheme.name else None
    return population_targets(read_population(spec.file), spec.mapping, variable=spec.variable,
                              scheme=bounds, filter=spec.filter, source=spec.source,
                              file=spec.file, where=spec.where, class_column=spec.class_column,
                              count_column=spec.count_column)


# --------------------------------------------------------------------------------------------
# Weights


def _cell_codes(cells: pd.Series, targets: Mapping[str, float], variable: str,
                source: str) -> tuple[np.ndarray, np.ndarray]:
    """(cell code per respondent, population per cell), after checking every cell can be weighted."""
    if not targets:
        raise InputError(source, f"no population targets for {variable!r}")
    population = np.array([float(v) for v in targets.values()])
    names = [str(k) for k in targets]
    if not np.isfinite(population).all() or (population < 0).any() or population.sum() <= 0:
        raise InputError(source, f"population targets of {variable!r} must be non-negative and "
                         "not all zero", found=dict(targets))
    values = pd.Series(cells, copy=False).astype("object")
    missing = values.isna().to_numpy()
    if missing.any():
        raise InputError(source, f"{int(missing.sum())} respondent(s) have no value of "
                         f"{variable!r}, so no weighting cell (e.g. an employee range that "
                         "straddles a boundary of the scheme)",
                         found=[str(i) for i in values.index[missing][:10]],
                         expected=f"every respondent in one of {names}")
    labels = values.astype(str)
    counts = labels.value_counts()
    no_target = {cell: int(n) for cell, n in counts.items() if cell not in targets}
    if no_target:
        raise InputError(source, f"respondents fall in cell(s) of {variable!r} that have no "
                         "population target", found=no_target,
                         expected=f"a population target for every cell; targets exist for {names}")
    empty = [f"{name} (population {pop:,.0f})" for name, pop in zip(names, population)
             if pop > 0 and counts.get(name, 0) == 0]
    if empty:
        raise InputError(source, f"cannot weight: no respondents in cell(s) of {variable!r} that "
                         "have a population target: " + ", ".join(empty),
                         expected="respondents in every cell with a target (collapse cells or "
                         "change the scheme)")
    zero = {name: int(counts[name]) for name, pop in zip(names, population)
            if pop == 0 and counts.get(name, 0) > 0}
    if zero:
        raise InputError(source, f"respondents fall in cell(s) of {variable!r} whose population "
                         "count is 0", found=zero, expected="a positive population count")
    codes = pd.Categorical(labels, categories=names).codes.astype(np.intp)
    return codes, population


def poststratify(cells: pd.Series, targets: Mapping[str, float], *,
                 source: str = DEFAULT_SOURCE) -> pd.Series:
    """Post-stratification weights, mean 1: population share / sample share of each cell.

    `cells` is each respondent's cell (index kept), `targets` the population count per cell.
    """
    variable = str(getattr(cells, "name", None) or "cell")
    codes, population = _cell_codes(cells, targets, variable, source)
    n = len(codes)
    sample = np.bincount(codes, minlength=len(population)).astype(float)
    factor = np.divide(population / population.sum(), sample / n,
                       out=np.zeros_like(population), where=sample > 0)
    return pd.Series(factor[codes], index=cells.index, name="weight", dtype="float64")


def rake(frame: pd.DataFrame, margins: Mapping[str, Mapping[str, float]],
         max_iter: int = DEFAULT_MAX_ITER, tol: float = DEFAULT_TOL, *,
         source: str = DEFAULT_SOURCE) -> pd.Series:
    """Raking (iterative proportional fitting) weights, mean 1, to every margin's shares.

    Written here rather than imported: neither statsmodels nor scipy in the pinned environment
    offers raking or iterative proportional fitting, and the packages that do (ipfn, samplics)
    are not pinned. The algorithm is a few lines: scale the weights to each margin in turn until
    every weighted share is within `tol` of its population share. With one margin this is
    post-stratification (exact after one pass). Margins are matched as shares, so margins from
    sources with slightly different totals can be combined.
    """
    if not margins:
        raise InputError(source, "raking needs at least one margin")
    coded = []
    for variable, targets in margins.items():
        if variable not in frame.columns:
            raise InputError(source, "a raking margin names a column the respondents lack",
                             column=variable, expected=f"one of {list(frame.columns)}")
        codes, population = _cell_codes(frame[variable].rename(variable), targets, variable, source)
        coded.append((variable, codes, population / population.sum()))
    n = len(frame)
    weights = np.ones(n)
    gap, worst = math.inf, ""
    for _ in range(max_iter):
        for _variable, codes, share in coded:
            totals = np.bincount(codes, weights=weights, minlength=len(share))
            factor = np.divide(share * weights.sum(), totals, out=np.zeros_like(share),
                               where=totals > 0)
            weights = weights * factor[codes]
        gap, worst = 0.0, ""
        for variable, codes, share in coded:
            weighted = np.bincount(codes, weights=weights, minlength=len(share)) / weights.sum()
            margin_gap = float(np.abs(weighted - share).max())
            if margin_gap > gap:
                gap, worst = margin_gap, variable
        if gap <= tol:
            break
    else:
        raise InputError(source, f"raking did not converge in {max_iter} iterations: largest gap "
                         f"between a weighted and a population share is {gap:.3g} (margin "
                         f"{worst!r})", expected=f"a gap <= {tol:g}; the margins may be "
                         "inconsistent with the sample's empty combinations of cells")
    return pd.Series(weights * n / weights.sum(), index=frame.index, name="weight", dtype="float64")


def kish_design_effect(weights: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Kish's design effect of unequal weighting: n * sum(w^2) / sum(w)^2 (1 = equal weights)."""
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        raise ValueError("no weights: the design effect needs n > 0")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return float(w.size * np.sum(w**2) / np.sum(w) ** 2)


@dataclass(frozen=True)
class Diagnostics:
    n: int
    deff: float
    efficiency: float  # 1 / deff
    effective_n: float  # n / deff

    @classmethod
    def of(cls, weights: Sequence[float] | np.ndarray | pd.Series) -> Diagnostics:
        deff = kish_design_effect(weights)
        n = len(np.asarray(weights))
        return cls(n, deff, 1.0 / deff, n / deff)


@dataclass(frozen=True)
class WeightingResult:
    weights: pd.DataFrame  # WEIGHT_COLUMNS, one row per respondent
    summary: pd.DataFrame  # SUMMARY_COLUMNS, one row per cell
    method: str
    diagnostics: Diagnostics
    notes: tuple[str, ...] = field(default=())


def weight_wave(frame: pd.DataFrame, margins: Sequence[MarginTargets], *, wave: str,
                reason: str = "", id_column: str = "respondent_id",
                max_iter: int = DEFAULT_MAX_ITER, tol: float = DEFAULT_TOL,
                weighted_samples: Sequence[str] = (),
                source: str = DEFAULT_SOURCE) -> WeightingResult:
    """Weight a wave's respondents to its margins; none = unit weights and a WARNING (`reason`).

    `frame` holds `id_column` and every margin's variable, and `sample` where the wave was drawn
    in several samples: each sample is a design stratum. One margin: post-stratification;
    several: raking. With `weighted_samples`, only those samples' respondents are weighted (to
    mean 1 among them) and represent the population; the others keep weight 1 and no population
    weight. The summary has one row per cell of each margin (for raking, `weight` is the mean
    weight of the cell's respondents) with the weighted respondents' n, deff, efficiency and
    effective n on every row, and one row per unweighted sample.
    """
    if frame[id_column].duplicated().any():
        raise InputError(source, f"respondents repeat in {id_column!r}",
                         found=sorted(frame.loc[frame[id_column].duplicated(), id_column])[:10])
    indexed = frame.set_index(id_column, drop=False)  # errors then name respondents by id
    strata = (indexed[SAMPLE_COLUMN].astype("object").astype(str) if SAMPLE_COLUMN in indexed
              else pd.Series(wave, index=indexed.index))
    if not margins:
        return _unweighted(indexed, wave=wave, reason=reason, id_column=id_column, strata=strata)
    weighted = _weighted_rows(strata, weighted_samples, source)
    core = indexed[weighted.to_numpy()]
    targets = {m.variable: m.targets for m in margins}
    if len(margins) == 1:
        method = POSTSTRATIFICATION
        weight = poststratify(core[margins[0].variable].rename(margins[0].variable),
                              margins[0].targets, source=source)
        cell = core[margins[0].variable].astype("object").astype(str)
    else:
        method = RAKING
        weight = rake(core, targets, max_iter=max_iter, tol=tol, source=source)
        cell = pd.Series(["; ".join(f"{m.variable}={row[i]}" for i, m in enumerate(margins))
                          for row in core[[m.variable for m in margins]].astype("object")
                          .astype(str).itertuples(index=False)], index=core.index)
        totals = {m.variable: m.total for m in margins}
        if len({round(t, 6) for t in totals.values()}) > 1:
            log.warning("wave %s: the raking margins have different population totals %s; "
                        "weights match their shares, weight_population uses the first (%s)",
                        wave, totals, margins[0].variable)
    population_total = margins[0].total
    n = len(core)
    others = ~weighted.to_numpy()
    outside = "unweighted (" + strata[others] + ")"
    weights = pd.DataFrame({
        "respondent_id": indexed[id_column].astype("str").to_numpy(),
        "weight": weight.reindex(indexed.index).fillna(1.0).to_numpy(dtype=float),
        "weight_population": (weight * population_total / n).reindex(indexed.index)
                             .to_numpy(dtype=float),
        "weighting_cell": pd.concat([cell, outside]).reindex(indexed.index).astype("str")
                            .to_numpy(),
        "stratum": strata.astype("str").to_numpy(),
        "in_population": weighted.to_numpy(),
    })
    for k, m in enumerate(margins, start=1):
        weights[f"{MARGIN_PREFIX}{k}"] = np.where(
            weighted.to_numpy(), indexed[m.variable].astype("object").astype(str).to_numpy(),
            "unweighted:" + strata.to_numpy().astype(str))
    diagnostics = Diagnostics.of(weight)
    notes = [n_ for m in margins for n_ in m.notes]
    if others.any():
        notes.append(f"samples not weighted (unit weights, a design stratum each, no population "
                     f"estimate): {', '.join(sorted(set(strata[others])))}")
    note = "; ".join([f"{method} to {', '.join(m.variable for m in margins)}", *notes])
    rows = []
    for m in margins:
        labels = core[m.variable].astype("object").astype(str).to_numpy()
        for name, pop in m.targets.items():
            inside = labels == name
            n_cell = int(inside.sum())
            rows.append(dict(margin=m.variable, cell=name, n_sample=n_cell, sample_share=n_cell / n,
                             population=pop, population_share=pop / m.total,
                             weighted_share=float(weight[inside].sum()) / n,
                             weight=float(weight[inside].mean()) if n_cell else math.nan,
                             source=m.source))
    for sample in sorted(set(strata[others])):
        rows.append(dict(margin="", cell=f"unweighted ({sample})",
                         n_sample=int((strata[others] == sample).sum()), sample_share=math.nan,
                         population=math.nan, population_share=math.nan,
                         weighted_share=math.nan, weight=1.0, source=""))
    summary = _summary(rows, wave, method, diagnostics, population_total, note)
    return WeightingResult(weights, summary, method, diagnostics, tuple(notes))


def _weighted_rows(strata: pd.Series, weighted_samples: Sequence[str], source: str) -> pd.Series:
    """Which respondents the margins describe: those of `weighted_samples` (all when empty)."""
    if not weighted_samples:
        return pd.Series(True, index=strata.index)
    unknown = sorted(set(weighted_samples) - set(strata))
    if unknown:
        raise InputError(source, "weighted_samples names a sample no respondent is in",
                         found=unknown, expected=f"among {sorted(set(strata))} (the codebook's "
                         "sample column)")
    return strata.isin(list(weighted_samples))


def _unweighted(indexed: pd.DataFrame, *, wave: str, reason: str, id_column: str,
                strata: pd.Series) -> WeightingResult:
    why = reason or "no population targets"
    log.warning("wave %s is not weighted: %s. Weights are 1 (unweighted) and weight_population is "
                "empty; estimates for this wave describe the respondents, not the population.",
                wave, why)
    n = len(indexed)
    weights = pd.DataFrame({
        "respondent_id": indexed[id_column].astype("str").to_numpy(),
        "weight": np.ones(n),
        "weight_population": np.full(n, np.nan),
        "weighting_cell": pd.array([UNWEIGHTED_CELL] * n, dtype="str"),
        "stratum": strata.astype("str").to_numpy(),
        "in_population": np.ones(n, bool),
    })
    diagnostics = Diagnostics(n, 1.0, 1.0, float(n)) if n else Diagnostics(0, math.nan, math.nan, 0.0)
    rows = [dict(margin="", cell=UNWEIGHTED_CELL, n_sample=n, sample_share=1.0 if n else math.nan,
                 population=math.nan, population_share=math.nan, weighted_share=1.0 if n else math.nan,
                 weight=1.0, source="")]
    note = f"unweighted: {why}"
    summary = _summary(rows, wave, UNWEIGHTED, diagnostics, math.nan, note)
    return WeightingResult(weights, summary, UNWEIGHTED, diagnostics, (note,))


def _summary(rows: list[dict[str, Any]], wave: str, method: str, diagnostics: Diagnostics,
             population_total: float, note: str) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    table.insert(0, "wave", wave)
    table.insert(1, "method", method)
    table["n"] = diagnostics.n
    table["deff"] = diagnostics.deff
    table["efficiency"] = diagnostics.efficiency
    table["effective_n"] = diagnostics.effective_n
    table["population_total"] = population_total
    table["note"] = note
    table = table[SUMMARY_COLUMNS]
    # Counts as integers where they are (a float would print 1.23457e+06 at 6 significant digits).
    for column in ("population", "population_total"):
        values = table[column].astype("float64")
        known = values.dropna().to_numpy()
        table[column] = values.round().astype("Int64") if np.all(known == np.round(known)) else values
    for column in ("n_sample", "n"):
        table[column] = table[column].astype("int64")
    return table
