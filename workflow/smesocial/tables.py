"""Writing tidy tables the same way everywhere, so two runs give the same bytes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """UTF-8, '\\n' line ends, no index, floats at fixed precision (stable bytes across runs)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", float_format="%.6g", encoding="utf-8")


def write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a table so that the same frame always gives the same bytes.

    No index (a RangeIndex would be stored as metadata that changes with filtering); pyarrow
    writes no timestamps, so the file depends only on the data, dtypes and library versions.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.reset_index(drop=True).to_parquet(path, engine="pyarrow", index=False,
                                            compression="snappy")
