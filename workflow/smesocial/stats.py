"""The study's hypotheses as a tested battery: config/hypotheses.yaml -> tidy tables.

`run_battery` runs every declared test (smesocial.hypotheses reads the declarations) on the
waves' clean tables and returns two tidy tables: `tests` (one row per test, with Holm adjustment
within each family and Benjamini-Hochberg across the whole battery) and `estimates` (the shares
behind them, as the estimates stage computed them per wave). `summary_markdown` renders them for
readers. The tests themselves are in smesocial.inference.

Nothing here crashes on awkward data: a test whose assumptions fail (empty segment, constant
item, perfect separation, item not asked in a wave, wave not configured) gives a row whose note
says why, with no numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from smesocial.columns import as_text, map_distinct
from smesocial.config import Indicator
from smesocial.errors import InputError
from smesocial.estimates import ALL_SEGMENTS, typed_item_estimates
from smesocial.hypotheses import (GROUP_KINDS, Declarations, Hypothesis, Item, Settings, TestSpec,
                                  asked, expand_items, resolve_item)
from smesocial.inference import (NotEstimable, TestResult, adjust_pvalues, association_test,
                                 cmh_test, cochrans_q_test, crosstab, kruskal_wallis,
                                 logistic_group_effect, mcnemar_paired, ordinal_trend,
                                 paired_counts, trend_in_proportions)
from smesocial.weighted_tests import (POPULATION, RESPONDENTS, SAMPLE_GROUP, Inputs,
                                      design_result, domain_for, table_design, with_design)

TEST_COLUMNS = ["hypothesis", "family", "waves", "item", "segment", "test", "statistic", "df", "p",
                "p_adj_holm", "p_adj_bh", "effect_size_name", "effect_size", "effect_ci_low",
                "effect_ci_high", "n", "direction", "direction_observed",
                "secondary_effect_name", "secondary_effect", "estimand", "method",
                "statistic_unweighted", "p_unweighted", "effect_size_unweighted", "note"]


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
    # What the battery's many tests of one table would each recompute (its rows in a segment,
    # a column as text, whether an item was asked), made once per table: keyed by the table's
    # id, with the table kept so that id stays its own while the battery runs.
    memo: dict[tuple[Any, ...], tuple[pd.DataFrame, Any]] = field(
        default_factory=dict, compare=False, repr=False)

    def once(self, table: pd.DataFrame, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """`make()`, computed once per `table` and `key` (callers only read the result)."""
        entry = self.memo.get((id(table), *key))
        if entry is None or entry[0] is not table:
            entry = (table, make())
            self.memo[(id(table), *key)] = entry
        return entry[1]

    def text(self, table: pd.DataFrame, column: str) -> pd.Series:
        """`as_text(table[column])`."""
        return self.once(table, ("text", column), lambda: as_text(table[column]))

    def asked(self, table: pd.DataFrame, name: str) -> bool:
        """Whether the table has an answer to the item (`hypotheses.asked`)."""
        return self.once(table, ("asked", name), lambda: asked(table, name, self.indicators))

    def item(self, table: pd.DataFrame, name: str) -> Item:
        """`hypotheses.resolve_item`."""
        return self.once(table, ("item", name), lambda: resolve_item(table, name, self.indicators))

    def levels(self, table: pd.DataFrame, segment: str) -> list[Any]:
        """`_segment_levels` (a failure, not kept, raises again)."""
        return self.once(table, ("levels", segment), lambda: _segment_levels(table, segment))

    def in_segment(self, table: pd.DataFrame, segment: str, segment_name: str) -> pd.DataFrame:
        """The table's rows whose `segment` is `segment_name`."""
        return self.once(table, ("rows", segment, segment_name), lambda: table[
            (self.text(table, segment) == segment_name).to_numpy()])


