"""`run.sh verify`: a results tree checked against its manifest: changed, missing and
unrecorded files, an output made from an older input, and whether the checkout and the
configuration are those the build recorded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from smesocial.verify import (Recorded, check_checksums, compare_checkouts, config_differences,
                              main, recorded_checksums, unrecorded_files)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


MANIFEST = {
    "inputs": [{"path": "data/raw/w.csv", "sha256": "r" * 64}],
    "outputs": [
        {"path": "results/w/clean.parquet", "sha256": "c" * 64, "rule": "clean",
         "inputs": [{"path": "data/raw/w.csv", "sha256": "r" * 64}]},
        {"path": "results/w/estimates.csv", "sha256": "e" * 64, "rule": "estimates",
         "inputs": [{"path": "results/w/clean.parquet", "sha256": "c" * 64}]},
    ],
}


def test_every_recorded_checksum_is_collected_with_where_it_is_recorded():
    recorded = recorded_checksums(MANIFEST)
    assert recorded == {
        "data/raw/w.csv": [Recorded("r" * 64, "raw input or configuration"),
                           Recorded("r" * 64, "input of results/w/clean.parquet")],
        "results/w/clean.parquet": [Recorded("c" * 64, "output of rule clean"),
                                    Recorded("c" * 64, "input of results/w/estimates.csv")],
        "results/w/estimates.csv": [Recorded("e" * 64, "output of rule estimates")],
    }


def test_changed_missing_and_twice_recorded_files_are_each_reported(tmp_path: Path):
    for name, data in {"a.csv": b"same", "b.csv": b"edited", "d.csv": b"now"}.items():
        (tmp_path / name).write_bytes(data)
    recorded = {
        "a.csv": [Recorded(sha(b"same"), "output of rule x")],
        "b.csv": [Recorded(sha(b"original"), "output of rule y")],
        "c.csv": [Recorded(sha(b"gone"), "raw input or configuration")],
        "d.csv": [Recorded(sha(b"old"), "input of e.csv"), Recorded(sha(b"now"), "output of rule z")],
    }
    report = check_checksums(recorded, tmp_path)
    assert report.checked == 3
    assert report.changed == [f"b.csv: recorded {sha(b'original')[:12]} (output of rule y), "
                              f"now {sha(b'edited')[:12]}"]
    assert report.missing == ["c.csv (raw input or configuration)"]
    assert report.inconsistent == [
        "d.csv: recorded as " + "; ".join(sorted(
            [f"{sha(b'old')[:12]} (input of e.csv)", f"{sha(b'now')[:12]} (output of rule z)"],
            key=lambda text: text[:12])) + f"; now {sha(b'now')[:12]}"]
    assert report.problems() == 3


def test_files_under_results_the_manifest_does_not_record_are_listed(tmp_path: Path):
    for name in ("results/w/clean.parquet", "results/w/stray.csv", "results/logs/w/clean.log",
                 "results/benchmarks/clean.tsv", "results/report.html",
                 "results/provenance.json", "results/old_wave/flow.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    found = unrecorded_files(tmp_path / "results", tmp_path, ["results/w/clean.parquet"])
    assert found == ["results/old_wave/flow.csv", "results/w/stray.csv"]


def test_config_keys_the_file_sets_differently_are_named_and_schema_defaults_ignored():
    recorded = {"alpha": 0.05, "seed": 1, "waves": {"dk": {"year": 2024, "default": "x"}},
                "added_by_schema": True}
    assert config_differences(recorded, {"alpha": 0.05, "waves": {"dk": {"year": 2024}}}) == []
    assert config_differences(recorded, {"alpha": 0.1, "seed": 1,
                                         "waves": {"dk": {"year": 2025}, "no": {"year": 2010}}}
                              ) == ["alpha", "waves/dk/year", "waves/no"]


COMMIT_A, COMMIT_B = "a" * 40, "b" * 40


def state(commit: str, *modified: tuple[str, str | None]) -> dict:
    return {"commit": commit,
            "tracked_files_modified": [{"path": p, "sha256": s} for p, s in modified]}


def test_the_same_commit_and_the_same_uncommitted_changes_is_the_current_checkout():
    problems, notes = compare_checkouts(state(COMMIT_A, ("README.md", "1" * 64)),
                                        state(COMMIT_A, ("README.md", "1" * 64)))
    assert problems == []
    assert notes == [f"results/ were built from the current checkout: commit {COMMIT_A} with "
                     "the same uncommitted changes to README.md"]


def test_another_commit_is_a_problem_naming_the_files_that_differ():
    problems, _ = compare_checkouts(state(COMMIT_A), state(COMMIT_B),
                                    lambda first, second: ["workflow/smesocial/stats.py"])
    assert problems == [f"results/ were built from commit {COMMIT_A}; the checkout is at "
                        f"{COMMIT_B} (files that differ between them: workflow/smesocial/stats.py)"]


def test_uncommitted_changes_made_or_undone_since_the_build_are_named():
    problems, notes = compare_checkouts(
        state(COMMIT_A, ("a.py", "1" * 64), ("b.py", None)),
        state(COMMIT_A, ("a.py", "2" * 64), ("c.py", "3" * 64)))
    assert problems == ["tracked files differ from the checkout results/ were built from "
                        "(uncommitted changes made or undone since): a.py, b.py, c.py"]
    assert notes == []


def test_a_build_outside_git_cannot_be_checked_against_a_commit_and_says_so():
    problems, notes = compare_checkouts({"commit": "unknown"}, state(COMMIT_A))
    assert problems == [] and "not built in a git checkout" in notes[0]
    problems, notes = compare_checkouts(state(COMMIT_A), {"commit": "unknown"})
    assert problems == [] and "not a git checkout" in notes[0]


def build_tree(root: Path) -> None:
    """A tiny built tree (outside git): a raw file, the config, one output and its manifest."""
    files = {"data/raw/w.csv": b"raw\n", "config/config.yaml": b"alpha: 0.05\n",
             "results/w/estimates.csv": b"share\n0.5\n"}
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    manifest = {
        "manifest_version": 2,
        "git": {"commit": "unknown", "tracked_files_modified": None},
        "config": {"alpha": 0.05, "seed": 3},
        "inputs": [{"path": p, "sha256": sha(files[p])}
                   for p in ("config/config.yaml", "data/raw/w.csv")],
        "outputs": [{"path": "results/w/estimates.csv", "sha256": sha(files["results/w/estimates.csv"]),
                     "rule": "estimates", "final": True,
                     "inputs": [{"path": "data/raw/w.csv", "sha256": sha(files["data/raw/w.csv"])}]}],
    }
    (root / "results/provenance.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_the_command_passes_an_intact_tree_and_fails_naming_each_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    build_tree(tmp_path)
    assert main(["--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "3 recorded files re-hashed" in out
    assert out.rstrip().endswith("results/ match their provenance (the commit is not checked: "
                                 "see the note).")
    (tmp_path / "data/raw/w.csv").write_bytes(b"raw, edited\n")
    (tmp_path / "results/w/estimates.csv").unlink()
    (tmp_path / "results/w/stray.csv").write_text("x", encoding="utf-8")
    (tmp_path / "config/config.yaml").write_text(yaml.safe_dump({"alpha": 0.1}), encoding="utf-8")
    assert main(["--root", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    sections = captured.out.split("\n")
    assert "changed since they were recorded (2):" in sections
    assert any(line.startswith("  data/raw/w.csv: recorded ") for line in sections)
    assert any(line.startswith("  config/config.yaml: recorded ") for line in sections)
    assert "  results/w/estimates.csv (output of rule estimates)" in sections
    assert "  results/w/stray.csv" in sections
    assert ("  the configuration results/ were built with differs from config/config.yaml at: "
            "alpha") in sections
    assert captured.err.strip().splitlines()[-1] == (
        "smesocial verify: results/ do not match their provenance: 2 changed, 1 missing, "
        "1 not recorded, 1 about the build's checkout or configuration (listed above); rebuild "
        "with `bash workflow/run.sh build`.")


def test_a_manifest_of_an_older_workflow_is_named(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]):
    build_tree(tmp_path)
    manifest = json.loads((tmp_path / "results/provenance.json").read_text(encoding="utf-8"))
    manifest["manifest_version"] = 1
    (tmp_path / "results/provenance.json").write_text(json.dumps(manifest), encoding="utf-8")
    main(["--root", str(tmp_path)])
    assert ("note: the manifest is version 1, this workflow writes version 2"
            in capsys.readouterr().out)


def test_without_a_readable_manifest_there_is_nothing_to_verify(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["--root", str(tmp_path)]) == 2
    assert "results/provenance.json not found" in capsys.readouterr().err
    (tmp_path / "results").mkdir()
    (tmp_path / "results/provenance.json").write_text("{not json", encoding="utf-8")
    assert main(["--root", str(tmp_path)]) == 2
    assert "is not a readable provenance manifest" in capsys.readouterr().err
