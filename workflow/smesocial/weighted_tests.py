"""The battery's tests on a weighted wave's design (smesocial.design): what each declared test
kind becomes when the respondents carry survey weights, strata and calibration cells.

The estimand changes with it: a design-based test is about the population the weighted samples
stand for (every weighted sample's respondents, as a domain of the wave's design), except where a
test compares the wave's samples themselves (group `sample`), which uses every respondent, each
sample weighted as it is. The unweighted test (smesocial.inference) stays beside it as a
sensitivity column.

| declared test        | design-based version (R survey)                                         |
|----------------------|-------------------------------------------------------------------------|
| association          | Rao-Scott second-order F (svychisq, statistic = "F"); weighted Cramér's V |
| cochran_armitage     | svyglm(item ~ segment score, quasibinomial), Wald F; the weighted risk    |
|                      | difference last minus first segment (svycontrast)                         |
| mcnemar              | t test of the weighted mean of first - second within respondents          |
|                      | (svyttest); Cohen's h of the weighted shares                              |
| cochrans_q           | Wald F that the weighted shares of the k items are equal (svycontrast)    |
| cmh, logit_group     | svyglm(item ~ group + segment, quasibinomial), Wald F of the group; the   |
|                      | adjusted odds ratio with a t interval on the design's residual df        |
| logit_group with     | Rao-Scott working likelihood-ratio test of group x segment                |
| interaction          | (regTermTest(method = "LRT", lrt.approximation = "satterthwaite"))       |

| kruskal_wallis       | design-based rank test: weighted mid-ranks regressed on the segments,   |
|                      | Wald F (svyranktest(test = "KruskalWallis"))                            |
| ordinal_logit_trend  | survey-weighted proportional-odds model on the segment score (svyolr),  |
|                      | Wald F; the odds ratio per segment step                                  |
| gradient_difference  | the same model of first - second (-1/0/1) within respondents             |
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from smesocial import design as svy
from smesocial.design import Design
from smesocial.errors import NotEstimable
from smesocial.estimates import weights_are_trivial
from smesocial.inference import TestResult, cohens_h, sign_direction

DESIGN_PREFIX = "_design_"
WEIGHT = DESIGN_PREFIX + "weight"
STRATUM = DESIGN_PREFIX + "stratum"
IN_POPULATION = DESIGN_PREFIX + "in_population"
MARGIN = DESIGN_PREFIX + "margin_"
SAMPLE_GROUP = "sample"  # comparing a wave's samples uses every respondent
POPULATION = "population (design-based)"
RESPONDENTS = "respondents (unweighted)"


def with_design(table: pd.DataFrame, weights: pd.DataFrame, wave: str) -> pd.DataFrame:
    """The wave's analysis table with its design columns (weights stage's table) joined on."""
    columns = {"weight": WEIGHT, "stratum": STRATUM, "in_population": IN_POPULATION}
    columns.update({c: DESIGN_PREFIX + c for c in weights.columns if c.startswith("margin_")})
    joined = table[["respondent_id"]].merge(weights[["respondent_id", *columns]],
                                            how="left", on="respondent_id", validate="one_to_one")
    if joined["weight"].isna().any():
        raise NotEstimable(f"{int(joined['weight'].isna().sum())} respondent(s) of {wave} have "
                           "no weight")
    out = table.copy()
    for source, target in columns.items():
        values = joined[source].to_numpy()
        out[target] = (np.char.add(f"{wave}:", values.astype(str)) if source == "stratum"
                       else values)
    return out


def table_design(table: pd.DataFrame) -> Design | None:
    """The design of a (possibly pooled) table, or None where its weights are all equal (an
    unweighted wave: the unweighted tests are the analysis). Rows of a wave without a margin
    another pooled wave has sit in one cell per stratum, i.e. are not calibrated."""
    if WEIGHT not in table.columns or weights_are_trivial(table[WEIGHT].to_numpy(float)):
        return None
    strata = table[STRATUM].astype(str).to_numpy()
    margins = []
    for column in sorted(c for c in table.columns if c.startswith(MARGIN)):
        cells = table[column].astype("object")
        margins.append(cells.where(cells.notna(), "uncalibrated:" + table[STRATUM].astype(str))
                       .astype(str).to_numpy())
    return Design(table[WEIGHT].to_numpy(float), strata, tuple(margins),
                  table[IN_POPULATION].astype(bool).to_numpy())


@dataclass(frozen=True)
class Inputs:
    """What a design-based test needs: the design, the test's domain and the segment labels."""

    design: Design
    domain: np.ndarray
    segments: np.ndarray  # segment label per respondent (str; "nan" = none)
    levels: Sequence[str]  # the segment scheme's levels in order
    alpha: float


