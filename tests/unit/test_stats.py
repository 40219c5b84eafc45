"""The hypothesis battery's methods against independent reference values, and the runner's
behaviour on awkward data.

Reference values: published textbook answers (quoted beside each test) and R on the same data
(tests/data/reference/r_values.json, written by tests/reference/make_reference.R from the CSVs in
tests/data/reference/, so these tests need no R).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.contingency_tables import StratifiedTable, Table

from smesocial.config import Indicator
from smesocial.errors import InputError
from smesocial.design import Design, domain_means, proportion_interval
from smesocial.estimates import NO_WEIGHTS_NOTE, item_estimates, wilson_interval
from smesocial.hypotheses import Declarations, Hypothesis, Settings, in_values, load_hypotheses
from smesocial.hypotheses import TestSpec as Spec
from smesocial.inference import (NotEstimable, adjust_pvalues, association_test, cmh_test,
                                 cochran_armitage, cochrans_q_from_patterns, cochrans_q_test,
                                 cohens_h, cramers_v_interval, kruskal_h_from_counts,
                                 kruskal_wallis, logistic_group_effect, mcnemar_paired,
                                 newcombe_paired_interval, ordinal_trend,
                                 resample_within_groups, trend_in_proportions)
from scipy import stats as sps
from statsmodels.stats.contingency_tables import cochrans_q
from smesocial.stats import TEST_COLUMNS, run_battery, summary_markdown

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "data" / "reference"
R = json.loads((REFERENCE / "r_values.json").read_text(encoding="utf-8"))


def reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name)


def table_of(frame: pd.DataFrame, rows: str, cols: str, row_order: list[str],
             col_order: list[str]) -> np.ndarray:
    return frame.pivot(index=rows, columns=cols, values="count").loc[row_order, col_order].to_numpy()


# --------------------------------------------------------------------------------------------
# Reference values: chi-square, Fisher, Monte Carlo, Cramér's V


def test_pearson_chi2_matches_agresti_and_r():
    # Agresti (2007), Table 2.5, gender x party identification: X^2 = 30.1, df = 2.
    counts = table_of(reference("agresti_party_identification.csv"), "gender", "party",
                      ["female", "male"], ["democrat", "independent", "republican"])
    result = association_test(counts, seed=1)
    assert result.test == "pearson_chi2"
    assert result.statistic == pytest.approx(30.1, abs=0.05)
    assert result.statistic == pytest.approx(R["chisq_party"]["statistic"], rel=1e-10)
    assert result.df == 2
    assert result.p == pytest.approx(R["chisq_party"]["p"], rel=1e-8)
    assert result.effect_size == pytest.approx(R["chisq_party"]["cramers_v"], rel=1e-10)
    assert (result.effect_ci_low, result.effect_ci_high) == pytest.approx(
        tuple(R["chisq_party"]["cramers_v_ci"]), abs=1e-7)
    assert result.n == 2757


def test_fisher_exact_replaces_chi2_in_a_small_2x2_table():
    # Fisher's tea-tasting experiment: two-sided P = 0.486 (Agresti 2002, sec. 3.5.2).
    counts = table_of(reference("fisher_tea_tasting.csv"), "poured_first", "guess",
                      ["milk", "tea"], ["milk", "tea"])
    result = association_test(counts)
    assert result.test == "fisher_exact"
    assert result.p == pytest.approx(0.486, abs=5e-4)
    assert result.p == pytest.approx(R["fisher_tea"]["p"], rel=1e-9)
    assert "Fisher" in result.note and "< 5" in result.note


def test_sparse_larger_table_gets_a_seeded_monte_carlo_p_close_to_r():
    counts = table_of(reference("sparse_frequency_segment.csv"), "frequency", "segment",
                      ["never", "almost_never", "monthly", "weekly", "daily"],
                      ["micro", "small", "medium"])
    first = association_test(counts, seed=20240115, mc_resamples=9999)
    again = association_test(counts, seed=20240115, mc_resamples=9999)
    assert first.test == "chi2_monte_carlo"
    assert first.statistic == pytest.approx(R["chisq_sparse_monte_carlo"]["statistic"], rel=1e-10)
    # R used 200,000 tables; 9,999 give a p within about 3 Monte Carlo standard errors (0.005).
    assert first.p == pytest.approx(R["chisq_sparse_monte_carlo"]["p"], abs=0.015)
    assert first.p == again.p  # the seed makes reruns identical
    assert "seed 20240115" in first.note and "Monte Carlo" in first.note


def test_cramers_v_interval_is_zero_below_when_chi2_is_not_significant():
    low, high = cramers_v_interval(chi2=3.0, df=4, n=300, m=2)
    assert low == 0.0
    assert 0.0 < high < 1.0


def test_association_notes_a_constant_item_and_a_single_group():
    with pytest.raises(NotEstimable, match="constant item"):
        association_test(np.array([[5, 7, 9], [0, 0, 0]]))
    with pytest.raises(NotEstimable, match="two non-empty groups"):
        association_test(np.array([[5, 0], [3, 0]]))


# --------------------------------------------------------------------------------------------
# Paired items: McNemar, Newcombe, Cohen's h, Cochran's Q


def test_mcnemar_matches_agresti_and_r():
    # Agresti (2002), Table 10.1, presidential approval: z^2 = 17.36 (no continuity correction).
    approval = table_of(reference("agresti_presidential_approval.csv"), "first_survey",
                        "second_survey", ["approve", "disapprove"], ["approve", "disapprove"])
    (a, b), (c, d) = approval
    result = mcnemar_paired(a, b, c, d)
    assert result.statistic == pytest.approx(17.36, abs=0.005)
    assert result.statistic == pytest.approx(R["mcnemar_approval"]["uncorrected"]["statistic"], rel=1e-10)
    assert result.p == pytest.approx(R["mcnemar_approval"]["exact_p"], rel=1e-8)
    assert result.effect_size == pytest.approx((b - c) / (a + b + c + d))  # 944/1600 - 880/1600
    assert result.effect_ci_low < result.effect_size < result.effect_ci_high
    assert result.direction_observed == "first_greater"
    assert "mid-p" in result.note


def test_newcombe_paired_interval_matches_newcombe_1998_table_ii():
    for row in reference("newcombe_1998_paired.csv").itertuples():
        low, high = newcombe_paired_interval(row.both, row.first_only, row.second_only, row.neither)
        assert low == pytest.approx(row.published_low, abs=5e-5), row.sample
        assert high == pytest.approx(row.published_high, abs=5e-5), row.sample


def test_no_discordant_pairs_give_p_one_and_a_note():
    result = mcnemar_paired(20, 0, 0, 10)
    assert result.p == 1.0 and result.effect_size == 0.0
    assert "no discordant pairs" in result.note


def test_cohens_h_matches_cohens_table():
    # Cohen (1988), Table 6.2.1: phi(.65) = 1.8755, phi(.45) = 1.4706, phi(.50) = 1.5708,
    # phi(.25) = 1.0472; h is their difference.
    assert cohens_h(0.65, 0.45) == pytest.approx(1.8755 - 1.4706, abs=1e-4)
    assert cohens_h(0.50, 0.25) == pytest.approx(1.5708 - 1.0472, abs=1e-4)
    assert cohens_h(0.25, 0.50) == pytest.approx(-cohens_h(0.50, 0.25))


def test_cochrans_q_matches_r_generalised_cmh():
    items = reference("cochran_q_items.csv").to_numpy()
    result = cochrans_q_test(items, bootstrap_resamples=200)
    assert result.statistic == pytest.approx(R["cochran_q"]["statistic"], rel=1e-9)
    assert result.df == R["cochran_q"]["df"]
    assert result.p == pytest.approx(R["cochran_q"]["p"], rel=1e-8)
    assert result.effect_size == pytest.approx(result.statistic / (90 * 2))
    assert result.effect_ci_low <= result.effect_size <= result.effect_ci_high


def test_cochrans_q_with_two_items_is_mcnemars_uncorrected_x2():
    items = reference("cochran_q_items.csv")[["linkedin", "facebook"]].to_numpy().astype(bool)
    both = int((items[:, 0] & items[:, 1]).sum())
    first = int((items[:, 0] & ~items[:, 1]).sum())
    second = int((~items[:, 0] & items[:, 1]).sum())
    neither = int((~items[:, 0] & ~items[:, 1]).sum())
    q = cochrans_q_test(items.astype(float), bootstrap_resamples=200)
    assert q.statistic == pytest.approx(mcnemar_paired(both, first, second, neither).statistic)


# --------------------------------------------------------------------------------------------
# Trends: Cochran-Armitage, Kruskal-Wallis, ordinal logit


def test_cochran_armitage_matches_agresti_and_r():
    # Agresti (2002), sec. 5.3.5: alcohol and malformation, scores (0, .5, 1.5, 4, 7): z^2 = 6.57.
    data = reference("agresti_alcohol_malformation.csv")
    chi2, p = cochran_armitage(data.malformed.to_numpy(), data.total.to_numpy(), data.score.to_numpy())
    assert chi2 == pytest.approx(6.57, abs=0.005)
    assert chi2 == pytest.approx(R["trend_alcohol"]["statistic"], rel=1e-9)
    assert p == pytest.approx(R["trend_alcohol"]["p"], rel=1e-8)


def test_cochran_armitage_is_the_linear_by_linear_test_rescaled_by_n_over_n_minus_1():
    # statsmodels' linear-by-linear test uses the permutation variance: M^2 = (n-1) r^2.
    data = reference("agresti_alcohol_malformation.csv")
    table = np.column_stack([data.malformed, data.total - data.malformed])
    m2 = Table(table).test_ordinal_association(row_scores=data.score.to_numpy(),
                                                col_scores=np.array([0.0, 1.0])).zscore ** 2
    n = table.sum()
    chi2, _ = cochran_armitage(data.malformed.to_numpy(), data.total.to_numpy(), data.score.to_numpy())
    assert chi2 == pytest.approx(m2 * n / (n - 1), rel=1e-9)


def test_trend_in_proportions_reports_last_minus_first_with_its_interval():
    result = trend_in_proportions(np.array([10, 20, 35]), np.array([40, 40, 50]), np.array([0, 1, 2.0]))
    assert result.effect_size == pytest.approx(35 / 50 - 10 / 40)
    assert result.effect_ci_low < result.effect_size < result.effect_ci_high
    assert result.direction_observed == "increasing"
    empty = trend_in_proportions(np.array([10, 0, 35]), np.array([40, 0, 50]), np.array([0, 1, 2.0]))
    assert "empty group" in empty.note


def test_kruskal_wallis_matches_hollander_wolfe_and_r():
    # Hollander & Wolfe (1973), p. 116, mucociliary efficiency: H = 0.7714, df = 2.
    data = reference("hollander_wolfe_mucociliary.csv")
    groups = [data.efficiency[data.group == g].to_numpy() for g in ["normal", "obstructive", "asbestosis"]]
    result = kruskal_wallis(groups, bootstrap_resamples=200)
    assert result.statistic == pytest.approx(0.7714, abs=1e-4)
    assert result.statistic == pytest.approx(R["kruskal_mucociliary"]["statistic"], rel=1e-9)
    assert result.p == pytest.approx(R["kruskal_mucociliary"]["p"], rel=1e-8)
    assert result.effect_size == pytest.approx(result.statistic / (14 - 1))  # epsilon^2 = H/(n-1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(1, 5), min_size=1, max_size=40), min_size=2, max_size=5))
def test_kruskal_h_from_counts_is_scipys_h_on_the_answers(groups):
    pooled = np.concatenate([np.asarray(g, float) for g in groups])
    if np.all(pooled == pooled[0]):
        return  # H is undefined for one answer value (both give NaN)
    counts = np.array([[g.count(v) for v in range(1, 6)] for g in groups])
    assert kruskal_h_from_counts(counts) == pytest.approx(sps.kruskal(*groups).statistic, rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=2, max_size=60))
def test_cochrans_q_from_patterns_is_statsmodels_q_on_the_rows(rows):
    x = np.asarray(rows, dtype=float)
    if np.all((x.sum(axis=1) == 0) | (x.sum(axis=1) == 3)):
        return  # Q is 0/0 when no respondent differs between the items
    patterns, counts = np.unique(x, axis=0, return_counts=True)
    assert cochrans_q_from_patterns(patterns, counts) == pytest.approx(
        cochrans_q(x).statistic, rel=1e-10)


def test_resampling_counts_within_groups_keeps_each_groups_size_and_values():
    counts = np.array([[3, 0, 2], [0, 4, 1]])
    resampled = resample_within_groups(counts, 500, np.random.default_rng(1))
    assert resampled.shape == (500, 2, 3)
    assert (resampled.sum(axis=2) == [5, 5]).all()
    assert (resampled[:, 0, 1] == 0).all() and (resampled[:, 1, 0] == 0).all()
    # each value's expected share is its observed share (3/5 of group 1 answer the first value)
    assert resampled[:, 0, 0].mean() / 5 == pytest.approx(0.6, abs=0.03)


def test_count_bootstraps_agree_with_scipys_bootstrap_of_the_answers():
    # The same percentile interval as scipy.stats.bootstrap over individual answers, up to
    # Monte Carlo error: the count draws are that bootstrap, not an approximation of it.
    rng = np.random.default_rng(3)
    groups = [rng.integers(1, 6, size=n) + shift for n, shift in ((80, 0), (60, 1), (70, 1))]
    groups = [np.clip(g, 1, 5).astype(float) for g in groups]
    ours = kruskal_wallis(groups, bootstrap_resamples=20000, seed=1)
    n = sum(len(g) for g in groups)
    scipys = sps.bootstrap(groups, lambda *s, axis=-1: sps.kruskal(*s, axis=axis).statistic / (n - 1),
                           vectorized=True, n_resamples=20000, method="percentile",
                           rng=np.random.default_rng(2)).confidence_interval
    assert ours.effect_ci_low == pytest.approx(scipys.low, abs=0.004)
    assert ours.effect_ci_high == pytest.approx(scipys.high, abs=0.004)
    items = rng.random((150, 3)) < [0.3, 0.5, 0.6]
    q = cochrans_q_test(items.astype(float), bootstrap_resamples=20000, seed=1)
    k = 3
    scipy_q = sps.bootstrap((np.arange(150),), lambda rows: cochrans_q(items[rows.astype(int)]).statistic
                            / (150 * (k - 1)), vectorized=False, n_resamples=4000,
                            method="percentile", rng=np.random.default_rng(2)).confidence_interval
    assert q.effect_ci_low == pytest.approx(scipy_q.low, abs=0.01)
    assert q.effect_ci_high == pytest.approx(scipy_q.high, abs=0.01)


def test_ordinal_and_logistic_fits_on_cells_equal_fits_on_respondents():
    # Frequency-weighted cells give the respondents' own likelihood: the same estimates as
    # statsmodels' unweighted OrderedModel and formula GLM on every row.
    import statsmodels.formula.api as smf
    from statsmodels.genmod.families import Binomial
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    data = reference("ordinal_segment.csv")
    ours = ordinal_trend(data.level.to_numpy(), data.score.to_numpy())
    levels = np.unique(data.level)
    endog = pd.Series(pd.Categorical(np.searchsorted(levels, data.level),
                                     categories=range(levels.size), ordered=True))
    rows = OrderedModel(endog, data[["score"]].astype(float), distr="logit").fit(
        method="newton", disp=False)
    assert math.log(ours.effect_size) == pytest.approx(rows.params["score"], abs=1e-5)
    assert ours.statistic == pytest.approx((rows.params["score"] / rows.bse["score"]) ** 2, rel=1e-4)
    frame = reference("logit_country_segment.csv")
    frame["dk"] = (frame.country == "DK").astype(float)
    result = logistic_group_effect(frame, outcome="y", group="dk", adjust="segment")
    full = smf.glm("y ~ dk + C(segment)", frame, family=Binomial()).fit()
    null = smf.glm("y ~ C(segment)", frame, family=Binomial()).fit()
    assert math.log(result.effect_size) == pytest.approx(full.params["dk"], rel=1e-9)
    assert result.statistic == pytest.approx(2 * (full.llf - null.llf), rel=1e-9)
    assert result.n == len(frame)


def test_kruskal_wallis_notes_a_constant_item():
    with pytest.raises(NotEstimable, match="constant item"):
        kruskal_wallis([np.ones(5), np.ones(4)])


def test_ordinal_logit_trend_matches_mass_polr():
    data = reference("ordinal_segment.csv")
    result = ordinal_trend(data.level.to_numpy(), data.score.to_numpy())
    assert math.log(result.effect_size) == pytest.approx(R["polr_score"]["coef"], abs=1e-4)
    assert result.statistic == pytest.approx(R["polr_score"]["wald_chi2"], rel=1e-3)
    se = R["polr_score"]["se"]
    assert math.log(result.effect_ci_high) == pytest.approx(R["polr_score"]["coef"] + 1.959964 * se, abs=2e-4)
    assert result.direction_observed == "increasing"


def test_ordinal_logit_trend_reports_separation_not_nonsense():
    codes = np.array([0] * 10 + [1] * 10)
    scores = np.array([0.0] * 10 + [1.0] * 10)
    with pytest.raises(NotEstimable, match="separation"):
        ordinal_trend(codes, scores)


# --------------------------------------------------------------------------------------------
# Two groups: CMH and logistic regression


def test_cmh_matches_r_mantelhaen_on_the_penicillin_rabbits():
    # R's mantelhaen.test example (Agresti 1990): MH X^2 = 3.9286 with continuity correction,
    # common odds ratio 7. The battery uses no correction (R: correct = FALSE).
    data = reference("agresti_penicillin_rabbits.csv")
    strata = [table_of(data[data.penicillin_level == level], "delay", "response",
                       ["immediate", "delayed"], ["cured", "died"]) for level in range(1, 6)]
    result = cmh_test(strata)
    expected = R["cmh_rabbits"]["uncorrected"]
    assert result.statistic == pytest.approx(expected["statistic"], rel=1e-9)
    assert result.p == pytest.approx(expected["p"], rel=1e-8)
    assert result.effect_size == pytest.approx(7.0)
    assert (result.effect_ci_low, result.effect_ci_high) == pytest.approx(tuple(expected["ci"]), rel=1e-8)
    corrected = StratifiedTable(np.dstack(strata)).test_null_odds(correction=True).statistic
    assert corrected == pytest.approx(3.9286, abs=1e-4)
    assert "2 of 5 strata left out" in result.note  # an empty column carries no information


def test_cmh_p_does_not_round_to_zero_for_a_strong_association():
    strata = [np.array([[300, 10], [10, 300]]), np.array([[250, 20], [15, 280]])]
    result = cmh_test(strata)
    assert 0.0 < result.p < 1e-100


def test_logistic_country_effect_and_interaction_match_r_glm():
    data = reference("logit_country_segment.csv")
    data["g"] = (data.country == "DK").astype(float)
    main = logistic_group_effect(data, outcome="y", group="g", adjust="segment")
    expected = R["logit_country"]
    assert main.effect_size == pytest.approx(expected["odds_ratio"], rel=1e-6)
    assert (main.effect_ci_low, main.effect_ci_high) == pytest.approx(tuple(expected["odds_ratio_ci"]), rel=1e-6)
    assert main.statistic == pytest.approx(expected["lr_main"], rel=1e-6)
    assert main.p == pytest.approx(expected["p_main"], rel=1e-6)
    interaction = logistic_group_effect(data, outcome="y", group="g", adjust="segment", interaction=True)
    assert interaction.statistic == pytest.approx(expected["lr_interaction"], rel=1e-5)
    assert interaction.df == expected["df_interaction"]
    assert interaction.p == pytest.approx(expected["p_interaction"], rel=1e-5)


def test_logistic_regression_reports_perfect_separation():
    data = pd.DataFrame({"y": [1.0] * 12 + [0.0] * 12, "g": [1.0] * 12 + [0.0] * 12,
                         "s": ["a", "b"] * 12})
    with pytest.raises(NotEstimable, match="separation"):
        logistic_group_effect(data, outcome="y", group="g", adjust="s")


# --------------------------------------------------------------------------------------------
# Weighted shares, Wilson, multiplicity


def weighted_share(y: np.ndarray, w: np.ndarray, method: str = "beta"):
    """share, se and interval of one weighted share over a one-stratum, uncalibrated design."""
    design = Design(w, np.zeros(len(w)))
    means = domain_means(design, np.asarray(y, float)[:, None])
    interval = proportion_interval(means.mean[0], means.variance[0], means.df[0],
                                   int(means.n[0]), design.n, method=method)
    return means.mean[0], means.se[0], interval


def test_weighted_share_matches_survey_package():
    data = reference("weighted_share.csv")
    y, w = data.y.to_numpy(), data.weight.to_numpy()
    expected = R["weighted_share"]
    share, se, interval = weighted_share(y, w)
    assert share == pytest.approx(expected["share"], rel=1e-12)
    assert se == pytest.approx(expected["se"], rel=1e-10)  # svymean's linearisation SE
    # svyciprop(method = "beta") on the whole design: Korn and Graubard's interval
    assert interval == pytest.approx(tuple(expected["korn_graubard_ci"]), rel=1e-8)


def test_weighted_share_at_equal_weights_has_the_binomial_se_with_n_over_n_minus_1():
    y = np.array([1, 0, 0, 1, 1, 0, 0, 0, 1, 0])
    share, se, _ = weighted_share(y, np.full(10, 2.5))
    assert share == pytest.approx(0.4)
    assert se == pytest.approx(math.sqrt(0.4 * 0.6 / 9))


def test_holm_and_bh_match_r_p_adjust_and_skip_missing_p():
    p = pd.Series(R["p_adjust"]["p"])
    assert adjust_pvalues(p, "holm").tolist() == pytest.approx(R["p_adjust"]["holm"], rel=1e-12)
    assert adjust_pvalues(p, "fdr_bh").tolist() == pytest.approx(R["p_adjust"]["bh"], rel=1e-12)
    with_gap = pd.Series([0.01, float("nan"), 0.04])
    adjusted = adjust_pvalues(with_gap, "holm")
    assert math.isnan(adjusted[1]) and adjusted[0] == pytest.approx(0.02)


# --------------------------------------------------------------------------------------------
# Properties of the intervals


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 500), data=st.data(), alpha=st.sampled_from([0.01, 0.05, 0.1]))
def test_wilson_bounds_contain_the_share_and_mirror_under_relabelling(n, data, alpha):
    k = data.draw(st.integers(0, n))
    low, high = wilson_interval(k, n, alpha)
    assert 0.0 <= low <= k / n <= high <= 1.0
    mirror_low, mirror_high = wilson_interval(n - k, n, alpha)
    assert (mirror_low, mirror_high) == pytest.approx((1 - high, 1 - low), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(answers=st.lists(st.tuples(st.booleans(), st.floats(0.1, 10.0)), min_size=2, max_size=80))
def test_weighted_intervals_contain_the_share_and_mirror_under_relabelling(answers):
    y = np.array([a for a, _ in answers], dtype=float)
    w = np.array([b for _, b in answers])
    for method in ("beta", "logit"):
        share, _, (low, high) = weighted_share(y, w, method=method)
        assert 0.0 <= low <= share + 1e-12
        assert share - 1e-12 <= high <= 1.0
        mirrored, _, (mirror_low, mirror_high) = weighted_share(1 - y, w, method=method)
        assert mirrored == pytest.approx(1 - share, abs=1e-12)
        assert (mirror_low, mirror_high) == pytest.approx((1 - high, 1 - low), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(cells=st.tuples(*[st.integers(0, 60)] * 4).filter(lambda c: sum(c) > 0))
def test_newcombe_paired_interval_contains_the_difference_and_mirrors(cells):
    both, first, second, neither = cells
    n = sum(cells)
    low, high = newcombe_paired_interval(both, first, second, neither)
    diff = (first - second) / n
    assert -1.0 <= low <= diff + 1e-12 and diff - 1e-12 <= high <= 1.0
    swapped_low, swapped_high = newcombe_paired_interval(both, second, first, neither)
    assert (swapped_low, swapped_high) == pytest.approx((-high, -low), abs=1e-12)


# --------------------------------------------------------------------------------------------
# The runner: declarations, awkward data, unconfigured waves, weights

SEGMENTS = pd.CategoricalDtype(["micro", "small", "medium"], ordered=True)
FREQ = pd.CategoricalDtype(["never", "almost_never", "monthly", "weekly", "daily"], ordered=True)
INDICATORS = {
    "post_daily_weekly_linkedin": Indicator("post_daily_weekly_linkedin", "post_linkedin",
                                            ("daily", "weekly"), "dw"),
}
FAST = Settings(segment="segment", monte_carlo_resamples=999, bootstrap_resamples=100)


def firms(n_per_segment: tuple[int, int, int] = (30, 30, 40), seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    segments = np.repeat(["micro", "small", "medium"], n_per_segment)
    score = np.repeat([0, 1, 2], n_per_segment)
    post = np.clip(np.round(rng.normal(1 + score, 1.2)), 0, 4).astype(int)
    important = rng.random(len(score)) < 0.55 + 0.1 * score
    return pd.DataFrame({
        "respondent_id": [f"r{i}" for i in range(len(score))],
        "segment": pd.Categorical(segments, dtype=SEGMENTS),
        "post_linkedin": pd.Categorical.from_codes(post, dtype=FREQ),
        "important_linkedin": pd.array(important, dtype="boolean"),
        "constant": pd.array([True] * len(score), dtype="boolean"),
        "sample": np.where(rng.random(len(score)) < 0.5, "panel", "expert"),
    })


def declared(tests: tuple[Spec, ...], *, hid: str = "H", family: str = "f",
               waves: tuple[str, ...] = ("w",), items: tuple[str, ...] = ()) -> Hypothesis:
    declared = items or tuple(dict.fromkeys(i for t in tests for i in t.items))
    return Hypothesis(hid, "a statement", family, waves, "increasing", (), declared, tests)


def battery(hypotheses: list[Hypothesis], tables: dict[str, pd.DataFrame], **kwargs):
    declarations = Declarations(FAST, {"f": "family f", "g": "family g"}, tuple(hypotheses))
    return run_battery(declarations, tables, configured_waves=list(tables), indicators=INDICATORS,
                       alpha=0.05, seed=11, **kwargs)


def test_the_project_declarations_load_with_every_required_field():
    platforms = {"facebook": "Facebook", "instagram": "Instagram", "linkedin": "LinkedIn",
                 "twitter": "Twitter", "youtube": "YouTube", "blog": "Blogs"}
    declarations = load_hypotheses(ROOT / "config" / "hypotheses.yaml", platforms)
    ids = {h.id for h in declarations.hypotheses}
    assert {"H1_size_gradient", "H2_importance_use_gap", "H3_broadcast_over_dialogue",
            "H4_professionalism_by_size", "H7_norway_panel_vs_expert", "H8_denmark_vs_norway"} <= ids
    for h in declarations.hypotheses:
        assert h.statement and h.tests and h.waves and h.family in declarations.families
    by_id = {h.id: h for h in declarations.hypotheses}
    assert by_id["H8_denmark_vs_norway"].waves == ("dk_2024", "no_2010")
    assert by_id["H7_norway_panel_vs_expert"].waves == ("no_2010",)


def test_a_malformed_declaration_is_an_input_error_naming_it(tmp_path):
    path = tmp_path / "hypotheses.yaml"
    path.write_text("families: {f: x}\nhypotheses:\n  - {id: H9, statement: s, family: f, "
                    "waves: [w], direction: increasing, items: [a], tests: [{test: t_test, item: a}]}\n")
    with pytest.raises(InputError, match="H9, test 1: unknown test"):
        load_hypotheses(path, {})


def test_every_test_kind_gives_a_row_with_numbers_on_sound_data():
    tests = (
        Spec("association", ("post_linkedin",), "two_sided"),
        Spec("kruskal_wallis", ("post_linkedin",), "two_sided"),
        Spec("ordinal_logit_trend", ("post_linkedin",), "increasing"),
        Spec("cochran_armitage", ("post_daily_weekly_linkedin",), "increasing"),
        Spec("mcnemar", ("important_linkedin", "post_daily_weekly_linkedin"), "first_greater",
                 segments="each"),
        Spec("gradient_difference", ("important_linkedin", "post_daily_weekly_linkedin"), "decreasing"),
        Spec("cmh", ("important_linkedin",), "first_greater", group="sample", groups=("expert", "panel")),
        Spec("logit_group", ("important_linkedin",), "first_greater", group="sample",
                 groups=("expert", "panel")),
    )
    result = battery([declared(tests)], {"w": firms()})
    rows = result.tests
    assert list(rows.columns) == TEST_COLUMNS
    assert len(rows) == 7 + 4  # mcnemar: all + three segments
    assert rows["p"].notna().all() and rows["effect_size"].notna().all()
    linkedin = rows[(rows.test == "ordinal_logit_trend")].iloc[0]
    assert linkedin.effect_size > 1 and linkedin.direction_observed == "increasing"
    assert set(rows.segment[rows.test == "mcnemar_exact"]) == {"all", "micro", "small", "medium"}


def test_awkward_data_gives_notes_not_crashes_or_silent_nans():
    table = firms()
    table.loc[table.segment == "medium", "important_linkedin"] = pd.NA  # medium never answered
    tests = (
        Spec("association", ("constant",), "two_sided"),
        Spec("kruskal_wallis", ("constant",), "two_sided"),
        Spec("mcnemar", ("important_linkedin", "post_daily_weekly_linkedin"), "first_greater",
                 segments=("medium",)),
        Spec("cochran_armitage", ("important_linkedin",), "increasing"),
        Spec("association", ("not_asked",), "two_sided"),
        Spec("mcnemar", ("important_linkedin", "post_daily_weekly_linkedin"), "first_greater",
                 segments=("large",)),
        Spec("cmh", ("important_linkedin",), "first_greater", group="sample", groups=("expert", "nobody")),
    )
    rows = battery([declared(tests)], {"w": table}).tests
    notes = rows.set_index(["test", "item", "segment"])["note"]
    assert "constant item" in notes[("association", "constant", "all")]
    assert "constant item" in notes[("kruskal_wallis", "constant", "all")]
    assert "no respondent answered both" in notes[("mcnemar_exact", "important_linkedin vs post_daily_weekly_linkedin", "medium")]
    assert "without answers left out: medium" in notes[("cochran_armitage", "important_linkedin", "all")]
    assert "not asked" in notes[("association", "not_asked", "all")]
    assert "not in this wave's scheme" in notes[("mcnemar_exact", "important_linkedin vs post_daily_weekly_linkedin", "large")]
    assert "no respondent in group(s) nobody" in notes[("cmh", "important_linkedin", "all")]
    # Every row without a p has a note saying why.
    assert (rows.loc[rows.p.isna(), "note"].str.len() > 0).all()
    ca = rows[rows.test == "cochran_armitage"].iloc[0]
    assert math.isfinite(ca.p)  # two segments left: still a trend test


def test_an_unconfigured_wave_gives_one_row_per_declared_test():
    tests = (Spec("cmh", ("present_{platform}",), "first_greater", group="sample",
                      groups=("expert", "panel")),
             Spec("logit_group", ("present_{platform}",), "first_greater", group="sample",
                      groups=("expert", "panel")))
    h_norway = Hypothesis("H7", "s", "g", ("no_2010",), "first_greater", ("facebook", "linkedin"),
                          ("present_{platform}",), tests)
    h_pooled = Hypothesis("H8", "s", "g", ("w", "no_2010"), "two_sided", ("facebook",),
                          ("present_{platform}",), tests, pool_waves=True)
    rows = battery([h_norway, h_pooled], {"w": firms()}).tests
    assert len(rows) == 4
    assert rows["note"].tolist() == ["wave no_2010 not configured"] * 4
    assert rows["waves"].tolist() == ["no_2010", "no_2010", "w+no_2010", "w+no_2010"]
    assert rows["p"].isna().all() and rows["p_adj_holm"].isna().all()


def test_pooled_waves_compare_countries_within_segments():
    dk, no = firms(seed=1), firms(seed=2)
    dk["country"], no["country"] = "DK", "NO"
    spec = Spec("logit_group", ("important_linkedin",), "two_sided", group="country",
                    groups=("DK", "NO"))
    h = Hypothesis("H8", "s", "g", ("dk", "no"), "two_sided", (), ("important_linkedin",),
                   (spec, Spec("cmh", ("important_linkedin",), "two_sided", group="country",
                                   groups=("DK", "NO"))), pool_waves=True)
    rows = battery([h], {"dk": dk, "no": no}).tests
    assert rows["waves"].tolist() == ["dk+no", "dk+no"]
    assert rows["n"].tolist() == [200, 200]
    assert rows["p"].notna().all()



def test_pooled_waves_stratify_on_the_common_scheme_not_each_waves_own():
    dk, no = firms(seed=1), firms(seed=2)
    dk["country"], no["country"] = "DK", "NO"
    no["segment"] = pd.Categorical(["tiny"] * len(no), categories=["tiny"])  # another scheme
    common = pd.CategoricalDtype(["small_any", "large_any"], ordered=True)
    # The analysis table carries every scheme's segment as segment_<scheme>.
    for table in (dk, no):
        table["segment_common"] = pd.Series(
            np.where(np.arange(len(table)) % 2, "large_any", "small_any"), dtype=common)
    h = Hypothesis("H8", "s", "g", ("dk", "no"), "two_sided", (), ("important_linkedin",),
                   (Spec("cmh", ("important_linkedin",), "two_sided", group="country",
                         groups=("DK", "NO")),), pool_waves=True)
    row = battery([h], {"dk": dk, "no": no}, common_scheme="common").tests.iloc[0]
    assert "left out" not in row.note  # both strata hold both countries
    assert row.n == 200 and math.isfinite(row.p)
    # Single-wave tests keep the wave's own segment even when a common scheme is given.
    single = Hypothesis("H1", "s", "g", ("dk",), "increasing", (), ("important_linkedin",),
                        (Spec("cochran_armitage", ("important_linkedin",), "increasing"),))
    own = battery([single], {"dk": dk, "no": no}).tests
    given_common = battery([single], {"dk": dk, "no": no}, common_scheme="common").tests
    assert own.p.tolist() == given_common.p.tolist()
    with pytest.raises(InputError, match="segment_common"):
        battery([h], {"dk": dk, "no": no.drop(columns="segment_common")},
                common_scheme="common")

def test_holm_is_within_family_and_bh_across_the_battery():
    tests = (Spec("ordinal_logit_trend", ("post_linkedin",), "increasing"),
             Spec("cochran_armitage", ("post_daily_weekly_linkedin",), "increasing"))
    rows = battery([declared(tests, hid="A", family="f"),
                    declared((Spec("kruskal_wallis", ("post_linkedin",), "two_sided"),),
                               hid="B", family="g")], {"w": firms()}).tests
    f = rows[rows.family == "f"]
    assert f.p_adj_holm.tolist() == pytest.approx(adjust_pvalues(f.p, "holm").tolist())
    g = rows[rows.family == "g"]
    assert g.p_adj_holm.iloc[0] == pytest.approx(g.p.iloc[0])  # a family of one: unadjusted
    assert rows.p_adj_bh.tolist() == pytest.approx(adjust_pvalues(rows.p, "fdr_bh").tolist())


def estimates_of(hypotheses: list[Hypothesis], table: pd.DataFrame, weights: pd.DataFrame):
    declarations = Declarations(FAST, {"f": "family f", "g": "family g"}, tuple(hypotheses))
    return item_estimates(declarations, table, "w", indicators=INDICATORS, weights=weights,
                          alpha=0.05)


def test_estimates_are_unweighted_with_a_marker_when_weights_are_trivial():
    table = firms()
    spec = Spec("cochran_armitage", ("important_linkedin",), "increasing")
    unit = pd.DataFrame({"respondent_id": table.respondent_id, "weight": 1.0})
    est = estimates_of([declared((spec,))], table, unit)
    unweighted = est[~est.weighted]
    assert set(unweighted["segment"]) == {"all", "micro", "small", "medium"}
    row = unweighted.set_index("segment").loc["all"]
    assert row.share == pytest.approx(table.important_linkedin.mean())
    marker = est[est.weighted]
    assert len(marker) == 1 and marker.iloc[0].note == NO_WEIGHTS_NOTE


def test_estimates_gain_weighted_rows_when_weights_vary():
    table = firms()
    weight = np.where(table.segment == "micro", 3.0, 0.5)
    weights = pd.DataFrame({"respondent_id": table.respondent_id, "weight": weight})
    spec = Spec("kruskal_wallis", ("post_linkedin",), "two_sided")
    est = estimates_of([declared((spec,))], table, weights)
    weighted = est[est.weighted].set_index(["item", "segment"])
    daily = (table.post_linkedin == "daily").to_numpy()
    assert weighted.loc[("post_linkedin=daily", "all"), "share"] == pytest.approx(
        (weight * daily).sum() / weight.sum())
    assert weighted.loc[("post_linkedin=daily", "all"), "method"] == "beta"
    # Within a segment the weights are equal: the domain's se is the binomial one of the
    # segment's n, times n / (n - 1) of the whole design (domain estimation, not subsetting).
    micro = weighted.loc[("post_linkedin=daily", "micro")]
    unweighted = est[~est.weighted].set_index(["item", "segment"])
    assert micro.share == pytest.approx(unweighted.loc[("post_linkedin=daily", "micro"), "share"])
    n, n_micro = len(table), int((table.segment == "micro").sum())
    assert micro.se == pytest.approx(math.sqrt(
        n / (n - 1) * micro.share * (1 - micro.share) / n_micro))


def test_battery_is_deterministic_and_the_summary_opens_with_the_disclosure():
    tests = (Spec("association", ("post_linkedin",), "two_sided"),
             Spec("kruskal_wallis", ("post_linkedin",), "two_sided"))
    unit = pd.DataFrame({"respondent_id": firms().respondent_id, "weight": 1.0})
    shares = {"w": estimates_of([declared(tests)], firms(), unit)}
    first = battery([declared(tests)], {"w": firms()}, item_estimates=shares)
    second = battery([declared(tests)], {"w": firms()}, item_estimates=shares)
    pd.testing.assert_frame_equal(first.tests, second.tests)
    # The battery carries the estimates stage's shares as they are.
    pd.testing.assert_frame_equal(first.estimates, shares["w"])
    declarations = Declarations(FAST, {"f": "family f"}, (declared(tests),))
    config = {"waves": {"w": {"disclosure": "Synthetic data: not findings, for testing."}}}
    text = summary_markdown(first, declarations, config, ["w"])
    assert text.splitlines()[2] == "> **w**: Synthetic data: not findings, for testing."
    assert "## H" in text
    assert "pearson_chi2" in text or "chi2_monte_carlo" in text


# --------------------------------------------------------------------------------------------
# Weighted waves: design-based rows with the unweighted test beside


def design_weights(table: pd.DataFrame, weighted: str = "panel") -> pd.DataFrame:
    """The weights stage's table for `firms()`: the panel post-stratified to segment shares
    0.7/0.2/0.1, the expert sample unweighted in its own stratum."""
    from smesocial.weights import MarginTargets, weight_wave
    result = weight_wave(table, [MarginTargets("segment", {"micro": 700, "small": 200,
                                                           "medium": 100})],
                         wave="w", weighted_samples=[weighted])
    return result.weights


def test_a_weighted_wave_reports_design_based_rows_with_the_unweighted_test_beside():
    table = firms()
    tests = (Spec("cochran_armitage", ("important_linkedin",), "increasing"),
             Spec("association", ("post_linkedin",), "two_sided"),
             Spec("kruskal_wallis", ("post_linkedin",), "two_sided"),
             Spec("cmh", ("important_linkedin",), "first_greater", group="sample",
                  groups=("expert", "panel")))
    weighted = battery([declared(tests)], {"w": table}, weights={"w": design_weights(table)}).tests
    plain = battery([declared(tests)], {"w": table}).tests
    assert len(weighted) == len(plain) == 4  # in declaration order, one row per test
    design_based = {"cochran_armitage": 0, "association": 1, "cmh": 3}
    for kind, i in design_based.items():
        row, unweighted = weighted.iloc[i], plain.iloc[i]
        assert row.estimand == "population (design-based)", kind
        assert row.method.startswith(("design_", "rao_scott")) and row.test == unweighted.test
        # the sensitivity columns are the unweighted test, exactly as without weights
        assert row.p_unweighted == unweighted.p and row.statistic_unweighted == unweighted.statistic
        assert row.p != unweighted.p and 0 < row.p < 1
    # the population is the panel, except where the samples themselves are compared
    panel = int(((table["sample"] == "panel") & table["important_linkedin"].notna()).sum())
    assert weighted.iloc[0].n == panel
    assert weighted.iloc[3].n == int(table["important_linkedin"].notna().sum())
    assert "population: the weighted samples" in weighted.iloc[0].note
    kruskal = weighted.iloc[2]
    assert kruskal.estimand == "population (design-based)"
    assert kruskal.method == "design_rank_kruskal_wallis" and 0 < kruskal.p < 1
    # Holm and BH adjust the reported (design-based) p
    assert weighted["p_adj_bh"].notna().sum() == weighted["p"].notna().sum()


def test_an_unweighted_wave_repeats_its_test_as_the_sensitivity_column():
    table = firms()
    unit = pd.DataFrame({"respondent_id": table.respondent_id, "weight": 1.0,
                         "stratum": "main", "in_population": True})
    tests = (Spec("cochran_armitage", ("important_linkedin",), "increasing"),)
    row = battery([declared(tests)], {"w": table}, weights={"w": unit}).tests.iloc[0]
    assert row.estimand == "respondents (unweighted)" and row.method == row.test
    assert row.p_unweighted == row.p and row.effect_size_unweighted == row.effect_size


def test_an_indicator_item_is_decided_once_per_distinct_answer_with_missing_kept():
    answers = pd.Series(pd.Categorical(["daily", None, "never", "weekly", "daily"],
                                       categories=["never", "weekly", "daily"], ordered=True),
                        index=[5, 6, 7, 8, 9], name="post_facebook")
    hit = in_values(answers, {"daily", "weekly"})
    assert hit.dtype == "boolean" and hit.index.equals(answers.index)
    assert hit.tolist() == [True, pd.NA, False, True, True]
    flags = pd.Series([True, False, None], dtype="boolean")
    assert in_values(flags, {True}).tolist() == [True, False, pd.NA]
    # as the per-value rule it replaces: Python's `in`, so 1 is True
    assert in_values(pd.Series([1, 0, 2]), {True}).tolist() == [True, False, False]


def test_battery_memo_computes_once_per_table_and_matches_the_direct_values():
    from smesocial.columns import as_text
    from smesocial.hypotheses import asked
    from smesocial.stats import Context

    table = pd.DataFrame({"segment": pd.Categorical(["a", "b", "a", None], categories=["a", "b"]),
                          "x": [True, None, False, True]})
    context = Context({}, Settings(), 0.05, 1)
    rows = context.in_segment(table, "segment", "a")
    pd.testing.assert_frame_equal(rows, table.iloc[[0, 2]])
    assert context.in_segment(table, "segment", "a") is rows  # made once
    pd.testing.assert_series_equal(context.text(table, "segment"), as_text(table["segment"]))
    assert context.asked(table, "x") is asked(table, "x", {}) is True
    # An equal table of its own is another entry, not the first table's result.
    other = table.assign(segment=pd.Categorical(["b", "b", "a", None], categories=["a", "b"]))
    assert list(context.in_segment(other, "segment", "a").index) == [2]
    assert len(context.memo) == 5
