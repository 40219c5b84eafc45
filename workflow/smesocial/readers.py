"""Reading a wave's raw survey export, and writing results reproducibly.

`read_export` returns raw strings only (no recoding): one row per data record, NA for empty
cells, plus `raw_row`, where a person finds the record again:

- csv: the record's first line in the file (header = line 1; a quoted cell may span lines);
- xlsx: the spreadsheet row number as Excel shows it (header = usually row 1);
- sav: the case number + 1, so that, as in the other formats, the first response is row 2 and
  the header counts as row 1 (SPSS's Data View shows that response as case 1).

The export format is declared in the wave's codebook (`format.type`: csv, xlsx or sav); each
type has a reader in `_READERS` that returns the header and the records with their row numbers,
and the checks that do not depend on the format (blank, repeated, missing or reserved column
names, a second header line, field counts, no data) are shared.

The codebook's `format` block is the contract; it may say `encoding: auto` / `delimiter: auto`
(or omit them), and only then does the reader detect them (byte-order mark, UTF-16 NUL bytes,
UTF-8 validity vs Windows-1252; the delimiter that splits the header into the codebook's
columns, else csv.Sniffer) and logs what it found. A declared value the file contradicts stops
the run with what was declared, what the file looks like and where.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io
import itertools
import logging
import math
import numbers
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from smesocial.config import Codebook
from smesocial.errors import InputError

log = logging.getLogger(__name__)

RAW_ROW = "raw_row"
AUTO = "auto"

# Delimiters a CSV export may use; the names go into messages.
_DELIMITER_NAMES = {";": "semicolon", ",": "comma", "\t": "tab", "|": "pipe"}
# Spellings a codebook may use for a delimiter that is awkward to write in YAML.
_DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}
_UTF16 = ("utf-16", "utf-16-le", "utf-16-be")
# Byte-order marks: bytes, the codec that reads what follows, and how to say it.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 (little-endian)"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 (big-endian)"),
)
# File signatures, to say what a file is when it is not what the codebook declares.
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP container such as an xlsx workbook"),
    (b"$FL2", "an SPSS .sav file"),
    (b"$FL3", "a compressed SPSS .zsav file"),
    (b"\xd0\xcf\x11\xe0", "an old binary Excel .xls (OLE2) file"),
)
_SAV_SIGNATURES = (b"$FL2", b"$FL3")
_TYPES_HINT = "format.type: csv, xlsx or sav"


@dataclass(frozen=True)
class ExportFormat:
    """The `format` block of a codebook, with defaults.

    type: csv | xlsx | sav. delimiter, encoding: as declared, or "auto" (= omitted) to detect.
    decimal: the separator written into numbers read from typed xlsx/sav cells, so they come
    out as the tool's CSV export would show them. sheet: xlsx sheet name or 0-based index.
    columns_by: sav header from variable `name`s or variable `label`s.
    """

    type: str = "csv"
    delimiter: str = AUTO
    encoding: str = AUTO
    decimal: str = ","
    quotechar: str = '"'
    sheet: str | int = 0
    columns_by: str = "name"

    @classmethod
    def from_codebook(cls, codebook: Codebook) -> ExportFormat:
        spec = codebook.format
        delimiter = str(spec.get("delimiter", AUTO))
        delimiter = _DELIMITER_WORDS.get(delimiter.lower(), delimiter)
        sheet = spec.get("sheet", cls.sheet)
        fmt = cls(
            type=str(spec.get("type", cls.type)).lower(),
            delimiter=delimiter,
            encoding=str(spec.get("encoding", AUTO)).strip(),
            decimal=str(spec.get("decimal", cls.decimal)),
            quotechar=str(spec.get("quotechar", cls.quotechar)),
            sheet=sheet if isinstance(sheet, int) and not isinstance(sheet, bool) else str(sheet),
            columns_by=str(spec.get("columns_by", cls.columns_by)).lower(),
        )
        if fmt.delimiter != AUTO and len(fmt.delimiter) != 1:
            raise InputError(codebook.path, "format.delimiter must be one character or 'auto'",
                             found=fmt.delimiter, expected="e.g. ';', ',', 'tab' or 'auto'")
        if fmt.encoding.lower() == AUTO:
            fmt = replace(fmt, encoding=AUTO)
        else:
            try:
                codecs.lookup(fmt.encoding)
            except LookupError as exc:
                raise InputError(codebook.path, "format.encoding is not a known text encoding",
                                 found=fmt.encoding,
                                 expected="e.g. 'utf-8', 'cp1252', 'utf-16' or 'auto'") from exc
        if fmt.decimal not in (",", "."):
            raise InputError(codebook.path, "format.decimal must be ',' or '.'", found=fmt.decimal)
        if fmt.columns_by not in ("name", "label"):
            raise InputError(codebook.path, "format.columns_by must be 'name' or 'label'",
                             found=fmt.columns_by)
        return fmt

    @property
    def codec(self) -> str:
        """The declared encoding's canonical codec name ('windows-1252' -> 'cp1252')."""
        return codecs.lookup(self.encoding).name


#: Records turned into columns at a time: a million-row export never exists as a million
#: Python lists of fresh strings (about 2 GiB), only as Arrow string columns.
CHUNK_RECORDS = 50_000


