"""Estimates: shares per indicator x segment with confidence intervals (unweighted Wilson, and
weighted with a design-based interval), read by every later stage that shows a share.

Shares are computed on the base of respondents who answered the item (the variable is not NA),
as the Danish report does. Intervals come from statsmodels (Wilson), not a hand-written formula.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from smesocial.columns import map_distinct
from smesocial.config import Indicator
from smesocial.design import Design, domain_means, proportion_interval
from smesocial.hypotheses import (Declarations, Item, asked, expand_items, in_values,
                                  resolve_item)

ALL_SEGMENTS = "all"
NAN = float("nan")
ESTIMATE_COLUMNS = [
    "wave", "indicator", "variable", "segment", "weighted", "n", "k", "share",
    "ci_low", "ci_high", "ci_method", "note",
]


def wilson_interval(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (statsmodels)."""
    if n <= 0:
        raise ValueError(f"a proportion needs n > 0 trials, got n={n}")
    low, high = proportion_confint(k, n, alpha=alpha, method="wilson")
    return _contain(float(low), float(high), k / n)


def _contain(low: float, high: float, share: float, floor: float = 0.0) -> tuple[float, float]:
    """Floating-point rounding can leave a bound 1e-16 on the wrong side of the share (e.g. the
    Wilson upper bound at k = n is 0.9999999999999999): mathematically it is the share. `floor`
    is -1 for a difference of two shares."""
    return max(floor, min(low, share)), min(1.0, max(high, share))


NO_BASE_NOTE = "no respondent in this segment answered the item"


def share_row(k: int, n: int, alpha: float = 0.05) -> dict[str, Any]:
    """{share, ci_low, ci_high, note} of k hits among n answering, with a Wilson interval;
    n = 0 gives NaNs and NO_BASE_NOTE rather than an error."""
    if n == 0:
        return {"share": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"),
                "note": NO_BASE_NOTE}
    low, high = wilson_interval(k, n, alpha)
    return {"share": k / n, "ci_low": low, "ci_high": high, "note": ""}


def newcombe_difference(k1: int, n1: int, k2: int, n2: int,
                        alpha: float = 0.05) -> tuple[float, float, float]:
    """k1/n1 - k2/n2 with Newcombe's (1998, method 10) hybrid score interval for independent
    proportions: it combines the two Wilson intervals, so it stays inside [-1, 1] and keeps
    Wilson's coverage near 0 and 1 where the Wald interval fails. statsmodels implements it
    (`method="newcomb"`); tests/unit/test_compare.py checks it against Newcombe's Table II."""
    if n1 <= 0 or n2 <= 0:
        raise ValueError(f"a difference of shares needs both n > 0, got n1={n1}, n2={n2}")
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff",
                                           alpha=alpha)
    diff = k1 / n1 - k2 / n2
    return (diff, *_contain(float(low), float(high), diff, floor=-1.0))


def indicator_hits(column: pd.Series, indicator: Indicator) -> tuple[pd.Series, pd.Series]:
    """(answered, hit) masks: answered = not NA; hit = answered and the value is in the set."""
    answered = column.notna().astype(bool)
    hit = in_values(column, set(indicator.values)).fillna(False).astype(bool)
    return answered, hit & answered


def asked_indicators(table: pd.DataFrame, indicators: Mapping[str, Indicator]
                     ) -> tuple[dict[str, Indicator], list[str]]:
    """(indicators the wave asked, ids of those it did not). The clean table carries every
    harmonised variable; one a wave never asked is absent or all NA, and gets no estimate
    rows rather than empty ones."""
    asked = {i: ind for i, ind in indicators.items()
             if ind.variable in table.columns and table[ind.variable].notna().any()}
    return asked, sorted(set(indicators) - set(asked))


