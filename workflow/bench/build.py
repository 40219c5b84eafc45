"""What a build costs on this machine: a no-op, a paper edit and a cold build.

    .venv/bin/python workflow/bench/build.py                 # 1 cold build, 3 no-ops, 3 edits
    .venv/bin/python workflow/bench/build.py --cold 2 --repeats 5
    .venv/bin/python workflow/bench/build.py --source /tmp/old  # another checkout (a clone at
                                                                # an older commit), same venv

In a temporary copy of the repository (its tracked and untracked files, as a fresh clone has
them) it runs what `bash workflow/run.sh build` runs (`python -m smesocial.build snakemake
--cores 2 ...`, with run.sh's environment) for each scenario:

- cold: no results/ and no .snakemake/, everything built (the report included);
- no-op: a build right after a build: nothing to do;
- paper edit: a sentence added to (or taken out of) manuscript/paper.qmd: the render reruns.

Per scenario it prints the wall time (min, median), the CPU seconds of every process the build
ran (resource.getrusage of the children: Snakemake, the steps, a kernel, pandoc), and what each
goal is measured against: `snakemake --version` (every Snakemake call pays its start-up, which
on a machine with SLURM's client but no reachable controller includes the SLURM plugin's 9 s
wait for `scontrol`), and for a paper edit the render's own wall time (the manuscript log's
"rendered HTML and PDF in" line). For the cold build it adds each step's CPU (its log's "step
cost" line: its process, imports included, and the processes it ran) and Snakemake's own, the
rest. The table is written to results/benchmarks/build.csv of the repository it is run from.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_common, beside this script
from bench_common import copy_repository, write_table  # noqa: E402
BUILD = ["-m", "smesocial.build", "snakemake", "--cores", "2", "--printshellcmds",
         "--rerun-incomplete"]
PAPER = "manuscript/paper.qmd"
EDIT = "This sentence was added to measure what a paper edit costs.\n\n"
STEP_COST = re.compile(r"step cost: ([0-9.]+) s CPU in its process, ([0-9.]+) s in the "
                       r"processes it ran")
NOT_A_STEP = {"snakemake.log", "report.log"}  # smesocial.build's copies of Snakemake's output
RENDERED = re.compile(r"rendered HTML and PDF in ([0-9.]+) s wall")
STEPS_RUN = re.compile(r"done: (\d+) step\(s\) run")
COLUMNS = ["scenario", "runs", "wall_min_s", "wall_median_s", "cpu_min_s", "cpu_median_s",
           "steps", "beyond_s", "beyond_what"]


@dataclass
class Run:
    wall: float
    cpu: float
    steps: int
    render: float | None = None


@dataclass
class Scenario:
    name: str
    runs: list[Run] = field(default_factory=list)


def environment(workdir: Path) -> dict[str, str]:
    """run.sh build's: the venv first on PATH, a fixed hash seed, single-threaded BLAS; the
    copy's own package."""
    venv_bin = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(workdir / "workflow"), "PYTHONHASHSEED": "0",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: Sequence[str], workdir: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of the command and everything it waited for, its stderr)."""
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=workdir, env=environment(workdir), capture_output=True,
                          text=True)
    wall, used = time.perf_counter() - started, children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"build benchmark: {' '.join(command)} failed:\n{done.stderr[-4000:]}")
    return wall, used, done.stderr


def build(workdir: Path) -> Run:
    wall, cpu, said = timed([sys.executable, *BUILD], workdir)
    ran = STEPS_RUN.search(said)
    return Run(wall, cpu, int(ran[1]) if ran else 0)


def toggle_edit(text: str) -> str:
    """paper.qmd with the benchmark's sentence before its first section heading, or without
    it if it is there: every call is an edit of the text."""
    if EDIT in text:
        return text.replace(EDIT, "", 1)
    heading = re.search(r"^## ", text, flags=re.MULTILINE)
    if heading is None:
        raise ValueError(f"{PAPER} has no section heading ('## ') to write before")
    return text[:heading.start()] + EDIT + text[heading.start():]


def render_seconds(log: str) -> float | None:
    found = RENDERED.findall(log)
    return float(found[-1]) if found else None


def step_costs(logs: Path) -> dict[str, float]:
    """Per step log (path relative to `logs`), the CPU its step logged: its process and the
    processes it ran."""
    costs = {}
    for path in sorted(logs.rglob("*.log")):
        if path.name in NOT_A_STEP:  # they repeat what the steps printed
            continue
        found = STEP_COST.findall(path.read_text(encoding="utf-8", errors="replace"))
        if found:
            own, children = found[-1]
            costs[path.relative_to(logs).as_posix()] = float(own) + float(children)
    return costs


def repeat(times: int, run: Callable[[], Run], before: Callable[[], None] = lambda: None,
           name: str = "") -> Scenario:
    scenario = Scenario(name)
    for _ in range(times):
        before()
        scenario.runs.append(run())
    return scenario


def row(scenario: Scenario, baseline: float | None, what: str) -> dict[str, object]:
    walls = [r.wall for r in scenario.runs]
    cpus = [r.cpu for r in scenario.runs]
    renders = [r.render for r in scenario.runs if r.render is not None]
    beyond = None
    if baseline is not None:
        beyond = statistics.median(walls) - baseline - (statistics.median(renders)
                                                        if renders else 0.0)
    return {"scenario": scenario.name, "runs": len(walls),
            "wall_min_s": round(min(walls), 2), "wall_median_s": round(statistics.median(walls), 2),
            "cpu_min_s": round(min(cpus), 2), "cpu_median_s": round(statistics.median(cpus), 2),
            "steps": max(r.steps for r in scenario.runs),
            "beyond_s": "" if beyond is None else round(beyond, 2), "beyond_what": what}


def table(rows: Iterable[dict[str, object]]) -> str:
    rows = list(rows)
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in COLUMNS)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in COLUMNS) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", type=int, default=1, help="cold builds (default 1)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="no-ops, and paper edits (at least 2; default 3)")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="the git checkout to measure (default: this one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="smesocial-bench-build-") as scratch:
        workdir = copy_repository(Path(scratch) / "repo", args.source.resolve())
        version = Scenario("snakemake --version")
        for _ in range(args.repeats):
            wall, cpu, _ = timed([str(Path(sys.executable).with_name("snakemake")), "--version"],
                                 workdir)
            version.runs.append(Run(wall, cpu, 0))
        baseline = statistics.median(r.wall for r in version.runs)

        def clean() -> None:
            for name in ("results", ".snakemake"):
                shutil.rmtree(workdir / name, ignore_errors=True)

        cold = repeat(args.cold, lambda: build(workdir), clean, "cold build")
        costs = step_costs(workdir / "results/logs")
        noop = repeat(args.repeats, lambda: build(workdir), name="no-op build")
        paper = workdir / PAPER

        def edit() -> None:
            paper.write_text(toggle_edit(paper.read_text(encoding="utf-8")), encoding="utf-8")

        def edited_build() -> Run:
            run = build(workdir)
            run.render = render_seconds((workdir / "results/logs/manuscript.log").read_text(
                encoding="utf-8"))
            return run

        edits = repeat(max(args.repeats, 2), edited_build, edit, "paper edit")
    rows = [row(version, None, ""),
            row(noop, baseline, "snakemake --version"),
            row(edits, baseline, "snakemake --version + the render"),
            row(cold, None, "")]
    print(table(rows))
    steps = sum(costs.values())
    cold_cpu = statistics.median(r.cpu for r in cold.runs)
    print(f"\ncold build: {cold_cpu:.1f} CPU s = {steps:.1f} in its {len(costs)} steps + "
          f"{cold_cpu - steps:.1f} in Snakemake (reading the workflow, scheduling, the report) "
          f"and run.sh's wrapper; the steps by CPU:")
    for log, seconds in sorted(costs.items(), key=lambda item: -item[1]):
        print(f"  {seconds:6.2f}  {log.removesuffix('.log')}")
    out = ROOT / "results/benchmarks/build.csv"
    write_table(out, rows, COLUMNS)
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