@dataclass(frozen=True)
class RawRecords:
    """What a format reader hands back: header names, the header's row number, the records,
    what a row is called in messages, and the source to name.

    Records with as many fields as the header are held column-wise: `columns` (one string
    Series per header position) and `rows` (their row numbers), in file order. The others,
    `misfits` ((row number, fields) as read), are kept for the checks that name them."""

    header: list[str]
    header_row: int
    rows: np.ndarray
    columns: list[pd.Series]
    misfits: list[tuple[int, list[str]]]
    unit: str  # "line" (csv) or "row" (xlsx, sav)
    source: str
    header_name: str = ""  # how messages call the header; default "the header (<unit> <row>)"

    @classmethod
    def collect(cls, header: list[str], header_row: int,
                records: Iterable[tuple[int, Sequence[str]]], unit: str, source: str,
                header_name: str = "") -> RawRecords:
        """From (row number, fields) records in file order, CHUNK_RECORDS at a time."""
        width = len(header)
        rows: list[int] = []
        chunks: list[list[pd.Series]] = []
        misfits: list[tuple[int, list[str]]] = []
        block: list[Sequence[str]] = []
        for row, fields in records:
            if len(fields) != width:
                misfits.append((row, list(fields)))
                continue
            rows.append(row)
            block.append(fields)
            if len(block) == CHUNK_RECORDS:
                chunks.append(_text_columns(block, width))
                block = []
        if block or not chunks:
            chunks.append(_text_columns(block, width))
        columns = [pd.concat([chunk[i] for chunk in chunks], ignore_index=True)
                   if len(chunks) > 1 else chunks[0][i] for i in range(width)]
        return cls(header, header_row, np.asarray(rows, dtype=np.int64), columns, misfits, unit,
                   source, header_name)

    @property
    def header_said(self) -> str:
        return self.header_name or f"the header ({self.unit} {self.header_row})"

    @property
    def count(self) -> int:
        return len(self.rows) + len(self.misfits)

    def fields_of(self, row: int) -> list[str]:
        """The fields of the record at row number `row`."""
        for number, fields in self.misfits:
            if number == row:
                return fields
        position = int(np.searchsorted(self.rows, row))
        return [str(column.iloc[position]) for column in self.columns]


def _text_columns(block: Sequence[Sequence[str]], width: int) -> list[pd.Series]:
    """Records of `width` fields -> one string Series per field."""
    if not block:
        return [pd.Series([], dtype="str") for _ in range(width)]
    # through pyarrow: pandas' own conversion of Python strings takes three times as long
    return [pd.Series(pd.array(pa.array(values, type=pa.large_string()), dtype="str"))
            for values in zip(*block)]


def _stripped_nonblank(column: pd.Series) -> np.ndarray:
    """Per value of a text column, whether stripping white space leaves anything. (Arrow's
    white space is Python's: Unicode category Zs or bidirectional class WS, B or S.)"""
    return column.str.strip().ne("").to_numpy(dtype=bool)


def _stripped_in(column: pd.Series, names: set[str]) -> np.ndarray:
    """Per value of a text column, whether it is one of `names` once white space is stripped."""
    return column.str.strip().isin(list(names)).to_numpy(dtype=bool)


def _head(path: Path, size: int = 512) -> bytes:
    """The first bytes of a file, for a signature check, without reading the rest."""
    with path.open("rb") as handle:
        return handle.read(size)


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


def quotable_columns(codebook: Codebook) -> frozenset[str]:
    """Columns whose values a message may quote: bookkeeping, the employee count and the mapped
    (closed) answers. Never the identifiers, the respondent key, or a column the codebook does
    not know (it may hold free text)."""
    closed = {*codebook.meta.values(), codebook.employees_column, *codebook.columns}
    return frozenset(closed - set(codebook.identifiers) - {codebook.respondent_key})


@dataclass(frozen=True)
class ExpectedColumns:
    """What a format reader needs to know of the codebook's columns."""

    required: tuple[str, ...]  # required_columns, in codebook order
    quotable: frozenset[str]  # quotable_columns

    @classmethod
    def of(cls, codebook: Codebook) -> ExpectedColumns:
        return cls(tuple(required_columns(codebook)), quotable_columns(codebook))


def read_export(path: str | Path, codebook: Codebook) -> pd.DataFrame:
    """Read a raw export as declared by the codebook: raw strings (NA = empty) plus `raw_row`."""
    path = Path(path)
    fmt = ExportFormat.from_codebook(codebook)
    reader = _READERS.get(fmt.type)
    if reader is None:
        raise InputError(codebook.path, "unsupported export format (format.type)", found=fmt.type,
                         expected=f"one of: {', '.join(sorted(_READERS))}")
    if not path.is_file():
        raise InputError(str(path), "file not found",
                         expected=f"the wave's {fmt.type} export (declared in {codebook.path})")
    expected = ExpectedColumns.of(codebook)
    raw = _checked(reader(path, fmt, expected), expected.required, codebook)
    # Blank or white-space-only cells are "no answer", like empty ones.
    frame = pd.DataFrame({name: column.mask(column.str.strip().eq(""))
                          for name, column in zip(raw.header, raw.columns)})
    frame.insert(0, RAW_ROW, pd.array(raw.rows, dtype="int64"))
    return frame


