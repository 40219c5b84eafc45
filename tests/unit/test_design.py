"""Design-based estimates and tests against R's survey package on the project's own data.

The reference values come from tests/reference/make_design_reference.R (survey 4.x) on the
fixtures of tests/data/reference/ (the built synthetic waves: no_2010's panel post-stratified to
Statistics Norway's 2017 counts, its expert sample a stratum of unit weights; dk+no pooled; dk
with made-up calibration targets) and are stored in r_design_values.json, so no R is needed
here. Every value is checked to 1e-6: statistics, estimates and standard errors relatively,
probabilities and interval bounds absolutely. The code under test is the pipeline's own: the
weights stage's weight_wave, the estimates stage's weighted rows and the battery's
design_result, besides the design module's functions.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smesocial import design as svy
from smesocial.design import Design
from smesocial.errors import NotEstimable
from smesocial.estimates import POPULATION_NOTE, _weighted_estimates
from smesocial.weighted_tests import Inputs, design_result
from smesocial.weights import MarginTargets, weight_wave

REFERENCE = Path(__file__).parents[1] / "data" / "reference"
R = json.loads((REFERENCE / "r_design_values.json").read_text(encoding="utf-8"))
SEGMENTS = ["micro", "small", "medium", "large"]


def close(value: float, expected: float) -> bool:
    """Equal to R's value within 1e-6, relative (absolute near zero)."""
    return math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-9)


def probability(value: float, expected: float) -> bool:
    """A p-value or an interval bound within 1e-6 of R's, absolutely."""
    return abs(value - expected) <= 1e-6


def fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name, comment="#", keep_default_na=True)


@pytest.fixture(scope="module")
def norway() -> tuple[pd.DataFrame, pd.DataFrame, Design]:
    """The no_2010 fixture, its weights from the weights stage (panel post-stratified, expert
    unweighted) and the design the estimates and stats stages build from them."""
    data = fixture("design_no_2010.csv")
    data["respondent_id"] = "r" + data["row"].astype(str)
    population = fixture("design_population.csv")
    panel_targets = {c: float(n) for c, n in zip(population.cell, population.population_count)
                     if c != "expert"}
    frame = data.assign(cell=np.where(data["sample"] == "panel", data["segment"], "expert"))
    result = weight_wave(frame, [MarginTargets("cell", panel_targets)], wave="no_2010",
                         weighted_samples=["panel"])
    return data, result.weights, Design.from_frame(result.weights)


def values(data: pd.DataFrame, item: str) -> np.ndarray:
    return data[item].to_numpy(dtype=float)


def test_weights_stage_gives_r_post_stratified_weights(norway):
    _data, weights, design = norway
    assert np.allclose(weights["weight"], R["weights"]["D"], rtol=1e-12, atol=0)
    assert weights.loc[~weights["in_population"], "weight"].eq(1.0).all()
    assert design.degf() == 750 - 2


def shares_by_domain(data: pd.DataFrame, weights: pd.DataFrame, interval: str) -> pd.DataFrame:
    items = list(R["shares"])
    work = data[["respondent_id", "segment"]].copy()
    for item in items:
        work[item] = data[item].map({1: True, 0: False}).astype("boolean")
    work["segment"] = pd.Categorical(work["segment"], SEGMENTS, ordered=True)
    return _weighted_estimates("no_2010", work, items, weights, "segment", 0.05, interval)


