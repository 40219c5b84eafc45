"""The figure manifests: a notebook run records each figure file it saves (sha256, caption,
sources, the notebook, executed notebook and rule that made it) in its own CSV, and the notebooks
job merges them into results/figures/figures.csv.

Apart from smesocial.notebooks (the drawing, which imports matplotlib and seaborn), so that the
job that runs the notebooks merges their manifests with pandas alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from smesocial.tables import write_csv

MANIFEST_COLUMNS = ["figure", "format", "path", "sha256", "bytes", "caption", "sources",
                    "notebook", "executed_notebook", "rule"]


def update_manifest(path: str | Path, records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Add the records to the manifest CSV at `path` (created if missing), replacing its rows of
    the same figure and format; rows sorted by figure and format, so the bytes are stable."""
    path = Path(path)
    new = pd.DataFrame(list(records), columns=MANIFEST_COLUMNS).astype(str)
    if path.is_file():
        old = pd.read_csv(path, dtype=str, keep_default_na=False)
        replaced = set(zip(new["figure"], new["format"]))
        old = old[[key not in replaced for key in zip(old["figure"], old["format"])]]
        new = pd.concat([old[MANIFEST_COLUMNS], new], ignore_index=True)
    out = new.sort_values(["figure", "format"], kind="stable", ignore_index=True)
    write_csv(out, path)
    return out


def merge_manifests(paths: Iterable[str | Path]) -> pd.DataFrame:
    """The notebooks' manifests as one table sorted by figure and format; a figure that two
    manifests list is an error (figure names are unique)."""
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths]
    merged = (pd.concat(frames, ignore_index=True) if frames
              else pd.DataFrame(columns=MANIFEST_COLUMNS))
    twice = merged[merged.duplicated(["figure", "format"], keep=False)]
    if not twice.empty:
        raise ValueError(f"figure(s) in more than one manifest: {sorted(set(twice['figure']))}")
    return merged.sort_values(["figure", "format"], kind="stable",
                              ignore_index=True)[MANIFEST_COLUMNS]
