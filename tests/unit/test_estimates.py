"""Shares and Wilson intervals against hand-checkable values."""

import math

import pandas as pd
import pytest

from smesocial.config import Indicator
from smesocial.estimates import asked_indicators, share_estimates, wilson_interval

FREQ = pd.CategoricalDtype(["never", "almost_never", "monthly", "weekly", "daily"], ordered=True)


def test_wilson_interval_matches_the_textbook_value():
    # Agresti & Coull (1998), Wilson interval for 4 of 10 at 95%: [0.168, 0.687].
    low, high = wilson_interval(4, 10)
    assert low == pytest.approx(0.1682, abs=1e-4)
    assert high == pytest.approx(0.6873, abs=1e-4)


def test_wilson_interval_at_zero_successes_is_not_degenerate():
    low, high = wilson_interval(0, 20)
    assert low == pytest.approx(0.0, abs=1e-12)
    assert high == pytest.approx(0.1611, abs=1e-4)


def test_wilson_interval_rejects_an_empty_base():
    with pytest.raises(ValueError, match="n > 0"):
        wilson_interval(0, 0)


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "segment": pd.Categorical(["micro", "micro", "micro", "small", "small"],
                                  categories=["micro", "small", "medium"], ordered=True),
        "post_linkedin": pd.Series(["daily", "never", None, "weekly", "monthly"], dtype=FREQ),
        "important_linkedin": pd.array([True, False, pd.NA, True, True], dtype="boolean"),
    })


INDICATORS = {
    "post_daily_weekly_linkedin": Indicator("post_daily_weekly_linkedin", "post_linkedin",
                                            ("daily", "weekly"), "dw"),
    "important_linkedin": Indicator("important_linkedin", "important_linkedin", (True,), "imp"),
    "post_daily_weekly_bluesky": Indicator("post_daily_weekly_bluesky", "post_bluesky",
                                           ("daily", "weekly"), "not asked"),
}


def test_shares_are_on_the_base_of_those_who_answered():
    est = share_estimates(frame(), INDICATORS, wave="w")
    row = est.set_index(["indicator", "segment"]).loc[("post_daily_weekly_linkedin", "micro")]
    assert (row.n, row.k) == (2, 1)  # the unanswered micro respondent is not in the base
    assert row.share == pytest.approx(0.5)
    every = est.set_index(["indicator", "segment"]).loc[("post_daily_weekly_linkedin", "all")]
    assert (every.n, every.k) == (4, 2)
    imp = est.set_index(["indicator", "segment"]).loc[("important_linkedin", "small")]
    assert (imp.n, imp.k, imp.share) == (2, 2, 1.0)


def test_an_empty_segment_gives_a_note_not_a_crash():
    est = share_estimates(frame(), INDICATORS, wave="w")
    medium = est[(est.segment == "medium") & (est.indicator == "important_linkedin")].iloc[0]
    assert medium.n == 0 and math.isnan(medium.share)
    assert "no respondent" in medium.note


def test_items_a_wave_did_not_ask_are_skipped():
    est = share_estimates(frame(), INDICATORS, wave="w")
    assert "post_daily_weekly_bluesky" not in set(est.indicator)
    assert len(est) == 2 * 4  # two indicators x (all + three segments)


def test_asked_indicators_leave_out_items_the_wave_never_asked():
    table = frame().assign(post_bluesky=pd.Series([None] * 5, dtype=FREQ))
    asked, not_asked = asked_indicators(table, INDICATORS)
    assert set(asked) == {"post_daily_weekly_linkedin", "important_linkedin"}
    assert not_asked == ["post_daily_weekly_bluesky"]  # all-NA column: not asked
