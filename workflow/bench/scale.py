"""How the pipeline's cost grows with the number of respondents, measured on this machine.

    .venv/bin/python workflow/bench/scale.py                           # 10k, 100k, 1M; 3 repeats
    .venv/bin/python workflow/bench/scale.py --sizes 10000 --repeats 1  # smoke test (seconds)
    .venv/bin/python workflow/bench/scale.py --waves dk_2024 --sizes 100000 1000000 --with-r

For each wave (default: dk_2024, a CSV export of an unweighted wave, and no_2010, an SPSS .sav
export of a weighted wave with two samples) and each size it writes a scaled copy of the wave's
raw export into a temporary copy of the repository: the shipped export replicated, with the
respondent key, response id and timestamps made unique per copy (`scaled_export`; the test
responses, duplicate submissions, partial responses and speeders of the shipped file recur
once per copy, so their proportion stays the shipped one, and the last copy is cut to the
size). A configuration file (`--configfile`) points the wave's `raw_file` at it with its
`raw_sha256`, and Snakemake runs the real rules for the targets of this scale benchmark:
ingest, segment, clean, weights and estimates of that wave and the whole hypothesis battery
(`stats`, every wave; the other wave stays at its shipped size). Every repeat deletes the
scaled wave's and the battery's results first.

Per stage the table has the minimum and median wall time over the repeats (Snakemake's
benchmark file, `s`: the job's process, start-up and imports included), the CPU seconds and
peak resident memory of the job's process (the "step cost" line smesocial.runner writes at the
end of each step's log: exact, where the benchmark file samples them only every
30 s once a job has run 15 s) of the fastest repeat, and the ratio of the minimum wall and of
the CPU to the previous size's. `total` sums the stages; `snakemake` is the whole Snakemake
call (its start-up and DAG included). The table is printed and written to
results/benchmarks/scale.csv of the repository it is run from.

`--with-r` also runs workflow/bench/design.py at 100,000 respondents: the estimates stage's
design-based shares against R `survey` (svyby + svyciprop) on one synthetic post-stratified
wave, side by side (it writes results/benchmarks/design.csv and prints R / Python).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import io
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_common, beside this script
from bench_common import copy_repository, write_table  # noqa: E402
sys.path.insert(0, str(ROOT / "workflow"))  # this checkout's smesocial, not an installed copy

from smesocial.config import Codebook, load_codebook
from smesocial.readers import ExportFormat

SNAKEMAKE = Path(sys.executable).with_name("snakemake")
OUT = ROOT / "results/benchmarks/scale.csv"
DEFAULT_WAVES = ("dk_2024", "no_2010")
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
WAVE_STAGES = ("ingest", "segment", "clean", "weights", "estimates")
STAGES = (*WAVE_STAGES, "stats")
#: Each copy of the export starts this much later than the previous one: more than the clean
#: stage's duplicate window (30 minutes), so identical answers of two copies are never taken
#: for a resubmission, and a million respondents still span months, not centuries.
COPY_SHIFT = pd.Timedelta(hours=1)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
RESOURCES = re.compile(r"step cost: ([0-9.]+) s CPU in its process, [0-9.]+ s in the processes it "
                       r"ran, peak RSS ([0-9.]+) MiB")
COLUMNS = ["wave", "respondents", "stage", "repeats", "wall_min_s", "wall_median_s", "cpu_s",
           "peak_rss_mib", "wall_ratio", "cpu_ratio"]


# --- the scaled export ---------------------------------------------------------------------------


def copy_of(index: np.ndarray, values: pd.Series, unique: str) -> pd.Series:
    """`values` of copy `index` made unique per copy: the first copy keeps its values, copy
    k > 0 appends `unique` and k ('12345678' -> '12345678#7'); NA stays NA."""
    text = values.astype("str")
    suffix = pd.Series(np.char.add(unique, index.astype(str)), index=values.index)
    return text.where((index == 0) | values.isna(), text + suffix)


def shifted(index: np.ndarray, stamps: pd.Series) -> pd.Series:
    """Timestamps of copy `index`, `index` x COPY_SHIFT later (NaT stays NaT)."""
    return stamps + pd.to_timedelta(index * COPY_SHIFT.value, unit="ns")


def replicate(frame: pd.DataFrame, respondents: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows of `frame` repeated in their order until there are `respondents` rows (the
    last copy cut short), with each row's copy number."""
    copies = math.ceil(respondents / len(frame))
    rows = np.tile(np.arange(len(frame)), copies)[:respondents]
    index = np.repeat(np.arange(copies), len(frame))[:respondents]
    return frame.iloc[rows].reset_index(drop=True), index