# --- checks shared by every format ---------------------------------------------------------------


def _checked(raw: RawRecords, required: Sequence[str], codebook: Codebook) -> RawRecords:
    """Header and record checks that do not depend on the format; returns the records with
    unnamed empty columns dropped."""
    raw = _drop_unnamed_empty_columns(raw)
    header, source, unit = raw.header, raw.source, raw.unit
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputError(source, f"{raw.header_said} repeats column names",
                         rows=[raw.header_row], found=duplicated, expected="each column name once")
    if RAW_ROW in header:
        raise InputError(source, f"the export has a column named {RAW_ROW!r}, which the "
                         "pipeline reserves for row numbers", column=RAW_ROW)
    missing = [name for name in required if name not in header]
    if missing:
        hints = []
        for name in missing:
            close = difflib.get_close_matches(name, header, n=1, cutoff=0.8)
            if close:
                hints.append(f"{name!r} ~ {close[0]!r}")
        hint = f" (near misses in the file: {'; '.join(hints)})" if hints else ""
        raise InputError(source, f"{len(missing)} required column(s) missing from "
                         f"{raw.header_said}", missing=missing,
                         expected=f"the headers declared in {codebook.path}{hint}")
    # A record holding several of the header's own names is a second header: two exports
    # (possibly of different waves) joined into one file.
    names = set(header)
    repeated = _second_headers(raw, names)
    if repeated:
        first = raw.fields_of(repeated[0])
        shown = [f.strip() for f in first if f.strip() in names][:3]
        raise InputError(source, f"{unit} {repeated[0]} looks like a second header line (it holds "
                         f"column names such as {', '.join(map(repr, shown))}): the file seems to "
                         "be two exports joined together", rows=repeated,
                         expected=f"one header at the top ({unit} {raw.header_row}) and data "
                         "rows of one wave below it; split the file or delete the extra header")
    wrong = [(row, len(fields)) for row, fields in raw.misfits]
    if wrong:
        counts = sorted({n for _row, n in wrong})
        raise InputError(source, f"{len(wrong)} {unit}(s) have the wrong number of fields "
                         f"(first: {unit} {wrong[0][0]})", rows=[row for row, _n in wrong],
                         found=f"{', '.join(map(str, counts))} fields",
                         expected=f"{len(header)} fields, as in the header")
    if not raw.count:
        raise InputError(source, "the file has a header but no data rows",
                         expected="at least one response below the header")
    return raw


def _second_headers(raw: RawRecords, names: set[str]) -> list[int]:
    """Row numbers of the records holding two or more distinct names of `names`, in order."""
    found = [row for row, fields in raw.misfits if len({f.strip() for f in fields} & names) >= 2]
    if len(raw.rows):
        # Fields that are a name, counted per record: at least the distinct names it holds, so
        # only records counting two or more need the exact (distinct) check.
        hits = np.zeros(len(raw.rows), dtype=np.int64)
        for column in raw.columns:
            hits += _stripped_in(column, names)
        for position in np.flatnonzero(hits >= 2):
            fields = [str(column.iloc[position]) for column in raw.columns]
            if len({f.strip() for f in fields} & names) >= 2:
                found.append(int(raw.rows[position]))
    return sorted(found)


def _drop_unnamed_empty_columns(raw: RawRecords) -> RawRecords:
    """Drop columns without a header name that hold nothing (a trailing delimiter, formatted
    but empty spreadsheet columns); an unnamed column with values is an error."""
    header = [name.strip() for name in raw.header]
    unnamed = [i for i, name in enumerate(header) if not name]
    if not unnamed:
        return replace(raw, header=header)
    for i in unnamed:
        filled = [row for row, fields in raw.misfits if i < len(fields) and fields[i].strip()]
        filled = sorted(filled + raw.rows[_stripped_nonblank(raw.columns[i])].tolist())
        if filled:
            raise InputError(raw.source, f"column {i + 1} has values but no name in "
                             f"{raw.header_said}", rows=filled,
                             expected="a header name above every column that holds answers")
    # Only rows as long as the header lose the cells; shorter/longer ones keep their count so
    # that the field-count check still sees them (and one as long as the remaining columns
    # then counts as a record like any other).
    keep = [i for i in range(len(header)) if i not in unnamed]
    kept = [header[i] for i in keep]
    columns, rows = [raw.columns[i] for i in keep], raw.rows
    fitting = [(row, fields) for row, fields in raw.misfits if len(fields) == len(keep)]
    misfits = [(row, fields) for row, fields in raw.misfits if len(fields) != len(keep)]
    if fitting:
        extra = RawRecords.collect(kept, raw.header_row, fitting, raw.unit, raw.source)
        rows = np.concatenate([rows, extra.rows])
        order = np.argsort(rows, kind="stable")
        columns = [pd.concat([a, b], ignore_index=True).take(order).reset_index(drop=True)
                   for a, b in zip(columns, extra.columns)]
        rows = rows[order]
    return replace(raw, header=kept, rows=rows, columns=columns, misfits=misfits)


def _signature(data: bytes) -> str | None:
    """What a file is, from its first bytes, if it is a known binary format."""
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            return what
    return None


