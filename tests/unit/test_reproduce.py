"""Published vs recomputed: statuses and the report's own inconsistencies."""

import pandas as pd

from smesocial.reproduce import check_rank_claims, compare_published


def estimates() -> pd.DataFrame:
    return pd.DataFrame({
        "indicator": ["post_daily_weekly_linkedin"] * 2 + ["post_daily_weekly_facebook", "x"],
        "segment": ["all", "micro", "all", "all"],
        "weighted": [False] * 4,
        "n": [332, 97, 330, 0],
        "share": [182 / 332, 32 / 97, 0.58, float("nan")],
    })


PUBLISHED = {
    "figures": [
        {"id": "a", "indicator": "post_daily_weekly_linkedin", "segment": "all", "value": 55, "follow": True},
        {"id": "b", "indicator": "post_daily_weekly_linkedin", "segment": "all", "value": 56, "follow": False},
        {"id": "c", "indicator": "post_daily_weekly_linkedin", "segment": "micro", "value": 35, "follow": True},
        {"id": "d", "indicator": "x", "segment": "all", "value": 10, "follow": True},
    ],
    "conflicts": [{"id": "li", "figures": ["a", "b"], "followed": "a", "why": "55 is implied."}],
    "rank_claims": [
        {"id": "r1", "segment": "all", "measure": "post_daily_weekly",
         "order": ["facebook", "linkedin"], "quote": "FB then LI"},
    ],
}


def test_statuses():
    table = compare_published(estimates(), PUBLISHED, tolerance_pp=0.5).set_index("figure_id")
    assert table.loc["a", "status"] == "match"
    assert table.loc["a", "recomputed"] == 54.82
    assert table.loc["a", "diff_pp"] == -0.18
    assert table.loc["b", "status"] == "report_inconsistent"
    assert "follows a" in table.loc["b", "note"]
    assert table.loc["c", "status"] == "off"  # 33.0 vs 35
    assert table.loc["d", "status"] == "off" and "not computable" in table.loc["d", "note"]


def test_rank_claims_are_checked_against_the_estimates():
    claims = check_rank_claims(estimates(), PUBLISHED)
    assert claims.loc[0, "holds"]  # 58% > 54.8%
    reversed_claim = dict(PUBLISHED, rank_claims=[dict(PUBLISHED["rank_claims"][0], order=["linkedin", "facebook"])])
    assert not check_rank_claims(estimates(), reversed_claim).loc[0, "holds"]
