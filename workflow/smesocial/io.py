"""Reading a wave's raw survey export, and writing results reproducibly.

`read_export` returns raw strings only (no recoding): one row per data record, NA for empty
cells, plus `raw_row`, the record's line number in the file (header = line 1), so every later
error and exclusion can point back at the exact line a person can open and check.

The export format is declared in the wave's codebook (`format.type`); each type has a reader in
`_READERS` that returns the header and the records with their line numbers, and the checks that
do not depend on the format (duplicate or missing columns) are shared. Adding xlsx or sav means
adding one reader function.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from smesocial.config import Codebook
from smesocial.errors import InputError

RAW_ROW = "raw_row"

# Delimiters we look for when the declared one splits nothing, to say what the file seems to use.
_CANDIDATE_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class ExportFormat:
    """The `format` block of a codebook, with defaults."""

    type: str = "csv"
    delimiter: str = ";"
    encoding: str = "utf-8"
    decimal: str = ","  # not used for the raw strings; kept for typed readers (sav/xlsx)
    quotechar: str = '"'

    @classmethod
    def from_codebook(cls, codebook: Codebook) -> ExportFormat:
        spec = codebook.format
        fmt = cls(
            type=str(spec.get("type", cls.type)).lower(),
            delimiter=str(spec.get("delimiter", cls.delimiter)),
            encoding=str(spec.get("encoding", cls.encoding)),
            decimal=str(spec.get("decimal", cls.decimal)),
            quotechar=str(spec.get("quotechar", cls.quotechar)),
        )
        if fmt.type == "csv" and len(fmt.delimiter) != 1:
            raise InputError(codebook.path, "format.delimiter must be one character",
                             found=fmt.delimiter, expected="e.g. ';' or ','")
        try:
            codecs.lookup(fmt.encoding)
        except LookupError as exc:
            raise InputError(codebook.path, "format.encoding is not a known text encoding",
                             found=fmt.encoding, expected="e.g. 'utf-8' or 'cp1252'") from exc
        return fmt


@dataclass(frozen=True)
class RawRecords:
    """What a format reader hands back: header names and (line number, fields) per record."""

    header: list[str]
    records: list[tuple[int, list[str]]]


def required_columns(codebook: Codebook) -> list[str]:
    """Columns the pipeline cannot run without, in codebook order, without repeats.

    The meta columns, the respondent key (needed to find duplicate submissions), the employee
    count and every mapped item. Other identifiers are optional: they are only scanned for test
    markers and then dropped.
    """
    wanted = [*codebook.meta.values()]
    if codebook.respondent_key:
        wanted.append(codebook.respondent_key)
    wanted.append(codebook.employees_column)
    wanted.extend(codebook.columns)
    return list(dict.fromkeys(wanted))


def read_export(path: str | Path, codebook: Codebook) -> pd.DataFrame:
    """Read a raw export as declared by the codebook: raw strings (NA = empty) plus `raw_row`."""
    path = Path(path)
    fmt = ExportFormat.from_codebook(codebook)
    reader = _READERS.get(fmt.type)
    if reader is None:
        raise InputError(codebook.path, "unsupported export format", found=fmt.type,
                         expected=f"one of: {', '.join(sorted(_READERS))}")
    if not path.is_file():
        raise InputError(str(path), "file not found",
                         expected=f"the wave's {fmt.type} export (declared in {codebook.path})")
    raw = reader(path, fmt)
    _check_header(path, raw.header, codebook)
    if RAW_ROW in raw.header:
        raise InputError(str(path), f"the export has a column named {RAW_ROW!r}, which the "
                         "pipeline reserves for line numbers", column=RAW_ROW)
    frame = pd.DataFrame([fields for _line, fields in raw.records], columns=raw.header, dtype="str")
    # Blank or white-space-only cells are "no answer", like empty ones.
    frame = frame.mask(frame.apply(lambda column: column.str.strip().eq("")))
    frame.insert(0, RAW_ROW, pd.array([line for line, _fields in raw.records], dtype="int64"))
    return frame


def _check_header(path: Path, header: list[str], codebook: Codebook) -> None:
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputError(str(path), "the header repeats column names", found=duplicated,
                         expected="each column name once")
    missing = [name for name in required_columns(codebook) if name not in header]
    if missing:
        hints = []
        for name in missing:
            close = difflib.get_close_matches(name, header, n=1, cutoff=0.8)
            if close:
                hints.append(f"{name!r} ~ {close[0]!r}")
        hint = f" (near misses in the file: {'; '.join(hints)})" if hints else ""
        raise InputError(str(path), f"{len(missing)} required column(s) missing", found=missing,
                         expected=f"the headers declared in {codebook.path}{hint}")


def _decode(path: Path, data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(str(path), f"line {line} cannot be decoded as {encoding}", rows=[line],
                         found=data[exc.start: exc.end + 8],
                         expected=f"text encoded as {encoding} (codebook format.encoding); "
                         "re-export or change the declared encoding") from exc
    return text.removeprefix("\ufeff")  # a UTF-8 byte-order mark is not part of the first header


def _read_csv(path: Path, fmt: ExportFormat) -> RawRecords:
    data = path.read_bytes()
    if not data.strip():
        raise InputError(str(path), "file is empty",
                         expected=f"a header line and data rows separated by {fmt.delimiter!r}")
    text = _decode(path, data, fmt.encoding)
    # The stdlib reader (rather than pandas) because it reports where each record ends, so a
    # record's first line is known even when a quoted cell spans lines.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter,
                        quotechar=fmt.quotechar, strict=True)
    records: list[tuple[int, list[str]]] = []
    previous_end = 0
    try:
        for fields in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # blank line
            records.append((start, fields))
    except csv.Error as exc:
        line = previous_end + 1
        raise InputError(str(path), f"malformed CSV at line {line} ({exc})", rows=[line],
                         expected=f"fields separated by {fmt.delimiter!r}, quoted with "
                         f"{fmt.quotechar!r}") from exc
    if not records:
        raise InputError(str(path), "file is empty",
                         expected=f"a header line and data rows separated by {fmt.delimiter!r}")
    header_line, header = records[0]
    header = [name.strip() for name in header]
    if len(header) == 1:
        first_line = text.splitlines()[header_line - 1]
        seen = [f"{name} ({sym!r})" for sym, name in _CANDIDATE_DELIMITERS.items()
                if sym != fmt.delimiter and sym in first_line]
        guess = f"; the header seems to use {', '.join(seen)}" if seen else ""
        raise InputError(str(path), f"the header has a single column when split on "
                         f"{fmt.delimiter!r}{guess}", rows=[header_line], found=first_line[:120],
                         expected=f"columns separated by {fmt.delimiter!r} (codebook format.delimiter)")
    data_records = records[1:]
    if not data_records:
        raise InputError(str(path), "the file has a header but no data rows",
                         expected="at least one response below the header")
    wrong = [(line, len(fields)) for line, fields in data_records if len(fields) != len(header)]
    if wrong:
        counts = sorted({n for _line, n in wrong})
        raise InputError(str(path), f"{len(wrong)} line(s) have the wrong number of fields",
                         rows=[line for line, _n in wrong],
                         found=f"{', '.join(map(str, counts))} fields",
                         expected=f"{len(header)} fields separated by {fmt.delimiter!r}, as in the header")
    return RawRecords(header, data_records)


_READERS: dict[str, Callable[[Path, ExportFormat], RawRecords]] = {"csv": _read_csv}


def write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a table so that the same frame always gives the same bytes.

    No index (a RangeIndex would be stored as metadata that changes with filtering); pyarrow
    writes no timestamps, so the file depends only on the data, dtypes and library versions.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.reset_index(drop=True).to_parquet(path, engine="pyarrow", index=False,
                                            compression="snappy")