@pytest.mark.parametrize("interval", ["beta", "logit"])
def test_weighted_shares_by_segment_equal_svyciprop(norway, interval):
    data, weights, _design = norway
    rows = shares_by_domain(data, weights, interval).set_index(["item", "segment"])
    checked = 0
    for item, domains in R["shares"].items():
        for domain, expected in domains.items():
            segment = "all" if domain == "panel" else domain.removeprefix("panel_")
            row = rows.loc[(item, segment)]
            assert row.n == expected["n"] and row.note == POPULATION_NOTE
            assert close(row.share, expected["mean"]), (item, domain)
            assert close(row.se, expected["se"]), (item, domain)
            if expected["mean"] in (0.0, 1.0):  # no design variance: R has no interval
                assert row.ci_low == 0.0 or row.ci_high == 1.0
                continue
            assert close(row.deff, expected["deff_replace"]), (item, domain)
            # R's own logit fit diverges in a few small domains; the converged fit is the
            # same computation started at logit(mean)
            reference = (expected[interval] if interval == "beta" or expected["logit_fit_ok"]
                         else expected["logit_converged"]["ci"])
            assert probability(row.ci_low, reference[0]), (item, domain, interval)
            assert probability(row.ci_high, reference[1]), (item, domain, interval)
            checked += 1
    assert checked > 100


def test_domain_degrees_of_freedom_equal_r_degf(norway):
    data, _weights, design = norway
    panel = (data["sample"] == "panel").to_numpy()
    for item, domains in R["shares"].items():
        for domain, expected in domains.items():
            inside = panel if domain == "panel" else panel & (data["segment"] == domain[6:]).to_numpy()
            means = svy.domain_means(design, values(data, item)[:, None], inside)
            assert int(means.df[0]) == expected["degf"]


@pytest.mark.parametrize("item", ["present_facebook", "present_linkedin", "present_blog"])
def test_rao_scott_equals_svychisq(norway, item):
    data, _weights, design = norway
    panel = (data["sample"] == "panel").to_numpy()
    cases = {"by_segment_panel": (data["segment"].to_numpy(object), panel),
             "by_sample": (data["sample"].to_numpy(object), None)}
    for case, (columns, domain) in cases.items():
        second, first = svy.rao_scott(design, values(data, item), columns, domain)
        expected = R["rao_scott"][item][case]
        assert close(second.statistic, expected["F"]["statistic"]), case
        assert close(second.df, expected["F"]["parameter"]["ndf"]), case
        assert close(second.ddf, expected["F"]["parameter"]["ddf"]), case
        assert probability(second.p, expected["F"]["p"]), case
        assert close(first.estimate, expected["Chisq"]["statistic"]), case  # X^2 as R prints it
        assert probability(first.p, expected["Chisq"]["p"]), case