def domain_for(design: Design, group: str | None, segments: np.ndarray, segment_name: str,
               all_segments: str) -> np.ndarray:
    """The population (or, comparing samples, every respondent), within the segment
    (`segments`: each respondent's segment as text)."""
    domain = np.ones(design.n, bool) if group == SAMPLE_GROUP else design.in_population.copy()
    if segment_name != all_segments:
        domain &= segments == segment_name
    return domain


def design_result(kind: str, values: Sequence[np.ndarray], inputs: Inputs, *,
                  group: np.ndarray | None = None, interaction: bool = False,
                  test_name: str = "") -> TestResult:
    """One declared test kind on the design. `values` are the items as floats (NaN =
    unanswered; an association's item as category codes), `group` 1 = first group, 0 = second,
    NaN = neither."""
    d, domain, alpha = inputs.design, inputs.domain, inputs.alpha
    if kind == "association":
        segments = pd.Series(inputs.segments, dtype="object")
        second, _first = svy.rao_scott(d, values[0], segments.where(segments != "nan").to_numpy(),
                                       domain)
        return TestResult("rao_scott_f", second.statistic, second.df, second.p,
                          "cramers_v_weighted", second.estimate, n=_count(domain, values),
                          note=f"Rao-Scott second-order F on ({second.df:.3f}, {second.ddf:.1f}) "
                               f"df; first-order chi-square p {_first.p:.4g}")
    if kind == "mcnemar":
        both = domain & ~np.isnan(values[0]) & ~np.isnan(values[1])
        test = svy.mean_difference(d, values[0], values[1], both, alpha)
        shares = svy.domain_means(d, np.column_stack(values), both).mean
        return TestResult("design_t_paired", test.statistic, test.ddf, test.p, "share_difference",
                          test.estimate, test.ci_low, test.ci_high, int(both.sum()),
                          f"t on {test.ddf:.0f} df; weighted shares {shares[0]:.3f} and "
                          f"{shares[1]:.3f}", "cohens_h", cohens_h(*shares),
                          sign_direction(test.estimate, 0.0, "first_greater", "second_greater"))
    if kind == "cochrans_q":
        matrix = np.column_stack(values)
        test = svy.equal_means(d, matrix, domain)
        answered = domain & ~np.isnan(matrix).any(axis=1)
        shares = svy.domain_means(d, matrix, answered).mean
        return TestResult("design_wald_equal_shares", test.statistic, test.df, test.p,
                          n=int(answered.sum()),
                          note=f"F on ({test.df:.0f}, {test.ddf:.0f}) df; weighted shares "
                               + ", ".join(f"{s:.3f}" for s in shares))
    if kind == "cochran_armitage":
        return _trend(values[0], inputs)
    if kind in ("ordinal_logit_trend", "gradient_difference"):
        answers = values[0] if kind == "ordinal_logit_trend" else values[0] - values[1]
        return _ordinal_trend(answers, inputs, f"design_{test_name or kind}")
    if kind == "kruskal_wallis":
        return _rank_test(values[0], inputs)
    if kind in ("cmh", "logit_group"):
        assert group is not None
        return _group(values[0], group, inputs, interaction, test_name or kind)
    raise NotEstimable(f"unknown test {kind}")  # load_hypotheses rejects these earlier


def _count(domain: np.ndarray, values: Sequence[np.ndarray]) -> int:
    return int((domain & ~np.isnan(np.column_stack(values)).any(axis=1)).sum())


def _scores(inputs: Inputs) -> np.ndarray:
    """Equally spaced segment scores 0, 1, 2, ... in the scheme's order (NaN = no segment)."""
    rank = {level: float(i) for i, level in enumerate(inputs.levels)}
    return np.array([rank.get(s, np.nan) for s in inputs.segments])


def _ordinal_trend(answers: np.ndarray, inputs: Inputs, name: str) -> TestResult:
    scores = _scores(inputs)
    base = inputs.domain & ~np.isnan(answers) & ~np.isnan(scores)
    model = svy.survey_ordinal_logit(inputs.design, answers, scores, base)
    wald = model.wald()
    half = float(stats.t.ppf(1 - inputs.alpha / 2, model.df_residual)) * model.se
    odds = math.exp(model.beta)
    return TestResult(name, wald.statistic, wald.df, wald.p, "odds_ratio_per_step", odds,
                      math.exp(model.beta - half), math.exp(model.beta + half), int(base.sum()),
                      f"survey-weighted proportional-odds model on the segment score, Wald F on "
                      f"(1, {model.df_residual}) df",
                      direction_observed=sign_direction(odds, 1.0, "increasing", "decreasing"))