def _looks_like(data: bytes) -> str:
    """A short description of a file's start, for 'this is not a ... file' messages."""
    what = _signature(data)
    if what:
        return f"it is {what}"
    bom = _bom(data)
    if bom:
        return f"it starts with a {bom[2]} byte-order mark, as text files do"
    text = data[:512].decode("utf-8", errors="ignore")
    printable = sum(c.isprintable() or c.isspace() for c in text)
    if text and b"\x00" not in data[:512] and printable >= 0.95 * len(text):
        return f"it starts like a text file: {text[:60]!r}"
    return f"it starts with the bytes {data[:8]!r}"


# --- csv -----------------------------------------------------------------------------------------


def _read_csv(path: Path, fmt: ExportFormat, expected: ExpectedColumns) -> RawRecords:
    source = str(path)
    data = path.read_bytes()
    if not data:
        raise InputError(source, "the file is empty (0 bytes)",
                         expected="a header line and data rows (a CSV export)")
    what = _signature(data)
    if what:
        raise InputError(source, f"the codebook declares a CSV export (format.type), but the file "
                         f"is {what}", expected=f"a CSV text export, or the matching {_TYPES_HINT}")
    text = _decode(path, data, fmt, expected)
    del data  # the text alone from here on (a large export holds it twice otherwise)
    if not text.strip():
        raise InputError(source, "the file is empty (only white space)",
                         expected="a header line and data rows (a CSV export)")
    delimiter = _delimiter(path, text, fmt, expected.required)
    # The stdlib reader (rather than pandas) because it reports where each record ends, so a
    # record's first line is known even when a quoted cell spans lines.
    reader = csv.reader(_lines(text), delimiter=delimiter, quotechar=fmt.quotechar, strict=True)

    def records() -> Iterator[tuple[int, list[str]]]:
        previous_end = 0
        try:
            for fields in reader:
                start = previous_end + 1
                previous_end = reader.line_num
                if not fields or (not fields[0].strip() and all(not f.strip() for f in fields)):
                    continue  # blank line (or a line of bare delimiters)
                yield start, fields
        except csv.Error as exc:
            line = previous_end + 1
            raise InputError(source, f"malformed CSV from line {line} on ({exc})", rows=[line],
                             expected=f"fields separated by {delimiter!r}, with any quote "
                             f"{fmt.quotechar!r} inside a cell doubled and every quoted cell "
                             "closed") from exc

    body = records()
    first = next(body, None)
    if first is None:
        raise InputError(source, "the file has no header (only blank lines or delimiters)",
                         expected="a header line and data rows (a CSV export)")
    header_line, header = first
    return RawRecords.collect(header, header_line, body, "line", source)


