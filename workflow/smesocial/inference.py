"""Inference: the methods of the hypothesis battery (smesocial.stats runs them).

The tests wrap scipy/statsmodels; the formulas written out here (Cochran-Armitage, Newcombe's
paired interval, the noncentral chi-square interval for Cramér's V, and the rescalings epsilon^2
and eta^2_Q) say why where they are defined, and are checked against published values or R in
tests/unit/test_stats.py.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as sps
from scipy.optimize import brentq
from scipy.stats.contingency import association, expected_freq
from statsmodels.stats.contingency_tables import StratifiedTable, cochrans_q, mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_effectsize


from smesocial.errors import NotEstimable  # noqa: F401 - raised by every test here
from smesocial.estimates import newcombe_difference, wilson_interval

# ============================================================================================
# The hypothesis battery's methods. Each takes plain counts or arrays and returns a TestResult
# (or raises NotEstimable with the reason, which the runner writes as the row's note). Library
# functions are used wherever one exists; the few formulas written here say why in a comment and
# are checked against published values in tests/unit/test_stats.py.
# ============================================================================================

NAN = float("nan")
MIN_EXPECTED = 5.0  # Cochran's rule: below this expected count the chi-square p is not trusted


@dataclass(frozen=True)
class TestResult:
    """One test's numbers. NaN only where the note (or the test's nature) says why."""

    test: str
    statistic: float = NAN
    df: float = NAN
    p: float = NAN
    effect_size_name: str = ""
    effect_size: float = NAN
    effect_ci_low: float = NAN
    effect_ci_high: float = NAN
    n: int = 0
    note: str = ""
    secondary_effect_name: str = ""
    secondary_effect: float = NAN
    direction_observed: str = ""

    def with_note(self, note: str) -> "TestResult":
        return replace(self, note="; ".join(s for s in (self.note, note) if s))


# --------------------------------------------------------------------------------------------
# --------------------------------------------------------------------------------------------
# Association of two categorical variables


def crosstab(rows: pd.Series, cols: pd.Series) -> pd.DataFrame:
    """Counts of answered pairs, levels in their declared order, empty levels dropped.

    Counted with np.bincount over the category codes: pd.crosstab's groupby costs ~10 ms a
    table, which the battery pays ~30 times per run (and per draw of the ensemble)."""
    keep = (rows.notna() & cols.notna()).to_numpy()
    r, c = rows[keep], cols[keep]
    r_levels = _observed_levels(r)
    c_levels = _observed_levels(c)
    r_codes = pd.Categorical(r.astype("object"), categories=r_levels).codes.astype(np.int64)
    c_codes = pd.Categorical(c.astype("object"), categories=c_levels).codes.astype(np.int64)
    counts = np.bincount(r_codes * len(c_levels) + c_codes,
                         minlength=len(r_levels) * len(c_levels))
    return pd.DataFrame(counts.reshape(len(r_levels), len(c_levels)), index=r_levels,
                        columns=c_levels).astype(int)


def _observed_levels(column: pd.Series) -> list[object]:
    present = set(column.astype("object").dropna().unique())
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [level for level in column.cat.categories if level in present]
    return sorted(present, key=lambda v: (str(type(v)), v))


def association_test(
    table: np.ndarray,
    *,
    alpha: float = 0.05,
    seed: int = 0,
    mc_resamples: int = 9999,
) -> TestResult:
    """Pearson chi-square of independence, with Cramér's V and its noncentral chi-square CI.

    When any expected count is below 5 the asymptotic p is replaced: a 2x2 table gets Fisher's
    exact p (scipy.stats.fisher_exact); a larger table a Monte Carlo p from tables with the
    observed margins (scipy's chi2_contingency with MonteCarloMethod, as R's
    chisq.test(simulate.p.value = TRUE)), seeded so that reruns give the same p. No Yates
    correction: Fisher's test covers the small 2x2 tables it was meant for.
    """
    observed = np.asarray(table, dtype=np.int64)
    observed = observed[observed.sum(axis=1) > 0][:, observed.sum(axis=0) > 0]
    n = int(observed.sum())
    if observed.ndim != 2 or observed.shape[0] < 2:
        raise NotEstimable("constant item: fewer than two answer categories used")
    if observed.shape[1] < 2:
        raise NotEstimable("fewer than two non-empty groups")
    dof = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    pearson = sps.chi2_contingency(observed, correction=False)
    statistic = float(pearson.statistic)
    min_expected = float(expected_freq(observed).min())
    if min_expected >= MIN_EXPECTED:
        test, p, note = "pearson_chi2", float(pearson.pvalue), ""
    elif observed.shape == (2, 2):
        test = "fisher_exact"
        p = float(sps.fisher_exact(observed).pvalue)
        note = f"smallest expected count {min_expected:.2f} < 5: Fisher's exact p"
    else:
        test = "chi2_monte_carlo"
        method = sps.MonteCarloMethod(n_resamples=mc_resamples, rng=np.random.default_rng(seed))
        p = float(sps.chi2_contingency(observed, correction=False, method=method).pvalue)
        note = (f"smallest expected count {min_expected:.2f} < 5: Monte Carlo p from "
                f"{mc_resamples} tables with the observed margins (seed {seed})")
    v = float(association(observed, method="cramer"))
    low, high = cramers_v_interval(statistic, dof, n, min(observed.shape) - 1, alpha)
    if high < v:
        note = "; ".join(filter(None, [note, "table more uniform than expected under "
                                       "independence: V's interval lies below the sample V"]))
    return TestResult(test, statistic, float(dof), p, "cramers_v", v, low, high, n, note)


def cramers_v_interval(chi2: float, df: float, n: int, m: int,
                       alpha: float = 0.05) -> tuple[float, float]:
    """CI for Cramér's V by inverting the noncentral chi-square (Smithson 2003; DescTools'
    CramerV default): noncentrality bounds lambda with P(X^2 <= observed | lambda) = 1 - alpha/2
    and alpha/2, mapped to sqrt(lambda / (n m)), m = min(rows, cols) - 1.

    Written out (scipy has ncx2 but no interval for V); a bootstrap was rejected because V is
    bounded at 0 and biased upward, so percentile intervals near 0 miss the estimate. A bound
    is 0 when even lambda = 0 puts the observed X^2 beyond it: the upper bound is 0 only for a
    table more uniform than 97.5% of tables under independence, and then lies below the
    (upward-biased) sample V.
    """

    def cdf(lam: float) -> float:
        # P(X^2 <= chi2 | lambda) by the functions scipy.stats' chi2 and ncx2 evaluate (chdtr,
        # and chndtr for lambda > 0), called directly: the root search calls it thousands of
        # times a battery, and the distribution objects' argument handling cost 140 us a call.
        return float(special.chdtr(df, chi2) if lam == 0 else special.chndtr(chi2, df, lam))

    def bound(target: float) -> float:
        if cdf(0.0) <= target:
            return 0.0
        high = max(2.0 * chi2, 10.0)
        while cdf(high) > target:
            high *= 2.0
        return float(brentq(lambda lam: cdf(lam) - target, 0.0, high, xtol=1e-10))

    scale = n * m
    return math.sqrt(bound(1 - alpha / 2) / scale), math.sqrt(bound(alpha / 2) / scale)


# --------------------------------------------------------------------------------------------
# Trend across ordered groups


def cochran_armitage(successes: np.ndarray, totals: np.ndarray,
                     scores: np.ndarray) -> tuple[float, float]:
    """Cochran-Armitage trend test in proportions: (chi-square with 1 df, two-sided p).

    Written out because neither scipy nor statsmodels has it: statsmodels'
    Table.test_ordinal_association is the linear-by-linear test with the permutation variance,
    (n-1) r^2, whereas Cochran-Armitage (Agresti 2002, sec. 5.3.5; R's prop.trend.test) uses the
    binomial variance under H0, n r^2. Checked against Agresti's malformation example and R.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    s = np.asarray(scores, dtype=float)
    big_n = n.sum()
    p_bar = x.sum() / big_n
    t = float((s * (x - n * p_bar)).sum())
    variance = p_bar * (1 - p_bar) * ((n * s**2).sum() - (n * s).sum() ** 2 / big_n)
    if not variance > 0:
        raise NotEstimable("constant item or a single group: no trend to test")
    chi2 = t**2 / variance
    return float(chi2), float(sps.chi2.sf(chi2, 1))


def trend_in_proportions(successes: np.ndarray, totals: np.ndarray, scores: np.ndarray,
                         alpha: float = 0.05) -> TestResult:
    """Cochran-Armitage test across ordered groups, with the difference between the last and the
    first group (Newcombe's hybrid score CI for independent proportions, statsmodels)."""
    x = np.asarray(successes, dtype=int)
    n = np.asarray(totals, dtype=int)
    keep = n > 0
    note = "" if keep.all() else f"{int((~keep).sum())} empty group(s) left out"
    x, n, s = x[keep], n[keep], np.asarray(scores, dtype=float)[keep]
    if len(n) < 2:
        raise NotEstimable("fewer than two non-empty groups")
    chi2, p = cochran_armitage(x, n, s)
    diff, low, high = newcombe_difference(int(x[-1]), int(n[-1]), int(x[0]), int(n[0]), alpha)
    return TestResult("cochran_armitage", chi2, 1.0, p, "risk_difference_last_vs_first", float(diff),
                      float(low), float(high), int(n.sum()), note,
                      direction_observed=sign_direction(diff, 0.0, "increasing", "decreasing"))


def kruskal_wallis(groups: list[np.ndarray], *, alpha: float = 0.05, seed: int = 0,
                   bootstrap_resamples: int = 2000) -> TestResult:
    """Kruskal-Wallis H (scipy; tie-corrected, as R's kruskal.test) with epsilon-squared.

    epsilon^2 = H / (n - 1) (Kelley 1935; Tomczak & Tomczak 2014) is a one-line rescaling of H
    that no library exposes; its CI is a percentile bootstrap within groups, drawn on the
    groups' answer counts (resample_within_groups) so it costs the same at any n.
    """
    non_empty = [np.asarray(g, dtype=float) for g in groups if len(g) > 0]
    note = "" if len(non_empty) == len(groups) else f"{len(groups) - len(non_empty)} empty group(s) left out"
    if len(non_empty) < 2:
        raise NotEstimable("fewer than two non-empty groups")
    pooled = np.concatenate(non_empty)
    if np.all(pooled == pooled[0]):
        raise NotEstimable("constant item: every answer is the same")
    n = int(pooled.size)
    result = sps.kruskal(*non_empty)
    h = float(result.statistic)

    values, codes = np.unique(pooled, return_inverse=True)
    sizes = [len(g) for g in non_empty]
    counts = np.stack([np.bincount(part, minlength=values.size)
                       for part in np.split(codes, np.cumsum(sizes)[:-1])])
    resampled = resample_within_groups(counts, bootstrap_resamples, np.random.default_rng(seed))
    with np.errstate(divide="ignore", invalid="ignore"):  # an all-tied resample: H is NaN
        boot = kruskal_h_from_counts(resampled) / (n - 1)
    low, high = percentile_interval(boot, alpha)
    return TestResult("kruskal_wallis", h, float(len(non_empty) - 1), float(result.pvalue),
                      "epsilon_squared", h / (n - 1), low, high, n, note)


def resample_within_groups(counts: np.ndarray, resamples: int,
                           rng: np.random.Generator) -> np.ndarray:
    """Bootstrap resamples of a groups x values count table, each group resampled with its own
    size: (resamples, groups, values).

    Drawing n_g answers with replacement from a group's n_g answers is a multinomial draw of
    n_g over its value frequencies, so the resample costs the same at any n (a bootstrap of
    the individual answers, as scipy.stats.bootstrap does, holds resamples x n values)."""
    sizes = counts.sum(axis=1)
    shares = counts / np.where(sizes > 0, sizes, 1)[:, None]
    return np.stack([rng.multinomial(size, share, size=resamples)
                     for size, share in zip(sizes, shares)], axis=1)


def kruskal_h_from_counts(counts: np.ndarray) -> np.ndarray:
    """Tie-corrected Kruskal-Wallis H of groups x values count tables (leading axes: tables).

    The same H as scipy.stats.kruskal on the answers behind the counts (checked in
    tests/unit/test_stats.py): each value's answers share their midrank, so rank sums are
    counts @ midranks. Written out because scipy works on the answers, not their counts."""
    counts = np.asarray(counts, dtype=float)
    group_sizes = counts.sum(axis=-1)
    value_totals = counts.sum(axis=-2)
    total = value_totals.sum(axis=-1)
    midranks = np.cumsum(value_totals, axis=-1) - (value_totals - 1) / 2
    rank_sums = (counts * midranks[..., None, :]).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):  # an empty group adds nothing
        mean_square = np.where(group_sizes > 0, rank_sums**2 / group_sizes, 0.0).sum(axis=-1)
    h = 12 / (total * (total + 1)) * mean_square - 3 * (total + 1)
    ties = 1 - (value_totals**3 - value_totals).sum(axis=-1) / (total**3 - total)
    return h / ties


