"""The data contract of the clean table (clean.parquet), as a pandera schema.

The harmonised columns are generated from config/codebook/harmonised.yaml (via
`smesocial.config.load_harmonised`), so a variable added there is covered without code changes:
recoded variables are categoricals with exactly the scale's levels in order (ordered for
ordered scales) or nullable booleans; derived variables are nullable booleans that must agree
with their source. The fixed columns (identity, wave, employee count, segment, item counts)
carry their types, ranges and category sets. The schema is strict: a column the contract does
not know, e.g. an identifier slipping through, is a violation too.

Validation is lazy (every violation is collected), and `validate_clean` turns pandera's
failure cases into one readable paragraph (an InputError), never a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, get_args

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from smesocial.ingest import MAX_EMPLOYEES, Kind
from smesocial.ingest import STATUSES
from smesocial.config import Harmonised
from smesocial.errors import InputError
from smesocial.readers import RAW_ROW
from smesocial.segment import Scheme, segment_column

COUNTRIES = ("DK", "NO")  # as config/schemas/config.schema.yaml allows
YEARS = (1990, 2100)
MAX_LISTED = 12  # problems listed in the report; the rest are counted
MAX_VALUES = 5  # failing values listed per problem


class ContractError(InputError):
    """The clean table breaks its data contract; `failures` is pandera's failure-case table."""

    def __init__(self, file: str, problem: str, failures: pd.DataFrame, *,
                 expected: str | None = None) -> None:
        self.failures = failures
        super().__init__(file, problem, expected=expected)


def _category(levels: Sequence[str], *, ordered: bool, nullable: bool) -> pa.Column:
    # The dtype pins levels and order; isin names the offending values, which the dtype check
    # alone does not.
    return pa.Column(pa.Category(list(levels), ordered=ordered), pa.Check.isin(list(levels)),
                     nullable=nullable)


def _count(*, nullable: bool = False) -> pa.Column:
    return pa.Column("Int64" if nullable else "int64", pa.Check.in_range(0, MAX_EMPLOYEES),
                     nullable=nullable)


def _derived_agrees(source: str, derived: str, true_levels: Sequence[str]) -> pa.Check:
    """A derived boolean is True iff its source is in `true_levels`, NA iff the source is NA."""

    def agrees(frame: pd.DataFrame) -> pd.Series:
        if source not in frame or derived not in frame:
            return pd.Series(True, index=frame.index)  # the missing column is reported already
        src, out = frame[source], frame[derived].astype("boolean")
        expected = src.isin(list(true_levels)).astype("boolean").mask(src.isna())
        same = (out == expected).fillna(False) | (out.isna() & expected.isna())
        return same.astype(bool)

    return pa.Check(agrees, name=f"{derived} derived from {source}", ignore_na=False,  # see clean_schema
                    error=f"{derived} must be True exactly where {source} is one of "
                          f"{list(true_levels)} (NA where {source} is NA)")


