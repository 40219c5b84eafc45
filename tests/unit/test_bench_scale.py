"""workflow/bench/scale.py at small sizes, in process: the scaled exports of both shipped waves
(read back by the pipeline's own reader), the table built from a run's benchmark files and
logs, and its ratios. No timings are asserted (they depend on the machine); the whole command
runs in tests/integration/test_bench_scale.py."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bench_support import load_bench

from smesocial.config import load_codebook
from smesocial.ingest import build_ingested
from smesocial.readers import read_export
from smesocial.respondent_key import DEVELOPMENT_KEY

ROOT = Path(__file__).parents[2]
DK_EXPORT = ROOT / "data/raw/dk_2024/dk_2024_survey_export.csv"
NO_EXPORT = ROOT / "data/raw/no_2010/no_2010_survey_export.sav"
SHIPPED_ROWS = {"dk_2024": 339, "no_2010": 756}


bench = load_bench("scale")


@pytest.fixture(scope="module")
def dk_codebook():
    return load_codebook(ROOT / "config/codebook/dk_2024.yaml")


@pytest.fixture(scope="module")
def no_codebook():
    return load_codebook(ROOT / "config/codebook/no_2010.yaml")


def scaled(tmp_path, codebook, export, respondents):
    target = tmp_path / f"scaled_{respondents}{export.suffix}"
    sha256 = bench.scaled_export(export, codebook, respondents, target)
    return target, sha256, read_export(target, codebook)


def test_the_first_copy_is_the_shipped_export_byte_for_byte(tmp_path, dk_codebook):
    target, sha256, _raw = scaled(tmp_path, dk_codebook, DK_EXPORT, SHIPPED_ROWS["dk_2024"])
    assert target.read_bytes() == DK_EXPORT.read_bytes()
    assert sha256 == "e14bb853474148c620e5a00954baa38557dc712aa2a49352ed1cb72977155446"


@pytest.mark.parametrize("wave, export", [("dk_2024", DK_EXPORT), ("no_2010", NO_EXPORT)])
def test_a_scaled_export_has_the_rows_asked_for_with_unique_keys_and_ids(
        tmp_path, dk_codebook, no_codebook, wave, export):
    codebook = dk_codebook if wave == "dk_2024" else no_codebook
    respondents = 2 * SHIPPED_ROWS[wave] + 100  # two whole copies and part of a third
    _target, _sha, raw = scaled(tmp_path, codebook, export, respondents)
    shipped = read_export(export, codebook)
    assert len(raw) == respondents
    assert raw[codebook.meta["response_id"]].is_unique
    # Keys: each copy has the shipped file's keys (a resubmission keeps its firm's key within
    # its copy), and no key is shared by two copies.
    key = codebook.respondent_key
    copy = np.arange(respondents) // SHIPPED_ROWS[wave]
    keys = pd.DataFrame({"key": raw[key], "copy": copy}).dropna()
    assert keys.groupby("key")["copy"].nunique().max() == 1
    per_copy = keys.groupby("copy")["key"].nunique()
    assert per_copy.iloc[0] == per_copy.iloc[1] == shipped[key].nunique()
    # Answers recur unchanged; start times move one COPY_SHIFT per copy.
    item = next(iter(codebook.columns))
    second = raw.iloc[SHIPPED_ROWS[wave]:2 * SHIPPED_ROWS[wave]].reset_index(drop=True)
    assert second[item].equals(shipped[item])
    started = codebook.meta["started"]
    shift = (pd.to_datetime(second[started]) - pd.to_datetime(shipped[started])).dropna()
    assert (shift == bench.COPY_SHIFT).all() and len(shift) > 0


def test_test_responses_and_resubmissions_recur_once_per_copy(tmp_path, dk_codebook, config,
                                                               harmonised):
    copies = 3
    _target, _sha, raw = scaled(tmp_path, dk_codebook, DK_EXPORT, copies * 339)
    ingested = build_ingested(raw, dk_codebook, harmonised, source="scaled",
                              secret=DEVELOPMENT_KEY.encode(),
                              test_markers=config["exclusions"]["test_response_markers"])
    shipped = build_ingested(read_export(DK_EXPORT, dk_codebook), dk_codebook, harmonised,
                             source="shipped", secret=DEVELOPMENT_KEY.encode(),
                             test_markers=config["exclusions"]["test_response_markers"])
    assert ingested["is_test_marked"].sum() == copies * shipped["is_test_marked"].sum() > 0
    repeated = ingested["respondent_key_hash"].dropna().duplicated().sum()
    assert repeated == copies * shipped["respondent_key_hash"].dropna().duplicated().sum() > 0


def write_run(workdir: Path, wave: str, walls: dict[str, float], cpu: float, rss: float) -> None:
    """Benchmark files and logs as a run of the scale benchmark's targets leaves them."""
    for stage, wall in walls.items():
        benchmark, log = bench.stage_files(workdir, wave, stage)
        benchmark.parent.mkdir(parents=True, exist_ok=True)
        log.parent.mkdir(parents=True, exist_ok=True)
        benchmark.write_text("s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\t"
                             f"mean_load\tcpu_time\n{wall}\t0:00:01\t1.0\t1\t1\t1\t0\t0\t0\t0.1\n")
        log.write_text(f"INFO smesocial: step cost: {cpu:.3f} s CPU in its process, 0.000 s in "
                       f"the processes it ran, peak RSS {rss:.0f} MiB\n"
                       "INFO smesocial: config read: alpha\n")