def percentile_interval(resampled: np.ndarray, alpha: float) -> tuple[float, float]:
    """Percentile bootstrap interval (as scipy.stats.bootstrap(method="percentile")): NaN when
    any resample's statistic is undefined, as there."""
    low, high = np.percentile(resampled, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)


def ordinal_trend(codes: np.ndarray, scores: np.ndarray, alpha: float = 0.05,
                  test: str = "ordinal_logit_trend") -> TestResult:
    """Proportional-odds (ordinal logit) model of an ordered item on a group score.

    statsmodels' OrderedModel (as MASS::polr): logit P(Y <= j) = theta_j - beta * score. The
    effect is the odds ratio exp(beta) of a higher answer per step up the score, with its Wald
    CI; the statistic is the Wald chi-square (beta / se)^2 on 1 df. Unused answer levels are
    dropped (a threshold between two empty levels is not identified).
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

    y = np.asarray(codes, dtype=float)
    x = np.asarray(scores, dtype=float)
    keep = ~(np.isnan(y) | np.isnan(x))
    y, x = y[keep], x[keep]
    # distinct values by hashing, then sorted: a few of them, where sorting every answer
    # (np.unique) costs n log n
    levels = np.sort(pd.unique(y))
    if levels.size < 2:
        raise NotEstimable("constant item: every answer is the same")
    score_values = np.sort(pd.unique(x))
    if score_values.size < 2:
        raise NotEstimable("fewer than two non-empty groups")
    # The answers enter only through their (answer, score) cells: the model is fitted on the
    # cells with their counts as frequency weights, the same likelihood at a cost that does not
    # grow with n. Cells in (answer, score) order, each counted once.
    width = score_values.size
    tally = np.bincount(np.searchsorted(levels, y) * width + np.searchsorted(score_values, x),
                        minlength=levels.size * width)
    present = np.flatnonzero(tally)
    cells = np.column_stack([(present // width).astype(float), score_values[present % width]])
    counts = tally[present]
    endog = pd.Series(pd.Categorical(cells[:, 0].astype(int), categories=range(levels.size),
                                     ordered=True))
    exog = pd.DataFrame({"score": cells[:, 1]})
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = frequency_weighted_ordered_logit()(endog, exog, counts=counts, distr="logit")
            fit = model.fit(method="bfgs", disp=False, maxiter=2000)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise NotEstimable(f"ordinal model not estimable ({exc})") from exc
    for warning in caught:
        if issubclass(warning.category, (ConvergenceWarning, HessianInversionWarning)):
            notes.append(f"statsmodels: {str(warning.message).splitlines()[0]}")
    if not fit.mle_retvals.get("converged", False):
        notes.append("optimiser did not converge")
    beta, se = float(fit.params["score"]), float(fit.bse["score"])
    if not (math.isfinite(se) and se > 0) or abs(beta) > 20:
        raise NotEstimable("separation: the highest answers occur in one group only, the "
                           "odds ratio is not identified")
    z = sps.norm.ppf(1 - alpha / 2)
    odds = math.exp(beta)
    return TestResult(test, (beta / se) ** 2, 1.0, float(fit.pvalues["score"]),
                      "odds_ratio_per_step", odds, math.exp(beta - z * se), math.exp(beta + z * se),
                      int(y.size), "; ".join(notes),
                      direction_observed=sign_direction(odds, 1.0, "increasing", "decreasing"))


@functools.cache
def frequency_weighted_ordered_logit() -> type:
    """statsmodels' OrderedModel (logit link) on cells with frequency weights `counts`.

    OrderedModel has no weights; its log-likelihood is a sum over observations, so n answers
    falling in a few (answer, score) cells give the same likelihood, score and Hessian (all
    numerical derivatives of `loglike`) as the cells weighted by their counts. The start values
    are the model's own (threshold quantiles of the answer shares), from weighted shares. The
    logistic cdf/pdf are scipy.special.expit, the same values without scipy.stats' per-call
    overhead. Imported lazily: statsmodels' model classes take ~0.5 s to import."""
    from scipy.special import expit
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    class FrequencyWeightedOrderedModel(OrderedModel):  # type: ignore[misc]
        def __init__(self, endog: Any, exog: Any, *, counts: np.ndarray, **kwds: Any) -> None:
            super().__init__(endog, exog, **kwds)
            self.counts = np.asarray(counts, dtype=float)

        def cdf(self, x: np.ndarray) -> np.ndarray:
            return expit(x)

        def pdf(self, x: np.ndarray) -> np.ndarray:
            p = expit(x)
            return p * (1 - p)

        def loglike(self, params: np.ndarray) -> float:
            return float(self.loglikeobs(params) @ self.counts)

        @property
        def start_params(self) -> np.ndarray:
            freq = np.bincount(self.endog, weights=self.counts) / self.counts.sum()
            start_ppf = self.distr.ppf(np.clip(freq.cumsum(), 0, 1))
            start_threshold = self.transform_reverse_threshold_params(start_ppf)
            return np.concatenate((np.zeros(self.k_vars), start_threshold))

    return FrequencyWeightedOrderedModel