#: A line with its end as io.StringIO(text, newline="") splits them: at \r\n, \r or \n.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, ends kept, one at a time: what the CSV reader reads. (io.StringIO
    would first copy the whole text at 4 bytes a character: 1.8 GB for a 450 MB export.)"""
    return (match.group() for match in _LINE.finditer(text))


def _bom(data: bytes) -> tuple[bytes, str, str] | None:
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return bom, codec, name
    return None


def _utf16_order(data: bytes) -> str:
    """UTF-16 without a byte-order mark: ASCII characters have their zero byte second in
    little-endian and first in big-endian text."""
    sample = data[:4096]
    odd = sample[1::2].count(0)
    even = sample[0::2].count(0)
    return "utf-16-le" if odd >= even else "utf-16-be"


def _line_of(data: bytes, offset: int, codec: str) -> int:
    return data[:offset].decode(codec, errors="replace").count("\n") + 1


def _decode(path: Path, data: bytes, fmt: ExportFormat, expected: ExpectedColumns) -> str:
    """The file's text, read with the declared encoding (checked against the file) or, for
    `auto`, the detected one."""
    bom = _bom(data)
    if fmt.encoding == AUTO:
        codec, why = _detect_encoding(path, data, bom)
        log.info("%s: format.encoding is auto; detected %s (%s)", path, codec, why)
        declared = codec
    else:
        codec = _declared_codec(path, data, fmt, bom, expected)
        declared = fmt.encoding
    skipped = len(bom[0]) if bom and bom[1] == codec else 0
    body = data[skipped:]
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        raise _undecodable(path, body, skipped, exc, declared, codec, fmt, expected) from exc
    return text.removeprefix("\ufeff")


def _detect_encoding(path: Path, data: bytes, bom: tuple[bytes, str, str] | None) -> tuple[str, str]:
    if bom:
        return bom[1], f"the file starts with a {bom[2]} byte-order mark"
    if b"\x00" in data:
        order = _utf16_order(data)
        return order, "NUL bytes between the characters and no byte-order mark: UTF-16 text"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start, "latin-1")
    else:
        return "utf-8", "the bytes are valid UTF-8"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"the encoding cannot be detected: line {line} is not UTF-8 and "
                         f"line {_line_of(data, exc.start, 'latin-1')} is not Windows-1252 either",
                         rows=[line], expected="the file's encoding declared as format.encoding "
                         "in the codebook") from exc
    return "cp1252", f"not valid UTF-8 (from line {line}), valid Windows-1252"


def _declared_codec(path: Path, data: bytes, fmt: ExportFormat,
                    bom: tuple[bytes, str, str] | None, expected: ExpectedColumns) -> str:
    """The codec to read the file with, after checking that the file does not contradict the
    declared encoding (a byte-order mark or NUL bytes of another one, UTF-8 declared as a
    single-byte code page)."""
    source, declared, codec = str(path), fmt.encoding, fmt.codec
    said = f"the codebook declares encoding {declared!r} (format.encoding)"
    if bom:
        _bom_bytes, bom_codec, bom_name = bom
        fits = (codec == bom_codec or (codec == "utf-8-sig" and bom_codec == "utf-8")
                or (codec == "utf-16" and bom_codec in _UTF16))
        if fits:
            return bom_codec
        suggestion = "utf-8" if bom_codec == "utf-8" else "utf-16"
        raise InputError(source, f"{said}, but the file starts with a {bom_name} byte-order mark "
                         f"(line 1)", rows=[1], found=bom[0],
                         expected=f"a file in {declared}, or format.encoding: {suggestion} (or auto)")
    nul = data.find(b"\x00")
    if codec in _UTF16:
        if nul < 0 and len(data) > 1:
            guess = "UTF-8" if _is_utf8(data) else "Windows-1252 or another 8-bit encoding"
            raise InputError(source, f"{said}, but the file has no byte-order mark and no NUL "
                             f"bytes, so it is not UTF-16 text; it reads as {guess}", rows=[1],
                             found=data[:40], expected="a UTF-16 export, or format.encoding "
                             "naming the file's encoding (or auto)")
        return _utf16_order(data) if codec == "utf-16" else codec
    if nul >= 0:
        line = _line_of(data, nul, "latin-1")
        raise InputError(source, f"{said}, but line {line} contains NUL bytes, as UTF-16 text "
                         "without a byte-order mark does", rows=[line], found=data[:40],
                         expected=f"a file in {declared}, or format.encoding: "
                         f"{_utf16_order(data)} (or auto)")
    if codec not in ("utf-8", "utf-8-sig", "ascii") and not data.isascii() and _is_utf8(data):
        # A single-byte code page decodes anything, so a UTF-8 file would silently become
        # 'pÃ¥' for 'på' and then fail as unknown headers or labels far from the cause.
        first = next(i for i, b in enumerate(data) if b >= 0x80)
        fault = _locate(data, first, "utf-8", fmt, expected)
        said += f", but the file is UTF-8 (its first non-ASCII character: {fault.head()}, " \
            f"{fault.detail(first)}"
        if fault.quotable(expected):
            if fault.in_header:  # the header line around it: column names
                start = data.rfind(b"\n", 0, first) + 1
                snippet = data[start:first + 12].decode("utf-8", errors="replace")[-30:]
            else:  # this cell's text only, never the cells beside it
                after = data[first:first + 12].decode("utf-8", errors="ignore")
                stops = "[\r\n" + re.escape(fault.delimiter + fmt.quotechar) + "]"
                snippet = (fault.field_text + re.split(stops, after)[0])[-30:]
            said += (f": {snippet!r} would read as "
                     f"{snippet.encode('utf-8').decode(codec, errors='replace')!r})")
        else:
            said += f"; {NOT_SHOWN})"
        raise InputError(source, said, rows=[fault.line],
                         expected=f"a file in {declared}, or format.encoding: utf-8 (or auto)")
    return codec


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class _Fault:
    """Where a byte sits in a CSV export: its line, the field and column of its record, and the
    text before it in that field. Messages quote text only where `quotable` allows it."""

    line: int  # the byte's own line (a quoted cell may span lines)
    record_line: int  # the first line of its record
    field: int  # 1 = first
    column: str | None  # the header's name for that field (None in the header or beyond it)
    in_header: bool
    field_text: str  # the field's text before the byte
    delimiter: str
    aligned: bool  # its record has as many fields as the header, so `column` is the right one

    def head(self) -> str:
        """'line 3, field 2', with the record's first line if it began on an earlier one."""
        record = f" (in the record from line {self.record_line})" \
            if self.record_line != self.line else ""
        return f"line {self.line}{record}, field {self.field}"

    def detail(self, offset: int) -> str:
        """"column 'Status', byte offset 161 of the file" (or "in the header, ...")."""
        if self.in_header:
            said = "in the header"
        elif self.column is not None:
            said = f"column {self.column!r}"
            if not self.aligned:
                said += " by position (the record does not have the header's number of fields)"
        else:
            said = "beyond the header's columns"
        return f"{said}, byte offset {offset} of the file"

    def quotable(self, expected: ExpectedColumns) -> bool:
        """Whether a message may show the text around the byte: in the header (column names)
        or a column of closed answers or bookkeeping, never an identifier or free text. In a
        record with too many or too few fields (an unquoted delimiter in a comment) the field
        may belong to another column than its position says: nothing is shown."""
        return self.in_header or (self.aligned and self.column in expected.quotable)


NOT_SHOWN = ("its content is not shown (it may be an identifier or free text): open the file at "
             "that byte offset to see it")


_SENTINEL = "\ue000"  # a private-use character no export holds: marks where the bad byte is


