"""Write the bad-input corpus in this folder from the Danish export's header and first rows.

    .venv/bin/python tests/data/bad/make_corpus.py

Each file is the export's header plus a few of its first data rows (so the headers, labels and
identifiers are the real layout), with one defect. The rows come from `tests/data/base_export_rows.csv`, the first
lines of the synthetic export as first shipped, frozen here so that regenerating the shipped
export does not change the corpus. README.md says what is wrong in
each; tests/integration/test_bad_inputs.py runs the workflow on every one. CSV files come out
byte for byte the same on every run; xlsx and sav files record their creation time.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyreadstat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
EXPORT = HERE.parent / "base_export_rows.csv"
CODEBOOK = ROOT / "config" / "codebook" / "dk_2024.yaml"
HARMONISED = ROOT / "config" / "codebook" / "harmonised.yaml"

EMPLOYEES = "Hvor mange ansatte er der i virksomheden (inkl. dig selv)?"
FB_POST = "Hvor ofte poster virksomheden på følgende sociale medier? - Facebook"


def real_export(n: int = 4) -> tuple[list[str], list[list[str]]]:
    """The frozen export rows' header and first `n` data rows, as strings."""
    with EXPORT.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    return rows[0], rows[1: n + 1]


def csv_text(header: Sequence[str], rows: Sequence[Sequence[str]], delimiter: str = ";") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def with_cell(header: Sequence[str], rows: list[list[str]], row: int, column: str,
              value: str) -> list[list[str]]:
    """A copy of `rows` with data row `row` (0 = file line 2) of `column` set to `value`."""
    out = [list(r) for r in rows]
    out[row][header.index(column)] = value
    return out


def without(header: Sequence[str], rows: Sequence[Sequence[str]],
            column: str) -> tuple[list[str], list[list[str]]]:
    i = header.index(column)
    return [h for j, h in enumerate(header) if j != i], [[v for j, v in enumerate(r) if j != i] for r in rows]


def write_xlsx(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]], sheet: str) -> None:
    frame = pd.DataFrame(list(rows), columns=list(header))
    # Employee counts typed as numbers, as Excel stores them once someone has opened the file.
    if EMPLOYEES in frame:
        frame[EMPLOYEES] = frame[EMPLOYEES].map(lambda v: int(v) if v.isdigit() else v)
    frame.to_excel(path, sheet_name=sheet, index=False, engine="openpyxl")