def run_battery(
    declarations: Declarations,
    tables: Mapping[str, pd.DataFrame],
    *,
    configured_waves: Sequence[str],
    indicators: Mapping[str, Indicator],
    alpha: float,
    seed: int,
    item_estimates: Mapping[str, pd.DataFrame] | None = None,
    common_scheme: str | None = None,
    weights: Mapping[str, pd.DataFrame] | None = None,
) -> Battery:
    """Every declared test on every declared wave, with the shares behind them: the estimates
    stage's item estimates of each wave (smesocial.estimates.item_estimates), stacked.

    Tests pooling several waves stratify on `common_scheme` (the harmonisation spec's size
    scheme), the `segment_<scheme>` column of each wave's analysis table, since the waves' own
    schemes differ; single-wave tests keep each wave's own segment.

    Where a wave's `weights` (the weights stage's table) are not all equal, each test with a
    design-based version (smesocial.weighted_tests) reports it, about the population, with the
    unweighted test's statistic, p and effect beside it as a sensitivity column."""
    tables = {wave: with_design(table, weights[wave], wave) if weights and wave in weights
              else table for wave, table in tables.items()}
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
    given = item_estimates or {}
    estimates = typed_item_estimates([given[wave] for wave in sorted(given)])
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
            row.update(_unweighted_columns(TestResult(spec.kind, note=missing)))
            rows.append(row)
        return rows
    segment = context.settings.segment
    table = _pooled(waves, tables, segment, context)
    design = context.once(table, ("design",), lambda: table_design(table))
    for spec in hypothesis.tests:
        for items in expand_items(spec.items, hypothesis.platforms):
            if hypothesis.all_platforms and not all(context.asked(table, i) for i in items):
                skipped.append(f"{hypothesis.id}, {spec.kind}: {' vs '.join(items)} "
                               f"({'+'.join(waves)})")
                continue
            for segment_name in _segments_for(spec, table, segment):
                row = _base_row(hypothesis, waves, spec, " vs ".join(items), segment_name)
                try:
                    result = run_test(spec, items, table, segment_name, context)
                except NotEstimable as exc:
                    result = TestResult(_test_name(spec), note=str(exc))
                row.update(_unweighted_columns(result))
                if design is not None:
                    row.update(_design_columns(spec, items, table, segment_name, context, design))
                rows.append(row)
    return rows


def _unweighted_columns(result: TestResult) -> dict[str, Any]:
    """An unweighted test's columns, repeated as the sensitivity columns (the same test)."""
    return {**_result_columns(result), "estimand": RESPONDENTS, "method": result.test,
            "statistic_unweighted": result.statistic, "p_unweighted": result.p,
            "effect_size_unweighted": result.effect_size}


def _design_columns(spec: TestSpec, items: tuple[str, ...], table: pd.DataFrame,
                    segment_name: str, context: Context, design: Any) -> dict[str, Any]:
    """The design-based result's columns (estimand population); the unweighted columns already
    set stay as the sensitivity analysis."""
    segment = context.settings.segment
    try:
        if segment not in table.columns:
            raise NotEstimable(f"no segment column {segment!r}")
        for name in items:
            if not context.asked(table, name):
                raise NotEstimable(f"item {name} not asked in this wave (no answers)")
        levels = [str(s) for s in context.levels(table, segment)]
        if segment_name != ALL_SEGMENTS and segment_name not in levels:
            raise NotEstimable(f"segment {segment_name} not in this wave's scheme")
        resolved = [context.item(table, name) for name in items]
        values = [_design_values(item, spec.kind) for item in resolved]
        group = None
        if spec.kind in GROUP_KINDS:
            assert spec.group is not None and spec.groups is not None
            if spec.group not in table.columns:
                raise NotEstimable(f"no column {spec.group!r} to compare groups on")
            labels = context.text(table, spec.group)
            first, second = (str(g) for g in spec.groups)
            group = np.where(labels == first, 1.0, np.where(labels == second, 0.0, np.nan))
        segments = context.text(table, segment).to_numpy()
        domain = domain_for(design, spec.group, segments, segment_name, ALL_SEGMENTS)
        inputs = Inputs(design, domain, segments, levels, context.alpha)
        result = design_result(spec.kind, values, inputs, group=group,
                               interaction=spec.interaction, test_name=_test_name(spec))
    except NotEstimable as exc:
        result = TestResult(f"design_{_test_name(spec)}", note=f"design-based: {exc}")
    columns = _result_columns(result)
    # `test` stays the declared test (the row's identity across weighting, for the paper and
    # the ensemble); `method` says what computed this row's statistic and p.
    columns["method"] = columns.pop("test")
    columns["estimand"] = POPULATION
    left_out = int((~design.in_population).sum())
    if left_out and spec.group != SAMPLE_GROUP:
        columns["note"] = "; ".join(s for s in (columns["note"], (
            f"population: the weighted samples ({left_out} respondents of unweighted samples "
            "left out)")) if s)
    return columns


def _design_values(item: Item, kind: str) -> np.ndarray:
    """An item as floats for the design (NaN = unanswered): 0/1, or category codes (in order)
    for the tests that take a categorical or ordered item."""
    if item.kind == "binary":
        return item.values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    if kind not in ("association", "kruskal_wallis", "ordinal_logit_trend"):
        raise NotEstimable(f"{kind} needs a binary item; {item.name} is {item.kind}")
    codes = item.values.cat.codes.to_numpy(dtype=float)
    return np.where(codes >= 0, codes, np.nan)


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
        if not context.asked(table, name):
            raise NotEstimable(f"item {name} not asked in this wave (no answers)")
    if segment_name != ALL_SEGMENTS:
        if segment_name not in {str(s) for s in context.levels(table, segment)}:
            raise NotEstimable(f"segment {segment_name} not in this wave's scheme")
        table = context.in_segment(table, segment, segment_name)
        if table.empty:
            raise NotEstimable(f"no respondent in segment {segment_name}")
    resolved = [context.item(table, name) for name in items]
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
    return pd.Series(map_distinct(table[segment], lambda s: rank.get(str(s), np.nan), np.nan,
                                  dtype=float), index=table.index, name=segment)