def _locate(data: bytes, offset: int, codec: str, fmt: ExportFormat,
            expected: ExpectedColumns) -> _Fault:
    """The line, field and column of the byte at `offset` of `data` (read as `codec`; the
    bytes before it are valid). The text before it is parsed as the CSV reader parses the
    file, so quoted delimiters and cells spanning lines count as they do there."""
    before = data[:offset].decode(codec, errors="replace")
    _number, first_line = _first_line(before)
    delimiter = _guess_delimiter(first_line, fmt, expected.required)
    reader = csv.reader(io.StringIO(before + _SENTINEL, newline=""), delimiter=delimiter,
                        quotechar=fmt.quotechar)
    header: list[str] | None = None
    fields: list[str] = []
    start, previous_end, records = 1, 0, 0
    for fields in reader:
        start, previous_end, records = previous_end + 1, reader.line_num, records + 1
        if fields and header is None and any(f.strip() for f in fields) and \
                not fields[-1].endswith(_SENTINEL):
            header = [f.strip() for f in fields]
    field = max(len(fields), 1)
    in_header = header is None
    column = None
    aligned = False
    if header is not None:
        column = header[field - 1] if field <= len(header) else None
        # The whole record (the rest decoded with replacement characters, which change no
        # delimiter or quote): is it as wide as the header?
        whole = data.decode(codec, errors="replace")
        rest = csv.reader(io.StringIO(whole, newline=""), delimiter=delimiter,
                          quotechar=fmt.quotechar)
        try:
            record = next(itertools.islice(rest, records - 1, None), [])
        except csv.Error:  # malformed further on: the column is not certain
            record = []
        aligned = len(record) == len(header)
    text = fields[-1].removesuffix(_SENTINEL) if fields else ""
    return _Fault(before.count("\n") + 1, start, field, column, in_header, text, delimiter,
                  aligned)


def _guess_delimiter(line: str, fmt: ExportFormat, required: Sequence[str]) -> str:
    """The declared delimiter, or for `auto` the one that splits `line` into most of the
    codebook's columns (as `_delimiter` picks it, without logging)."""
    if fmt.delimiter != AUTO:
        return fmt.delimiter
    return max(_DELIMITER_NAMES, key=lambda d: (_columns_found(line, d, fmt.quotechar, required),
                                                line.count(d)))


def _undecodable(path: Path, body: bytes, skipped: int, exc: UnicodeDecodeError, declared: str,
                 codec: str, fmt: ExportFormat, expected: ExpectedColumns) -> InputError:
    """Where the bytes stop being `declared` text: line, field, column and byte offset. What
    they look like is quoted only in the header or a column of closed answers or bookkeeping
    (`quotable_columns`), never in an identifier or free-text column: there the bytes around
    the fault are a name, an e-mail, a CVR or phone number."""
    fault = _locate(body, exc.start, codec, fmt, expected)
    bad = body[exc.start:exc.end]
    if fault.in_header:
        line_start = body.rfind(b"\n", 0, exc.start) + 1
        before = body[line_start:exc.start].decode(codec, errors="replace")
        shown = f"bytes {bad!r} after {before[-40:]!r}"
    elif fault.quotable(expected):
        shown = f"bytes {bad!r} after {fault.field_text[-40:]!r}"
    else:
        shown = NOT_SHOWN
    looks = ""
    if codec.startswith("utf-8"):
        try:
            body.decode("cp1252")
        except UnicodeDecodeError:
            looks = "; the file is not Windows-1252 either"
        else:
            looks = "; the file reads as Windows-1252 (cp1252)"
            if fault.quotable(expected):
                looks += f", where {bad!r} is {bad.decode('cp1252')!r}"
    return InputError(str(path), f"{fault.head()} cannot be decoded as {declared} "
                      f"(format.encoding): {fault.detail(skipped + exc.start)}; {shown}{looks}",
                      rows=[fault.line],
                      expected=f"text encoded as {declared}; re-export in {declared} or declare the "
                      "file's encoding in the codebook (e.g. format.encoding: cp1252, or auto)")


def _first_line(text: str) -> tuple[int, str]:
    """(number, text) of the first line that is not blank (1, "" if none)."""
    # Looked for in the text's start first: splitting a large export into lines costs more
    # than reading it. A line found there is whole unless it is the start's last.
    start = text[:1 << 16]
    lines = start.splitlines()
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if number < len(lines) or len(start) == len(text):
                return number, line
            break
    else:
        if len(start) == len(text):
            return 1, ""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            return number, line
    return 1, ""


def _columns_found(line: str, delimiter: str, quotechar: str, required: Sequence[str]) -> int:
    """How many of the codebook's required columns the header line has, split on `delimiter`."""
    fields = next(csv.reader([line], delimiter=delimiter, quotechar=quotechar), [])
    return len({f.strip() for f in fields} & set(required))


