"""The ensemble in the default build: every draw runs through the shipped rules (a batch of draws
per job), reproduces the report (its flow keeps the report's respondents) and feeds
robustness.csv; its synthetic export (identifiers included) is not left under results/."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.e2e

KEY = ["hypothesis", "waves", "item", "segment", "test"]


def test_every_draw_runs_the_shipped_rules_and_feeds_robustness(two_runs):
    workdir, _, _ = two_runs
    results = workdir / "results"
    draws = pd.read_csv(results / "ensemble/draws.csv", dtype={"draw": str})
    assert len(draws) >= 2 and draws["seed"].is_unique
    shipped = pd.read_csv(results / "stats/tests.csv")
    batches = sorted((results / "ensemble").glob("batch*"))
    assert len(batches) == 1  # 4 draws, 10 per job (config ensemble.draws_per_job)
    # each step of a draw is its rule's job: the rule's outputs and log, with what it read
    log = (workdir / "results/logs/ensemble/batch001/draw001/dk_2024/clean.log").read_text()
    assert "config read: exclusions/" in log
    for draw in draws["draw"]:
        folder = batches[0] / f"draw{draw}"
        flow = pd.read_csv(folder / "dk_2024/flow.csv")
        assert flow["n_out"].iloc[-1] == 332  # the report's respondents, as in the shipped file
        tests = pd.read_csv(folder / "stats/tests.csv")
        assert tests[KEY].equals(shipped[KEY])  # the same battery, row for row
        assert not (folder / "dk_2024/export.csv").exists()
    robustness = pd.read_csv(results / "ensemble/robustness.csv")
    assert robustness[KEY].equals(shipped[KEY])
    tested = robustness[shipped["p"].notna()]
    assert (tested["n_draws"] == len(draws)).all()
    assert set(robustness["class"]) <= {"identified", "bounded", "assumed", "observed"}
    assert robustness["support"].str.len().gt(20).all()
    # Association tests on counts the allocation fixes give the same statistic in every draw.
    linkedin = robustness[(robustness["item"] == "post_daily_weekly_linkedin")
                          & (robustness["test"] == "cochran_armitage")].iloc[0]
    assert linkedin["class"] == "identified"
    assert linkedin["p_low"] == pytest.approx(linkedin["p_high"])