# --------------------------------------------------------------------------------------------
# Paired binary items


def paired_counts(first: pd.Series, second: pd.Series) -> tuple[int, int, int, int]:
    """(both, first only, second only, neither) over respondents who answered both."""
    keep = first.notna() & second.notna()
    a = first[keep].astype(bool).to_numpy()
    b = second[keep].astype(bool).to_numpy()
    return (int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum()), int((~a & ~b).sum()))


def newcombe_paired_interval(both: int, first_only: int, second_only: int, neither: int,
                             alpha: float = 0.05) -> tuple[float, float]:
    """Newcombe (1998, Stat Med 17:2635, method 10) CI for p_first - p_second, paired data.

    Written out because statsmodels only has the independent-samples version
    (confint_proportions_2indep(method="newcomb")); method 10 combines the two margins' Wilson
    intervals with the correlation phi of the paired table (Newcombe's correction to phi when
    ad - bc > n/2 and zeroing for 0 <= ad - bc <= n/2). Checked against Newcombe's Table II.
    """
    a, b, c, d = both, first_only, second_only, neither
    n = a + b + c + d
    if n == 0:
        raise NotEstimable("no respondent answered both items")
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n, alpha)
    l2, u2 = wilson_interval(a + c, n, alpha)
    denominator = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    if denominator == 0:
        phi = 0.0
    elif cross > n / 2:
        phi = (cross - n / 2) / math.sqrt(denominator)
    elif cross >= 0:
        phi = 0.0
    else:
        phi = cross / math.sqrt(denominator)
    delta = math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    epsilon = math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    diff = p1 - p2
    return max(-1.0, diff - delta), min(1.0, diff + epsilon)


