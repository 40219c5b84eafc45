"""A new survey year needs only a raw file, a config entry and a codebook mapping.

In a copy of the repository, a `dk_2025` wave is made from the dk_2024 export with a changed
questionnaire: a new platform (Threads, added to the harmonised platforms and mapped in the new
codebook), a reworded item (a different question text mapped to `professionalism`) and a dropped
item (the `handling` column removed and unmapped) and a new free-text question the codebook
does not map (listed as unmapped, not read). Only files under data/raw/ and config/ are
written; then the workflow's data stages run for every wave and dk_2025 must reach each of
them and the automatic Danish cross-wave table. The figure notebooks and the manuscript (minutes
of kernel start-up and rendering) are left out to keep the test near a minute; a dry run checks
that the provenance manifest would list the new files.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd
import pytest
import yaml

from workflow_support import ROOT, copy_repository, run_workflow

pytestmark = pytest.mark.e2e

POST = "Hvor ofte poster virksomheden på følgende sociale medier? - {}"
IMPORTANT = ("Hvor enig er du i, at følgende sociale medier vil være vigtige for at vækste "
             "virksomheden? - {}")
OLD_PROFESSIONALISM = "Hvor professionelt arbejder din virksomhed med sociale medier?"
NEW_PROFESSIONALISM = "Hvordan vil du beskrive virksomhedens arbejde med sociale medier?"
DROPPED = "Hvem håndterer den daglige markedsføring/kommunikation på SoMe?"
DATE_COLUMNS = ("Startet", "Afsluttet")
RAW_FILE = "data/raw/dk_2025/dk_2025_survey_export.csv"
FREE_TEXT = "Hvad bruger I kunstig intelligens til i jeres markedsføring?"


def make_raw_file(workdir: Path) -> Path:
    """dk_2025's export: dk_2024's rows a year later, with the questionnaire changes."""
    source = ROOT / "data/raw/dk_2024/dk_2024_survey_export.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    header = [c for c in rows[0] if c != DROPPED]
    header[header.index(OLD_PROFESSIONALISM)] = NEW_PROFESSIONALISM
    header += [POST.format("Threads"), IMPORTANT.format("Threads"), FREE_TEXT]
    out_rows = []
    for row in rows:
        row = dict(row)
        row.pop(DROPPED)
        row[NEW_PROFESSIONALISM] = row.pop(OLD_PROFESSIONALISM)
        # Threads answers: the firm's Instagram answers (the platform it grew out of)
        row[POST.format("Threads")] = row[POST.format("Instagram")]
        row[IMPORTANT.format("Threads")] = row[IMPORTANT.format("Instagram")]
        row[FREE_TEXT] = f"Opslag til {row['E-mail']}"  # free text may name the respondent
        for column in DATE_COLUMNS:  # fielded a year later
            if row[column]:
                row[column] = str(int(row[column][:4]) + 1) + row[column][4:]
        out_rows.append(row)
    target = workdir / RAW_FILE
    target.parent.mkdir(parents=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, delimiter=";", lineterminator="\n")
        writer.writeheader()
        writer.writerows(out_rows)
    (target.parent / "README.md").write_text(
        "# SYNTHETIC test wave dk_2025, made by tests/integration/test_new_wave.py from the "
        "dk_2024 export (a new platform, a reworded and a dropped item); not survey data.\n",
        encoding="utf-8")
    return target


def write_codebook(workdir: Path) -> None:
    codebook = yaml.safe_load((workdir / "config/codebook/dk_2024.yaml").read_text(encoding="utf-8"))
    codebook["wave"] = "dk_2025"
    codebook["platforms"]["threads"] = "Threads"
    columns = dict(codebook["columns"])
    del columns[DROPPED]
    codebook["columns"] = {NEW_PROFESSIONALISM if k == OLD_PROFESSIONALISM else k: v
                           for k, v in columns.items()}
    (workdir / "config/codebook/dk_2025.yaml").write_text(
        yaml.safe_dump(codebook, allow_unicode=True, sort_keys=False), encoding="utf-8")
    harmonised = workdir / "config/codebook/harmonised.yaml"
    text = harmonised.read_text(encoding="utf-8")
    assert "  blog: Blogs\n" in text
    harmonised.write_text(text.replace("  blog: Blogs\n", "  blog: Blogs\n  threads: Threads\n"),
                          encoding="utf-8")


def add_config_entry(workdir: Path) -> None:
    path = workdir / "config/config.yaml"
    text = path.read_text(encoding="utf-8")
    sha256 = hashlib.sha256((workdir / RAW_FILE).read_bytes()).hexdigest()
    entry = f"""waves:
  dk_2025:
    country: DK
    year: 2025
    language: da
    sample: main
    raw_file: {RAW_FILE}
    raw_sha256: {sha256}
    synthetic: true
    unmapped_columns: warn
    codebook: config/codebook/dk_2025.yaml
    segmentation: report_dk_2024
    boundary_checks: [50]
    population: {{min_employees: 1, max_employees: null}}
    disclosure: >-
      Synthetic test data: dk_2025 is the dk_2024 reconstruction with a changed questionnaire,
      made by a test; not survey responses and not findings.