def _columns(data: pd.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
    """R's treatment-coded columns named as R names them."""
    out: dict[str, np.ndarray] = {}
    for name in names:
        if name == "expert":
            out[name] = (data["sample"] == "expert").to_numpy(float)
        elif name.startswith("segment") and name[7:] in SEGMENTS:
            out[name] = (data["segment"] == name[7:]).to_numpy(float)
    return out


@pytest.mark.parametrize("item", sorted(R["svyglm_no"]))
def test_survey_logit_equals_svyglm(norway, item):
    data, _weights, design = norway
    expected = R["svyglm_no"][item]
    model = svy.survey_logit(design, values(data, item), _columns(data, expected["coef_names"][1:]))
    assert list(model.names) == expected["coef_names"]
    assert model.df_residual == expected["df_residual"]
    for i, name in enumerate(model.names):
        assert close(model.coef[i], expected["coef"][name]), name
    assert np.allclose(model.vcov, np.array(expected["vcov"]), rtol=1e-6, atol=1e-12)
    wald = model.wald(["expert"])
    assert close(wald.statistic, expected["expert_wald"]["Ftest"])
    assert probability(wald.p, expected["expert_wald"]["p"])
    reduced = svy.survey_logit(design, values(data, item),
                               _columns(data, expected["coef_names"][2:]))
    lrt = svy.working_lrt(model, reduced, ["expert"])
    assert close(lrt.statistic, expected["expert_lrt_satterthwaite"]["chisq"])
    assert probability(lrt.p, expected["expert_lrt_satterthwaite"]["p"])


@pytest.mark.parametrize("item", sorted(R["svyglm_no"]))
def test_battery_panel_vs_expert_row_equals_svyglm(norway, item):
    """The battery's design-based logit_group row: odds ratio, its t interval (confint on the
    residual df), Wald F and p, on every respondent (the samples are what is compared)."""
    data, _weights, design = norway
    expected = R["svyglm_no"][item]
    inputs = Inputs(design, np.ones(design.n, bool), data["segment"].to_numpy(str), SEGMENTS, 0.05)
    group = (data["sample"] == "expert").to_numpy(float)
    result = design_result("logit_group", [values(data, item)], inputs, group=group)
    assert close(result.effect_size, expected["odds_ratio"]["expert"])
    assert close(result.effect_ci_low, expected["odds_ratio_ci"]["low"]["expert"])
    assert close(result.effect_ci_high, expected["odds_ratio_ci"]["high"]["expert"])
    assert close(result.statistic, expected["expert_wald"]["Ftest"])
    assert probability(result.p, expected["expert_wald"]["p"])
    assert result.n == expected["n"]


@pytest.fixture(scope="module")
def pooled() -> tuple[pd.DataFrame, Design]:
    data = fixture("design_pooled.csv")
    norway_weights = R["weights"]["D"]
    no = fixture("design_no_2010.csv")
    # The pooled design is each wave's own: dk unweighted, no_2010 as the weights stage made it.
    weights = np.concatenate([np.ones(int((data["wave"] == "dk_2024").sum())), norway_weights])
    assert len(no) == int((data["wave"] == "no_2010").sum())
    assert np.allclose(weights, R["weights"]["P"], rtol=1e-12, atol=0)
    cells = np.where(data["cell"].isin(SEGMENTS), data["cell"], "uncalibrated:" + data["stratum"])
    design = Design(weights, data["stratum"].to_numpy(), (cells,),
                    (data["stratum"] != "no_expert").to_numpy())
    return data, design


@pytest.mark.parametrize("item", ["post_daily_weekly_facebook", "post_daily_weekly_linkedin",
                                  "post_daily_weekly_youtube"])
@pytest.mark.parametrize("population", ["without_expert", "with_expert"])
def test_pooled_country_models_equal_svyglm(pooled, item, population):
    data, design = pooled
    domain = design.in_population if population == "without_expert" else None
    y = values(data, item)
    dk = (data["country"] == "DK").to_numpy(float)
    large = (data["segment_common"] == "medium_large").to_numpy(float)
    additive = {"dk": dk, "segment_commonmedium_large": large}
    main = svy.survey_logit(design, y, additive, domain)
    expected = R["svyglm_pooled"][item][population]
    wald = main.wald(["dk"])
    assert close(wald.statistic, expected["additive"]["dk_wald"]["Ftest"])
    assert probability(wald.p, expected["additive"]["dk_wald"]["p"])
    full = svy.survey_logit(design, y, {**additive, "dk:segment_commonmedium_large": dk * large},
                            domain)
    interaction = full.wald(["dk:segment_commonmedium_large"])
    assert close(interaction.statistic, expected["interaction"]["interaction_wald"]["Ftest"])
    lrt = svy.working_lrt(full, main, ["dk:segment_commonmedium_large"])
    reference = expected["interaction"]["interaction_lrt_satterthwaite"]
    assert close(lrt.statistic, reference["chisq"])
    assert probability(lrt.p, reference["p"])
    assert lrt.ddf == reference["ddf"]


@pytest.mark.parametrize("pair", sorted(R["paired"]))
def test_paired_difference_equals_svyttest(norway, pair):
    data, _weights, design = norway
    expected = R["paired"][pair]
    a, b = values(data, expected["a"]), values(data, expected["b"])
    panel = (data["sample"] == "panel").to_numpy() & ~np.isnan(a) & ~np.isnan(b)
    test = svy.mean_difference(design, a, b, panel)
    assert close(test.estimate, expected["mean_difference"])
    assert close(test.statistic, expected["svyttest"]["statistic"])
    assert test.ddf == expected["svyttest"]["parameter"]["df"]
    assert probability(test.p, expected["svyttest"]["p"])
    assert probability(test.ci_low, expected["svyttest"]["conf_int"][0])
    assert probability(test.ci_high, expected["svyttest"]["conf_int"][1])


@pytest.mark.parametrize("item", sorted(R["trend"]))
def test_design_trend_equals_svyglm_on_the_segment_score(norway, item):
    data, _weights, design = norway
    expected = R["trend"][item]
    panel = (data["sample"] == "panel").to_numpy()
    inputs = Inputs(design, panel, data["segment"].to_numpy(str), SEGMENTS, 0.05)
    result = design_result("cochran_armitage", [values(data, item)], inputs)
    assert close(result.statistic, expected["svyglm"]["segment_score_wald"]["Ftest"])
    assert probability(result.p, expected["svyglm"]["segment_score_wald"]["p"])
    assert close(result.effect_size, expected["largest_minus_smallest"]["estimate"])
    z = float(np.abs(np.array([result.effect_ci_low, result.effect_ci_high]) - result.effect_size)
              .mean()) / 1.959963984540054
    assert close(z, expected["largest_minus_smallest"]["se"])


def test_equal_shares_wald_equals_svycontrast(norway):
    data, _weights, design = norway
    (key, expected), = R["equal_means"].items()
    matrix = np.column_stack([values(data, item) for item in expected["items"]])
    panel = (data["sample"] == "panel").to_numpy()
    test = svy.equal_means(design, matrix, panel)
    assert close(test.statistic, expected["F"])
    assert (test.df, test.ddf) == (expected["ndf"], expected["ddf"])
    assert probability(test.p, expected["p_F"])


def test_unstratified_design_with_made_up_targets_equals_r():
    """The Danish fixture: one stratum, post-stratified to made-up shares (a design without
    strata, and a three-column Rao-Scott table)."""
    data = fixture("design_dk_ordinal.csv")
    weights = np.array(R["weights"]["K"])
    design = Design(weights, np.zeros(len(data)), (data["cell"].to_numpy(),))
    y = values(data, "want_more_with_resources")
    second, first = svy.rao_scott(design, y, data["segment"].to_numpy(object))
    expected = R["dk_ordinal"]["rao_scott_want_more"]
    assert close(second.statistic, expected["F"]["statistic"])
    assert close(second.ddf, expected["F"]["parameter"]["ddf"])
    assert probability(second.p, expected["F"]["p"])
    assert probability(first.p, expected["Chisq"]["p"])
    model = svy.survey_logit(design, y, {"segment_score": data["segment_score"].to_numpy(float)})
    trend = R["dk_ordinal"]["trend_want_more"]
    assert close(model.coef[1], trend["coef"]["segment_score"])
    assert probability(model.wald(["segment_score"]).p, trend["segment_score_wald"]["p"])


@pytest.mark.parametrize("item", ["professionalism", "post_linkedin"])
def test_survey_ordinal_logit_equals_svyolr(item):
    """R's svyolr with a tight optimiser (its default stops up to 6e-5 from the optimum)."""
    data = fixture("design_dk_ordinal.csv")
    design = Design(np.array(R["weights"]["K"]), np.zeros(len(data)), (data["cell"].to_numpy(),))
    model = svy.survey_ordinal_logit(design, values(data, item), values(data, "segment_score"))
    expected = R["dk_ordinal"]["svyolr"][item]["tight"]
    assert close(model.beta, expected["coef"]["segment_score"])
    assert close(model.se, expected["se"]["segment_score"])
    assert np.allclose(model.zeta, [expected["coef"][k] for k in expected["coef_names"][1:]],
                       rtol=1e-6, atol=0)
    assert np.allclose(model.vcov, np.array(expected["vcov"]), rtol=1e-6, atol=1e-9)
    assert model.df_residual == expected["df_residual"]


def test_design_rank_test_equals_svyranktest():
    data = fixture("design_dk_ordinal.csv")
    design = Design(np.array(R["weights"]["K"]), np.zeros(len(data)), (data["cell"].to_numpy(),))
    segments = data["segment"].to_numpy(str)
    inputs = Inputs(design, np.ones(design.n, bool), segments, ["micro", "small", "medium"], 0.05)
    result = design_result("kruskal_wallis", [values(data, "professionalism")], inputs)
    expected = R["dk_ordinal"]["kruskal_wallis"]["full_design"]
    assert close(result.statistic * result.df, expected["chisq"])  # R's Wald chi-square
    assert result.df == expected["ndf"] and str(expected["ddf"]) in result.note
    assert probability(result.p, expected["p"])


def test_every_declared_test_kind_has_a_design_based_version():
    from smesocial.hypotheses import TEST_KINDS
    rng = np.random.default_rng(5)
    n = 300
    design = Design(rng.uniform(0.5, 2.0, n), np.zeros(n))
    segments = np.array(["micro", "small", "medium"])[rng.integers(0, 3, n)]
    inputs = Inputs(design, np.ones(n, bool), segments, ["micro", "small", "medium"], 0.05)
    binary = [rng.integers(0, 2, n).astype(float) for _ in range(3)]
    ordered = rng.integers(0, 4, n).astype(float)
    for kind in TEST_KINDS:
        items = {"one": [ordered if kind in ("kruskal_wallis", "ordinal_logit_trend",
                                             "association") else binary[0]],
                 "two": binary[:2], "many": binary}[TEST_KINDS[kind]]
        group = binary[2] if kind in ("cmh", "logit_group") else None
        result = design_result(kind, items, inputs, group=group)
        assert 0 < result.p < 1 and result.n > 0, kind


# --------------------------------------------------------------------------------------------
# Properties the reference data do not reach


def test_raking_residualises_on_every_margin():
    """With two margins the influence values end orthogonal to both margins' cells (R's ten
    sweeps converge to the projection), so a variable constant within cells has no variance."""
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 3, 400), rng.integers(0, 2, 400)
    design = Design(rng.uniform(0.5, 2, 400), np.zeros(400), (a, b))
    x = np.column_stack([a == 1, b == 1]).astype(float) * design.weights[:, None]
    residual = design.calibrated(x)
    assert np.abs(residual).max() < 1e-3
    assert np.all(design.variance(x) < 1e-6)


