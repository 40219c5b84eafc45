"""The scale benchmark's smoke run (workflow/bench/scale.py at its smallest size, once): both
shipped waves scaled and run through the real rules ingest ... stats in a temporary copy, and
its table written. A check that the command still runs, not a timed test: no timing is
asserted, only that every stage was measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
STAGES = ["ingest", "segment", "clean", "weights", "estimates", "stats", "total", "snakemake"]


def test_the_smallest_size_runs_every_stage_of_both_waves(tmp_path):
    out = tmp_path / "scale.csv"
    done = subprocess.run([sys.executable, str(ROOT / "workflow/bench/scale.py"), "--sizes",
                           "2000", "--repeats", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stderr + done.stdout)[-4000:]
    table = pd.read_csv(out)
    assert table["wave"].tolist() == ["dk_2024"] * 8 + ["no_2010"] * 8
    assert table["stage"].tolist() == STAGES * 2
    assert (table["respondents"] == 2000).all() and (table["repeats"] == 1).all()
    assert (table["wall_min_s"] > 0).all()
    measured = table[table["stage"] != "snakemake"]
    # CPU and peak RSS from each step's log line, not the benchmark file's sampled values
    assert (measured["cpu_s"] > 0).all() and (measured["peak_rss_mib"] >= 50).all()
    assert table["wall_ratio"].isna().all()  # one size: nothing to compare with
    assert f"wrote {out}" in done.stdout