def numeric_ids(ids: pd.Series, index: np.ndarray) -> pd.Series:
    """Response ids of copy k: the shipped id + k x 10^digits (still numbers, still unique,
    still increasing with the start time within a copy)."""
    numbers = pd.to_numeric(ids, errors="raise").astype("int64")
    stride = 10 ** len(str(int(numbers.max())))
    return numbers + index.astype("int64") * stride


def scaled_csv(source: Path, codebook: Codebook, respondents: int) -> bytes:
    """A CSV export of `respondents` rows from `source` (scaled_export)."""
    fmt = ExportFormat.from_codebook(codebook)
    encoding = "utf-8" if fmt.encoding == "auto" else fmt.codec
    delimiter = ";" if fmt.delimiter == "auto" else fmt.delimiter
    text = source.read_bytes().decode(encoding)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                              quotechar=fmt.quotechar, strict=True))
    header, body = records[0], [r for r in records[1:] if r]
    frame = pd.DataFrame(body, columns=header, dtype="str")
    frame, index = replicate(frame, respondents)
    meta = codebook.meta
    frame[meta["response_id"]] = numeric_ids(frame[meta["response_id"]], index).astype("str")
    key = codebook.respondent_key
    if key:
        blank = frame[key].str.strip().eq("")
        frame[key] = copy_of(index, frame[key].mask(blank), "#").fillna("")
    for role in ("started", "finished"):
        if role not in meta:
            continue
        column = frame[meta[role]]
        stamps = pd.to_datetime(column.mask(column.str.strip().eq("")), format=TIMESTAMP_FORMAT)
        frame[meta[role]] = shifted(index, stamps).dt.strftime(TIMESTAMP_FORMAT).fillna("")
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, quotechar=fmt.quotechar,
                        lineterminator="\n")
    writer.writerow(header)
    # plain str objects: iterating pandas' Arrow-backed strings is ten times slower
    writer.writerows(zip(*(frame[column].to_numpy(dtype=object) for column in header)))
    return out.getvalue().encode(encoding)


def scaled_sav(source: Path, codebook: Codebook, respondents: int, target: Path) -> None:
    """An SPSS .sav export of `respondents` cases from `source` (scaled_export), written with
    the shipped file's variable labels, value labels, formats and measures."""
    import pyreadstat

    data, meta = pyreadstat.read_sav(str(source), user_missing=True)
    frame, index = replicate(data, respondents)
    by_label = dict(zip(meta.column_labels, meta.column_names))
    name = {column: by_label.get(column, column) for column in
            (*codebook.meta.values(), codebook.respondent_key or "")}
    response_id = name[codebook.meta["response_id"]]
    frame[response_id] = numeric_ids(frame[response_id], index).astype("float64")
    if codebook.respondent_key:
        key = name[codebook.respondent_key]
        blank = frame[key].astype("str").str.strip().eq("")
        frame[key] = copy_of(index, frame[key].mask(blank), "#").fillna("")
    for role in ("started", "finished"):
        if role in codebook.meta:
            column = name[codebook.meta[role]]
            frame[column] = shifted(index, frame[column])
    pyreadstat.write_sav(
        frame, str(target), file_label=meta.file_label, column_labels=meta.column_labels,
        note=meta.notes, variable_value_labels=meta.variable_value_labels,
        variable_measure=meta.variable_measure,
        variable_format={column: fmt for column, fmt in meta.original_variable_types.items()
                         if not fmt.startswith("A")})


def scaled_export(source: Path, codebook: Codebook, respondents: int, target: Path) -> str:
    """Write `respondents` rows of the wave's export to `target` by replicating `source`; return
    the file's sha256.

    Copy k of the shipped rows gets the respondent key with '#k' appended, the response id
    plus k x 10^digits and timestamps k x COPY_SHIFT later (copy 0 is the shipped file), so
    keys and ids are unique across copies while a resubmission within a copy keeps its firm's
    key. Identifiers are otherwise kept: the test responses stay marked."""
    target.parent.mkdir(parents=True, exist_ok=True)
    kind = ExportFormat.from_codebook(codebook).type
    if kind == "csv":
        target.write_bytes(scaled_csv(source, codebook, respondents))
    elif kind == "sav":
        scaled_sav(source, codebook, respondents, target)
    else:
        raise SystemExit(f"scale benchmark: cannot scale a {kind} export ({source})")
    return hashlib.sha256(target.read_bytes()).hexdigest()