def _trend_test(spec: TestSpec, resolved: list[Item], table: pd.DataFrame,
                context: Context) -> TestResult:
    segment = context.settings.segment
    scores = context.once(table, ("scores", segment), lambda: _scores(table, segment))
    levels = context.levels(table, segment)
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
    group_values = context.text(table, spec.group)
    in_groups = group_values.isin([first, second])
    present = set(group_values[in_groups].unique())
    if present != {first, second}:
        absent = [g for g in (first, second) if g not in present]
        raise NotEstimable(f"no respondent in group(s) {', '.join(absent)} of {spec.group}")
    segment = context.settings.segment
    # Column names appear in the notes ("adjusted for segment", "country_DK x segment").
    indicator = f"{spec.group}_{first}" if f"{spec.group}_{first}".isidentifier() else "group"
    data = pd.DataFrame({
        "y": item.values[in_groups].astype("Float64").astype(float),
        indicator: (group_values[in_groups] == first).astype(float),
        "segment": context.text(table, segment)[in_groups],
    })
    note = f"groups: {first} (first) vs {second} (second)"
    if spec.kind == "cmh":
        answered = data.dropna()
        # one 2x2 table per segment present, in sorted order, counted on arrays
        stratum, labels = pd.factorize(answered["segment"], sort=True)
        g, y = answered[indicator].to_numpy(), answered["y"].to_numpy()
        strata = []
        for code in range(len(labels)):
            inside = stratum == code
            first, second = inside & (g == 1), inside & (g == 0)
            strata.append(np.array([[int((first & (y == 1)).sum()), int((first & (y == 0)).sum())],
                                    [int((second & (y == 1)).sum()), int((second & (y == 0)).sum())]]))
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
            "direction", "direction_observed", "secondary_effect_name", "estimand",
            "method", "note"]
    numbers = ["statistic", "df", "p", "p_adj_holm", "p_adj_bh", "effect_size", "effect_ci_low",
               "effect_ci_high", "secondary_effect", "statistic_unweighted", "p_unweighted",
               "effect_size_unweighted"]
    out = tests.copy()
    for column in text:
        out[column] = out[column].fillna("").astype(str)
    for column in numbers:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    out["n"] = out["n"].fillna(0).astype(int)
    return out[TEST_COLUMNS].reset_index(drop=True)


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
    by_hypothesis = dict(iter(tests.groupby("hypothesis", sort=False)))  # rows in table order
    for hypothesis in declarations.hypotheses:
        rows = by_hypothesis.get(hypothesis.id, tests.iloc[:0])
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
    # one tuple per test row, of the columns formatted here (DataFrame.apply(axis=1) built a
    # Series per row)
    records = list(rows[["statistic", "df", "effect_size_name", "effect_size", "effect_ci_low",
                         "effect_ci_high", "secondary_effect_name", "secondary_effect"]]
                   .itertuples(index=False))
    shown = pd.DataFrame({
        "item": rows["item"], "segment": rows["segment"], "test": rows["test"],
        "statistic": pd.Series([_number(r.statistic, 2) + (
            f" ({_number(r.df, 0)} df)" if math.isfinite(r.df) else "") for r in records],
            index=rows.index, dtype=object),
        "p": rows["p"].map(_p), "p Holm": rows["p_adj_holm"].map(_p),
        "effect [95% CI]": pd.Series([_effect(r) for r in records], index=rows.index,
                                     dtype=object),
        "observed": rows["direction_observed"],
        "note": rows["note"].map(lambda s: s if len(s) <= 90 else s[:87] + "..."),
    })
    design_based = rows["estimand"] == POPULATION
    if design_based.any():  # the design-based test leads; the unweighted one is the sensitivity
        shown.insert(2, "method", rows["method"])
        shown.insert(6, "p unweighted", rows["p_unweighted"].map(_p))
    return shown.to_markdown(index=False)


def _number(value: float, digits: int) -> str:
    return "" if not math.isfinite(value) else f"{value:.{digits}f}"


def _p(value: float) -> str:
    if not math.isfinite(value):
        return ""
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def _effect(row: Any) -> str:
    if not math.isfinite(row.effect_size):
        return ""
    text = f"{row.effect_size_name} {row.effect_size:.3f}"
    if math.isfinite(row.effect_ci_low) and math.isfinite(row.effect_ci_high):
        text += f" [{row.effect_ci_low:.3f}, {row.effect_ci_high:.3f}]"
    if row.secondary_effect_name and math.isfinite(row.secondary_effect):
        text += f"; {row.secondary_effect_name} {row.secondary_effect:.3f}"
    return text
