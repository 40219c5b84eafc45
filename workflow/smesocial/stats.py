"""The study's hypotheses as a tested battery: config/hypotheses.yaml -> tidy tables.

`load_hypotheses` reads and checks the declarations; `run_battery` runs every declared test on
the waves' clean tables and returns two tidy tables: `estimates` (one row per share, unweighted
and, where a wave has non-trivial weights, weighted) and `tests` (one row per test, with Holm
adjustment within each family and Benjamini-Hochberg across the whole battery).
`summary_markdown` renders them for readers. The statistics are in smesocial.stats.

Nothing here crashes on awkward data: a test whose assumptions fail (empty segment, constant
item, perfect separation, item not asked in a wave, wave not configured) gives a row whose note
says why, with no numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smesocial.config import PLATFORM_KEY, Indicator, load_yaml
from smesocial.errors import InputError
from smesocial.estimates import ALL_SEGMENTS, share_estimates, weighted_share, weights_are_trivial
from smesocial.inference import (NotEstimable, TestResult, adjust_pvalues, association_test, cmh_test, cochrans_q_test, crosstab, kruskal_wallis, logistic_group_effect, mcnemar_paired, ordinal_trend, paired_counts, trend_in_proportions)

TEST_KINDS: dict[str, str] = {
    # kind -> how many items it takes ("one", "two", "many")
    "association": "one",
    "kruskal_wallis": "one",
    "ordinal_logit_trend": "one",
    "cochran_armitage": "one",
    "mcnemar": "two",
    "cochrans_q": "many",
    "gradient_difference": "two",
    "cmh": "one",
    "logit_group": "one",
}
GROUP_KINDS = {"cmh", "logit_group"}
DIRECTIONS = {"increasing", "decreasing", "first_greater", "two_sided"}
NO_WEIGHTS_NOTE = "no population targets: unweighted only"

ESTIMATE_COLUMNS = ["wave", "item", "segment", "weighted", "n", "k", "n_eff", "share", "ci_low",
                    "ci_high", "method", "note"]
TEST_COLUMNS = ["hypothesis", "family", "waves", "item", "segment", "test", "statistic", "df", "p",
                "p_adj_holm", "p_adj_bh", "effect_size_name", "effect_size", "effect_ci_low",
                "effect_ci_high", "n", "direction", "direction_observed",
                "secondary_effect_name", "secondary_effect", "note"]


# --------------------------------------------------------------------------------------------
# Declarations


@dataclass(frozen=True)
class TestSpec:
    kind: str
    items: tuple[str, ...]  # templates, `{platform}` not yet expanded
    direction: str
    segments: str | tuple[str, ...] = "all"  # "all" (pooled), "each" (all + every segment), list
    group: str | None = None
    groups: tuple[Any, Any] | None = None
    interaction: bool = False


@dataclass(frozen=True)
class Hypothesis:
    id: str
    statement: str
    family: str
    waves: tuple[str, ...]
    direction: str
    platforms: tuple[str, ...]
    items: tuple[str, ...]
    tests: tuple[TestSpec, ...]
    pool_waves: bool = False
    source: str = ""
    notes: str = ""
    all_platforms: bool = False  # `platforms: all`: a platform a wave did not ask is left out


@dataclass(frozen=True)
class Settings:
    segment: str = "segment"
    monte_carlo_resamples: int = 9999
    bootstrap_resamples: int = 2000


@dataclass(frozen=True)
class Declarations:
    settings: Settings
    families: dict[str, str]
    hypotheses: tuple[Hypothesis, ...]


def load_hypotheses(path: str | Path, platforms: Mapping[str, str]) -> Declarations:
    """Read config/hypotheses.yaml; a malformed declaration is an InputError naming it."""
    raw = load_yaml(path)
    source = str(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("hypotheses"), list):
        raise InputError(source, "no list under 'hypotheses'", expected="a list of hypotheses")
    settings_raw = raw.get("settings") or {}
    if settings_raw.get("segment_scores", "rank") != "rank":
        raise InputError(source, "unsupported settings.segment_scores",
                         found=settings_raw.get("segment_scores"), expected="'rank'")
    settings = Settings(
        segment=str(settings_raw.get("segment", "segment")),
        monte_carlo_resamples=int(settings_raw.get("monte_carlo_resamples", 9999)),
        bootstrap_resamples=int(settings_raw.get("bootstrap_resamples", 2000)),
    )
    families = {str(k): str(v) for k, v in (raw.get("families") or {}).items()}
    hypotheses: list[Hypothesis] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw["hypotheses"]):
        where = f"hypotheses[{index}]"
        hypothesis = _hypothesis(entry, where, source, families, platforms)
        if hypothesis.id in seen:
            raise InputError(source, f"duplicate hypothesis id at {where}", found=hypothesis.id)
        seen.add(hypothesis.id)
        hypotheses.append(hypothesis)
    return Declarations(settings, families, tuple(hypotheses))


def _hypothesis(entry: Any, where: str, source: str, families: Mapping[str, str],
                platforms: Mapping[str, str]) -> Hypothesis:
    if not isinstance(entry, dict):
        raise InputError(source, f"{where} is not a mapping")
    missing = [k for k in ("id", "statement", "family", "waves", "direction", "items", "tests")
               if k not in entry]
    if missing:
        raise InputError(source, f"{where} lacks {', '.join(missing)}",
                         expected="id, statement, family, waves, direction, items, tests")
    hid = str(entry["id"])
    where = f"hypothesis {hid}"
    if entry["family"] not in families:
        raise InputError(source, f"{where}: family not declared under 'families'",
                         found=entry["family"], expected=", ".join(families))
    direction = _direction(entry["direction"], where, source)
    declared_platforms = entry.get("platforms", [])
    if declared_platforms == "all":
        chosen = tuple(platforms)
    else:
        chosen = tuple(str(p) for p in declared_platforms)
        unknown = [p for p in chosen if p not in platforms]
        if unknown:
            raise InputError(source, f"{where}: unknown platform(s)", found=unknown,
                             expected=", ".join(platforms))
    items = tuple(str(i) for i in entry["items"])
    if any(PLATFORM_KEY in i for i in items) and not chosen:
        raise InputError(source, f"{where}: items use {PLATFORM_KEY} but no platforms are named")
    tests = tuple(_test(t, f"{where}, test {i + 1}", source, items, direction)
                  for i, t in enumerate(entry["tests"]))
    waves = tuple(str(w) for w in entry["waves"])
    if not waves:
        raise InputError(source, f"{where}: no waves", expected="at least one wave id")
    return Hypothesis(hid, " ".join(str(entry["statement"]).split()), str(entry["family"]), waves,
                      direction, chosen, items, tests, bool(entry.get("pool_waves", False)),
                      " ".join(str(entry.get("source", "")).split()),
                      " ".join(str(entry.get("notes", "")).split()), declared_platforms == "all")


def _direction(value: Any, where: str, source: str) -> str:
    if value not in DIRECTIONS:
        raise InputError(source, f"{where}: unknown direction", found=value,
                         expected=", ".join(sorted(DIRECTIONS)))
    return str(value)


def _test(entry: Any, where: str, source: str, items: tuple[str, ...], direction: str) -> TestSpec:
    if not isinstance(entry, dict) or entry.get("test") not in TEST_KINDS:
        found = entry.get("test") if isinstance(entry, dict) else entry
        raise InputError(source, f"{where}: unknown test", found=found,
                         expected=", ".join(TEST_KINDS))
    kind = str(entry["test"])
    named = entry.get("items", [entry["item"]] if "item" in entry else [])
    test_items = tuple(str(i) for i in named)
    arity = TEST_KINDS[kind]
    if (arity == "one" and len(test_items) != 1) or (arity == "two" and len(test_items) != 2) \
            or (arity == "many" and len(test_items) < 2):
        raise InputError(source, f"{where}: {kind} takes {arity} item(s)", found=list(test_items))
    undeclared = [i for i in test_items if i not in items]
    if undeclared:
        raise InputError(source, f"{where}: item(s) not among the hypothesis' items",
                         found=undeclared, expected=", ".join(items))
    segments_raw = entry.get("segments", "all")
    segments: str | tuple[str, ...]
    if segments_raw in ("all", "each"):
        segments = str(segments_raw)
    elif isinstance(segments_raw, list) and segments_raw:
        segments = tuple(str(s) for s in segments_raw)
    else:
        raise InputError(source, f"{where}: segments", found=segments_raw,
                         expected="'all', 'each' or a list of segment names")
    group, groups = entry.get("group"), entry.get("groups")
    if kind in GROUP_KINDS and (not group or not isinstance(groups, list) or len(groups) != 2):
        raise InputError(source, f"{where}: {kind} needs `group` and two `groups`")
    return TestSpec(kind, test_items, _direction(entry.get("direction", direction), where, source),
                    segments, str(group) if group else None,
                    (groups[0], groups[1]) if groups else None, bool(entry.get("interaction", False)))


def expand_items(templates: Sequence[str], platforms: Sequence[str]) -> list[tuple[str, ...]]:
    """One tuple of concrete items per platform if any template names {platform}, else one."""
    if not any(PLATFORM_KEY in t for t in templates):
        return [tuple(templates)]
    return [tuple(t.replace(PLATFORM_KEY, p) for t in templates) for p in platforms]


# --------------------------------------------------------------------------------------------
# Items


@dataclass(frozen=True)
class Item:
    name: str
    values: pd.Series  # boolean (nullable) for binary items, categorical otherwise
    kind: str  # binary | ordered | nominal


def resolve_item(table: pd.DataFrame, name: str, indicators: Mapping[str, Indicator]) -> Item:
    """A harmonised variable (a column) or an indicator id (a share definition on a column).

    A name that is neither is an item the wave did not ask."""
    if name in table.columns:
        column = table[name]
        if pd.api.types.is_bool_dtype(column.dtype):
            return Item(name, column.astype("boolean"), "binary")
        if isinstance(column.dtype, pd.CategoricalDtype):
            return Item(name, column, "ordered" if column.cat.ordered else "nominal")
        return Item(name, column.astype("category"), "nominal")
    indicator = indicators.get(name)
    if indicator is not None and indicator.variable in table.columns:
        source = table[indicator.variable]
        values = set(indicator.values)
        hit = source.astype("object").map(lambda v: v in values if not _missing(v) else pd.NA)
        return Item(name, hit.astype("boolean"), "binary")
    raise NotEstimable(f"item {name} not in this wave")


def asked(table: pd.DataFrame, name: str, indicators: Mapping[str, Indicator]) -> bool:
    """Whether the table has at least one answer to the item (a column, or an indicator's)."""
    indicator = indicators.get(name)
    column = name if name in table.columns else indicator.variable if indicator else None
    return column is not None and column in table.columns and bool(table[column].notna().any())


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _codes(item: Item) -> pd.Series:
    """Numeric codes (NaN = unanswered): 0/1 for binary, the level's rank for ordered items."""
    if item.kind == "binary":
        return item.values.astype("Float64").astype(float)
    codes = item.values.cat.codes.astype(float)
    return codes.where(codes >= 0)


def _require(item: Item, kinds: set[str], test: str) -> None:
    if item.kind not in kinds:
        raise NotEstimable(f"{test} needs a {' or '.join(sorted(kinds))} item; {item.name} is {item.kind}")


# --------------------------------------------------------------------------------------------
# Running


@dataclass
class Battery:
    estimates: pd.DataFrame
    tests: pd.DataFrame
    skipped: list[str] = field(default_factory=list)  # item sets a wave did not ask


@dataclass(frozen=True)
class Context:
    indicators: Mapping[str, Indicator]
    settings: Settings
    alpha: float
    seed: int
    common_scheme: str | None = None


def run_battery(
    declarations: Declarations,
    tables: Mapping[str, pd.DataFrame],
    *,
    configured_waves: Sequence[str],
    indicators: Mapping[str, Indicator],
    alpha: float,
    seed: int,
    weights: Mapping[str, pd.DataFrame | None] | None = None,
    common_scheme: str | None = None,
) -> Battery:
    """Every declared test on every declared wave, plus the shares behind them.

    Tests pooling several waves stratify on `common_scheme` (the harmonisation spec's size
    scheme), the `segment_<scheme>` column of each wave's analysis table, since the waves' own
    schemes differ; single-wave tests keep each wave's own segment."""
    context = Context(indicators, declarations.settings, alpha, seed, common_scheme)
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for hypothesis in declarations.hypotheses:
        for waves in _wave_sets(hypothesis):
            rows.extend(_hypothesis_rows(hypothesis, waves, tables, configured_waves, context,
                                         skipped))
    tests = pd.DataFrame(rows, columns=TEST_COLUMNS)
    tests["p_adj_holm"] = tests.groupby("family", sort=False)["p"].transform(
        lambda p: adjust_pvalues(p, "holm"))
    tests["p_adj_bh"] = adjust_pvalues(tests["p"], "fdr_bh")
    tests = _typed_tests(tests)
    estimates = battery_estimates(declarations, tables, context, weights or {})
    return Battery(estimates, tests, skipped)


def _wave_sets(hypothesis: Hypothesis) -> list[tuple[str, ...]]:
    return [hypothesis.waves] if hypothesis.pool_waves else [(w,) for w in hypothesis.waves]


def _base_row(hypothesis: Hypothesis, waves: tuple[str, ...], spec: TestSpec, item: str,
              segment: str) -> dict[str, Any]:
    return {"hypothesis": hypothesis.id, "family": hypothesis.family, "waves": "+".join(waves),
            "item": item, "segment": segment, "direction": spec.direction}


def _unavailable_note(waves: tuple[str, ...], tables: Mapping[str, pd.DataFrame],
                      configured: Sequence[str]) -> str:
    notes = [f"wave {w} not configured" for w in waves if w not in configured]
    notes += [f"no clean data for wave {w}" for w in waves if w in configured and w not in tables]
    return "; ".join(notes)


def _hypothesis_rows(hypothesis: Hypothesis, waves: tuple[str, ...],
                     tables: Mapping[str, pd.DataFrame], configured: Sequence[str],
                     context: Context, skipped: list[str]) -> list[dict[str, Any]]:
    """The rows of one hypothesis on one wave (or pooled wave set); platforms the waves did not
    ask under `platforms: all` are appended to `skipped` instead."""
    rows: list[dict[str, Any]] = []
    missing = _unavailable_note(waves, tables, configured)
    if missing:
        # One row per declared test, items unexpanded: the wave's items are not known yet.
        for spec in hypothesis.tests:
            row = _base_row(hypothesis, waves, spec, " vs ".join(spec.items), ALL_SEGMENTS)
            row.update(_result_columns(TestResult(spec.kind, note=missing)))
            rows.append(row)
        return rows
    segment = context.settings.segment
    table = _pooled(waves, tables, segment, context)
    for spec in hypothesis.tests:
        for items in expand_items(spec.items, hypothesis.platforms):
            if hypothesis.all_platforms and not all(asked(table, i, context.indicators) for i in items):
                skipped.append(f"{hypothesis.id}, {spec.kind}: {' vs '.join(items)} "
                               f"({'+'.join(waves)})")
                continue
            for segment_name in _segments_for(spec, table, segment):
                row = _base_row(hypothesis, waves, spec, " vs ".join(items), segment_name)
                try:
                    result = run_test(spec, items, table, segment_name, context)
                except NotEstimable as exc:
                    result = TestResult(_test_name(spec), note=str(exc))
                row.update(_result_columns(result))
                rows.append(row)
    return rows


def _pooled(waves: tuple[str, ...], tables: Mapping[str, pd.DataFrame], segment: str,
            context: Context | None = None) -> pd.DataFrame:
    """One wave's table (with its own segment), or several stacked with the common size scheme
    (`context.common_scheme`, each table's `segment_<scheme>`) as their segment: the waves' own
    schemes cut size at different points, so their levels cannot be merged by name."""
    if len(waves) == 1:
        return tables[waves[0]]
    frames = [tables[w] for w in waves]
    if context is not None and context.common_scheme:
        frames = [_with_common_segment(w, f, segment, context.common_scheme)
                  for w, f in zip(waves, frames)]
        return pd.concat(frames, ignore_index=True)
    # Without a common scheme (unit tests, callers outside the workflow): the union of the
    # waves' levels in order, which is only right when the waves share one scheme.
    segment_levels: list[Any] = []
    for frame in frames:
        if segment in frame and isinstance(frame[segment].dtype, pd.CategoricalDtype):
            segment_levels += [s for s in frame[segment].cat.categories if s not in segment_levels]
    pooled = pd.concat(frames, ignore_index=True)
    if segment_levels:
        pooled[segment] = pd.Categorical(pooled[segment].astype("object"),
                                         categories=segment_levels, ordered=True)
    return pooled


def _with_common_segment(wave: str, table: pd.DataFrame, segment: str,
                         scheme: str) -> pd.DataFrame:
    """`table` with its segment column replaced by its `segment_<scheme>` column."""
    column = f"segment_{scheme}"
    if column not in table:
        raise InputError(f"results/{wave}/clean.parquet", f"no {column} column to pool wave "
                         f"{wave} on", expected="a segment_<scheme> column per configured scheme "
                         "(re-run the clean stage)")
    return table.assign(**{segment: table[column]})


def _segments_for(spec: TestSpec, table: pd.DataFrame, segment: str) -> list[str]:
    if spec.segments == "all" or segment not in table.columns:
        return [ALL_SEGMENTS]  # a missing segment column is reported by run_test's note
    levels = [str(s) for s in _segment_levels(table, segment)]
    if spec.segments == "each":
        return [ALL_SEGMENTS, *levels]
    return list(spec.segments)


def _segment_levels(table: pd.DataFrame, segment: str) -> list[Any]:
    if segment not in table.columns:
        raise NotEstimable(f"no segment column {segment!r}")
    column = table[segment]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    return sorted(column.dropna().unique())


def _test_name(spec: TestSpec) -> str:
    return {"mcnemar": "mcnemar_exact", "gradient_difference": "gradient_difference_ordinal_logit",
            "logit_group": "logit_group_interaction" if spec.interaction else "logit_group"
            }.get(spec.kind, spec.kind)


def run_test(spec: TestSpec, items: tuple[str, ...], table: pd.DataFrame, segment_name: str,
             context: Context) -> TestResult:
    """One declared test on one expanded item set and one segment ('all' = every segment)."""
    segment = context.settings.segment
    if segment not in table.columns:
        raise NotEstimable(f"no segment column {segment!r}")
    for name in items:  # asked = answered by someone in the wave, whatever the segment
        if not asked(table, name, context.indicators):
            raise NotEstimable(f"item {name} not asked in this wave (no answers)")
    if segment_name != ALL_SEGMENTS:
        if segment_name not in {str(s) for s in _segment_levels(table, segment)}:
            raise NotEstimable(f"segment {segment_name} not in this wave's scheme")
        table = table[table[segment].astype("object").astype(str) == segment_name]
        if table.empty:
            raise NotEstimable(f"no respondent in segment {segment_name}")
    resolved = [resolve_item(table, name, context.indicators) for name in items]
    kind, alpha, seed = spec.kind, context.alpha, context.seed
    settings = context.settings
    if kind == "association":
        table_counts = crosstab(resolved[0].values, table[segment])
        return association_test(table_counts.to_numpy(), alpha=alpha, seed=seed,
                                mc_resamples=settings.monte_carlo_resamples)
    if kind in ("kruskal_wallis", "ordinal_logit_trend", "cochran_armitage", "gradient_difference"):
        return _trend_test(spec, resolved, table, context)
    if kind == "mcnemar":
        for item in resolved:
            _require(item, {"binary"}, "McNemar")
        return mcnemar_paired(*paired_counts(resolved[0].values, resolved[1].values), alpha=alpha)
    if kind == "cochrans_q":
        for item in resolved:
            _require(item, {"binary"}, "Cochran's Q")
        matrix = pd.concat([i.values.rename(i.name) for i in resolved], axis=1).dropna()
        return cochrans_q_test(matrix.astype(bool).to_numpy(), alpha=alpha, seed=seed,
                               bootstrap_resamples=settings.bootstrap_resamples)
    if kind in GROUP_KINDS:
        return _group_test(spec, resolved[0], table, context)
    raise NotEstimable(f"unknown test {kind}")  # load_hypotheses rejects these earlier


def _scores(table: pd.DataFrame, segment: str) -> pd.Series:
    """Equally spaced segment scores 0, 1, 2, ... in the scheme's order (NaN = no segment)."""
    levels = _segment_levels(table, segment)
    rank = {str(level): float(i) for i, level in enumerate(levels)}
    return table[segment].astype("object").map(lambda s: rank.get(str(s), np.nan)).astype(float)


def _trend_test(spec: TestSpec, resolved: list[Item], table: pd.DataFrame,
                context: Context) -> TestResult:
    segment = context.settings.segment
    scores = _scores(table, segment)
    levels = _segment_levels(table, segment)
    if spec.kind == "gradient_difference":
        for item in resolved:
            _require(item, {"binary"}, "gradient_difference")
        values = _codes(resolved[0]) - _codes(resolved[1])  # -1 / 0 / 1 within respondents
        result = ordinal_trend(values.to_numpy(), scores.to_numpy(), context.alpha,
                               test="gradient_difference_ordinal_logit")
        return result.with_note(f"{resolved[0].name} minus {resolved[1].name} within respondents")
    item = resolved[0]
    if spec.kind == "cochran_armitage":
        _require(item, {"binary"}, "Cochran-Armitage")
    else:
        _require(item, {"binary", "ordered"}, spec.kind)
    values = _codes(item)
    answered = values.notna() & scores.notna()
    empty = [str(levels[int(s)]) for s in range(len(levels)) if not ((scores == s) & answered).any()]
    note = f"segment(s) without answers left out: {', '.join(empty)}" if empty else ""
    if spec.kind == "kruskal_wallis":
        groups = [values[answered & (scores == s)].to_numpy() for s in range(len(levels))]
        result = kruskal_wallis([g for g in groups if g.size], alpha=context.alpha, seed=context.seed,
                                bootstrap_resamples=context.settings.bootstrap_resamples)
    elif spec.kind == "ordinal_logit_trend":
        result = ordinal_trend(values[answered].to_numpy(), scores[answered].to_numpy(), context.alpha)
    else:
        present = [s for s in range(len(levels)) if ((scores == s) & answered).any()]
        successes = np.array([int(values[answered & (scores == s)].sum()) for s in present])
        totals = np.array([int((answered & (scores == s)).sum()) for s in present])
        result = trend_in_proportions(successes, totals, np.array(present, dtype=float), context.alpha)
        result = result.with_note(f"difference {levels[present[-1]]} minus {levels[present[0]]}")
    return result.with_note(note) if note else result


def _group_test(spec: TestSpec, item: Item, table: pd.DataFrame, context: Context) -> TestResult:
    _require(item, {"binary"}, spec.kind)
    assert spec.group is not None and spec.groups is not None  # checked by load_hypotheses
    if spec.group not in table.columns:
        raise NotEstimable(f"no column {spec.group!r} to compare groups on")
    first, second = (str(g) for g in spec.groups)
    group_values = table[spec.group].astype("object").astype(str)
    in_groups = group_values.isin([first, second])
    present = set(group_values[in_groups])
    if present != {first, second}:
        absent = [g for g in (first, second) if g not in present]
        raise NotEstimable(f"no respondent in group(s) {', '.join(absent)} of {spec.group}")
    segment = context.settings.segment
    # Column names appear in the notes ("adjusted for segment", "country_DK x segment").
    indicator = f"{spec.group}_{first}" if f"{spec.group}_{first}".isidentifier() else "group"
    data = pd.DataFrame({
        "y": item.values[in_groups].astype("Float64").astype(float),
        indicator: (group_values[in_groups] == first).astype(float),
        "segment": table.loc[in_groups, segment].astype("object").astype(str),
    })
    note = f"groups: {first} (first) vs {second} (second)"
    if spec.kind == "cmh":
        answered = data.dropna()
        strata = []
        for _, stratum in answered.groupby("segment", sort=True):
            g, y = stratum[indicator], stratum["y"]
            strata.append(np.array([[int(((g == 1) & (y == 1)).sum()), int(((g == 1) & (y == 0)).sum())],
                                    [int(((g == 0) & (y == 1)).sum()), int(((g == 0) & (y == 0)).sum())]]))
        return cmh_test(strata, context.alpha).with_note(note + "; strata: segments")
    result = logistic_group_effect(data, outcome="y", group=indicator, adjust="segment",
                                   interaction=spec.interaction, alpha=context.alpha)
    return result.with_note(note)


def _result_columns(result: TestResult) -> dict[str, Any]:
    return {
        "test": result.test, "statistic": result.statistic, "df": result.df, "p": result.p,
        "effect_size_name": result.effect_size_name, "effect_size": result.effect_size,
        "effect_ci_low": result.effect_ci_low, "effect_ci_high": result.effect_ci_high,
        "n": result.n, "direction_observed": result.direction_observed,
        "secondary_effect_name": result.secondary_effect_name,
        "secondary_effect": result.secondary_effect, "note": result.note,
    }


def _typed_tests(tests: pd.DataFrame) -> pd.DataFrame:
    text = ["hypothesis", "family", "waves", "item", "segment", "test", "effect_size_name",
            "direction", "direction_observed", "secondary_effect_name", "note"]
    numbers = ["statistic", "df", "p", "p_adj_holm", "p_adj_bh", "effect_size", "effect_ci_low",
               "effect_ci_high", "secondary_effect"]
    out = tests.copy()
    for column in text:
        out[column] = out[column].fillna("").astype(str)
    for column in numbers:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    out["n"] = out["n"].fillna(0).astype(int)
    return out[TEST_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Estimates


def estimate_items(declarations: Declarations, table: pd.DataFrame,
                   indicators: Mapping[str, Indicator]) -> list[Item]:
    """Every item a wave's tests use, once, in declaration order."""
    names: list[str] = []
    for hypothesis in declarations.hypotheses:
        for spec in hypothesis.tests:
            for items in expand_items(spec.items, hypothesis.platforms):
                names += [i for i in items if i not in names]
    # An item this wave did not ask is left out, as the estimates stage does; the tests' rows
    # (or the log, under `platforms: all`) say so.
    return [resolve_item(table, name, indicators) for name in names
            if asked(table, name, indicators)]


def battery_estimates(declarations: Declarations, tables: Mapping[str, pd.DataFrame],
                      context: Context,
                      weights: Mapping[str, pd.DataFrame | None]) -> pd.DataFrame:
    """Shares per item (per level for ordered and nominal items) x segment, per wave.

    Unweighted with Wilson intervals (as the report); weighted rows (Wilson on Kish's effective
    n, stats.weighted_share) only for a wave whose weights are not all equal; otherwise one
    marker row per wave says the wave is unweighted only.
    """
    frames: list[pd.DataFrame] = []
    segment = context.settings.segment
    for wave in sorted(tables):
        table = tables[wave]
        if segment not in table.columns:
            continue
        shares = _share_definitions(estimate_items(declarations, table, context.indicators))
        work = table.copy()
        for name, (_source, mask) in shares.items():
            work[name] = mask
        definitions = {name: Indicator(name, name, (True,), name) for name in shares}
        unweighted = share_estimates(work, definitions, wave=wave, segment_column=segment,
                                     alpha=context.alpha)
        unweighted = unweighted.rename(columns={"indicator": "item", "ci_method": "method"})
        unweighted["n_eff"] = unweighted["n"].astype(float)
        frames.append(unweighted[ESTIMATE_COLUMNS])
        frames.append(_weighted_estimates(wave, work, definitions, weights.get(wave), segment,
                                          context.alpha))
    estimates = pd.concat([f for f in frames if len(f)], ignore_index=True) if frames else \
        pd.DataFrame(columns=ESTIMATE_COLUMNS)
    for column in ("share", "ci_low", "ci_high", "n_eff"):
        estimates[column] = estimates[column].astype(float)
    for column in ("n", "k"):
        estimates[column] = estimates[column].astype(int)
    estimates["weighted"] = estimates["weighted"].astype(bool)
    for column in ("wave", "item", "segment", "method", "note"):
        estimates[column] = estimates[column].fillna("").astype(str)
    return estimates[ESTIMATE_COLUMNS].reset_index(drop=True)


def _share_definitions(items: list[Item]) -> dict[str, tuple[str, pd.Series]]:
    """share name -> (item, boolean mask with NA = unanswered)."""
    out: dict[str, tuple[str, pd.Series]] = {}
    for item in items:
        if item.kind == "binary":
            out[item.name] = (item.name, item.values)
            continue
        answered = item.values.notna()
        for level in item.values.cat.categories:
            mask = (item.values.astype("object") == level).astype("boolean")
            out[f"{item.name}={level}"] = (item.name, mask.where(answered, pd.NA))
    return out


def _weighted_estimates(wave: str, work: pd.DataFrame, definitions: Mapping[str, Indicator],
                        weights: pd.DataFrame | None, segment: str, alpha: float) -> pd.DataFrame:
    if weights is None or "weight" not in weights.columns:
        return _marker_row(wave, len(work), NO_WEIGHTS_NOTE)
    joined = work[["respondent_id"]].merge(weights[["respondent_id", "weight"]], how="left",
                                           on="respondent_id", validate="one_to_one")
    w = joined["weight"].to_numpy(dtype=float)
    if np.isnan(w).any():
        return _marker_row(wave, len(work), f"{int(np.isnan(w).sum())} respondent(s) without a "
                                            "weight: unweighted only")
    if weights_are_trivial(w):
        return _marker_row(wave, len(work), NO_WEIGHTS_NOTE)
    rows: list[dict[str, Any]] = []
    segments = [ALL_SEGMENTS, *[str(s) for s in _segment_levels(work, segment)]]
    for name in definitions:
        mask = work[name]
        for segment_name in segments:
            members = np.ones(len(work), bool) if segment_name == ALL_SEGMENTS else \
                (work[segment].astype("object").astype(str) == segment_name).to_numpy()
            answered = mask.notna().to_numpy() & members
            row: dict[str, Any] = {"wave": wave, "item": name, "segment": segment_name,
                                   "weighted": True, "n": int(answered.sum()),
                                   "k": int(mask[answered].astype(bool).sum()),
                                   "method": "wilson_kish", "note": ""}
            if not answered.any():
                row.update(n_eff=np.nan, share=np.nan, ci_low=np.nan, ci_high=np.nan,
                           note="no respondent in this segment answered the item")
            else:
                share = weighted_share(mask[answered].astype(bool).to_numpy(), w[answered], alpha)
                row.update(n_eff=share.n_eff, share=share.share, ci_low=share.ci_low,
                           ci_high=share.ci_high)
            rows.append(row)
    return pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)


def _marker_row(wave: str, n: int, note: str) -> pd.DataFrame:
    return pd.DataFrame([{"wave": wave, "item": "*", "segment": ALL_SEGMENTS, "weighted": True,
                          "n": n, "k": 0, "n_eff": np.nan, "share": np.nan, "ci_low": np.nan,
                          "ci_high": np.nan, "method": "", "note": note}], columns=ESTIMATE_COLUMNS)


# --------------------------------------------------------------------------------------------
# Summary


def summary_markdown(battery: Battery, declarations: Declarations, config: Mapping[str, Any],
                     waves: Sequence[str]) -> str:
    """A readable account of the battery: the disclosure first, then per hypothesis its rows."""
    lines: list[str] = ["# smesocial: hypothesis battery", ""]
    for wave in waves:
        disclosure = " ".join(str(config["waves"][wave]["disclosure"]).split())
        lines += [f"> **{wave}**: {disclosure}", ""]
    tests = battery.tests
    with_p = int(tests["p"].notna().sum())
    without = len(tests) - with_p
    counted = (f"{with_p} with a p-value; {without} without, each with a note saying why"
               if without else "each with a p-value")
    lines += [
        f"{len(tests)} tests ({counted}) and {len(battery.estimates)} estimates, in "
        "`results/stats/tests.csv` and `results/stats/estimates.csv` (and `.parquet`). p-values "
        "are two-sided; `p_adj_holm` is Holm-adjusted within the hypothesis family, `p_adj_bh` "
        "Benjamini-Hochberg across the whole battery. Hypotheses, directions and families were "
        "declared in `config/hypotheses.yaml` before the results were computed.",
        "",
    ]
    family_names = declarations.families
    for hypothesis in declarations.hypotheses:
        rows = tests[tests["hypothesis"] == hypothesis.id]
        lines += [f"## {hypothesis.id}", "", f"*{hypothesis.statement}*", "",
                  f"Family: {hypothesis.family} ({family_names.get(hypothesis.family, '')}); "
                  f"waves: {', '.join(hypothesis.waves)}; declared direction: {hypothesis.direction}.",
                  ""]
        if rows.empty:
            lines += ["No rows.", ""]
            continue
        lines += [_rows_markdown(rows), ""]
    if battery.skipped:
        lines += ["## Not asked", "",
                  "Item sets left out because a wave did not ask them (`platforms: all`):", "",
                  *[f"- {s}" for s in battery.skipped], ""]
    return "\n".join(lines).rstrip() + "\n"


def _rows_markdown(rows: pd.DataFrame) -> str:
    shown = pd.DataFrame({
        "item": rows["item"], "segment": rows["segment"], "test": rows["test"],
        "statistic": rows.apply(lambda r: _number(r.statistic, 2) + (
            f" ({_number(r.df, 0)} df)" if math.isfinite(r.df) else ""), axis=1),
        "p": rows["p"].map(_p), "p Holm": rows["p_adj_holm"].map(_p),
        "effect [95% CI]": rows.apply(_effect, axis=1),
        "observed": rows["direction_observed"],
        "note": rows["note"].map(lambda s: s if len(s) <= 90 else s[:87] + "..."),
    })
    return shown.to_markdown(index=False)


def _number(value: float, digits: int) -> str:
    return "" if not math.isfinite(value) else f"{value:.{digits}f}"


def _p(value: float) -> str:
    if not math.isfinite(value):
        return ""
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def _effect(row: pd.Series) -> str:
    if not math.isfinite(row.effect_size):
        return ""
    text = f"{row.effect_size_name} {row.effect_size:.3f}"
    if math.isfinite(row.effect_ci_low) and math.isfinite(row.effect_ci_high):
        text += f" [{row.effect_ci_low:.3f}, {row.effect_ci_high:.3f}]"
    if row.secondary_effect_name and math.isfinite(row.secondary_effect):
        text += f"; {row.secondary_effect_name} {row.secondary_effect:.3f}"
    return text
