"""Writing tidy tables the same way everywhere, so two runs give the same bytes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """UTF-8, '\\n' line ends, no index, floats at fixed precision (stable bytes across runs)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", float_format="%.6g", encoding="utf-8")
