"""What the ensemble of reconstructions costs, measured on this machine.

    .venv/bin/python workflow/bench/ensemble.py            # 4 and 20 draws
    .venv/bin/python workflow/bench/ensemble.py --draws 4 20 200

In a temporary copy of the repository it builds the shipped results once, then runs the
ensemble (`results/ensemble/robustness.csv`) with each number of draws, the same rules the
default build runs (ensemble.draws_per_job draws per job). It prints, per size, the wall time,
the CPU seconds per draw of the ensemble's batch jobs (start-up and library imports
included) and, within them, per stage (each batch log's "step cost" lines:
generate, the pipeline ingest -> estimates, the battery), and projects the time of 200 and
2000 draws on this machine from the per-draw wall time. The table is also written to
results/benchmarks/ensemble.csv of the repository it is run from.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_common, beside this script
from bench_common import copy_repository, write_table  # noqa: E402
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
STAGES = {"generate": ("ensemble_generate",),
          "pipeline": ("ingest", "segment", "clean", "weights", "estimates"),
          "battery": ("stats",)}
STEP_COST = re.compile(r"step cost: draw \d+, rule (\w+): ([0-9.]+) s CPU")
BATCH_COST = re.compile(r"batch cost: ([0-9.]+) s CPU")


def snakemake(workdir: Path, *args: str, targets: tuple[str, ...] = ()) -> float:
    started = time.perf_counter()
    # targets first: `--quiet` takes any number of values after it
    command = [str(SNAKEMAKE), *targets, "--cores", str(os.cpu_count() or 1), *args,
               "--quiet", "all"]
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    if done.returncode != 0:
        output = (done.stderr + done.stdout).splitlines()
        # the project's messages and Snakemake's errors, not the steps' long INFO lines
        errors = [line for line in output if line.startswith(("ERROR", "Error", "    "))]
        sys.exit(f"ensemble benchmark: {' '.join(command)} failed:\n"
                 + "\n".join((errors or output)[-40:])[-6000:])
    return time.perf_counter() - started


def cpu_by_stage(workdir: Path) -> dict[str, float]:
    """CPU seconds per stage summed over every draw, and of the ensemble's batch processes as a
    whole ("jobs": start-up and imports included), from the batch logs."""
    totals = dict.fromkeys([*STAGES, "jobs"], 0.0)
    for path in (workdir / "results/logs/ensemble").glob("batch*.log"):
        text = path.read_text(encoding="utf-8")
        for rule, seconds in STEP_COST.findall(text):
            for stage, rules in STAGES.items():
                if rule in rules:
                    totals[stage] += float(seconds)
        totals["jobs"] += sum(float(seconds) for seconds in BATCH_COST.findall(text))
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, nargs="+", default=[4, 20])
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="smesocial-bench-") as tmp:
        workdir = copy_repository(Path(tmp) / "repo")
        config = yaml.safe_load((workdir / "config/config.yaml").read_text(encoding="utf-8"))
        # The whole build first, so what is timed below is the ensemble alone.
        snakemake(workdir)
        for draws in args.draws:
            override = workdir / f"draws_{draws}.yaml"
            override.write_text(yaml.safe_dump({"ensemble": {**config["ensemble"],
                                                             "draws": draws}}))
            for folder in ("results/ensemble", "results/benchmarks/ensemble",
                           "results/logs/ensemble"):
                shutil.rmtree(workdir / folder, ignore_errors=True)
            wall = snakemake(workdir, "--configfile", str(override),
                             targets=("results/ensemble/robustness.csv",))
            cpu = cpu_by_stage(workdir)
            per_draw = {stage: seconds / draws for stage, seconds in cpu.items()}
            rows.append({"draws": draws, "wall_s": round(wall, 1),
                         **{f"cpu_per_draw_{k}_s": round(v, 2) for k, v in per_draw.items()},
                         "wall_per_draw_s": round(wall / draws, 2)})
    cores = os.cpu_count() or 1
    print(f"ensemble benchmark on {cores} cores (CPU s per draw from the batch logs: of the "
          "batch jobs, start-up included, and by stage)")
    header = list(rows[0])
    print("  ".join(f"{h:>22}" for h in header))
    for row in rows:
        print("  ".join(f"{row[h]:>22}" for h in header))
    slowest = rows[-1]
    for target in (200, 2000):
        minutes = slowest["wall_per_draw_s"] * target / 60
        print(f"projected: {target} draws ~ {minutes:.0f} min wall on this machine "
              f"({slowest['wall_per_draw_s']} s per draw at {slowest['draws']} draws)")
    out = ROOT / "results/benchmarks/ensemble.csv"
    write_table(out, rows, header)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
