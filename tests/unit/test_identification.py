"""smesocial.identification: the admissible count tables of rounded published shares, the sharp
ranges of the battery's statistics over them (checked by brute force on small cases), and the
classification of battery rows from the synthetic parameters' provenance."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from smesocial.config import (
    Harmonised,
    Indicator,
    load_harmonised,
    load_indicators,
    load_yaml,
)
from smesocial.identification import (
    Context,
    PairedSegment,
    admissible_counts,
    association_range,
    classify_row,
    determined,
    load_provenance,
    mcnemar_range,
    rounding_range,
    trend_range,
)
from smesocial.inference import association_test, mcnemar_paired, trend_in_proportions

ROOT = Path(__file__).resolve().parents[2]


def admits(k: int, n: int, v: float) -> bool:
    return abs(100 * k / n - v) <= 0.5 + 1e-12


# --- admissible counts ----------------------------------------------------------------------


def test_rounding_range_is_every_count_within_half_a_point():
    for n in range(1, 160):
        for v in range(0, 101, 7):
            assert list(rounding_range(v, n)) == [k for k in range(n + 1) if admits(k, n, v)]
    assert list(rounding_range(33, 97)) == [32]  # 32/97 = 32.99%; 33/97 = 34.02%
    assert list(rounding_range(50, 3)) == []  # no k of 3 gives 49.5-50.5%


def test_admissible_counts_equal_brute_force_with_an_all_firms_figure():
    bases = {"micro": 7, "small": 9, "medium": 11}
    figures = {"micro": [29.0], "medium": [55.0], "all": [41.0]}
    expected = [k for k in itertools.product(range(8), range(10), range(12))
                if admits(k[0], 7, 29) and admits(k[2], 11, 55) and admits(sum(k), 27, 41)]
    got = admissible_counts(bases, figures)
    assert sorted(map(tuple, got.tolist())) == sorted(expected)
    assert expected == [(2, 3, 6)]  # small has no figure: the all-firms one derives it


# --- ranges, by brute force -------------------------------------------------------------------


def test_trend_and_association_ranges_equal_brute_force_over_a_2x3_table():
    totals = [7, 9, 11]
    figures = {"micro": [29.0], "all": [41.0]}  # small and medium only through their sum
    vectors = [k for k in itertools.product(range(8), range(10), range(12))
               if admits(k[0], 7, 29) and admits(sum(k), 27, 41)]
    trend = [trend_in_proportions(np.array(k), np.array(totals), np.arange(3.0)) for k in vectors]
    assoc = [association_test(np.vstack([np.array(totals) - k, k])) for k in vectors]
    counts = admissible_counts(dict(zip(["micro", "small", "medium"], totals)), figures)
    t = trend_range(counts, totals)
    a = association_range(counts, totals)
    assert t.p_min == pytest.approx(min(r.p for r in trend), rel=1e-12)
    assert t.p_max == pytest.approx(max(r.p for r in trend), rel=1e-12)
    assert t.stat_min == pytest.approx(min(r.statistic for r in trend), rel=1e-12, abs=1e-12)
    assert t.stat_max == pytest.approx(max(r.statistic for r in trend), rel=1e-12)
    assert a.p_min == pytest.approx(min(r.p for r in assoc), rel=1e-12)
    assert a.p_max == pytest.approx(max(r.p for r in assoc), rel=1e-12)
    assert t.p_min < 0.05 < t.p_max  # the unpublished split decides significance here


def brute_mcnemar(segments, first_figs, second_figs):
    """Every paired table per segment (a, b, c, d over the pairs, plus the hits among each item's
    extra answerers) whose item shares among their own answerers reproduce the figures; the
    McNemar exact p and X^2 of the tables summed over segments."""
    per_segment = []
    for seg, v1, v2 in zip(segments, first_figs, second_figs):
        e1, e2 = seg.base_first - seg.pairs, seg.base_second - seg.pairs
        options = set()
        for a, b, c in itertools.product(range(seg.pairs + 1), repeat=3):
            if a + b + c > seg.pairs:
                continue
            for h1, h2 in itertools.product(range(e1 + 1), range(e2 + 1)):
                if admits(a + b + h1, seg.base_first, v1) and admits(a + c + h2, seg.base_second, v2):
                    options.add((b, c))
        per_segment.append(options)
    n = sum(s.pairs for s in segments)
    results = []
    for combo in itertools.product(*per_segment):
        b = sum(x[0] for x in combo)
        c = sum(x[1] for x in combo)
        results.append(mcnemar_paired(0, b, c, n - b - c))
    return results


@pytest.mark.parametrize("pairs, v1, v2", [(10, 60, 30), (12, 50, 42), (15, 33, 33), (9, 78, 11),
                                           (14, 64, 50), (6, 100, 0)])
def test_mcnemar_range_equals_brute_force_for_one_segment(pairs, v1, v2):
    seg = PairedSegment(pairs, pairs, pairs, (), ())
    c1 = admissible_counts({"s": pairs}, {"s": [v1]})
    c2 = admissible_counts({"s": pairs}, {"s": [v2]})
    assert len(c1) and len(c2)  # every case here is a share some count reproduces
    rng, _ = mcnemar_range([seg], c1, c2)
    brute = brute_mcnemar([seg], [v1], [v2])
    assert rng.p_min == pytest.approx(min(r.p for r in brute), rel=1e-12)
    assert rng.p_max == pytest.approx(max(r.p for r in brute), rel=1e-12)
    stats = [r.statistic for r in brute if np.isfinite(r.statistic)]
    if stats:
        assert rng.stat_min == pytest.approx(min(stats), rel=1e-12, abs=1e-12)
        assert rng.stat_max == pytest.approx(max(stats), rel=1e-12)


def test_mcnemar_range_equals_brute_force_with_non_response_and_two_segments():
    # the pairs are fewer than each item's answerers: hits among the others are free
    segments = [PairedSegment(6, 7, 8, (), ()), PairedSegment(5, 5, 6, (), ())]
    figs1, figs2 = [71.0, 40.0], [25.0, 67.0]
    c1 = admissible_counts({"a": 7, "b": 5}, {"a": [71.0], "b": [40.0]})
    c2 = admissible_counts({"a": 8, "b": 6}, {"a": [25.0], "b": [67.0]})
    rng, extremes = mcnemar_range(segments, c1, c2)
    brute = brute_mcnemar(segments, figs1, figs2)
    assert rng.p_min == pytest.approx(min(r.p for r in brute), rel=1e-12)
    assert rng.p_max == pytest.approx(max(r.p for r in brute), rel=1e-12)
    assert rng.stat_max == pytest.approx(max(r.statistic for r in brute
                                             if np.isfinite(r.statistic)), rel=1e-12)
    b, c, n = extremes["p_max"]
    assert n == 11 and mcnemar_paired(0, b, c, n - b - c).p == rng.p_max


# --- classification on a small fake provenance ------------------------------------------------

FAKE_SYNTHETIC = {
    "segments": {"a": {"n": 10}, "b": {"n": 12}},
    "targets": {
        "x": {  # 'yes' published in both segments; maybe/no split assumed
            "provenance": {"maybe": {"assumption": "guess"}},
            "a": {"pct": {"yes": 30, "maybe": 30, "no": 40},
                  "provenance": {"yes": {"source": "published:x_a"}}},
            "b": {"pct": {"yes": 50, "maybe": 25, "no": 25},
                  "provenance": {"yes": {"source": "published:x_b"}}},
        },
        "y": {  # 'yes' published in a, assumed in b
            "a": {"pct": {"yes": 40, "no": 60}, "provenance": {"yes": {"source": "published:y_a"}}},
            "b": {"pct": {"yes": 50, "no": 50}, "provenance": {"yes+no": {"assumption": "guess"}}},
        },
        "z": {  # 'yes' in a derived from published figures, cited by id
            "a": {"pct": {"yes": 60, "no": 40},
                  "provenance": {"no": {"derived": "100 - z_a_yes... i.e. from z_a_no"}}},
            "b": {"pct": {"yes": 50, "no": 50}, "provenance": {"yes": {"source": "published:z_b"}}},
        },
    },
}
FAKE_PUBLISHED = {"figures": [
    {"id": "x_a", "indicator": "x_yes", "segment": "a", "value": 30, "follow": True},
    {"id": "x_b", "indicator": "x_yes", "segment": "b", "value": 50, "follow": True},
    {"id": "y_a", "indicator": "y_yes", "segment": "a", "value": 40, "follow": True},
    {"id": "z_a_no", "indicator": "z_no", "segment": "a", "value": 40, "follow": True},
    {"id": "z_b", "indicator": "z_yes", "segment": "b", "value": 50, "follow": True},
]}


def fake_context():
    harmonised = Harmonised(scales={}, platforms={}, variables={}, derived={})
    indicators = {f"{v}_{c}": Indicator(f"{v}_{c}", v, (c,), "") for v in "xyz" for c in ("yes", "no")}
    prov = load_provenance(FAKE_SYNTHETIC, FAKE_PUBLISHED, harmonised, indicators)
    segment = ["a"] * 10 + ["b"] * 12
    x = ["yes"] * 3 + ["maybe"] * 3 + ["no"] * 4 + ["yes"] * 6 + ["maybe"] * 3 + ["no"] * 3
    y = ["yes"] * 4 + ["no"] * 6 + ["yes"] * 6 + ["no"] * 6
    z = ["yes"] * 6 + ["no"] * 4 + ["yes"] * 6 + ["no"] * 6
    order = pd.CategoricalDtype(["no", "maybe", "yes"], ordered=True)
    table = pd.DataFrame({"segment": pd.Categorical(segment, ["a", "b"]),
                          "x": pd.Series(x, dtype=order), "y": pd.Series(y, dtype=order),
                          "z": pd.Series(z, dtype=order)})
    return Context({"w": prov}, {"w": table}, harmonised, indicators), table


def row(item, test, segment="all", waves="w"):
    return {"hypothesis": "H", "waves": waves, "item": item, "segment": segment, "test": test,
            "p": 0.5}


def test_determined_uses_the_span_of_published_blocks_and_the_total():
    from smesocial.identification import Block
    universe = frozenset({"d", "w", "m", "n"})
    blocks = [Block(frozenset({"d", "w"}), "published", ("f",)), Block(frozenset({"n"}), "published", ("g",))]
    assert determined(frozenset({"d", "w"}), universe, blocks)
    assert determined(frozenset({"m"}), universe, blocks)  # 100 minus the two published blocks
    assert determined(frozenset({"m", "n"}), universe, blocks)
    assert not determined(frozenset({"d"}), universe, blocks)  # daily vs weekly: not published
    uncited = [Block(frozenset({"d", "w"}), "derived", ())]  # derived from nothing published
    assert not determined(frozenset({"d", "w"}), universe, uncited)


def test_classification_follows_the_provenance():
    ctx, _ = fake_context()
    ident = classify_row(row("x_yes", "cochran_armitage"), ctx)
    assert ident["class"] == "identified"
    expected = trend_in_proportions(np.array([3, 6]), np.array([10, 12]), np.arange(2.0))
    # 30% of 10 and 50% of 12 admit exactly one count each: the range is a point
    assert ident["p_min"] == pytest.approx(expected.p) and ident["p_max"] == pytest.approx(expected.p)
    assert ident["published_figures"] == "x_a;x_b"
    assert classify_row(row("y_yes", "cochran_armitage"), ctx)["class"] == "assumed"
    assert "y_yes: share in b" in classify_row(row("y_yes", "cochran_armitage"), ctx)["assumptions"]
    assert classify_row(row("x", "kruskal_wallis"), ctx)["class"] == "assumed"  # maybe/no split
    # z's 'yes' in a is the complement of a published 'no': identified as well
    z = classify_row(row("z_yes", "pearson_chi2"), ctx)
    assert z["class"] == "identified" and "z_a_no" in z["published_figures"]
    paired = classify_row(row("x_yes vs z_yes", "mcnemar_exact", segment="a"), ctx)
    assert paired["class"] == "bounded"
    assert paired["p_min"] <= paired["p_max"]
    assert classify_row(row("x_yes vs y_yes", "mcnemar_exact", segment="b"), ctx)["class"] == "assumed"
    assert classify_row(row("x_yes vs z_yes", "cochrans_q"), ctx)["class"] == "assumed"
    assert classify_row(row("x_yes", "cmh", waves="w+other"), ctx)["class"] == "assumed"


# --- the shipped parameters ----------------------------------------------------------------


def shipped_context():
    """The shipped dk_2024 provenance and figures on a table with the report's segment sizes and
    no item non-response (bases 97 / 103 / 132); answers are irrelevant to the ranges."""
    harmonised = load_harmonised(ROOT / "config/codebook/harmonised.yaml")
    indicators = load_indicators(ROOT / "config/indicators.yaml", harmonised.platforms,
                                 harmonised.purposes)
    prov = load_provenance(load_yaml(ROOT / "config/synthetic/dk_2024.yaml"),
                           load_yaml(ROOT / "config/published/dk_2024.yaml"), harmonised, indicators)
    sizes = {"micro": 97, "small": 103, "medium": 132}
    segment = [s for s, n in sizes.items() for _ in range(n)]
    rng = np.random.default_rng(0)
    frame = {"segment": pd.Categorical(segment, list(sizes))}
    for platform in ("linkedin", "facebook"):
        frame[f"post_{platform}"] = pd.Categorical(
            rng.choice(["never", "almost_never", "monthly", "weekly", "daily"], len(segment)),
            ["never", "almost_never", "monthly", "weekly", "daily"], ordered=True)
        frame[f"important_{platform}"] = pd.Series(rng.random(len(segment)) < 0.5, dtype=bool)
    table = pd.DataFrame(frame)
    return Context({"dk_2024": prov}, {"dk_2024": table}, harmonised, indicators)


def test_shipped_provenance_classes():
    ctx = shipped_context()
    ca = classify_row(row("post_daily_weekly_linkedin", "cochran_armitage", waves="dk_2024"), ctx)
    assert ca["class"] == "identified"
    assert set(ca["published_figures"].split(";")) >= {
        "hk4_linkedin_dw_micro", "hk4_linkedin_dw_small", "hk4_linkedin_dw_medium"}
    # 33% of 97 -> 32, 46% of 103 -> 47, 78% of 132 -> 103: one table, a point range
    point = trend_in_proportions(np.array([32, 47, 103]), np.array([97, 103, 132]), np.arange(3.0))
    assert ca["p_min"] == pytest.approx(point.p) and ca["p_max"] == pytest.approx(point.p)
    kw = classify_row(row("post_linkedin", "kruskal_wallis", waves="dk_2024"), ctx)
    assert kw["class"] == "assumed" and "daily" in kw["assumptions"]
    mc = classify_row(row("important_linkedin vs post_daily_weekly_linkedin", "mcnemar_exact",
                          segment="micro", waves="dk_2024"), ctx)
    assert mc["class"] == "bounded"
    # margins 63% and 33% of 97: 61 and 32, so b - c = 29 and 29 <= b + c <= min(93, 101)
    assert mc["p_min"] == pytest.approx(mcnemar_paired(0, 29, 0, 68).p)
    assert mc["p_max"] == pytest.approx(mcnemar_paired(0, 61, 32, 4).p)
    assert mc["holds_at_worst_case"] is True
