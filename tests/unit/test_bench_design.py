"""workflow/bench/design.py at a tiny size, Python side only: the synthetic wave, the pipeline's
weighted estimates on it, the comparison with R's table and the R-less run. No timings are
asserted (they depend on the machine)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest
from bench_support import load_bench

RESPONDENTS, INDICATORS = 2_000, 5


bench = load_bench("design")


@pytest.fixture(scope="module")
def tiny():
    wave = bench.synthetic_wave(RESPONDENTS, INDICATORS, seed=5)
    estimates, timing, _weighting = bench.python_side(wave, repeats=2)
    return wave, estimates, timing


def test_wave_has_the_samples_segments_and_missing_answers_asked_for(tiny):
    wave, _estimates, _timing = tiny
    data = wave.data
    assert len(data) == RESPONDENTS and wave.items == [f"item0{j}" for j in range(1, 6)]
    assert (data["sample"] == "panel").sum() == round(RESPONDENTS * bench.PANEL_SHARE)
    assert set(data["segment"]) == set(bench.SEGMENTS)
    assert (data.loc[data["sample"] == "expert", "cell"] == "expert").all()
    answers = data[wave.items]
    assert set(np.unique(answers.stack().dropna())) == {0.0, 1.0}
    assert 0.05 < answers.isna().to_numpy().mean() < 0.15


def test_panel_weights_reproduce_the_population_shares_and_experts_keep_one():
    wave = bench.synthetic_wave(RESPONDENTS, INDICATORS, seed=5)
    weights = bench.wave_weights(wave).set_index("respondent_id")
    data = wave.data.set_index("respondent_id")
    panel = data["sample"] == "panel"
    by_segment = weights.loc[panel, "weight"].groupby(data.loc[panel, "segment"]).sum()
    shares = by_segment / by_segment.sum()
    total = sum(bench.POPULATION_SHARES)
    for segment, share in zip(bench.SEGMENTS, bench.POPULATION_SHARES):
        assert math.isclose(shares[segment], share / total, rel_tol=1e-12)
    assert math.isclose(sum(wave.targets.values()), RESPONDENTS, rel_tol=1e-12)
    assert weights.loc[~panel, "weight"].eq(1.0).all()
    assert not weights.loc[~panel, "in_population"].any()


def test_one_row_per_item_and_domain_with_shares_and_intervals_in_range(tiny):
    wave, estimates, timing = tiny
    assert len(estimates) == INDICATORS * (len(bench.SEGMENTS) + 1)  # and the whole panel
    segments = estimates[estimates["segment"] != "all"]
    assert len(segments) == INDICATORS * len(bench.SEGMENTS)
    assert not segments.duplicated(["item", "segment"]).any()
    assert segments["share"].between(0, 1).all() and (segments["se"] > 0).all()
    assert (segments["ci_low"] <= segments["share"]).all()
    assert (segments["share"] <= segments["ci_high"]).all()
    assert segments["ci_low"].ge(0).all() and segments["ci_high"].le(1).all()
    assert (estimates["method"] == "beta").all()
    # the base: panel respondents of the segment who answered the item
    data = wave.data[wave.data["sample"] == "panel"]
    for row in segments.itertuples():
        members = data[data["segment"] == row.segment]
        assert row.n == members[row.item].notna().sum()
        assert row.k == (members[row.item] == 1).sum()
    assert len(timing.walls) == len(timing.cpus) == 2


def test_same_seed_same_estimates_and_another_seed_other_data(tiny):
    wave, estimates, _timing = tiny
    again = bench.synthetic_wave(RESPONDENTS, INDICATORS, seed=5)
    pd.testing.assert_frame_equal(again.data, wave.data)
    repeated, _timing, _weighting = bench.python_side(again, repeats=1)
    pd.testing.assert_frame_equal(repeated, estimates)
    other = bench.synthetic_wave(RESPONDENTS, INDICATORS, seed=6)
    assert not other.data[wave.items].equals(wave.data[wave.items])


def test_comparison_reports_the_largest_gap_and_a_missing_row_as_infinite(tiny):
    _wave, estimates, _timing = tiny
    r = estimates.loc[estimates["segment"] != "all",
                      ["item", "segment", *bench.COMPARED]].reset_index(drop=True)
    largest, rows = bench.compare(estimates, r)
    assert rows == INDICATORS * len(bench.SEGMENTS)
    assert all(gap == 0.0 for gap in largest.values())
    shifted = r.copy()
    shifted.loc[3, "ci_high"] += 2e-7
    shifted.loc[7, "ci_high"] -= 5e-9
    largest, _rows = bench.compare(estimates, shifted)
    assert largest["ci_high"] == pytest.approx(2e-7, rel=1e-6) and largest["share"] == 0.0
    largest, rows = bench.compare(estimates, r.drop(index=0))
    assert rows == INDICATORS * len(bench.SEGMENTS)
    assert all(math.isinf(largest[c]) for c in bench.COMPARED)


def test_without_r_one_line_says_so_and_the_python_row_is_written(monkeypatch, tmp_path,
                                                                  capsys):
    out = tmp_path / "design.csv"
    monkeypatch.setattr(bench, "OUT", out)
    monkeypatch.setattr(bench, "r_missing", lambda: "Rscript is not on PATH")
    status = bench.main(["--respondents", str(RESPONDENTS), "--indicators", str(INDICATORS),
                         "--repeats", "1"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "Rscript is not on PATH, so only the Python side ran" in printed
    with out.open() as handle:
        (row,) = list(csv.DictReader(handle))
    assert list(row) == bench.COLUMNS
    assert (row["respondents"], row["indicators"], row["domains"]) == ("2000", "5", "4")
    assert float(row["python_min_s"]) > 0 and row["r_min_s"] == "" and row["ratio"] == ""
