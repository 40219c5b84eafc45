"""What the benchmark scripts share: a copy of the repository to build in, and the table each
writes under results/benchmarks/ (workflow/bench is not a package: each script puts this folder
on sys.path)."""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def copy_repository(destination: Path, root: Path = ROOT) -> Path:
    """The repository's tracked and untracked-but-not-ignored files, as a checkout has them."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             "-z"], cwd=root, capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = root / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def write_table(path: Path, rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> None:
    """A benchmark's table as CSV, one row per measurement, columns in the given order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