def test_the_table_has_a_row_per_stage_total_and_call_with_ratios(tmp_path):
    rows = []
    previous = None
    for respondents, scale in ((1000, 1.0), (10000, 10.0)):
        walls = {stage: scale * (i + 1) for i, stage in enumerate(bench.STAGES)}
        write_run(tmp_path, "dk_2024", walls, cpu=scale * 2, rss=100 * scale)
        measured = {stage: [bench.measure(tmp_path, "dk_2024", stage)] for stage in bench.STAGES}
        measured["snakemake"] = [bench.Measure(scale * 30, float("nan"), float("nan"))]
        scenario = bench.table_rows("dk_2024", respondents, measured, previous)
        previous = {str(r["stage"]): {"wall": float(r["wall_min_s"]),
                                      "cpu": float(r["cpu_s"] or "nan")} for r in scenario}
        rows += scenario
    assert [r["stage"] for r in rows[:8]] == [*bench.STAGES, "total", "snakemake"]
    table = pd.read_csv(io.StringIO(_written(tmp_path, rows)))
    assert list(table.columns) == bench.COLUMNS
    big = table[table["respondents"] == 10000].set_index("stage")
    assert big.loc["clean", "wall_min_s"] == 30.0 and big.loc["clean", "cpu_s"] == 20.0
    assert big.loc["total", "wall_min_s"] == 210.0  # 10 x (1 + ... + 6)
    assert big.loc["total", "cpu_s"] == 6 * 20.0 and big.loc["total", "peak_rss_mib"] == 1000
    assert (big["wall_ratio"] == 10.0).all()
    assert big.loc["stats", "cpu_ratio"] == 10.0 and np.isnan(big.loc["snakemake", "cpu_ratio"])
    assert table[table["respondents"] == 1000]["wall_ratio"].isna().all()


def test_a_log_without_the_resources_line_falls_back_to_the_benchmark_file(tmp_path):
    write_run(tmp_path, "no_2010", {"clean": 4.0}, cpu=3.0, rss=50)
    benchmark, log = bench.stage_files(tmp_path, "no_2010", "clean")
    log.write_text("INFO smesocial: config read: alpha\n")
    measured = bench.measure(tmp_path, "no_2010", "clean")
    assert (measured.wall, measured.cpu, measured.rss) == (4.0, 0.1, 1.0)


def _written(tmp_path: Path, rows: list[dict[str, object]]) -> str:
    out = tmp_path / "scale.csv"
    bench.write_table(out, rows, bench.COLUMNS)
    text = out.read_text()
    assert next(csv.reader([text.splitlines()[0]])) == bench.COLUMNS
    return text
