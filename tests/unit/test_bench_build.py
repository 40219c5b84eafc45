"""workflow/bench/build.py without building: the paper edit it makes and takes back, the step
costs and render time it reads from the steps' logs, and the table it prints and writes. (It
runs the real builds only when run itself; no timings are asserted.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "workflow/bench/build.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_build", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_build"] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


bench = load_bench()


def test_an_edit_goes_before_the_first_section_and_the_next_takes_it_back():
    paper = (Path(__file__).parents[2] / bench.PAPER).read_text(encoding="utf-8")
    edited = bench.toggle_edit(paper)
    assert edited != paper and edited.count(bench.EDIT) == 1
    # right before the first section heading
    assert edited.index(bench.EDIT) + len(bench.EDIT) == edited.index("\n## ") + 1
    assert bench.toggle_edit(edited) == paper
    with pytest.raises(ValueError, match="has no section heading"):
        bench.toggle_edit("# Title\n\nno sections\n")


def test_step_costs_and_the_render_time_are_read_from_the_logs(tmp_path):
    (tmp_path / "dk_2024").mkdir()
    (tmp_path / "dk_2024/clean.log").write_text(
        "INFO smesocial: read\nINFO smesocial: step cost: 1.250 s CPU in its process, 0.000 s "
        "in the processes it ran\nINFO smesocial: config read: alpha\n", encoding="utf-8")
    (tmp_path / "manuscript.log").write_text(
        "INFO smesocial: rendered HTML and PDF in 2.418 s wall\nINFO smesocial: step cost: "
        "2.100 s CPU in its process, 1.900 s in the processes it ran\n", encoding="utf-8")
    # Snakemake's output, with the steps' lines in it: no step's own log
    (tmp_path / "snakemake.log").write_text(
        "Building DAG of jobs...\nINFO smesocial: step cost: 1.250 s CPU in its process, "
        "0.000 s in the processes it ran\n", encoding="utf-8")
    assert bench.step_costs(tmp_path) == {"dk_2024/clean.log": 1.25, "manuscript.log": 4.0}
    text = (tmp_path / "manuscript.log").read_text(encoding="utf-8")
    assert bench.render_seconds(text) == 2.418
    assert bench.render_seconds("INFO smesocial: no render\n") is None


def test_a_row_says_how_far_beyond_its_baseline_the_median_is():
    edits = bench.Scenario("paper edit", [bench.Run(14.0, 6.0, 3, render=2.5),
                                          bench.Run(12.0, 5.0, 3, render=2.0),
                                          bench.Run(13.0, 5.5, 3, render=3.0)])
    row = bench.row(edits, baseline=10.0, what="snakemake --version + the render")
    assert row == {"scenario": "paper edit", "runs": 3, "wall_min_s": 12.0,
                   "wall_median_s": 13.0, "cpu_min_s": 5.0, "cpu_median_s": 5.5, "steps": 3,
                   "beyond_s": 0.5, "beyond_what": "snakemake --version + the render"}
    version = bench.row(bench.Scenario("snakemake --version", [bench.Run(1.5, 1.4, 0)]), None, "")
    assert version["beyond_s"] == "" and version["steps"] == 0
    lines = bench.table([version, row]).splitlines()
    assert lines[0].split() == bench.COLUMNS
    assert lines[2].split()[:3] == ["paper", "edit", "3"]
