"""Estimates: shares per indicator x segment with confidence intervals (unweighted Wilson, and
weighted with a design-based interval), read by every later stage that shows a share.

Shares are computed on the base of respondents who answered the item (the variable is not NA),
as the Danish report does. Intervals come from statsmodels (Wilson), not a hand-written formula.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from smesocial.config import Indicator
from smesocial.hypotheses import Declarations, Item, asked, expand_items, resolve_item

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
    answered = column.notna()
    values = set(indicator.values)
    hit = column.astype("object").map(lambda v: v in values if v is not pd.NA and v == v else False)
    return answered.astype(bool), (hit & answered).astype(bool)


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
    rows: list[dict[str, object]] = []
    for indicator in indicators.values():
        if indicator.variable not in table.columns:
            continue
        answered, hit = indicator_hits(table[indicator.variable], indicator)
        groups: Iterable[tuple[str, pd.Series]] = [(ALL_SEGMENTS, pd.Series(True, index=table.index))]
        groups = [*groups, *((s, table[segment_column].astype("object") == s) for s in segments)]
        for segment, members in groups:
            n = int((answered & members).sum())
            k = int((hit & members).sum())
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
# Weighted shares


@dataclass(frozen=True)
class WeightedShare:
    share: float
    n: int  # respondents in the base (unweighted count)
    n_eff: float  # effective sample size the interval uses
    se: float  # linearisation standard error (with-replacement, as survey::svymean)
    ci_low: float
    ci_high: float
    method: str


def weighted_share(
    hit: np.ndarray, weights: np.ndarray, alpha: float = 0.05, method: str = "wilson_kish"
) -> WeightedShare:
    """Weighted share sum(w*y)/sum(w) with a design-based interval.

    `wilson_kish` (the battery's choice): a Wilson interval on Kish's effective sample size
    n_eff = (sum w)^2 / sum w^2. It reduces exactly to the unweighted Wilson interval at equal
    weights, keeps Wilson's behaviour near 0 and 1, and needs only the weights (post-
    stratification cells are the only design information the waves carry). `korn_graubard`:
    Clopper-Pearson on the design-effect effective n p(1-p)/var_lin, exactly what
    survey::svyciprop(method = "beta") computes for a one-stage design; offered for comparison.
    DescrStatsW was not used: it treats weights as frequency weights (n = sum of weights).
    """
    y = np.asarray(hit, dtype=float)
    w = np.asarray(weights, dtype=float)
    if y.shape != w.shape or y.size == 0:
        raise ValueError("a weighted share needs equally long, non-empty hits and weights")
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    n = int(y.size)
    total = w.sum()
    share = float((w * y).sum() / total)
    # Taylor linearisation of the ratio mean, with-replacement, n/(n-1): survey's svymean.
    var_lin = float(n / (n - 1) * ((w * (y - share)) ** 2).sum() / total**2) if n > 1 else NAN
    se = math.sqrt(var_lin) if var_lin == var_lin else NAN
    kish = float(total**2 / (w**2).sum())
    if method == "wilson_kish":
        low, high = _contain(*proportion_confint(share * kish, kish, alpha=alpha, method="wilson"),
                             share)
        return WeightedShare(share, n, kish, se, float(low), float(high), method)
    if method == "korn_graubard":
        n_eff = share * (1 - share) / var_lin if var_lin and var_lin > 0 else kish
        low, high = proportion_confint(share * n_eff, n_eff, alpha=alpha, method="beta")
        low = 0.0 if share == 0 else low
        high = 1.0 if share == 1 else high
        low, high = _contain(float(low), float(high), share)
        return WeightedShare(share, n, float(n_eff), se, low, high, method)
    raise ValueError(f"unknown weighted interval method {method!r}")


def weights_are_trivial(weights: np.ndarray) -> bool:
    """Unit (or all-equal) weights carry no population information: unweighted only."""
    w = np.asarray(weights, dtype=float)
    return w.size == 0 or bool(np.allclose(w, w.flat[0], rtol=0, atol=1e-12))


# --------------------------------------------------------------------------------------------


NO_WEIGHTS_NOTE = "no population targets: unweighted only"
ITEM_ESTIMATE_COLUMNS = ["wave", "item", "segment", "weighted", "n", "k", "n_eff", "share", "ci_low",
                    "ci_high", "method", "note"]


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
                   alpha: float = 0.05) -> pd.DataFrame:
    """A wave's shares per battery item (per level for ordered and nominal items) x segment.

    Unweighted with Wilson intervals (as the report); weighted rows (Wilson on Kish's effective
    n, `weighted_share`) only where the wave's weights are not all equal, otherwise one marker
    row says the wave is unweighted only. Empty where the table lacks the battery's segment
    column."""
    segment = declarations.settings.segment
    if segment not in table.columns:
        return typed_item_estimates([])
    shares = _share_definitions(estimate_items(declarations, table, indicators))
    work = table.copy()
    for name, (_source, mask) in shares.items():
        work[name] = mask
    definitions = {name: Indicator(name, name, (True,), name) for name in shares}
    unweighted = share_estimates(work, definitions, wave=wave, segment_column=segment,
                                 alpha=alpha)
    unweighted = unweighted.rename(columns={"indicator": "item", "ci_method": "method"})
    unweighted["n_eff"] = unweighted["n"].astype(float)
    return typed_item_estimates([unweighted[ITEM_ESTIMATE_COLUMNS],
                                 _weighted_estimates(wave, work, definitions, weights, segment,
                                                     alpha)])


def typed_item_estimates(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Item estimate tables stacked (in the order given) with one set of column types."""
    nonempty = [f for f in frames if len(f)]
    estimates = (pd.concat(nonempty, ignore_index=True) if nonempty
                 else pd.DataFrame(columns=ITEM_ESTIMATE_COLUMNS))
    for column in ("share", "ci_low", "ci_high", "n_eff"):
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
    segments = [ALL_SEGMENTS, *[str(s) for s in _segment_levels(work[segment])]]
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
    return pd.DataFrame(rows, columns=ITEM_ESTIMATE_COLUMNS)


def _marker_row(wave: str, n: int, note: str) -> pd.DataFrame:
    return pd.DataFrame([{"wave": wave, "item": "*", "segment": ALL_SEGMENTS, "weighted": True,
                          "n": n, "k": 0, "n_eff": np.nan, "share": np.nan, "ci_low": np.nan,
                          "ci_high": np.nan, "method": "", "note": note}], columns=ITEM_ESTIMATE_COLUMNS)


