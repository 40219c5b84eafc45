"""End to end: `bash workflow/run.sh verify` on the tree the full workflow run built.

The built tree (the session's first run) is copied, so the edits here leave the other tests'
tree alone: verify passes the copy as built, then one changed result, one deleted result, one
stray file, an edited raw input and an edited configuration each appear in its report, and it
exits non-zero.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workflow_support import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture()
def built_copy(two_runs, tmp_path: Path) -> Path:
    workdir, _, _ = two_runs
    copy = tmp_path / "built"
    shutil.copytree(workdir, copy, symlinks=True, ignore=shutil.ignore_patterns(".snakemake"))
    return copy


def run_sh_verify(workdir: Path) -> subprocess.CompletedProcess[str]:
    """`bash workflow/run.sh verify` in `workdir`, its virtualenv set-up skipped: `.venv` there
    is this interpreter behind a wrapper, with the stamp run.sh expects for the current pins."""
    venv = workdir / ".venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    wrapper = venv / "bin" / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    pins = b"".join((workdir / name).read_bytes() for name in (
        "workflow/envs/requirements.txt", "workflow/envs/constraints.txt", "pyproject.toml"))
    (venv / ".smesocial-pins.sha256").write_text(hashlib.sha256(pins).hexdigest() + "\n",
                                                 encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(workdir / "workflow")}
    return subprocess.run(["bash", "workflow/run.sh", "verify"], cwd=workdir,
                          capture_output=True, text=True, env=env)


def section(report: str, title: str) -> list[str]:
    """The indented lines under one heading of the report."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    items = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        items.append(line.strip())
    return items


def test_verify_passes_the_tree_as_built(built_copy: Path):
    done = run_sh_verify(built_copy)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((built_copy / "results/provenance.json").read_text(encoding="utf-8"))
    recorded = {o["path"] for o in manifest["outputs"]}
    # intermediates, ensemble draws and the manuscript's staged build are recorded too
    assert {"results/dk_2024/ingested.parquet", "results/ensemble/batch001/draw001/stats/summary.md",
            "results/manuscript/_build/paper.resolved.md"} <= recorded
    assert done.stdout.splitlines()[-1].startswith("smesocial verify: results/ match")
    # outside a git checkout (the test's copy) it says the commit cannot be checked
    assert "not built in a git checkout" in done.stdout


def test_verify_reports_each_change_deletion_stray_file_and_config_edit(built_copy: Path):
    with (built_copy / "results/dk_2024/flow.csv").open("a", encoding="utf-8") as flow:
        flow.write("tampered\n")
    (built_copy / "results/stats/summary.md").unlink()
    (built_copy / "results/stats/extra.csv").write_text("not made by the build\n", encoding="utf-8")
    raw = built_copy / "data/raw/no_2010/no_2010_survey_export.sav"
    raw.write_bytes(raw.read_bytes() + b"\0")
    config = built_copy / "config/config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("\nalpha: 0.05\n",
                                                                 "\nalpha: 0.01\n"),
                      encoding="utf-8")
    done = run_sh_verify(built_copy)
    assert done.returncode == 1, done.stdout + done.stderr
    changed = section(done.stdout, "changed since they were recorded")
    assert sorted(line.split(":")[0] for line in changed) == [
        "config/config.yaml", "data/raw/no_2010/no_2010_survey_export.sav",
        "results/dk_2024/flow.csv"]
    assert any(line.startswith("results/dk_2024/flow.csv: recorded ")
               and "(output of rule clean)" in line for line in changed)
    assert section(done.stdout, "missing") == ["results/stats/summary.md (output of rule stats)"]
    assert section(done.stdout, "in results/ but not recorded") == ["results/stats/extra.csv"]
    assert section(done.stdout, "not built from the current checkout") == [
        "the configuration results/ were built with differs from config/config.yaml at: alpha"]
    assert done.stderr.strip().splitlines()[-1].startswith(
        "smesocial verify: results/ do not match their provenance: 3 changed, 1 missing, "
        "1 not recorded")


def test_script_paths_in_the_manifest_are_relative_to_the_repository_root(two_runs):
    workdir, _, _ = two_runs
    manifest = json.loads((workdir / "results/provenance.json").read_text(encoding="utf-8"))
    scripts = {o["script"] for o in manifest["outputs"]}
    assert "workflow/scripts/stats.py" in scripts
    assert all((ROOT / script).is_file() for script in scripts), scripts
