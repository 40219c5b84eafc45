"""The provenance manifest: every file the build made (intermediates and a directory output's
files included) with the rule, repository-relative script and inputs that made it, and the
checkout it was built from, file by file."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from smesocial.provenance import (build_manifest, git_state, made_by_build, repo_relative,
                                  snakemake_records)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_record(metadata: Path, path: str, record: dict, split: int | None = None) -> None:
    """A Snakemake metadata record; `split` cuts the encoded name into '@'-prefixed folders as
    Snakemake does for names longer than the file system allows."""
    name = base64.urlsafe_b64encode(path.encode()).decode()
    parts = [name] if split is None else [name[i:i + split] for i in range(0, len(name), split)]
    target = metadata.joinpath(*["@" + p for p in parts[:-1]], parts[-1])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record), encoding="utf-8")


def job(rule: str, job_hash: int, inputs: list[str], log: str) -> dict:
    return {"rule": rule, "job_hash": job_hash, "input": inputs, "log": [log]}


def test_script_paths_are_relative_to_the_repository_root(tmp_path: Path):
    rules_dir = tmp_path / "workflow" / "rules"
    assert repo_relative(rules_dir / ".." / "scripts" / "stats.py", tmp_path) == \
        "workflow/scripts/stats.py"


def test_records_are_read_whatever_the_length_of_their_names(tmp_path: Path):
    metadata = tmp_path / "metadata"
    write_record(metadata, "results/dk_2024/flow.csv", job("clean", 1, [], "a.log"))
    long_path = "results/ensemble/draw001/dk_2024/" + "x" * 40 + ".csv"
    write_record(metadata, long_path, job("clean", 2, [], "b.log"), split=20)
    records = snakemake_records(metadata)
    assert set(records) == {"results/dk_2024/flow.csv", long_path}
    assert records[long_path]["job_hash"] == 2
    assert snakemake_records(tmp_path / "absent") == {}


def test_the_build_made_the_finals_their_jobs_other_outputs_and_recorded_inputs():
    records = {
        "results/stats/tests.csv": job("stats", 7, ["results/w/clean.parquet", "config/h.yaml"],
                                       "stats.log"),
        "results/stats/summary.md": job("stats", 7, ["results/w/clean.parquet"], "stats.log"),
        "results/w/clean.parquet": job("clean", 3, ["results/w/ingested.parquet"], "clean.log"),
        "results/w/flow.csv": job("clean", 3, ["results/w/ingested.parquet"], "clean.log"),
        "results/w/ingested.parquet": job("ingest", 1, ["data/raw/w.csv"], "ingest.log"),
        # a record of another job (another wave): not reached from the finals
        "results/old/clean.parquet": job("clean", 4, [], "old.log"),
    }
    made = made_by_build(["results/stats/tests.csv"], records)
    assert made == ["results/stats/summary.md", "results/stats/tests.csv",
                    "results/w/clean.parquet", "results/w/flow.csv", "results/w/ingested.parquet"]


def test_the_manifest_records_intermediates_directory_files_and_relative_scripts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    files = {"data/raw/w.csv": b"raw\n", "results/w/clean.parquet": b"clean",
             "results/w/estimates.csv": b"share\n0.5\n", "results/paper/_build/a.md": b"# a\n",
             "results/paper/paper.html": b"<html/>"}
    for path, data in files.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    metadata = tmp_path / ".snakemake" / "metadata"
    write_record(metadata, "results/w/clean.parquet", job("clean", 1, ["data/raw/w.csv"], "c"))
    write_record(metadata, "results/w/estimates.csv",
                 job("estimates", 2, ["results/w/clean.parquet"], "e"))
    for path in ("results/paper/paper.html", "results/paper/_build"):
        write_record(metadata, path, job("manuscript", 3, ["results/w/estimates.csv"], "m"))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pyyaml==6.0.3  # a pin\n", encoding="utf-8")
    manifest = build_manifest(
        config={"alpha": 0.05}, inputs=["data/raw/w.csv"],
        outputs=["results/w/estimates.csv", "results/paper/paper.html"],
        scripts_by_rule={"clean": "workflow/scripts/clean.py",
                         "estimates": "workflow/scripts/estimates.py",
                         "manuscript": "workflow/scripts/manuscript.py"},
        metadata_dir=metadata, repo=tmp_path, requirements=requirements)
    outputs = {o["path"]: o for o in manifest["outputs"]}
    assert list(outputs) == ["results/paper/_build/a.md", "results/paper/paper.html",
                             "results/w/clean.parquet", "results/w/estimates.csv"]
    assert {p: o["final"] for p, o in outputs.items()} == {
        "results/paper/_build/a.md": False, "results/paper/paper.html": True,
        "results/w/clean.parquet": False, "results/w/estimates.csv": True}
    clean = outputs["results/w/clean.parquet"]
    assert (clean["rule"], clean["script"]) == ("clean", "workflow/scripts/clean.py")
    assert clean["sha256"] == sha(b"clean")
    assert clean["inputs"] == [{"path": "data/raw/w.csv", "sha256": sha(b"raw\n"), "bytes": 4}]
    assert outputs["results/paper/_build/a.md"]["rule"] == "manuscript"
    assert manifest["inputs"][0]["sha256"] == sha(b"raw\n")
    assert manifest["git"] == {"commit": "unknown", "tracked_files_modified": None}
    assert manifest["manifest_version"] == 2


def test_the_outputs_of_a_job_of_several_parts_have_the_inputs_of_their_own_part(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The notebooks job runs every notebook: each notebook's outputs read only its own tables."""
    monkeypatch.chdir(tmp_path)
    files = {"a.csv": b"a\n", "b.csv": b"b\n", "nb.py": b"# %%\n", "results/a.png": b"A",
             "results/b.png": b"B", "results/figures.csv": b"figure\na\nb\n"}
    for path, data in files.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    metadata = tmp_path / ".snakemake" / "metadata"
    for path in ("results/a.png", "results/b.png", "results/figures.csv"):
        write_record(metadata, path, job("notebooks", 5, ["a.csv", "b.csv", "nb.py"], "n.log"))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("", encoding="utf-8")
    parts = {"results/a.png": ["nb.py", "a.csv"], "results/b.png": ["nb.py", "b.csv"]}

    def manifest(inputs_of: dict) -> dict:
        made = build_manifest(
            config={}, inputs=[], outputs=["results/a.png", "results/b.png", "results/figures.csv"],
            scripts_by_rule={"notebooks": "workflow/scripts/notebooks.py"},
            metadata_dir=metadata, repo=tmp_path, requirements=requirements, inputs_of=inputs_of)
        return {o["path"]: [i["path"] for i in o["inputs"]] for o in made["outputs"]}

    assert manifest(parts) == {"results/a.png": ["a.csv", "nb.py"],
                               "results/b.png": ["b.csv", "nb.py"],
                               # not a part's own: the job's inputs
                               "results/figures.csv": ["a.csv", "b.csv", "nb.py"]}
    with pytest.raises(ValueError, match=r"results/a.png: inputs \['c.csv'\] are no inputs of "
                                         r"the notebooks job that made it"):
        manifest({"results/a.png": ["nb.py", "c.csv"]})


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                          cwd=repo, capture_output=True, text=True, check=True).stdout


def test_the_git_state_names_each_modified_tracked_file_with_its_checksum(tmp_path: Path):
    git(tmp_path, "init", "-q")
    for name in ("kept.txt", "edited.txt", "deleted.txt"):
        (tmp_path / name).write_text(name, encoding="utf-8")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "first")
    assert git_state(tmp_path) == {"commit": git(tmp_path, "rev-parse", "HEAD").strip(),
                                   "tracked_files_modified": []}
    (tmp_path / "edited.txt").write_text("changed", encoding="utf-8")
    (tmp_path / "deleted.txt").unlink()
    (tmp_path / "untracked.txt").write_text("new", encoding="utf-8")
    assert git_state(tmp_path)["tracked_files_modified"] == [
        {"path": "deleted.txt", "sha256": None},
        {"path": "edited.txt", "sha256": sha(b"changed")}]


def test_outside_a_git_checkout_the_commit_is_unknown(tmp_path: Path):
    assert git_state(tmp_path) == {"commit": "unknown", "tracked_files_modified": None}