def test_a_stratum_of_one_respondent_is_not_estimable():
    design = Design(np.ones(5), np.array([0, 0, 0, 0, 1]))
    with pytest.raises(NotEstimable, match="single respondent"):
        design.variance(np.ones(5))


def test_design_rejects_non_positive_weights_and_ragged_columns():
    with pytest.raises(ValueError, match="finite and positive"):
        Design(np.array([1.0, 0.0]), np.zeros(2))
    with pytest.raises(ValueError, match="differ in length"):
        Design(np.ones(3), np.zeros(2))


def test_a_share_of_zero_has_the_clopper_pearson_interval_of_its_n():
    low, high = svy.proportion_interval(0.0, 0.0, 9, 10, 100, method="beta")
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 10))


@pytest.mark.parametrize(("threshold", "collections"), [(10**9, 0), (1, 1)])
def test_survey_glm_frees_a_fit_at_once_only_for_a_large_design(norway, monkeypatch, threshold,
                                                                 collections):
    """A full collection after each fit frees a million-row fit's arrays (memory), but costs
    ~25 ms: small designs (a battery fits hundreds) leave it to the collector."""
    data, _weights, design = norway
    item = sorted(R["svyglm_no"])[0]
    calls = []
    monkeypatch.setattr(svy, "COLLECT_AFTER_FIT_ROWS", threshold)
    monkeypatch.setattr(svy.gc, "collect", lambda *args: calls.append(args) or 0)
    names = R["svyglm_no"][item]["coef_names"][1:]
    model = svy.survey_logit(design, values(data, item), _columns(data, names))
    assert list(model.names) == R["svyglm_no"][item]["coef_names"]
    assert len(calls) == collections