def _rank_test(answers: np.ndarray, inputs: Inputs) -> TestResult:
    base = inputs.domain & ~np.isnan(answers) & (inputs.segments != "nan")
    present = [s for s in inputs.levels if (base & (inputs.segments == s)).any()]
    if len(present) < 2:
        raise NotEstimable("fewer than two segments with answers")
    groups = {f"segment_{s}": (inputs.segments == s).astype(float) for s in present[1:]}
    test = svy.rank_test(inputs.design, np.where(base, answers, np.nan), groups, base)
    return TestResult("design_rank_kruskal_wallis", test.statistic, test.df, test.p,
                      n=int(base.sum()),
                      note=f"weighted mid-ranks on the segments, Wald F on ({test.df}, "
                           f"{test.ddf}) df")


def _trend(y: np.ndarray, inputs: Inputs) -> TestResult:
    scores = _scores(inputs)
    base = inputs.domain & ~np.isnan(y) & ~np.isnan(scores)
    present = [level for level in inputs.levels if (base & (inputs.segments == level)).any()]
    if len(present) < 2:
        raise NotEstimable("fewer than two segments with answers")
    model = svy.survey_logit(inputs.design, np.where(base, y, np.nan),
                             {"score": np.where(base, scores, 0.0)}, base)
    wald = model.wald(["score"])
    first, last = present[0], present[-1]
    difference = svy.contrast(inputs.design, y, [base & (inputs.segments == last),
                                                  base & (inputs.segments == first)], [1.0, -1.0],
                              inputs.alpha)
    return TestResult("design_logit_trend", wald.statistic, wald.df, wald.p,
                      "risk_difference_last_vs_first", difference.estimate, difference.ci_low,
                      difference.ci_high, int(base.sum()),
                      f"Wald F on (1, {wald.ddf}) df of the segment score in a survey-weighted "
                      f"logistic regression; difference {last} minus {first}",
                      direction_observed=sign_direction(difference.estimate, 0.0, "increasing",
                                                    "decreasing"))


def _group(y: np.ndarray, group: np.ndarray, inputs: Inputs, interaction: bool,
           name: str) -> TestResult:
    base = inputs.domain & ~np.isnan(y) & ~np.isnan(group) & (inputs.segments != "nan")
    if len(np.unique(group[base])) < 2:
        raise NotEstimable("only one group has answers")
    levels = [s for s in inputs.levels if (base & (inputs.segments == s)).any()]
    dummies = {f"segment_{s}": (inputs.segments == s).astype(float) for s in levels[1:]}
    columns: Mapping[str, np.ndarray] = {"group": np.where(base, group, 0.0), **dummies}
    outcome = np.where(base, y, np.nan)
    main = svy.survey_logit(inputs.design, outcome, dict(columns), base)
    beta, low, high = main.coefficient_interval("group", inputs.alpha)
    odds = math.exp(beta)
    direction = sign_direction(odds, 1.0, "first_greater", "second_greater")
    adjusted = "adjusted for segment" if dummies else "one segment only"
    if not interaction:
        wald = main.wald(["group"])
        return TestResult(f"design_{name}", wald.statistic, wald.df, wald.p,
                          "odds_ratio_adjusted", odds, math.exp(low), math.exp(high),
                          int(base.sum()),
                          f"survey-weighted logistic regression, Wald F on (1, {wald.ddf}) df; "
                          f"{adjusted}", direction_observed=direction)
    if not dummies:
        raise NotEstimable("one segment only: no interaction to test")
    products = {f"group:{k}": v * columns["group"] for k, v in dummies.items()}
    full = svy.survey_logit(inputs.design, outcome, {**columns, **products}, base)
    lrt = svy.working_lrt(full, main, list(products))
    wald = full.wald(list(products))
    return TestResult(f"design_{name}", lrt.statistic, lrt.df, lrt.p, "odds_ratio_adjusted",
                      odds, math.exp(low), math.exp(high), int(base.sum()),
                      f"Rao-Scott working likelihood-ratio test of group x segment "
                      f"(Satterthwaite, F on ({lrt.df:.3f}, {lrt.ddf:.0f}) df); Wald F "
                      f"{wald.statistic:.4g} on ({wald.df}, {wald.ddf}) df, p {wald.p:.4g}; effect "
                      "from the model without interaction", direction_observed=direction)