def cohens_h(p1: float, p2: float) -> float:
    """Cohen's h = 2 asin(sqrt p1) - 2 asin(sqrt p2) (statsmodels proportion_effectsize)."""
    return float(proportion_effectsize(p1, p2))


def mcnemar_paired(both: int, first_only: int, second_only: int, neither: int,
                   alpha: float = 0.05) -> TestResult:
    """McNemar's test of p_first = p_second on paired answers.

    p: exact conditional binomial test on the discordant pairs (statsmodels mcnemar, exact=True;
    R's binom.test on them); the statistic is McNemar's X^2 without continuity correction; the
    mid-p (Fagerland et al. 2013's recommendation) is given in the note. Effect: the difference
    of the two shares with Newcombe's paired CI; Cohen's h as the secondary effect.
    """
    n = both + first_only + second_only + neither
    if n == 0:
        raise NotEstimable("no respondent answered both items")
    discordant = first_only + second_only
    p1, p2 = (both + first_only) / n, (both + second_only) / n
    low, high = newcombe_paired_interval(both, first_only, second_only, neither, alpha)
    table = np.array([[both, first_only], [second_only, neither]])
    exact_p = float(mcnemar(table, exact=True).pvalue)
    if discordant == 0:
        statistic, note = NAN, "no discordant pairs: the two shares are equal, exact p = 1"
    else:
        statistic = float(mcnemar(table, exact=False, correction=False).statistic)
        smaller = min(first_only, second_only)
        mid_p = min(1.0, 2 * (sps.binom.cdf(smaller, discordant, 0.5)
                              - 0.5 * sps.binom.pmf(smaller, discordant, 0.5)))
        note = (f"p exact (binomial on {discordant} discordant pairs: {first_only} first only, "
                f"{second_only} second only); mid-p {mid_p:.4g}")
    return TestResult("mcnemar_exact", statistic, 1.0, exact_p, "share_difference", p1 - p2,
                      low, high, n, note, "cohens_h", cohens_h(p1, p2),
                      sign_direction(p1 - p2, 0.0, "first_greater", "second_greater"))


