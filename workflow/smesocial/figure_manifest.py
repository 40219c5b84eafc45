"""The figure manifests: a notebook run records each figure file it saves (sha256, caption,
sources, the notebook, executed notebook and rule that made it) in its own CSV, and the notebooks
job merges them into results/figures/figures.csv.

Apart from smesocial.notebooks (the drawing, which imports matplotlib and seaborn), and read and
written with the standard library's csv (every field is text), so that the job that runs the
notebooks merges their manifests without importing pandas (~0.4 s of its CPU). The bytes are
those pandas' to_csv wrote: the same csv dialect (minimal quoting, '\\n' line ends).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

MANIFEST_COLUMNS = ["figure", "format", "path", "sha256", "bytes", "caption", "sources",
                    "notebook", "executed_notebook", "rule"]

Row = dict[str, str]


def read_manifest(path: str | Path) -> list[Row]:
    """A manifest CSV's rows, every field as text."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_manifest(rows: Iterable[Mapping[str, Any]], path: str | Path) -> None:
    """The rows as a manifest CSV: MANIFEST_COLUMNS in order, UTF-8, '\\n' line ends."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        writer.writerows([str(row[column]) for column in MANIFEST_COLUMNS] for row in rows)


def _sorted(rows: Iterable[Mapping[str, Any]]) -> list[Row]:
    """Rows as text, sorted by figure and format (stable), so the bytes are stable."""
    text = [{column: str(row[column]) for column in MANIFEST_COLUMNS} for row in rows]
    return sorted(text, key=lambda row: (row["figure"], row["format"]))


def update_manifest(path: str | Path, records: Sequence[Mapping[str, Any]]) -> list[Row]:
    """Add the records to the manifest CSV at `path` (created if missing), replacing its rows of
    the same figure and format; rows sorted by figure and format, so the bytes are stable."""
    path = Path(path)
    rows = list(records)
    if path.is_file():
        replaced = {(str(r["figure"]), str(r["format"])) for r in rows}
        rows = [r for r in read_manifest(path)
                if (r["figure"], r["format"]) not in replaced] + rows
    out = _sorted(rows)
    write_manifest(out, path)
    return out


def merge_manifests(paths: Iterable[str | Path]) -> list[Row]:
    """The notebooks' manifests as one table (rows) sorted by figure and format; a figure that
    two manifests list is an error (figure names are unique)."""
    merged = _sorted(row for path in paths for row in read_manifest(path))
    counts = Counter((row["figure"], row["format"]) for row in merged)
    twice = sorted({figure for (figure, _format), n in counts.items() if n > 1})
    if twice:
        raise ValueError(f"figure(s) in more than one manifest: {twice}")
    return merged
