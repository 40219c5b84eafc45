"""Column operations that cost the same at a million respondents as at a few hundred.

A survey column repeats a few values (segments, samples, answer levels) over every
respondent. Converting each respondent's value with a Python call (`Series.map(func)`,
`astype(object).astype(str)`) costs a microsecond or more per row; these helpers convert each
distinct value once and spread the results with integer codes, giving the same values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa


def as_text(column: pd.Series) -> pd.Series:
    """`column.astype("object").astype(str)`: each value's str() in pandas' string type,
    missing values missing, on the column's index and name."""
    codes, distinct = pd.factorize(column)  # code -1 = missing
    labels = pa.array([str(value) for value in distinct], type=pa.large_string())
    taken = labels.take(pa.array(codes, mask=codes < 0))
    return pd.Series(pd.array(taken, dtype="str"), index=column.index, name=column.name)


def map_distinct(column: pd.Series, function: Callable[[Any], Any], missing: Any,
                 dtype: Any = object) -> np.ndarray:
    """`function` of each value as an array of `dtype`, called once per distinct value;
    `missing` where the value is missing."""
    codes, distinct = pd.factorize(column)  # code -1 = missing
    return np.asarray([*(function(value) for value in distinct), missing], dtype=dtype)[codes]
