"""Helpers of the end-to-end tests: copy the repository as a fresh clone has it, run the
workflow in it, and fingerprint its results."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
# Timings and log lines differ between runs by nature; everything else must not.
VOLATILE_DIRS = {"logs", "benchmarks"}

def copy_repository(destination: Path) -> Path:
    """The tracked files (and untracked, unignored ones) as a fresh clone would have them."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def run_workflow(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SNAKEMAKE), "--cores", "2", "--directory", str(workdir), *args],
        cwd=workdir, capture_output=True, text=True,
    )


def digests(results: Path) -> dict[str, str]:
    return {
        path.relative_to(results).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(results.rglob("*"))
        if path.is_file() and path.relative_to(results).parts[0] not in VOLATILE_DIRS
    }