# --- the runs ------------------------------------------------------------------------------------


def load_bench(name: str):
    """A sibling benchmark script as a module (workflow/bench is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(
        f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def targets(wave: str) -> tuple[str, ...]:
    """What a run makes: the scaled wave's estimates and the battery."""
    return (f"results/{wave}/estimates.csv", f"results/{wave}/item_estimates.parquet",
            "results/stats/tests.csv")


def other_waves(workdir: Path, wave: str) -> tuple[str, ...]:
    """The tables of every other wave that the battery reads, built before the timed runs."""
    config = yaml.safe_load((workdir / "config/config.yaml").read_text(encoding="utf-8"))
    return tuple(f"results/{other}/{table}" for other in config["waves"] if other != wave
                 for table in ("clean.parquet", "weights.parquet", "item_estimates.parquet"))


def run_snakemake(workdir: Path, configfile: Path, targets: Sequence[str], cores: int) -> float:
    """Snakemake's wall seconds for `targets`; exits with its errors when it fails."""
    environment = {**os.environ, "PYTHONPATH": str(workdir / "workflow"), "PYTHONHASHSEED": "0",
                   "OMP_NUM_THREADS": "1",
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    command = [str(SNAKEMAKE), *targets, "--cores", str(cores), "--configfile",
               str(configfile), "--quiet", "all"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, env=environment)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        output = (done.stderr + done.stdout).splitlines()
        logs = sorted((workdir / "results/logs").rglob("*.log"), key=lambda p: p.stat().st_mtime)
        tail = logs[-1].read_text(encoding="utf-8").splitlines()[-15:] if logs else []
        sys.exit(f"scale benchmark: {' '.join(command)} failed:\n"
                 + "\n".join(output[-30:])[-4000:] + "\n" + "\n".join(tail)[-4000:])
    return wall


def stage_files(workdir: Path, wave: str, stage: str) -> tuple[Path, Path]:
    """(benchmark file, log) of one stage's job for `wave`."""
    if stage == "stats":
        return workdir / "results/benchmarks/stats.tsv", workdir / "results/logs/stats.log"
    return (workdir / f"results/benchmarks/{wave}/{stage}.tsv",
            workdir / f"results/logs/{wave}/{stage}.log")


@dataclass(frozen=True)
class Measure:
    wall: float
    cpu: float
    rss: float  # MiB


def measure(workdir: Path, wave: str, stage: str) -> Measure:
    """The stage's wall (benchmark file), CPU and peak RSS (its log's resources line; the
    benchmark's sampled values when a log lacks it)."""
    benchmark, logfile = stage_files(workdir, wave, stage)
    row = pd.read_csv(benchmark, sep="\t").iloc[-1]
    found = RESOURCES.findall(logfile.read_text(encoding="utf-8"))
    if found:
        cpu, rss = map(float, found[-1])
    else:
        cpu, rss = float(row["cpu_time"]), float(row["max_rss"])
    return Measure(float(row["s"]), cpu, rss)


def clear(workdir: Path, wave: str) -> None:
    """Remove what the benchmark's jobs for `wave` made, so the next run makes it again."""
    for folder in (f"results/{wave}", "results/stats", f"results/benchmarks/{wave}",
                   f"results/logs/{wave}"):
        shutil.rmtree(workdir / folder, ignore_errors=True)
    for name in ("results/benchmarks/stats.tsv", "results/logs/stats.log"):
        (workdir / name).unlink(missing_ok=True)


def run_scenario(workdir: Path, wave: str, respondents: int, repeats: int,
                 cores: int) -> dict[str, list[Measure]]:
    """Every stage's measures over `repeats` runs of `wave` scaled to `respondents`, and the
    whole Snakemake call's wall (stage `snakemake`, CPU and RSS not measured: NaN)."""
    config = yaml.safe_load((workdir / "config/config.yaml").read_text(encoding="utf-8"))
    entry = config["waves"][wave]
    codebook = load_codebook(workdir / entry["codebook"])
    source = workdir / entry["raw_file"]
    raw = Path(entry["raw_file"]).with_name(f"scaled_{respondents}{source.suffix}")
    sha256 = scaled_export(source, codebook, respondents, workdir / raw)
    configfile = workdir / f"scale_{wave}_{respondents}.yaml"
    configfile.write_text(yaml.safe_dump({"waves": {wave: {**entry, "raw_file": str(raw),
                                                           "raw_sha256": sha256}}}))
    measures: dict[str, list[Measure]] = {stage: [] for stage in (*STAGES, "snakemake")}
    clear(workdir, wave)
    run_snakemake(workdir, configfile, other_waves(workdir, wave), cores)
    for _repeat in range(repeats):
        clear(workdir, wave)
        wall = run_snakemake(workdir, configfile, targets(wave), cores)
        for stage in STAGES:
            measures[stage].append(measure(workdir, wave, stage))
        measures["snakemake"].append(Measure(wall, math.nan, math.nan))
    (workdir / raw).unlink()
    return measures


def table_rows(wave: str, respondents: int, measures: dict[str, list[Measure]],
               previous: dict[str, dict[str, float]] | None) -> list[dict[str, object]]:
    """The table's rows of one scenario: per stage, `total` (the stages summed per repeat)
    and `snakemake`; ratios to `previous` (the same wave's rows at the previous size)."""
    repeats = len(measures["snakemake"])
    totals = [Measure(sum(measures[s][i].wall for s in STAGES),
                      sum(measures[s][i].cpu for s in STAGES),
                      max(measures[s][i].rss for s in STAGES)) for i in range(repeats)]
    rows = []
    for stage, runs in [*((s, measures[s]) for s in STAGES), ("total", totals),
                        ("snakemake", measures["snakemake"])]:
        walls = [m.wall for m in runs]
        fastest = runs[walls.index(min(walls))]
        measured = not math.isnan(fastest.cpu)
        row: dict[str, object] = {
            "wave": wave, "respondents": respondents, "stage": stage, "repeats": repeats,
            "wall_min_s": round(min(walls), 2), "wall_median_s": round(statistics.median(walls), 2),
            "cpu_s": round(fastest.cpu, 2) if measured else "",
            "peak_rss_mib": round(max(m.rss for m in runs)) if measured else "",
            "wall_ratio": "", "cpu_ratio": ""}
        before = (previous or {}).get(stage)
        if before:
            row["wall_ratio"] = round(min(walls) / before["wall"], 1)
            if measured:
                row["cpu_ratio"] = round(fastest.cpu / before["cpu"], 1)
        rows.append(row)
    return rows


def print_table(rows: Sequence[dict[str, object]], cores: int) -> None:
    print(f"scale benchmark on {cores} cores (synthetic data replicated; seconds: min / median "
          "wall over the repeats, CPU of the fastest; peak RSS in MiB; ratios to the previous "
          "size)")
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS}
    print("  ".join(f"{c:>{widths[c]}}" for c in COLUMNS))
    for row in rows:
        print("  ".join(f"{row[c]!s:>{widths[c]}}" for c in COLUMNS))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--waves", nargs="+", default=list(DEFAULT_WAVES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=OUT, help=f"the table (default {OUT})")
    parser.add_argument("--with-r", action="store_true",
                        help="also run workflow/bench/design.py (R survey) at 100,000")
    args = parser.parse_args(argv)
    if args.repeats < 1 or min(args.sizes) < 1:
        parser.error("needs --repeats >= 1 and sizes >= 1")
    args.out.unlink(missing_ok=True)  # a failed run leaves no earlier table looking like its own
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="smesocial-bench-scale-") as tmp:
        workdir = copy_repository(Path(tmp) / "repo")
        shutil.rmtree(workdir / "results", ignore_errors=True)
        for wave in args.waves:
            previous = None
            for respondents in sorted(args.sizes):
                measures = run_scenario(workdir, wave, respondents, args.repeats, args.cores)
                scenario = table_rows(wave, respondents, measures, previous)
                rows.extend(scenario)
                previous = {str(r["stage"]): {"wall": float(r["wall_min_s"]),
                                              "cpu": float(r["cpu_s"] or "nan")}
                            for r in scenario}
                print(f"scale benchmark: {wave} at {respondents:,} done "
                      f"({scenario[-2]['wall_min_s']} s over the stages)", flush=True)
    print_table(rows, args.cores)
    write_table(args.out, rows, COLUMNS)
    print(f"wrote {args.out}")
    if args.with_r:
        load_bench("design").main(["--respondents", "100000"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