"""
    assert text.count("\nwaves:\n") == 1
    path.write_text(text.replace("\nwaves:\n", "\n" + entry, 1), encoding="utf-8")


WAVES = ("dk_2024", "no_2010", "dk_2025")
# Every data stage of every wave, the comparisons and the official statistics.
TARGETS = [f"results/{wave}/{name}" for wave in WAVES
           for name in ("clean.parquet", "segment_counts.csv", "weights.parquet",
                        "weights_summary.csv", "estimates.csv")] + [
    "results/summary.md", "results/comparisons/dk_no.csv",
    "results/comparisons/DK_waves.csv", "results/official/benchmarks.csv"]


@pytest.fixture(scope="module")
def new_wave_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = copy_repository(tmp_path_factory.mktemp("new_wave"))
    make_raw_file(workdir)
    write_codebook(workdir)
    add_config_entry(workdir)
    done = run_workflow(workdir, *TARGETS)
    assert done.returncode == 0, done.stderr[-4000:]
    return workdir


def read(workdir: Path, name: str) -> pd.DataFrame:
    # keep_default_na=False: the country code NO is not a missing value
    return pd.read_csv(workdir / "results" / name, keep_default_na=False, na_values=[""])


def test_new_wave_is_cleaned_segmented_weighted_and_estimated(new_wave_run: Path) -> None:
    old = pd.read_parquet(new_wave_run / "results/dk_2024/clean.parquet")
    new = pd.read_parquet(new_wave_run / "results/dk_2025/clean.parquet")
    assert len(new) == len(old) == 332
    assert new["post_threads"].notna().sum() == old["post_instagram"].notna().sum()
    assert new["handling"].isna().all() and old["handling"].notna().any()
    assert new["professionalism"].value_counts().to_dict() == old["professionalism"].value_counts().to_dict()

    counts = read(new_wave_run, "dk_2025/segment_counts.csv")
    segments = counts[(counts["count_type"] == "segment") & (counts["scheme"] == "report_dk_2024")]
    assert segments.set_index("segment")["n"].to_dict() == {"micro": 97, "small": 103, "medium": 132}
    common = counts[(counts["count_type"] == "segment") & (counts["scheme"] == "common_size")]
    assert common["n"].sum() == 332

    weights = pd.read_parquet(new_wave_run / "results/dk_2025/weights.parquet")
    assert len(weights) == 332 and weights["weight"].eq(1).all()  # no targets: unit weights

    estimates = read(new_wave_run, "dk_2025/estimates.csv")
    assert "post_daily_weekly_threads" in set(estimates["indicator"])
    assert "handling_in_house" not in set(estimates["indicator"])


def test_a_column_the_codebook_does_not_map_is_listed_not_read(new_wave_run: Path) -> None:
    uses = read(new_wave_run, "dk_2025/raw_columns.csv")
    assert uses.loc[uses["use"] == "unmapped", "column"].tolist() == [FREE_TEXT]
    assert uses["position"].tolist() == list(range(1, len(uses) + 1))
    log = (new_wave_run / "results/logs/dk_2025/ingest.log").read_text(encoding="utf-8")
    assert (f"1 column(s) of the export are not in the codebook config/codebook/dk_2025.yaml and "
            f"are not read (waves.dk_2025.unmapped_columns: warn): {FREE_TEXT!r}") in log
    summary = (new_wave_run / "results/summary.md").read_text(encoding="utf-8")
    assert (f"Raw export: 1 of its {len(uses)} columns are not in the codebook and were not read "
            f"(results/dk_2025/raw_columns.csv): `{FREE_TEXT}`.") in summary
    assert "Raw export: all 36 columns are in the codebook (results/dk_2024/raw_columns.csv)." \
        in summary
    ingested = pd.read_parquet(new_wave_run / "results/dk_2025/ingested.parquet")
    assert not ingested.astype("str").apply(lambda c: c.str.contains("Opslag til")).any().any()


def test_danish_waves_are_compared_automatically(new_wave_run: Path) -> None:
    table = read(new_wave_run, "comparisons/DK_waves.csv")
    estimates = table[table["row_type"] == "estimate"]
    assert set(estimates["wave"]) == {"dk_2024", "dk_2025"}

    # the reworded item is compared (same harmonised variable), and the rewording is noted
    reworded = table[(table["item"] == "professional") & (table["segment"] == "all")]
    difference = reworded[reworded["row_type"] == "difference"].iloc[0]
    assert difference["wave"] == "dk_2025 - dk_2024"
    assert difference["difference"] == 0  # same answers under the new wording
    assert "question text differs" in difference["note"]

    # the dropped item: dk_2024 only, no difference
    dropped = table[table["item"] == "handling_in_house"]
    assert set(dropped["wave"]) == {"dk_2024"}
    assert "asked only in dk_2024" in dropped["note"].iloc[0]
    # the new platform: dk_2025 only
    threads = table[table["item"] == "post_daily_weekly_threads"]
    assert set(threads["wave"]) == {"dk_2025"} and len(threads) == 3  # all + two common segments

    # a wave-level item asked in both waves gets its difference
    facebook = table[(table["item"] == "post_daily_weekly_facebook") & (table["row_type"] == "difference")]
    assert set(facebook["segment"]) == {"all", "micro_small", "medium_large"}
    assert not (new_wave_run / "results/comparisons/NO_waves.csv").exists()  # one Norwegian wave


def test_new_wave_reaches_benchmarks_and_provenance(new_wave_run: Path) -> None:
    benchmarks = read(new_wave_run, "official/benchmarks.csv")
    row = benchmarks[(benchmarks["wave"] == "dk_2025") & (benchmarks["sample"] == "all")].iloc[0]
    assert row["official_year"] == 2019 and row["year_gap"] == 6
    dk_no = read(new_wave_run, "comparisons/dk_no.csv")
    assert set(dk_no.loc[dk_no["row_type"] == "estimate", "wave"]) == {"dk_2024", "no_2010"}

    # The manifest's rule takes the new wave's raw file and the new table as inputs.
    planned = run_workflow(new_wave_run, "--dry-run", "results/provenance.json")
    assert planned.returncode == 0, planned.stderr[-4000:]
    provenance = planned.stdout.split("rule provenance:", 1)[1].split("output:", 1)[0]
    for path in ("data/raw/dk_2025/dk_2025_survey_export.csv", "results/comparisons/DK_waves.csv",
                 "results/comparisons/DK_waves.parquet", "results/dk_2025/estimates.csv"):
        assert path in provenance
