"""Estimates: shares per indicator x segment with confidence intervals.

Shares are computed on the base of respondents who answered the item (the variable is not NA),
as the Danish report does. Intervals come from statsmodels (Wilson), not a hand-written formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from smesocial.config import Indicator

ALL_SEGMENTS = "all"
ESTIMATE_COLUMNS = [
    "wave", "indicator", "variable", "segment", "weighted", "n", "k", "share",
    "ci_low", "ci_high", "ci_method", "note",
]


def wilson_interval(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (statsmodels)."""
    if n <= 0:
        raise ValueError(f"a proportion needs n > 0 trials, got n={n}")
    low, high = proportion_confint(k, n, alpha=alpha, method="wilson")
    return float(low), float(high)


def indicator_hits(column: pd.Series, indicator: Indicator) -> tuple[pd.Series, pd.Series]:
    """(answered, hit) masks: answered = not NA; hit = answered and the value is in the set."""
    answered = column.notna()
    values = set(indicator.values)
    hit = column.astype("object").map(lambda v: v in values if v is not pd.NA and v == v else False)
    return answered.astype(bool), (hit & answered).astype(bool)


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
            row: dict[str, object] = {
                "wave": wave, "indicator": indicator.id, "variable": indicator.variable,
                "segment": segment, "weighted": False, "n": n, "k": k,
                "ci_method": "wilson", "note": "",
            }
            if n == 0:
                row.update(share=float("nan"), ci_low=float("nan"), ci_high=float("nan"),
                           note="no respondent in this segment answered the item")
            else:
                low, high = wilson_interval(k, n, alpha)
                row.update(share=k / n, ci_low=low, ci_high=high)
            rows.append(row)
    frame = pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)
    return frame


def _segment_levels(column: pd.Series) -> list[object]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    return sorted(column.dropna().unique())