def _delimiter(path: Path, text: str, fmt: ExportFormat, required: Sequence[str]) -> str:
    """The declared delimiter, checked against the header line, or for `auto` the one that
    splits the header into the codebook's columns (csv.Sniffer if none does)."""
    number, line = _first_line(text)
    fits = {d: _columns_found(line, d, fmt.quotechar, required) for d in _DELIMITER_NAMES}
    counts = {d: line.count(d) for d in _DELIMITER_NAMES}
    if fmt.delimiter == AUTO:
        best = max(_DELIMITER_NAMES, key=lambda d: (fits[d], counts[d]))
        if fits[best]:
            why = (f"the header (line {number}) splits into {fits[best]} of the codebook's "
                   f"{len(required)} required columns on it")
        else:
            sample = "\n".join(text.splitlines()[number - 1: number + 19])
            try:
                best = csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITER_NAMES)).delimiter
                why = "csv.Sniffer on the first lines (no codebook column in the header)"
            except csv.Error:
                best = max(_DELIMITER_NAMES, key=lambda d: counts[d])
                why = f"the most frequent candidate on line {number} ({counts[best]} times)"
        log.info("%s: format.delimiter is auto; detected %s %r (%s)", path,
                 _DELIMITER_NAMES[best], best, why)
        return best
    declared = fmt.delimiter
    name = _DELIMITER_NAMES.get(declared, repr(declared))
    said = f"the codebook declares delimiter {declared!r} ({name}, format.delimiter)"
    others = [d for d in _DELIMITER_NAMES if d != declared]
    other = max(others, key=lambda d: (fits[d], counts[d]))
    seems = (f"; the file seems {_DELIMITER_NAMES[other]}-separated ({counts[other]} "
             f"{other!r} on that line)" if counts[other] else "")
    if declared not in line:
        raise InputError(str(path), f"the header has a single column when split on {declared!r}: "
                         f"{said}, but line {number} has no {declared!r}{seems}", rows=[number],
                         found=line[:120], expected=f"columns separated by {declared!r} "
                         f"(codebook format.delimiter), or format.delimiter: {other!r} (or auto)")
    if fits[other] > fits[declared]:
        raise InputError(str(path), f"{said}, but the header (line {number}) split on it has "
                         f"{fits[declared]} of the codebook's {len(required)} required columns "
                         f"and split on {other!r} {fits[other]}{seems}", rows=[number],
                         found=line[:120], expected=f"columns separated by {declared!r}, or "
                         f"format.delimiter: {other!r} (or auto)")
    return declared


# --- xlsx ----------------------------------------------------------------------------------------


