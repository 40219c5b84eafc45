"""Design-based estimation against R's `survey`, side by side on one synthetic wave.

    .venv/bin/python workflow/bench/design.py                      # 100,000 x 40, 3 repeats
    .venv/bin/python workflow/bench/design.py --respondents 10000 --indicators 40 --repeats 1

It makes a synthetic wave (seeded, so the same arguments give the same data): a random panel
(70%) and a self-selected expert sample (30%) as strata, four size segments sampled far from the
population's shares (SSB-like 0.89 / 0.09 / 0.013 / 0.002, normalised and scaled to the panel's
n), so the post-stratification weights are very unequal (about 0.02 to 2); binary indicators with
about 10% missing answers and a prevalence that changes with the segment. The panel is post-stratified by segment and the
expert sample is one cell of unit weights, as the weights stage weights no_2010.

Python: the weights stage's `weight_wave`, then the estimates stage's own
`smesocial.estimates._weighted_estimates` (the design, every indicator x segment domain of the
panel on the answered base, Korn-Graubard "beta" intervals; it also estimates the whole panel,
one domain more than R is asked for). R: `postStratify(svydesign(...))` and, per indicator,
`svyby(~item, ~segment, subset(D, panel & answered), svyciprop, method = "beta")`
(workflow/bench/design_reference.R), timed inside R so reading the CSV and starting R are not
counted; building R's design is timed apart. Both sides run `--repeats` times; the table has the
minimum and median wall time, the CPU seconds of the fastest repeat (other work on the machine
shows up as CPU < wall), R / Python, and the largest absolute difference between the two in
share, se and interval bounds over every indicator x segment row. It is written to
results/benchmarks/design.csv of the repository it is run from. Without Rscript or its `survey`
package one line says so and only the Python side runs (exit status 0).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_common, beside this script
from bench_common import write_table  # noqa: E402
sys.path.insert(0, str(ROOT / "workflow"))  # this checkout's smesocial, not an installed copy

from smesocial.estimates import ALL_SEGMENTS, _weighted_estimates
from smesocial.weights import MarginTargets, weight_wave

R_SCRIPT = ROOT / "workflow/bench/design_reference.R"
OUT = ROOT / "results/benchmarks/design.csv"
SEGMENTS = ("micro", "small", "medium", "large")
#: Shares of the population (SSB-like enterprise counts by size) and of the panel's sample: the
#: sample over-represents large firms 40-fold, so weights range from about 0.02 to 2.
POPULATION_SHARES = (0.89, 0.09, 0.013, 0.002)
PANEL_SAMPLE_SHARES = (0.45, 0.30, 0.17, 0.08)
EXPERT_SAMPLE_SHARES = (0.25, 0.25, 0.25, 0.25)
PANEL_SHARE = 0.7
PANEL, EXPERT = "panel", "expert"
ALPHA = 0.05
INTERVAL = "beta"
COMPARED = ("share", "se", "ci_low", "ci_high")
COLUMNS = ["scenario", "respondents", "indicators", "domains", "repeats", "python_min_s",
           "python_median_s", "python_cpu_s", "python_design_s", "r_min_s", "r_median_s",
           "r_cpu_s", "r_design_s", "ratio", "max_abs_diff_estimate", "max_abs_diff_se",
           "max_abs_diff_ci", "rows_compared"]


@dataclass(frozen=True)
class Wave:
    """A synthetic wave: one row per respondent (respondent_id, sample, segment, cell, and the
    indicators as 0/1 floats with NaN for no answer) and the post-stratification targets
    (panel segments and one `expert` cell holding the expert sample's size)."""

    data: pd.DataFrame
    items: list[str]
    targets: dict[str, float]


def synthetic_wave(respondents: int, indicators: int, seed: int = 13) -> Wave:
    rng = np.random.default_rng(seed)
    n_panel = round(respondents * PANEL_SHARE)
    sample = np.array([PANEL] * n_panel + [EXPERT] * (respondents - n_panel), dtype=object)
    panel = sample == PANEL
    segment_code = np.where(panel, rng.choice(4, size=respondents, p=PANEL_SAMPLE_SHARES),
                            rng.choice(4, size=respondents, p=EXPERT_SAMPLE_SHARES))
    segment = np.asarray(SEGMENTS, dtype=object)[segment_code]
    data = pd.DataFrame({"respondent_id": [f"r{i:07d}" for i in range(respondents)],
                         "sample": sample, "segment": segment,
                         "cell": np.where(panel, segment, EXPERT)})
    items = [f"item{j + 1:02d}" for j in range(indicators)]
    # Prevalence: a logit per item (about 5% to 70%), a slope over the segments (larger firms
    # mostly more active) and an expert shift; missing answers 5-15% per item.
    base = rng.uniform(-3.0, 1.0, indicators)
    slope = rng.uniform(-0.3, 0.8, indicators)
    expert_shift = rng.uniform(0.0, 1.0, indicators)
    missing = rng.uniform(0.05, 0.15, indicators)
    columns = {}
    for j, item in enumerate(items):
        logit = base[j] + slope[j] * segment_code + expert_shift[j] * ~panel
        answer = (rng.random(respondents) < 1 / (1 + np.exp(-logit))).astype(float)
        answer[rng.random(respondents) < missing[j]] = np.nan
        columns[item] = answer
    data = pd.concat([data, pd.DataFrame(columns)], axis=1)
    # the shares sum to 0.995 (the rest is outside the segments): normalised, so the panel's
    # targets sum to its n and R's post-stratified weights equal weight_wave's (mean 1)
    total = sum(POPULATION_SHARES)
    targets = {s: share / total * n_panel for s, share in zip(SEGMENTS, POPULATION_SHARES)}
    targets[EXPERT] = float(respondents - n_panel)
    return Wave(data, items, targets)


def wave_weights(wave: Wave) -> pd.DataFrame:
    """The weights stage's table: the panel post-stratified to its segments' targets, the expert
    sample a stratum of unit weights outside the population."""
    panel_targets = {cell: count for cell, count in wave.targets.items() if cell != EXPERT}
    result = weight_wave(wave.data, [MarginTargets("cell", panel_targets)], wave="bench",
                         weighted_samples=[PANEL])
    return result.weights


def estimation_frame(wave: Wave) -> pd.DataFrame:
    """The estimates stage's `work` table: items as nullable booleans, segment categorical."""
    work = wave.data[["respondent_id"]].copy()
    work["segment"] = pd.Categorical(wave.data["segment"], SEGMENTS, ordered=True)
    for item in wave.items:
        work[item] = wave.data[item].map({1.0: True, 0.0: False}).astype("boolean")
    return work


def python_estimates(wave: Wave, weights: pd.DataFrame, work: pd.DataFrame) -> pd.DataFrame:
    """Weighted rows as the estimates stage makes them: per item, the panel (`all`) and each
    segment, with beta intervals."""
    return _weighted_estimates("bench", work, wave.items, weights, "segment", ALPHA, INTERVAL)


@dataclass(frozen=True)
class Timing:
    walls: list[float]
    cpus: list[float]

    @property
    def best(self) -> float:
        return min(self.walls)

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def best_cpu(self) -> float:
        return self.cpus[self.walls.index(self.best)]


def timed(call: Callable[[], object], repeats: int) -> tuple[object, Timing]:
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return result, Timing(walls, cpus)


def python_side(wave: Wave, repeats: int) -> tuple[pd.DataFrame, Timing, float]:
    """(estimates, timing of the estimation, wall seconds of weighting the wave)."""
    started = time.perf_counter()
    weights = wave_weights(wave)
    weighting = time.perf_counter() - started
    work = estimation_frame(wave)
    estimates, timing = timed(lambda: python_estimates(wave, weights, work), repeats)
    assert isinstance(estimates, pd.DataFrame)
    return estimates, timing, weighting


def r_missing() -> str:
    """Why the R side cannot run ("" when it can)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return "Rscript is not on PATH"
    probe = 'quit(status = !requireNamespace("survey", quietly = TRUE))'
    check = subprocess.run([rscript, "-e", probe], check=False, capture_output=True, text=True)
    return "" if check.returncode == 0 else "R has no `survey` package"


def r_side(wave: Wave, repeats: int) -> tuple[pd.DataFrame, Timing, Timing, str]:
    """(R's estimates, timing of the estimation, timing of building the design, survey's
    version) from design_reference.R on the wave written to a temporary CSV."""
    with tempfile.TemporaryDirectory(prefix="smesocial-bench-design-") as tmp:
        folder = Path(tmp)
        wave.data.to_csv(folder / "data.csv", index=False, na_rep="NA")
        pd.DataFrame({"cell": list(wave.targets), "Freq": list(wave.targets.values())}).to_csv(
            folder / "population.csv", index=False, float_format="%.17g")
        command = [shutil.which("Rscript") or "Rscript", str(R_SCRIPT), str(folder / "data.csv"),
                   str(folder / "population.csv"), str(folder / "estimates.csv"),
                   str(folder / "times.csv"), str(repeats)]
        done = subprocess.run(command, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"design benchmark: {R_SCRIPT.name} failed (exit {done.returncode}):\n"
                     + (done.stderr or done.stdout)[-4000:])
        estimates = pd.read_csv(folder / "estimates.csv", dtype={"item": str, "segment": str})
        times = pd.read_csv(folder / "times.csv", dtype={"survey": str})

    def timing(step: str) -> Timing:
        rows = times[times["step"] == step]
        return Timing(rows["elapsed"].tolist(), rows["cpu"].tolist())

    return estimates, timing("estimation"), timing("design"), str(times["survey"].iloc[0])


def compare(python: pd.DataFrame, r: pd.DataFrame) -> tuple[dict[str, float], int]:
    """Largest absolute Python - R difference per compared column over the indicator x segment
    rows both have, and how many rows that is. A row one side has and the other lacks, or a
    value one side leaves NaN and the other does not, counts as an infinite difference."""
    left = python[python["segment"] != ALL_SEGMENTS].set_index(["item", "segment"])
    right = r.set_index(["item", "segment"])
    keys = left.index.union(right.index)
    left, right = left.reindex(keys), right.reindex(keys)
    largest = {}
    for column in COMPARED:
        a = left[column].to_numpy(float)
        b = right[column].to_numpy(float)
        one_sided = np.isnan(a) != np.isnan(b)
        gaps = np.abs(a - b)[~np.isnan(a) & ~np.isnan(b)]
        largest[column] = (math.inf if one_sided.any()
                           else float(gaps.max()) if gaps.size else math.nan)
    return largest, len(keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--indicators", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    if args.respondents < 100 or args.indicators < 1 or args.repeats < 1:
        parser.error("needs --respondents >= 100, --indicators >= 1 and --repeats >= 1")
    OUT.unlink(missing_ok=True)  # a failed run leaves no earlier table looking like its own
    wave = synthetic_wave(args.respondents, args.indicators, args.seed)
    estimates, python, weighting = python_side(wave, args.repeats)
    row: dict[str, object] = dict.fromkeys(COLUMNS, "")
    row.update(scenario=f"synthetic seed {args.seed}", respondents=args.respondents,
               indicators=args.indicators, domains=len(SEGMENTS), repeats=args.repeats,
               python_min_s=round(python.best, 3), python_median_s=round(python.median, 3),
               python_cpu_s=round(python.best_cpu, 3), python_design_s=round(weighting, 3))
    missing = r_missing()
    if missing:
        print(f"design benchmark: {missing}, so only the Python side ran (no comparison)")
    else:
        r_estimates, r, r_design, survey = r_side(wave, args.repeats)
        largest, compared = compare(estimates, r_estimates)
        row.update(r_min_s=round(r.best, 3), r_median_s=round(r.median, 3),
                   r_cpu_s=round(r.best_cpu, 3), r_design_s=round(r_design.best, 3),
                   ratio=round(r.best / python.best, 2),
                   max_abs_diff_estimate=f"{largest['share']:.3g}",
                   max_abs_diff_se=f"{largest['se']:.3g}",
                   max_abs_diff_ci=f"{max(largest['ci_low'], largest['ci_high']):.3g}",
                   rows_compared=compared)
    cores = os.cpu_count() or 1
    print(f"design-based estimation benchmark on {cores} cores (synthetic data): "
          f"{args.respondents:,} respondents x {args.indicators} indicators x {len(SEGMENTS)} "
          f"segment domains, {INTERVAL} intervals; seconds (min / median of {args.repeats}, "
          "CPU of the fastest)")
    print(f"  Python  estimation {python.best:8.3f} / {python.median:8.3f}  CPU "
          f"{python.best_cpu:8.3f}   weighting (weight_wave) {weighting:.3f}")
    if not missing:
        print(f"  R       estimation {r.best:8.3f} / {r.median:8.3f}  CPU {r.best_cpu:8.3f}   "
              f"design (svydesign + postStratify) {r_design.best:.3f}   survey {survey}")
        print(f"  R / Python: {r.best / python.best:.2f} (min wall)")
        print(f"  largest |Python - R| over {compared} rows: estimate {largest['share']:.3g}, "
              f"se {largest['se']:.3g}, ci_low {largest['ci_low']:.3g}, "
              f"ci_high {largest['ci_high']:.3g}")
    write_table(OUT, [row], COLUMNS)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