def write_sav(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """An SPSS file as survey tools export it: short variable names, the question texts as
    variable labels, and labelled numeric codes for Status and every answer item."""
    from smesocial.config import load_codebook, load_harmonised

    codebook, harmonised = load_codebook(CODEBOOK), load_harmonised(HARMONISED)
    scale_of = {column: harmonised.variables[variable].scale
                for column, variable in codebook.columns.items()}
    labelled = {codebook.meta["status"]: list(codebook.status_labels)}
    labelled |= {column: list(codebook.labels[scale]) for column, scale in scale_of.items()}
    names = [f"v{i + 1:02d}" for i in range(len(header))]
    data: dict[str, list[object]] = {}
    value_labels: dict[str, dict[float, str]] = {}
    for name, column, values in zip(names, header, zip(*rows)):
        if column in labelled:
            codes = {label: float(code) for code, label in enumerate(labelled[column], start=1)}
            data[name] = [codes[v] if v else float("nan") for v in values]
            value_labels[name] = {code: label for label, code in codes.items()}
        else:
            data[name] = list(values)
    pyreadstat.write_sav(pd.DataFrame(data), str(path), column_labels=list(header),
                         variable_value_labels=value_labels)


PHONE_COMMENT = "Ring til mig på 23 45 67 89, mvh. Søren"


def cp1252_comment(header: Sequence[str], rows: list[list[str]]) -> bytes:
    """Line 3's comment holds a phone number and a name whose `ø` alone is Windows-1252 (a
    cell pasted from an old spreadsheet); the rest of the file is UTF-8."""
    text = csv_text(header, with_cell(header, rows, 1, "Kommentarer", PHONE_COMMENT))
    encoded = PHONE_COMMENT.encode("utf-8")
    pasted = PHONE_COMMENT[:-4].encode("utf-8") + PHONE_COMMENT[-4:].encode("cp1252")
    return text.encode("utf-8").replace(encoded, pasted)


def main() -> None:
    header, rows = real_export()

    def put(name: str, content: str | bytes) -> None:
        (HERE / name).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)

    text = csv_text(header, rows)
    lines = text.splitlines(keepends=True)

    # Encodings.
    put("cp1252_row_declared_utf8.csv",
        "".join(lines[:2]).encode("utf-8") + lines[2].encode("cp1252") + "".join(lines[3:]).encode("utf-8"))
    put("cp1252_header_declared_utf8.csv", text.encode("cp1252"))
    put("utf16_declared_utf8.csv", "\ufeff".encode("utf-16-le") +
        csv_text(header, rows, delimiter="\t").encode("utf-16-le"))
    put("utf16_no_bom_declared_utf8.csv", text.encode("utf-16-le"))
    put("utf8_bom_declared_cp1252.csv", b"\xef\xbb\xbf" + text.encode("utf-8"))
    put("cp1252_comment_declared_utf8.csv", cp1252_comment(header, rows))
    # Delimiters.
    put("comma_declared_semicolon.csv", csv_text(header, rows, delimiter=","))
    put("semicolon_declared_comma.csv", text)
    # Structure.
    put("empty.csv", b"")
    put("header_only.csv", csv_text(header, []))
    put("missing_column.csv", csv_text(*without(header, rows, "Status")))
    truncated = list(lines)
    truncated[2] = ";".join(lines[2].split(";")[:20]) + "\n"  # line 3 cut off after 20 fields
    put("truncated_row.csv", "".join(truncated))
    extra = list(lines)
    extra[3] = lines[3].rstrip("\n") + ";Ekstra felt\n"  # line 4 one field too many
    put("too_many_fields.csv", "".join(extra))
    # Two exports joined: the second one's header lands on line 4.
    put("mixed_wave.csv", csv_text(header, rows[:2]) + csv_text(header, rows[2:]))
    unclosed = list(lines)
    unclosed[3] = unclosed[3].replace(";Vores praktikant", ';"Vores praktikant', 1)
    put("unclosed_quote.csv", "".join(unclosed))
    # Another file than the one the config's raw_sha256 declares (the shipped export's).
    put("replaced_export.csv", text)
    # Values.
    put("unknown_label.csv", csv_text(header, with_cell(header, rows, 1, FB_POST, "Hver time")))
    put("unknown_status.csv", csv_text(header, with_cell(header, rows, 1, "Status", "Fullført")))
    put("bad_date.csv", csv_text(header, with_cell(header, rows, 1, "Startet", "31-13-2023 25:61")))
    duplicated = with_cell(header, rows, 2, "Respons-ID", rows[0][header.index("Respons-ID")])
    put("duplicate_response_id.csv", csv_text(header, duplicated))
    put("missing_response_id.csv", csv_text(header, with_cell(header, rows, 1, "Respons-ID", "")))
    for name, value in [("words", "mange"), ("negative", "-5"), ("absurd", "5000000"),
                        ("decimal", "12,5")]:
        put(f"employees_{name}.csv", csv_text(header, with_cell(header, rows, 1, EMPLOYEES, value)))
    # Spreadsheets.
    write_xlsx(HERE / "wrong_sheet.xlsx", header, rows, sheet="Besvarelser")
    write_xlsx(HERE / "missing_column.xlsx", *without(header, rows, EMPLOYEES), sheet="Data")
    put("csv_named_xlsx.xlsx", text)
    # SPSS.
    write_sav(HERE / "missing_column.sav", *without(header, rows, "Startet"))
    put("corrupt.sav", random.Random(3).randbytes(2048))
    write_sav(HERE / "truncated.sav", header, rows)
    whole = (HERE / "truncated.sav").read_bytes()
    put("truncated.sav", whole[: len(whole) // 3])


if __name__ == "__main__":
    main()
