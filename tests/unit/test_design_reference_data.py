"""The design-based reference fixtures (tests/data/reference/design_*.csv) and R's values on them
(r_design_values.json, tests/reference/make_design_reference.R) agree with each other: the JSON
was computed from these very files, R's weights reproduce the calibration targets, and R's
estimates can be recomputed from the fixtures and R's weights. The data are synthetic.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "data" / "reference"
R = json.loads((REFERENCE / "r_design_values.json").read_text(encoding="utf-8"))
NO = pd.read_csv(REFERENCE / "design_no_2010.csv")
POOLED = pd.read_csv(REFERENCE / "design_pooled.csv")
DK = pd.read_csv(REFERENCE / "design_dk_ordinal.csv")
NO_POPULATION = pd.read_csv(REFERENCE / "design_population.csv")
POOLED_POPULATION = pd.read_csv(REFERENCE / "design_pooled_population.csv")
DK_POPULATION = pd.read_csv(REFERENCE / "design_dk_population.csv", comment="#")
NO_ITEMS = [c for c in NO.columns if c not in ("row", "sample", "segment", "segment_score", "cell")]
SEGMENTS = ["micro", "small", "medium", "large"]


def test_json_was_computed_from_the_committed_fixtures():
    for name, md5 in R["meta"]["input_md5"].items():
        assert hashlib.md5((REFERENCE / name).read_bytes()).hexdigest() == md5, name


def test_json_records_r_and_survey_4():
    assert R["meta"]["survey_version"].split(".")[0] == "4"
    assert R["meta"]["r_version"].startswith("4.")


def test_fixture_sizes_match_the_weights_r_gave():
    assert len(NO) == len(R["weights"]["D"]) == 750
    assert len(POOLED) == len(R["weights"]["P"]) == len(DK) + len(NO)
    assert len(DK) == len(R["weights"]["K"]) == 332
    assert list(NO["row"]) == list(range(1, len(NO) + 1))


def test_fixture_items_are_binary_with_missing_values():
    values = NO[NO_ITEMS]
    assert set(values.melt()["value"].dropna()) == {0.0, 1.0}
    assert values.isna().any().all()  # every item has unanswered rows: domains are non-trivial
    assert len(NO_ITEMS) == len(R["shares"]) == 25


def test_r_weights_sum_to_each_sample_and_calibration_cell():
    weights = pd.Series(R["weights"]["D"])
    by_sample = weights.groupby(NO["sample"]).sum()
    assert by_sample["panel"] == pytest.approx((NO["sample"] == "panel").sum(), rel=1e-12)
    assert by_sample["expert"] == pytest.approx((NO["sample"] == "expert").sum(), rel=1e-12)
    by_cell = weights.groupby(NO["cell"]).sum()
    targets = NO_POPULATION.set_index("cell")["count"]
    for cell, count in targets.items():
        assert by_cell[cell] == pytest.approx(count, rel=1e-12), cell
    # Population shares of the panel cells are Statistics Norway's counts' shares.
    panel = NO_POPULATION[NO_POPULATION["cell"] != "expert"]
    assert list(panel["count"] / panel["count"].sum()) == pytest.approx(
        list(panel["population_count"] / panel["population_count"].sum()), rel=1e-12)


def test_pooled_and_danish_weights_meet_their_targets():
    pooled = pd.Series(R["weights"]["P"]).groupby(POOLED["cell"]).sum()
    for cell, count in POOLED_POPULATION.set_index("cell")["count"].items():
        assert pooled[cell] == pytest.approx(count, rel=1e-12), cell
    assert set(POOLED["stratum"]) == {"dk_main", "no_panel", "no_expert"}
    dk = pd.Series(R["weights"]["K"]).groupby(DK["cell"]).sum()
    for cell, share in DK_POPULATION.set_index("cell")["share"].items():
        assert dk[cell] == pytest.approx(share * len(DK), rel=1e-12), cell


@pytest.mark.parametrize("item", NO_ITEMS)
def test_r_domain_means_are_weighted_means_of_the_fixture(item):
    weights = np.asarray(R["weights"]["D"])
    for domain, entry in R["shares"][item].items():
        segment = domain.removeprefix("panel_") if domain != "panel" else None
        rows = (NO["sample"] == "panel") & NO[item].notna()
        if segment:
            rows &= NO["segment"] == segment
        assert entry["n"] == rows.sum(), domain
        assert entry["degf"] == rows.sum() - 1, domain  # one stratum (panel) in the domain
        expected = np.average(NO.loc[rows, item], weights=weights[rows])
        assert entry["mean"] == pytest.approx(expected, abs=1e-12), domain
        if 0 < entry["mean"] < 1:
            low, high = entry["logit_converged"]["ci"]
            assert low < entry["mean"] < high, domain
            assert entry["logit_converged"]["estimate"] == pytest.approx(entry["mean"], abs=1e-12)
            # The logit interval is the delta-method one on the logit scale: xlogit's.
            assert [low, high] == pytest.approx(entry["xlogit"]["ci"], abs=1e-10), domain


def test_svyciprop_logit_is_flagged_exactly_where_its_own_fit_diverged():
    flagged = 0
    for item, domains in R["shares"].items():
        for domain, entry in domains.items():
            if "logit_fit_ok" not in entry:
                assert entry["mean"] in (0.0, 1.0), (item, domain)
                continue
            low, high = entry["logit"]
            if entry["logit_fit_ok"]:
                assert [low, high] == pytest.approx(entry["logit_converged"]["ci"], abs=1e-8)
            else:
                flagged += 1
                assert not low < entry["mean"] < high, (item, domain)
    assert flagged == 5


def test_svyby_equals_the_per_segment_subsets():
    for item, by in R["shares_svyby"].items():
        for segment, estimate, low, high in zip(by["segment"], by["estimate"], by["ci_low"],
                                                by["ci_high"]):
            entry = R["shares"][item][f"panel_{segment}"]
            assert estimate == pytest.approx(entry["mean"], abs=1e-12)
            assert [low, high] == pytest.approx(entry["beta"], abs=1e-12)


def test_trend_contrast_is_largest_minus_smallest_domain_mean():
    for item, trend in R["trend"].items():
        by = trend["segment_means_svyby"]
        means = dict(zip(by["segment"], by["mean"]))
        ses = dict(zip(by["segment"], by["se"]))
        for segment in SEGMENTS:
            share = R["shares"][item][f"panel_{segment}"]
            assert means[segment] == pytest.approx(share["mean"], abs=1e-12)
            assert ses[segment] == pytest.approx(share["se"], abs=1e-12)
        contrast = trend["largest_minus_smallest"]
        assert contrast["estimate"] == pytest.approx(means["large"] - means["micro"], abs=1e-12)
        # Domains are disjoint but post-stratification ties them: the SE is not the independent
        # one, yet close to it.
        assert contrast["se"] == pytest.approx(math.hypot(ses["large"], ses["micro"]), rel=0.05)


def test_paired_differences_are_consistent():
    assert len(R["paired"]) == 10
    for name, entry in R["paired"].items():
        rows = (NO["sample"] == "panel") & NO[entry["a"]].notna() & NO[entry["b"]].notna()
        assert entry["n"] == rows.sum(), name
        difference = entry["mean_difference"]
        assert difference == pytest.approx(entry["mean_a"] - entry["mean_b"], abs=1e-12)
        t = entry["svyttest"]
        df = t["parameter"]["df"]
        assert t["statistic"] == pytest.approx(difference / entry["se_difference"], rel=1e-12)
        assert df == entry["degf"] - 1
        assert t["p"] == pytest.approx(2 * sps.t.sf(abs(t["statistic"]), df), rel=1e-9)


def test_equal_means_wald_statistic_recomputes_from_r_means_and_covariance():
    for entry in R["equal_means"].values():
        means = np.array([entry["means"][item] for item in entry["items"]])
        contrasts = np.array(entry["contrasts"])
        difference = contrasts @ means
        covariance = contrasts @ np.array(entry["vcov"]) @ contrasts.T
        x2 = float(difference @ np.linalg.solve(covariance, difference))
        assert entry["X2"] == pytest.approx(x2, rel=1e-10)
        assert entry["p_F"] == pytest.approx(sps.f.sf(x2 / 2, 2, entry["ddf"]), rel=1e-9)
        assert entry["p_chisq"] == pytest.approx(sps.chi2.sf(x2, 2), rel=1e-9)


def test_every_svyglm_is_converged():
    moved = []

    def walk(node):
        if isinstance(node, dict):
            if "coef_moved_on_refit_from_zero" in node:
                moved.append(node["coef_moved_on_refit_from_zero"])
            for value in node.values():
                walk(value)

    walk(R)
    assert len(moved) == 10 + 3 * 2 * 2 + 5 + 1
    assert max(moved) < 1e-9


def test_svyglm_confint_is_wald_with_t_at_df_residual():
    for item, entry in R["svyglm_no"].items():
        quantile = sps.t.ppf(0.975, entry["df_residual"])
        for name in entry["coef_names"]:
            coef, half = entry["coef"][name], quantile * entry["se"][name]
            assert entry["confint"]["low"][name] == pytest.approx(coef - half, abs=1e-10)
            assert entry["confint"]["high"][name] == pytest.approx(coef + half, abs=1e-10)
            assert entry["odds_ratio"][name] == pytest.approx(math.exp(coef), rel=1e-12)
        rows = NO[item].notna()
        assert entry["n"] == rows.sum(), item
        assert entry["df_residual"] == rows.sum() - 2 + 1 - len(entry["coef_names"])  # two strata


def test_r_refused_only_the_calls_the_readme_lists():
    errors = []

    def walk(node, path):
        if isinstance(node, dict):
            if "error" in node:
                errors.append("/".join(path))
            for key, value in node.items():
                walk(value, path + [key])

    walk(R, [])
    kinds = {path.split("/")[-1] for path in errors}
    assert kinds == {"likelihood", "largest_minus_smallest_svyby", "as_asked"}
    # The profile-likelihood interval fails only where the domain has few (or no) successes.
    for path in errors:
        if path.endswith("likelihood"):
            _, item, domain, _ = path.split("/")
            rows = (NO["sample"] == "panel") & NO[item].notna()
            if domain != "panel":
                rows &= NO["segment"] == domain.removeprefix("panel_")
            assert NO.loc[rows, item].sum() <= 3, path


def test_svyolr_tight_fit_is_the_answered_rows_fit():
    for item, fits in R["dk_ordinal"]["svyolr"].items():
        check = fits["coef_check_uncalibrated_answered_rows"]
        assert fits["tight"]["n"] == DK[item].notna().sum()
        for name, value in check.items():
            assert fits["tight"]["coef"][name] == pytest.approx(value, abs=1e-6), (item, name)