def _cell_text(value: object, decimal: str) -> str:
    """A typed spreadsheet/SPSS value as the text a CSV export would carry: whole numbers
    without '.0', other numbers with the codebook's decimal separator (so '12,5' employees
    fail as decimals in clean instead of '1.234' passing as a Danish thousands group),
    date-times as 'YYYY-MM-DD HH:MM:SS'."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return ""
        return str(int(number)) if number.is_integer() else repr(number).replace(".", decimal)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds" if not value.microsecond else "auto")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path, fmt: ExportFormat, expected: ExpectedColumns) -> RawRecords:
    head = _head(path)
    if not head:
        raise InputError(str(path), "the file is empty (0 bytes)", expected="an xlsx workbook")
    if not head.startswith(b"PK\x03\x04"):
        raise InputError(str(path), "the codebook declares an xlsx workbook (format.type), but the "
                         f"file is not one: {_looks_like(head)}",
                         expected=f"an .xlsx file as Excel saves it, or the matching {_TYPES_HINT}")
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # zipfile, openpyxl and lxml each raise their own types here
        raise InputError(str(path), f"not a readable xlsx workbook ({type(exc).__name__}: {exc})",
                         expected="an .xlsx file as Excel saves it") from exc
    with book:
        sheets = [str(s) for s in book.sheet_names]
        name = _sheet_name(path, sheets, fmt.sheet)
        # dtype=object keeps each cell's own type (text stays text, '007' stays '007'); the
        # typed ones are turned into text below. Blank rows are kept, so index + 1 = row.
        cells = pd.read_excel(book, sheet_name=name, header=None, dtype=object, na_filter=False)
    source = f"{path} (sheet {name!r})"
    rows = [(index + 1, [_cell_text(v, fmt.decimal) for v in values])
            for index, values in enumerate(cells.itertuples(index=False, name=None))]
    rows = [(row, fields) for row, fields in rows if any(f.strip() for f in fields)]
    if not rows:
        raise InputError(source, "the sheet is empty", expected="a header row and data rows")
    header_row, header = rows[0]
    return RawRecords.collect(header, header_row, rows[1:], "row", source)


def _sheet_name(path: Path, sheets: list[str], wanted: str | int) -> str:
    if isinstance(wanted, int):
        if 0 <= wanted < len(sheets):
            return sheets[wanted]
        raise InputError(str(path), f"the workbook has no sheet number {wanted} (format.sheet "
                         "counts from 0)", found=sheets, expected=f"0 to {len(sheets) - 1}, or a sheet name")
    if wanted in sheets:
        return wanted
    # Excel treats sheet names case-insensitively, so 'data' and 'Data' are the same sheet.
    folded = [s for s in sheets if s.casefold() == wanted.strip().casefold()]
    if folded:
        return folded[0]
    raise InputError(str(path), f"the workbook has no sheet named {wanted!r} (codebook format.sheet)",
                     found=sheets, expected="format.sheet naming one of the workbook's sheets, "
                     "or its 0-based position")


# --- sav -----------------------------------------------------------------------------------------


def _read_sav(path: Path, fmt: ExportFormat, expected: ExpectedColumns) -> RawRecords:
    import pyreadstat  # only sav exports need it

    head = _head(path)
    if not head:
        raise InputError(str(path), "the file is empty (0 bytes)", expected="an SPSS .sav file")
    if not head.startswith(_SAV_SIGNATURES):
        raise InputError(str(path), "the codebook declares an SPSS .sav file (format.type), but the "
                         f"file is not one (no '$FL2' signature): {_looks_like(head)}",
                         expected=f"an SPSS .sav export, or the matching {_TYPES_HINT}")
    # A .sav records its own character encoding; a declared one overrides it (old files).
    options = {} if fmt.encoding == AUTO else {"encoding": fmt.encoding}
    try:
        # user_missing=True: a "don't know" code declared user-missing keeps its value and label
        # (it is an answer the respondent gave: it counts as answered, and the codebook maps it).
        data, meta = pyreadstat.read_sav(str(path), user_missing=True, **options)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as exc:
        raise InputError(str(path), f"cannot be read as an SPSS .sav file (pyreadstat: {exc}); it "
                         "is probably truncated or damaged", expected="a complete .sav export; "
                         "export it again") from exc
    names = [str(n) for n in meta.column_names]
    labels = [str(label).strip() if label else "" for label in (meta.column_labels or [])]
    labels += [""] * (len(names) - len(labels))
    by_label = [label or n for n, label in zip(names, labels)]
    header = by_label if fmt.columns_by == "label" else names
    _check_columns_by(path, fmt, expected.required, names, by_label)
    if fmt.columns_by == "label":
        unlabelled = [n for n, label in zip(names, labels) if not label]
        if unlabelled:
            log.info("%s: %d variable(s) without a label keep their name: %s", path,
                     len(unlabelled), ", ".join(unlabelled[:10]))
    # Value labels are applied here (rather than apply_value_formats=True) so that a value
    # without a label stays visible as its number and then fails as an unknown label.
    columns = [_sav_texts(data[name], meta.variable_value_labels.get(name, {}), fmt.decimal)
               for name in names]
    del data
    # a case with nothing in it is no record
    filled = np.zeros(len(columns[0]) if columns else 0, dtype=bool)
    for column in columns:
        filled |= _stripped_nonblank(column)
    said = f"the variable {'labels' if fmt.columns_by == 'label' else 'names'} (format.columns_by)"
    # case numbers + 1, as in the other formats
    rows = np.flatnonzero(filled).astype(np.int64) + 2
    return RawRecords(header, 1, rows, [column[filled].reset_index(drop=True)
                                        for column in columns], [], "row", str(path),
                      header_name=said)


def _sav_texts(values: pd.Series, labelled: dict[object, str], decimal: str) -> pd.Series:
    """One SPSS variable as the text a CSV export would carry (`_cell_text`, value labels
    applied; a missing value is an empty cell), as a string Series. Whole numbers, texts and
    date-times without fractions of seconds are converted column-wise; anything else one
    distinct value at a time (a million cases repeat a few codes)."""
    missing = values.isna().to_numpy()
    if not labelled:
        if isinstance(values.dtype, pd.StringDtype):
            return values.fillna("").astype("str")
        if values.dtype.kind == "f":
            present = values.to_numpy()[~missing]
            if (np.all(present == np.floor(present)) and
                    np.all(np.abs(present) < 2 ** 53)):
                texts = np.full(len(values), "", dtype=object)
                texts[~missing] = present.astype(np.int64).astype(str)
                return pd.Series(pd.array(texts, dtype="str"))
        if values.dtype.kind == "M" and values.dt.tz is None:
            present = values[~missing]
            if not (present.dt.microsecond.any() or present.dt.nanosecond.any()
                    or (present.dt.year < 1000).any()):
                return values.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("").astype("str")
    codes, distinct = pd.factorize(values)  # code -1 = missing
    texts = [_cell_text(labelled.get(v, v) if labelled else v, decimal) for v in distinct]
    shown = np.asarray([*texts, ""], dtype=object)[codes]
    return pd.Series(pd.array(shown, dtype="str"))


def _check_columns_by(path: Path, fmt: ExportFormat, required: Sequence[str], names: list[str],
                      labels: list[str]) -> None:
    """The codebook's columns are the file's variable labels but it reads names, or vice versa:
    say which setting fits instead of listing every column as missing."""
    wanted = set(required)
    chosen, other = (labels, names) if fmt.columns_by == "label" else (names, labels)
    other_setting = "name" if fmt.columns_by == "label" else "label"
    if not wanted & set(chosen) and wanted & set(other):
        raise InputError(str(path), f"the codebook reads the variable {fmt.columns_by}s "
                         f"(format.columns_by: {fmt.columns_by}), but its columns are the file's "
                         f"variable {other_setting}s ({len(wanted & set(other))} of "
                         f"{len(wanted)} found there)",
                         expected=f"format.columns_by: {other_setting}")


_READERS: dict[str, Callable[[Path, ExportFormat, ExpectedColumns], RawRecords]] = {
    "csv": _read_csv,
    "xlsx": _read_xlsx,
    "sav": _read_sav,
}