def clean_schema(harmonised: Harmonised, *, wave: str, wave_cfg: Mapping[str, Any],
                 scheme: Scheme, schemes: Mapping[str, Scheme]
                 ) -> pa.DataFrameSchema:
    """The contract of a wave's clean table (see the module docstring): `segment` under the
    wave's `scheme` (never NA) and a `segment_<name>` for each of `schemes` (NA where that
    scheme holds none of the respondent's range)."""
    kinds = list(get_args(Kind))
    columns: dict[str, pa.Column] = {
        "respondent_id": pa.Column(str, pa.Check.str_startswith(f"{wave}-"), unique=True),
        "wave": pa.Column(str, pa.Check.isin([wave])),
        "country": pa.Column(str, [pa.Check.isin(list(COUNTRIES)),
                                   pa.Check.isin([wave_cfg["country"]])]),
        "year": pa.Column("int64", [pa.Check.in_range(*YEARS),
                                    pa.Check.isin([int(wave_cfg["year"])])]),
        "sample": pa.Column(str, pa.Check.str_length(min_value=1)),
        RAW_ROW: pa.Column("int64", pa.Check.ge(2), unique=True),  # line 1 is the header
        "response_id": pa.Column(str, pa.Check.str_length(min_value=1), unique=True),
        "status": pa.Column(str, pa.Check.isin(list(STATUSES))),
        "employees": _count(),
        "employees_low": _count(),
        "employees_high": _count(nullable=True),
        "employees_raw": pa.Column(str, pa.Check.str_length(min_value=1)),
        "employees_kind": pa.Column(str, pa.Check.isin(kinds)),
        "segment": _category(scheme.categories, ordered=True, nullable=False),
        **{segment_column(name): _category(other.categories, ordered=True, nullable=True)
           for name, other in schemes.items()},
        "items_answered": pa.Column("int64", pa.Check.ge(0)),
        "items_total": pa.Column("int64", pa.Check.ge(1)),
    }
    for name, variable in harmonised.variables.items():
        scale = harmonised.scales[variable.scale]
        if name == "sample":
            # The harmonised `sample` (waves with several samples) types the fixed column; every
            # respondent has one (clean.sample_column falls back to the configured sample).
            columns[name] = _category(scale.levels, ordered=scale.type == "ordered", nullable=False)
            continue
        if name in columns:
            raise InputError("harmonised spec", f"variable {name!r} has the name of a fixed "
                             "column of the clean table, which would hide it",
                             expected=f"a name other than {', '.join(map(repr, columns))}")
        if scale.type == "boolean":
            columns[name] = pa.Column("boolean", nullable=True)
        else:
            columns[name] = _category(scale.levels, ordered=scale.type == "ordered", nullable=True)
    # Table checks with ignore_na=False: pandera's default lets rows missing in every column
    # pass, which costs a whole-table isna() per check (most of the validation's time) and
    # cannot matter here: such a row already breaks the non-nullable columns.
    checks: list[pa.Check] = [
        pa.Check(lambda f: (f["items_answered"] <= f["items_total"]),
                 name="items_answered <= items_total", ignore_na=False),
        # The analysed count lies in the range the respondent gave ("1-10" -> 5).
        pa.Check(lambda f: (f["employees_low"] <= f["employees"])
                 & (f["employees_high"].isna() | (f["employees"] <= f["employees_high"])).astype(bool),
                 name="employees_low <= employees <= employees_high", ignore_na=False),
    ]
    for name, derived in harmonised.derived.items():
        if name in columns:
            raise InputError("harmonised spec", f"derived variable {name!r} has the name of "
                             "another column of the clean table", expected="a name of its own")
        columns[name] = pa.Column("boolean", nullable=True)
        checks.append(_derived_agrees(derived.source, name, derived.true_levels))
    return pa.DataFrameSchema(columns, checks=checks, strict=True, ordered=False,
                              name=f"clean table of wave {wave}")


def validate_clean(frame: pd.DataFrame, schema: pa.DataFrameSchema, *, source: str) -> None:
    """Validate lazily; raise ContractError with every violation in one paragraph."""
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        failures = err.failure_cases
        problems = describe_failures(failures, frame, schema)
        shown = problems[:MAX_LISTED]
        more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise ContractError(
            source,
            f"the clean table breaks its data contract in {len(problems)} way(s): "
            + "; ".join(shown) + more,
            failures,
            expected="the types, levels and ranges of the contract (smesocial.contract, built "
                     "from the harmonised spec and the wave's configuration)",
        ) from None


# --- the report ---------------------------------------------------------------------------------


def _describe_dtype(dtype: Any) -> str:
    """A dtype as a person reads it: categoricals with their order and levels."""
    if isinstance(dtype, (pa.Category, pd.CategoricalDtype)):
        kind = "ordered" if dtype.ordered else "unordered"
        return f"{kind} category {list(dtype.categories)}"
    return str(dtype)


def _rows(indices: Sequence[Any], frame: pd.DataFrame) -> list[int | str]:
    """Failure-case indices as raw rows (lines of the raw export) where the table has them,
    else as '#<index>'; distinct, ascending."""
    rows: list[int | str] = []
    for index in dict.fromkeys(indices):
        if index is None or (not isinstance(index, str) and pd.isna(index)):
            continue
        if RAW_ROW in frame and index in frame.index and not pd.isna(frame.at[index, RAW_ROW]):
            rows.append(int(frame.at[index, RAW_ROW]))
        else:
            rows.append(f"#{index}")
    return sorted(rows, key=lambda r: (isinstance(r, str), r if isinstance(r, int) else 0, str(r)))