def share_estimates(
    table: pd.DataFrame,
    indicators: Mapping[str, Indicator],
    *,
    wave: str,
    segment_column: str = "segment",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One row per indicator x segment (plus `all`), unweighted, with a Wilson interval.

    An indicator whose variable is not in the table (an item this wave did not ask) is skipped;
    a segment where nobody answered gets a row with n = 0, no share and a note, never a crash.
    """
    segments: list[str] = [str(s) for s in _segment_levels(table[segment_column])]
    labels = table[segment_column].astype("object")
    groups = [(ALL_SEGMENTS, np.ones(len(table), dtype=bool)),
              *((s, (labels == s).to_numpy(dtype=bool)) for s in segments)]
    rows: list[dict[str, object]] = []
    for indicator in indicators.values():
        if indicator.variable not in table.columns:
            continue
        answered, hit = (mask.to_numpy(dtype=bool) for mask in
                         indicator_hits(table[indicator.variable], indicator))
        for segment, members in groups:
            n = int(np.count_nonzero(answered & members))
            k = int(np.count_nonzero(hit & members))
            rows.append({
                "wave": wave, "indicator": indicator.id, "variable": indicator.variable,
                "segment": segment, "weighted": False, "n": n, "k": k,
                "ci_method": "wilson", **share_row(k, n, alpha),
            })
    frame = pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)
    return frame


def _segment_levels(column: pd.Series) -> list[object]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    return sorted(column.dropna().unique())


# ============================================================================================

# --------------------------------------------------------------------------------------------
# Weighted shares: design-based (smesocial.design), with the wave's strata and calibration.


def weights_are_trivial(weights: np.ndarray) -> bool:
    """Unit (or all-equal) weights carry no population information: unweighted only."""
    w = np.asarray(weights, dtype=float)
    return w.size == 0 or bool(np.allclose(w, w.flat[0], rtol=0, atol=1e-12))


# --------------------------------------------------------------------------------------------


NO_WEIGHTS_NOTE = "no population targets: unweighted only"
ITEM_ESTIMATE_COLUMNS = ["wave", "item", "segment", "weighted", "n", "k", "n_eff", "share", "se",
                         "deff", "ci_low", "ci_high", "method", "note"]
POPULATION_NOTE = "population estimate: respondents of the weighted samples"


# --------------------------------------------------------------------------------------------
# The shares behind the hypothesis battery: every item its tests use, per level (ordered and
# nominal items) x segment, unweighted and, where a wave has non-trivial weights, weighted.


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


def item_estimates(declarations: Declarations, table: pd.DataFrame, wave: str, *,
                   indicators: Mapping[str, Indicator], weights: pd.DataFrame | None,
                   alpha: float = 0.05, interval: str = "beta") -> pd.DataFrame:
    """A wave's shares per battery item (per level for ordered and nominal items) x segment.

    Unweighted with Wilson intervals (as the report; `se` is the binomial one, deff 1);
    weighted rows only where the wave's weights are not all equal, otherwise one marker row
    says the wave is unweighted only. Weighted rows are design-based population estimates: the
    respondents of the weighted samples, each segment a domain of the wave's design, with the
    linearisation se, the design effect, Korn and Graubard's effective n and the `interval`
    (R svyciprop's "beta" or "logit"). Empty where the table lacks the battery's segment
    column."""
    segment = declarations.settings.segment
    if segment not in table.columns:
        return typed_item_estimates([])
    shares = _share_definitions(estimate_items(declarations, table, indicators))
    # what the estimates read: the respondent, the segment and each share's mask (not a copy
    # of the whole analysis table)
    work = pd.concat([table[["respondent_id", segment]],
                      pd.DataFrame({name: mask for name, (_source, mask) in shares.items()},
                                   index=table.index)], axis=1)
    definitions = {name: Indicator(name, name, (True,), name) for name in shares}
    unweighted = share_estimates(work, definitions, wave=wave, segment_column=segment,
                                 alpha=alpha)
    unweighted = unweighted.rename(columns={"indicator": "item", "ci_method": "method"})
    unweighted["n_eff"] = unweighted["n"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = unweighted["share"].to_numpy(float)
        unweighted["se"] = np.sqrt(share * (1 - share) / unweighted["n"].to_numpy(float))
    unweighted["deff"] = np.where(unweighted["n"] > 0, 1.0, np.nan)
    return typed_item_estimates([unweighted[ITEM_ESTIMATE_COLUMNS],
                                 _weighted_estimates(wave, work, list(shares), weights, segment,
                                                     alpha, interval)])


def typed_item_estimates(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Item estimate tables stacked (in the order given) with one set of column types."""
    nonempty = [f for f in frames if len(f)]
    estimates = (pd.concat(nonempty, ignore_index=True) if nonempty
                 else pd.DataFrame(columns=ITEM_ESTIMATE_COLUMNS))
    for column in ("share", "se", "deff", "ci_low", "ci_high", "n_eff"):
        estimates[column] = estimates[column].astype(float)
    for column in ("n", "k"):
        estimates[column] = estimates[column].astype(int)
    estimates["weighted"] = estimates["weighted"].astype(bool)
    for column in ("wave", "item", "segment", "method", "note"):
        estimates[column] = estimates[column].fillna("").astype(str)
    return estimates[ITEM_ESTIMATE_COLUMNS].reset_index(drop=True)


def _share_definitions(items: list[Item]) -> dict[str, tuple[str, pd.Series]]:
    """share name -> (item, boolean mask with NA = unanswered)."""
    out: dict[str, tuple[str, pd.Series]] = {}
    for item in items:
        if item.kind == "binary":
            out[item.name] = (item.name, item.values)
            continue
        codes = item.values.cat.codes.to_numpy()  # -1 = unanswered
        for position, level in enumerate(item.values.cat.categories):
            mask = pd.arrays.BooleanArray(codes == position, codes < 0)
            out[f"{item.name}={level}"] = (item.name, pd.Series(mask, index=item.values.index))
    return out


def _weighted_estimates(wave: str, work: pd.DataFrame, names: Sequence[str],
                        weights: pd.DataFrame | None, segment: str, alpha: float,
                        interval: str) -> pd.DataFrame:
    if weights is None or "weight" not in weights.columns:
        return _marker_row(wave, len(work), NO_WEIGHTS_NOTE)
    joined = work[["respondent_id"]].merge(weights, how="left", on="respondent_id",
                                           validate="one_to_one")
    w = joined["weight"].to_numpy(dtype=float)
    if np.isnan(w).any():
        return _marker_row(wave, len(work), f"{int(np.isnan(w).sum())} respondent(s) without a "
                                            "weight: unweighted only")
    if weights_are_trivial(w):
        return _marker_row(wave, len(work), NO_WEIGHTS_NOTE)
    design = Design.from_frame(joined)
    # One column per share, NaN where unanswered: every share of a domain in one pass.
    values = np.column_stack([work[name].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
                              for name in names])
    labels = map_distinct(work[segment], str, np.nan)
    segments = [ALL_SEGMENTS, *[str(s) for s in _segment_levels(work[segment])]]
    frames = []
    for segment_name in segments:
        domain = design.in_population & (True if segment_name == ALL_SEGMENTS
                                         else labels == segment_name)
        means = domain_means(design, values, domain)
        hits = np.count_nonzero((values == 1) & domain[:, None], axis=0)  # values: 0, 1, NaN
        frame = pd.DataFrame({"wave": wave, "item": list(names), "segment": segment_name,
                              "weighted": True, "n": means.n, "k": hits.astype(int),
                              "share": means.mean, "se": means.se, "deff": means.deff,
                              "method": interval, "note": POPULATION_NOTE})
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["n_eff"] = means.mean * (1 - means.mean) / means.variance
        bounds = [proportion_interval(m, v, df, n, design.n, alpha, interval) if n else
                  (np.nan, np.nan) for m, v, df, n in zip(means.mean, means.variance, means.df,
                                                          means.n)]
        frame["ci_low"], frame["ci_high"] = [b[0] for b in bounds], [b[1] for b in bounds]
        empty = means.n == 0
        frame.loc[empty, ["share", "se", "deff", "n_eff"]] = np.nan
        frame.loc[empty, "note"] = NO_BASE_NOTE
        frames.append(frame)
    ordered = pd.concat(frames, ignore_index=True)
    # item-major order, as the unweighted rows
    ordered["_item"] = ordered["item"].map({name: i for i, name in enumerate(names)})
    ordered = ordered.sort_values(["_item"], kind="stable").drop(columns="_item")
    return ordered[ITEM_ESTIMATE_COLUMNS].reset_index(drop=True)


def _marker_row(wave: str, n: int, note: str) -> pd.DataFrame:
    return pd.DataFrame([{"wave": wave, "item": "*", "segment": ALL_SEGMENTS, "weighted": True,
                          "n": n, "k": 0, "n_eff": np.nan, "share": np.nan, "se": np.nan,
                          "deff": np.nan, "ci_low": np.nan,
                          "ci_high": np.nan, "method": "", "note": note}], columns=ITEM_ESTIMATE_COLUMNS)