def cochrans_q_test(matrix: np.ndarray, *, alpha: float = 0.05, seed: int = 0,
                    bootstrap_resamples: int = 2000) -> TestResult:
    """Cochran's Q across k paired binary items (statsmodels cochrans_q), respondents with every
    item answered. Effect: Serlin et al.'s (1982) eta^2_Q = Q / (n (k - 1)), a rescaling of Q
    that no library exposes (Tomczak & Tomczak 2014), with a percentile bootstrap CI over
    respondents, drawn on their answer patterns (cochrans_q_from_patterns)."""
    x = np.asarray(matrix, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise NotEstimable("Cochran's Q needs at least two paired items")
    n, k = x.shape
    if n == 0:
        raise NotEstimable("no respondent answered every item")
    row_sums = x.sum(axis=1)
    if np.all((row_sums == 0) | (row_sums == k)):
        raise NotEstimable("no respondent differs between the items: Q is undefined")
    result = cochrans_q(x)
    q = float(result.statistic)

    patterns, pattern_counts = np.unique(x, axis=0, return_counts=True)
    resampled = np.random.default_rng(seed).multinomial(n, pattern_counts / n,
                                                        size=bootstrap_resamples)
    with np.errstate(divide="ignore", invalid="ignore"):  # a resample where no row differs
        boot = cochrans_q_from_patterns(patterns, resampled) / (n * (k - 1))
    low, high = percentile_interval(boot, alpha)
    shares = x.mean(axis=0)
    note = "shares " + ", ".join(f"{s:.3f}" for s in shares)
    return TestResult("cochrans_q", q, float(result.df), float(result.pvalue), "eta_squared_q",
                      q / (n * (k - 1)), low, high, n=n, note=note)


def cochrans_q_from_patterns(patterns: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cochran's Q of respondents given as answer patterns (patterns x items, 0/1) and how many
    respondents give each (leading axes: samples), Q = (k-1)(k sum C_j^2 - N^2) / (k N - sum L_i^2)
    with item totals C_j, row totals L_i and N = sum L_i.

    The same Q as statsmodels' cochrans_q on the rows behind the counts (checked in
    tests/unit/test_stats.py); written out so that a bootstrap over respondents is a multinomial
    draw over the (at most 2^k) patterns, whatever n."""
    patterns = np.asarray(patterns, dtype=float)
    counts = np.asarray(counts, dtype=float)
    k = patterns.shape[1]
    row_totals = patterns.sum(axis=1)
    item_totals = counts @ patterns
    total = counts @ row_totals
    return (k - 1) * (k * (item_totals**2).sum(axis=-1) - total**2) / (
        k * total - counts @ row_totals**2)


# --------------------------------------------------------------------------------------------
# Two groups (panel vs expert, Denmark vs Norway): stratified tables and logistic regression


def cmh_test(tables: list[np.ndarray], alpha: float = 0.05) -> TestResult:
    """Cochran-Mantel-Haenszel test over K strata of 2x2 tables (statsmodels StratifiedTable).

    Rows: first group / second group; columns: item yes / no. Effect: the Mantel-Haenszel common
    odds ratio with the Robins-Breslow-Greenland CI; the Breslow-Day test of homogeneous odds
    ratios goes in the note. No continuity correction (R's mantelhaen.test(correct = FALSE)).
    Strata where a row or column is empty carry no information and are left out.
    """
    usable = [np.asarray(t, dtype=float) for t in tables
              if np.asarray(t).sum() >= 2 and np.all(np.asarray(t).sum(axis=0) > 0)
              and np.all(np.asarray(t).sum(axis=1) > 0)]
    dropped = len(tables) - len(usable)
    if not usable:
        raise NotEstimable("no stratum has both groups and both answers")
    stacked = np.dstack(usable)
    st = StratifiedTable(stacked)
    statistic = float(st.test_null_odds(correction=False).statistic)
    low, high = st.oddsratio_pooled_confint(alpha=alpha)
    notes = [f"Breslow-Day homogeneity p = {float(st.test_equal_odds().pvalue):.4g}"]
    if dropped:
        notes.append(f"{dropped} of {len(tables)} strata left out (one group or one answer only)")
    odds = float(st.oddsratio_pooled)
    # chi2.sf, not statsmodels' 1 - cdf, which rounds p below 1e-16 to 0.
    return TestResult("cmh", statistic, 1.0, float(sps.chi2.sf(statistic, 1)), "odds_ratio_mh", odds,
                      float(low), float(high), int(stacked.sum()), "; ".join(notes),
                      direction_observed=sign_direction(odds, 1.0, "first_greater", "second_greater"))


def logistic_group_effect(frame: pd.DataFrame, *, outcome: str, group: str, adjust: str | None,
                          interaction: bool = False, alpha: float = 0.05) -> TestResult:
    """Logistic regression outcome ~ group + C(adjust) [+ group:C(adjust)] (statsmodels GLM).

    `group` is 0/1 (1 = the first named group). Main effect: the adjusted odds ratio of the
    group with its Wald CI, p from the likelihood-ratio test of dropping the group. With
    `interaction`, the row is the LR test of the group x adjust interaction (does the group
    difference vary across segments?); its effect is the main-effect odds ratio of the model
    without interaction. Perfect separation is reported, not estimated.
    """
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

    columns = [outcome, group] + ([adjust] if adjust else [])
    answered = frame[columns].dropna()
    # The respondents enter only through their (outcome, group, adjust) cells: the models are
    # fitted on the cells with their counts as frequency weights, the same likelihood, estimates
    # and standard errors at a cost that does not grow with n.
    data = answered.value_counts(sort=False).rename("respondents").reset_index()
    data = data[data["respondents"] > 0]  # unobserved category combinations
    data[outcome] = data[outcome].astype(float)
    data[group] = data[group].astype(float)
    if data[outcome].nunique() < 2:
        raise NotEstimable("constant item: every answer is the same")
    if data[group].nunique() < 2:
        raise NotEstimable("only one group has answers")
    adjusted = bool(adjust) and data[adjust].nunique() > 1
    # Treatment-coded dummies of `adjust` (first level the reference), as the formula
    # `C(adjust)` would give; built directly because formula parsing cost more than the fits.
    levels = (pd.get_dummies(data[adjust], prefix=adjust, drop_first=True, dtype=float)
              if adjusted else pd.DataFrame(index=data.index))
    intercept = pd.DataFrame({"Intercept": 1.0}, index=data.index)
    base = pd.concat([intercept, levels], axis=1)
    main = pd.concat([intercept, data[[group]], levels], axis=1)
    full = pd.concat([main, levels.mul(data[group], axis=0).add_prefix(f"{group}:")], axis=1)

    def fit(design: pd.DataFrame) -> Any:  # a statsmodels GLMResults
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            try:
                return GLM(data[outcome], design, family=Binomial(),
                           freq_weights=data["respondents"]).fit()
            except (PerfectSeparationWarning, PerfectSeparationError) as exc:
                raise NotEstimable("perfect separation: an odds ratio is not identified") from exc

    null_fit, main_fit = fit(base), fit(main)
    beta = float(main_fit.params[group])
    low, high = (float(v) for v in np.exp(main_fit.conf_int(alpha=alpha).loc[group]))
    odds = math.exp(beta)
    direction = sign_direction(odds, 1.0, "first_greater", "second_greater")
    if not interaction:
        lr = float(2 * (main_fit.llf - null_fit.llf))
        return TestResult("logit_group", lr, 1.0, float(sps.chi2.sf(lr, 1)), "odds_ratio_adjusted",
                          odds, low, high, len(answered),
                          "p: likelihood-ratio test" + (f"; adjusted for {adjust}" if adjusted else ""),
                          direction_observed=direction)
    if not adjusted:
        raise NotEstimable(f"one level of {adjust} only: no interaction to test")
    full_fit = fit(full)
    lr = float(2 * (full_fit.llf - main_fit.llf))
    df = float(full_fit.df_model - main_fit.df_model)
    return TestResult("logit_group_interaction", lr, df, float(sps.chi2.sf(lr, df)),
                      "odds_ratio_adjusted", odds, low, high, len(answered),
                      f"p: likelihood-ratio test of {group} x {adjust}; effect from the model "
                      "without interaction", direction_observed=direction)


# --------------------------------------------------------------------------------------------
# Multiplicity


def adjust_pvalues(p: pd.Series, method: str) -> pd.Series:
    """Holm ('holm') or Benjamini-Hochberg ('fdr_bh') over the finite p-values (statsmodels
    multipletests); rows without a p stay NaN (their note says why)."""
    out = pd.Series(NAN, index=p.index, dtype=float)
    finite = p.astype(float).notna()
    if finite.any():
        out[finite] = multipletests(p[finite].astype(float).to_numpy(), method=method)[1]
    return out


def sign_direction(value: float, null: float, above: str, below: str) -> str:
    """`above`/`below` as the estimate lies above/below its null value (`none` at it; "" for NaN)."""
    if not math.isfinite(value):
        return ""
    return above if value > null else below if value < null else "none"