def _where(rows: Sequence[int | str]) -> str:
    if not rows:
        return ""
    label = "raw row" if all(isinstance(r, int) for r in rows) else "row"
    shown = ", ".join(map(str, rows[:MAX_VALUES]))
    more = f" and {len(rows) - MAX_VALUES} more" if len(rows) > MAX_VALUES else ""
    return f"{label}{'s' if len(rows) > 1 else ''} {shown}{more}"


def _value(value: Any) -> str:
    return "NA" if value is None or (not isinstance(value, str) and pd.isna(value)) else repr(value)


def _values_at(group: pd.DataFrame, frame: pd.DataFrame) -> str:
    """'x' at raw row 3, 'y' at raw rows 4, 9: each distinct failing value once, with its rows."""
    by_value: dict[str, list[Any]] = {}
    for value, index in zip(group["failure_case"], group["index"]):
        by_value.setdefault(_value(value), []).append(index)
    parts = []
    for value, indices in list(by_value.items())[:MAX_VALUES]:
        where = _where(_rows(indices, frame))
        parts.append(f"{value} at {where}" if where else value)
    more = (f" and {len(by_value) - MAX_VALUES} more value(s)"
            if len(by_value) > MAX_VALUES else "")
    return ", ".join(parts) + more


def describe_failures(failures: pd.DataFrame, frame: pd.DataFrame,
                      schema: pa.DataFrameSchema) -> list[str]:
    """One phrase per (column, check), in the contract's column order: which column, which
    rule, which values at which rows."""
    order = {name: i for i, name in enumerate(schema.columns)}
    # pandera names a check by its `error` text when it has one, else by its name.
    table_checks = {check.error or check.name for check in schema.checks}
    cases = failures.copy()
    cases["column"] = cases["column"].astype(object).where(cases["column"].notna(), None)
    cases["check"] = cases["check"].astype(str)
    mistyped = set(cases.loc[cases["check"].str.startswith("dtype("), "column"].dropna())
    problems: list[tuple[float, str]] = []
    for check, check_group in cases.groupby("check", sort=False):
        if check in ("column_in_dataframe", "column_in_schema"):
            what = "is missing" if check == "column_in_dataframe" else "is not part of the contract"
            problems.extend((order.get(c, len(order)), f"column {c!r} {what}")
                            for c in check_group["failure_case"])
            continue
        if check in table_checks:
            # A table-level check: pandera repeats each failing row once per column.
            rows = _rows(check_group["index"].tolist(), frame)
            problems.append((len(order), f"table check failed at {_where(rows)}: {check}"))
            continue
        for column, group in check_group.groupby("column", sort=False):
            rank = order.get(column, len(order))
            if check.startswith("dtype("):
                # pandera lists dtype failures element by element (NaN too): the dtypes say it.
                found = _describe_dtype(frame[column].dtype) if column in frame else "?"
                expected = (_describe_dtype(schema.columns[column].dtype)
                            if column in schema.columns else check)
                problems.append((rank - 0.5, f"column {column!r} has type {found}, "
                                 f"expected {expected}"))
            elif column in mistyped and (
                    group["failure_case"].astype(str).str.match(r"\w*(?:Error|Exception)\(").all()
                    or group["index"].nunique() >= frame[column].notna().sum()):
                # A check that could not run on the wrong type, or fails on every value because
                # of it: the type line above says it all.
                continue
            elif check == "not_nullable":
                problems.append((rank, f"column {column!r} has missing values at "
                                 f"{_where(_rows(group['index'].tolist(), frame))}"))
            elif check == "field_uniqueness":
                problems.append((rank, f"column {column!r} must be unique but repeats "
                                 f"{_values_at(group, frame)}"))
            else:
                problems.append((rank, f"column {column!r} fails {check}: "
                                 f"{_values_at(group, frame)}"))
    return [text for _rank, text in sorted(problems, key=lambda p: p[0])]  # stable sort
