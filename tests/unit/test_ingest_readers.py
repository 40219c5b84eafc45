"""Reading raw exports: every declared format and encoding gives the same strings as the shipped
export, detection (`auto`) finds and logs what the file is, and each malformed case raises one
clear InputError."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat
import pytest

from smesocial.ingest import build_ingested
from smesocial.config import Codebook, load_codebook
from smesocial.errors import InputError
from smesocial.readers import read_export, required_columns
from smesocial.tables import write_parquet

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "data" / "raw" / "dk_2024" / "dk_2024_survey_export.csv"
EMPLOYEES = "Hvor mange ansatte er der i virksomheden (inkl. dig selv)?"
FB_POST = "Hvor ofte poster virksomheden på følgende sociale medier? - Facebook"


def with_format(codebook: Codebook, **fmt: Any) -> Codebook:
    """The codebook with its whole `format` block replaced."""
    return dataclasses.replace(codebook, format=fmt)


def csv_text(header: list[str], rows: list[list[str]], delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def real() -> tuple[list[str], list[list[str]]]:
    """Header and first 20 data rows of the shipped export, with one decimal-comma employee
    count (as a typed '12,5' would be) so that it must survive comma-separated files."""
    with EXPORT.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    header, data = rows[0], [list(r) for r in rows[1:21]]
    data[0][header.index(EMPLOYEES)] = "12,5"
    return header, data


@pytest.fixture(scope="module")
def original(real, codebook, tmp_path_factory) -> pd.DataFrame:
    """What read_export gives for those rows as the shipped format (';', UTF-8, no BOM)."""
    path = tmp_path_factory.mktemp("original") / "export.csv"
    path.write_text(csv_text(*real, ";"), encoding="utf-8", newline="")
    frame = read_export(path, codebook)
    assert len(frame) == 20 and frame.loc[0, EMPLOYEES] == "12,5"
    header, data = real
    comments = [row[header.index("Kommentarer")] for row in data]
    first = next(i for i, text in enumerate(comments) if text)  # a free-text answer survives
    assert frame.loc[first, "Kommentarer"] == comments[first]
    return frame


def ingested(frame: pd.DataFrame, codebook: Codebook, harmonised) -> pd.DataFrame:
    return build_ingested(frame, codebook, harmonised, source="x", secret=b"pepper", test_markers=["test"])


# --- round trips: each format and encoding gives the original strings and recoded values ------


@pytest.mark.parametrize("name, encode, fmt", [
    ("cp1252 ;", lambda t: t.encode("cp1252"), {"delimiter": ";", "encoding": "cp1252"}),
    ("windows-1252 alias", lambda t: t.encode("cp1252"), {"delimiter": ";", "encoding": "windows-1252"}),
    ("utf-8 BOM", lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), {"delimiter": ";", "encoding": "utf-8"}),
    ("utf-8-sig BOM", lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), {"delimiter": ";", "encoding": "utf-8-sig"}),
    ("utf-16 LE BOM tab", lambda t: "\ufeff".encode("utf-16-le") + t.encode("utf-16-le"),
     {"delimiter": "tab", "encoding": "utf-16"}),
    ("utf-16 BE BOM tab", lambda t: "\ufeff".encode("utf-16-be") + t.encode("utf-16-be"),
     {"delimiter": "\t", "encoding": "utf-16"}),
    ("utf-16-le no BOM tab", lambda t: t.encode("utf-16-le"), {"delimiter": "\t", "encoding": "utf-16-le"}),
    ("comma, decimal comma", lambda t: t.encode("utf-8"), {"delimiter": ",", "encoding": "utf-8"}),
])
def test_declared_csv_variants_give_the_original_strings(tmp_path, real, original, codebook, harmonised,
                                                         name, encode, fmt):
    delimiter = {"tab": "\t"}.get(fmt["delimiter"], fmt["delimiter"])
    path = tmp_path / "export.csv"
    path.write_bytes(encode(csv_text(*real, delimiter)))
    cb = with_format(codebook, type="csv", decimal=",", **fmt)
    frame = read_export(path, cb)
    pd.testing.assert_frame_equal(frame, original)
    pd.testing.assert_frame_equal(ingested(frame, cb, harmonised), ingested(original, codebook, harmonised))


def test_comma_file_keeps_the_quoted_decimal_comma(tmp_path, real, codebook):
    text = csv_text(*real, ",")
    assert '"12,5"' in text  # what any CSV writer does with a decimal comma in a comma file
    path = tmp_path / "x.csv"
    path.write_text(text, encoding="utf-8")
    frame = read_export(path, with_format(codebook, type="csv", delimiter=",", encoding="utf-8"))
    assert frame.loc[0, EMPLOYEES] == "12,5"
    assert frame.loc[1, EMPLOYEES] == real[1][1][real[0].index(EMPLOYEES)]


def test_xlsx_gives_the_original_strings_with_typed_numbers(tmp_path, real, original, codebook, harmonised):
    header, rows = real
    frame = pd.DataFrame(rows, columns=header)
    # Counts typed as numbers, as Excel stores them; one non-whole number.
    frame[EMPLOYEES] = [12.5, *[int(v) if v.isdigit() else v for v in frame[EMPLOYEES][1:]]]
    path = tmp_path / "export.xlsx"
    frame.to_excel(path, sheet_name="Besvarelser", index=False)
    cb = with_format(codebook, type="xlsx", sheet="Besvarelser", decimal=",")
    back = read_export(path, cb)
    pd.testing.assert_frame_equal(back, original)
    assert back["raw_row"].tolist() == list(range(2, 22))  # spreadsheet rows
    pd.testing.assert_frame_equal(ingested(back, cb, harmonised), ingested(original, codebook, harmonised))


def sav_of(header: list[str], rows: list[list[str]], codebook: Codebook, harmonised, path: Path,
           *, dates: bool = True) -> dict[str, dict[float, str]]:
    """An SPSS file as survey tools write it: short names, the headers as variable labels,
    Status and every item as labelled numeric codes, the timestamps as SPSS date-times."""
    scales = {c: harmonised.variables[v].scale for c, v in codebook.columns.items()}
    labelled = {codebook.meta["status"]: list(codebook.status_labels)}
    labelled |= {c: list(codebook.labels[s]) for c, s in scales.items()}
    data: dict[str, list[Any]] = {}
    value_labels: dict[str, dict[float, str]] = {}
    for i, (column, values) in enumerate(zip(header, zip(*rows))):
        name = f"v{i + 1:02d}"
        if column in labelled:
            codes = {label: float(n) for n, label in enumerate(labelled[column], start=1)}
            data[name] = [codes[v] if v else float("nan") for v in values]
            value_labels[name] = {code: label for label, code in codes.items()}
        elif dates and column in ("Startet", "Afsluttet"):
            data[name] = [dt.datetime.fromisoformat(v) if v else None for v in values]
        else:
            data[name] = list(values)
    pyreadstat.write_sav(pd.DataFrame(data), str(path), column_labels=header,
                         variable_value_labels=value_labels)
    return value_labels


def test_sav_with_value_labels_gives_the_original_strings(tmp_path, real, original, codebook, harmonised):
    path = tmp_path / "export.sav"
    value_labels = sav_of(*real, codebook, harmonised, path)
    assert value_labels["v02"] == {1.0: "Gennemført", 2.0: "Delvist gennemført"}
    cb = with_format(codebook, type="sav", columns_by="label", decimal=",")
    back = read_export(path, cb)
    pd.testing.assert_frame_equal(back, original)
    assert back["raw_row"].tolist() == list(range(2, 22))  # case number + 1
    pd.testing.assert_frame_equal(ingested(back, cb, harmonised), ingested(original, codebook, harmonised))


def test_sav_by_name_numbers_without_a_label_and_decimals(tmp_path, codebook):
    frame = pd.DataFrame({"id": ["7", "8", "9"], "status": [1.0, 9.0, float("nan")],
                          "emp": [30.0, 12.5, float("nan")], "note": ["ok", "", "x"]})
    path = tmp_path / "x.sav"
    pyreadstat.write_sav(frame, str(path), column_labels=["Respons-ID", "Status", "Ansatte", ""],
                         variable_value_labels={"status": {1.0: "Gennemført"}})
    cb = dataclasses.replace(codebook, format={"type": "sav", "decimal": ","},
                             meta={"response_id": "id", "status": "status"}, respondent_key=None,
                             employees_column="emp", columns={})
    back = read_export(path, cb)
    assert back.columns.tolist() == ["raw_row", "id", "status", "emp", "note"]
    # 9 has no value label: it stays visible (and later fails as an unknown status).
    assert back["status"].tolist()[:2] == ["Gennemført", "9"] and pd.isna(back.loc[2, "status"])
    assert back["emp"].tolist()[:2] == ["30", "12,5"] and pd.isna(back.loc[2, "emp"])
    assert back["note"].isna().tolist() == [False, True, False]
    by_label = dataclasses.replace(cb, format={"type": "sav", "columns_by": "label", "decimal": "."},
                                   meta={"response_id": "Respons-ID", "status": "Status"},
                                   employees_column="Ansatte")
    back = read_export(path, by_label)
    assert back.columns.tolist() == ["raw_row", "Respons-ID", "Status", "Ansatte", "note"]  # unlabelled: name
    assert back["Ansatte"].tolist()[:2] == ["30", "12.5"]


def test_sav_user_missing_dont_know_keeps_its_label(tmp_path, codebook):
    # SPSS users often declare "don't know" (here 9) user-missing; it is still an answer.
    frame = pd.DataFrame({"id": ["1", "2", "3"], "status": [1.0, 1.0, 1.0], "q": [1.0, 9.0, float("nan")]})
    path = tmp_path / "x.sav"
    pyreadstat.write_sav(frame, str(path), missing_ranges={"q": [9.0]},
                         variable_value_labels={"status": {1.0: "Gennemført"},
                                                "q": {1.0: "Dagligt", 9.0: "Ved ikke"}})
    cb = dataclasses.replace(codebook, format={"type": "sav"}, respondent_key=None,
                             meta={"response_id": "id", "status": "status"},
                             employees_column="q", columns={})
    back = read_export(path, cb)
    assert back["q"].tolist()[:2] == ["Dagligt", "Ved ikke"] and pd.isna(back.loc[2, "q"])


def test_sav_columns_by_the_wrong_setting_says_which_fits(tmp_path, real, codebook, harmonised):
    path = tmp_path / "export.sav"
    sav_of(*real, codebook, harmonised, path, dates=False)
    with pytest.raises(InputError) as err:
        read_export(path, with_format(codebook, type="sav", columns_by="name"))
    assert "variable labels (33 of 33 found there)" in err.value.problem
    assert err.value.expected == "format.columns_by: label"


def test_damaged_sav_files(tmp_path, real, codebook, harmonised):
    cb = with_format(codebook, type="sav", columns_by="label")
    good = tmp_path / "good.sav"
    sav_of(*real, codebook, harmonised, good, dates=False)
    truncated = tmp_path / "truncated.sav"
    truncated.write_bytes(good.read_bytes()[:700])
    with pytest.raises(InputError, match="cannot be read as an SPSS .sav file") as err:
        read_export(truncated, cb)
    assert "pyreadstat" in err.value.problem and "truncated" in err.value.problem
    text = tmp_path / "text.sav"
    text.write_text("Respons-ID;Status\n1;Gennemført\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_export(text, cb)
    assert "no '$FL2' signature" in err.value.problem
    assert "starts like a text file: 'Respons-ID;Status" in err.value.problem


# --- detection (auto) ----------------------------------------------------------------------------


@pytest.mark.parametrize("encode, delimiter, encoding, how", [
    (lambda t: t.encode("cp1252"), ";", "cp1252", "not valid UTF-8 (from line 1), valid Windows-1252"),
    (lambda t: "\ufeff".encode("utf-16-le") + t.encode("utf-16-le"), "\t", "utf-16-le",
     "the file starts with a UTF-16 (little-endian) byte-order mark"),
    (lambda t: t.encode("utf-16-be"), "\t", "utf-16-be", "NUL bytes between the characters"),
    (lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), ",", "utf-8",
     "the file starts with a UTF-8 byte-order mark"),
    (lambda t: t.encode("utf-8"), "|", "utf-8", "the bytes are valid UTF-8"),
])
def test_auto_detects_and_logs_encoding_and_delimiter(tmp_path, real, original, codebook, caplog,
                                                      encode, delimiter, encoding, how):
    path = tmp_path / "export.csv"
    path.write_bytes(encode(csv_text(*real, delimiter)))
    caplog.set_level(logging.INFO, logger="smesocial")
    frame = read_export(path, with_format(codebook, type="csv", encoding="auto", delimiter="auto"))
    pd.testing.assert_frame_equal(frame, original)
    logged = caplog.text
    assert f"format.encoding is auto; detected {encoding} ({how}" in logged
    name = {";": "semicolon", "\t": "tab", ",": "comma", "|": "pipe"}[delimiter]
    assert f"format.delimiter is auto; detected {name} {delimiter!r}" in logged
    assert "splits into 33 of the codebook's 33 required columns" in logged


def test_omitted_encoding_and_delimiter_mean_auto(tmp_path, real, original, codebook, caplog):
    path = tmp_path / "export.csv"
    path.write_bytes(csv_text(*real, "\t").encode("cp1252"))
    caplog.set_level(logging.INFO, logger="smesocial")
    pd.testing.assert_frame_equal(read_export(path, with_format(codebook, type="csv")), original)
    assert "detected cp1252" in caplog.text and "detected tab" in caplog.text


def test_auto_delimiter_falls_back_to_the_sniffer_for_unknown_headers(tmp_path, codebook, caplog):
    path = tmp_path / "x.csv"
    path.write_text("a|b|c\n1|2|3\n4|5|6\n", encoding="utf-8")
    caplog.set_level(logging.INFO, logger="smesocial")
    with pytest.raises(InputError, match="required column"):
        read_export(path, with_format(codebook, type="csv"))  # the columns are wrong, but:
    assert "detected pipe '|' (csv.Sniffer" in caplog.text


def test_undetectable_encoding(tmp_path, codebook):
    path = tmp_path / "x.csv"
    path.write_bytes(b"Respons-ID;Status\n1;\xc3\n2;\x81\x8d\n")  # broken UTF-8, undefined cp1252
    with pytest.raises(InputError, match="encoding cannot be detected") as err:
        read_export(path, with_format(codebook, type="csv"))
    assert err.value.rows == [2]


# --- declared encoding or delimiter contradicted by the file ------------------------------------


def test_utf16_file_declared_utf8_names_the_byte_order_mark(tmp_path, real, codebook):
    path = tmp_path / "x.csv"
    path.write_bytes("\ufeff".encode("utf-16-le") + csv_text(*real, ";").encode("utf-16-le"))
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    message = err.value.message()
    assert "declares encoding 'utf-8' (format.encoding)" in message
    assert "the file starts with a UTF-16 (little-endian) byte-order mark (line 1)" in message
    assert "format.encoding: utf-16 (or auto)" in message


def test_utf16_without_bom_declared_utf8_names_the_nul_bytes(tmp_path, real, codebook):
    path = tmp_path / "x.csv"
    path.write_bytes(csv_text(*real, ";").encode("utf-16-be"))
    with pytest.raises(InputError, match="line 1 contains NUL bytes") as err:
        read_export(path, codebook)
    assert "format.encoding: utf-16-be" in err.value.expected


def test_utf8_file_declared_cp1252_is_not_read_as_mojibake(tmp_path, real, codebook):
    path = tmp_path / "x.csv"
    path.write_text(csv_text(*real, ";"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_export(path, with_format(codebook, type="csv", delimiter=";", encoding="cp1252"))
    assert "declares encoding 'cp1252'" in err.value.problem
    # In the header the text around it is shown: column names, not answers.
    assert "the file is UTF-8 (its first non-ASCII character: line 1, field 10, in the header, " \
        "byte offset 175 of the file: 'oster virksomheden på følgende' would read as " \
        "'oster virksomheden pÃ¥ fÃ¸lgende')" in err.value.problem
    assert path.read_bytes()[175:177] == "å".encode("utf-8")
    assert err.value.rows == [1]


def test_utf8_bom_declared_cp1252(tmp_path, real, codebook):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text(*real, ";").encode("utf-8"))
    with pytest.raises(InputError, match="starts with a UTF-8 byte-order mark"):
        read_export(path, with_format(codebook, type="csv", delimiter=";", encoding="cp1252"))


def test_8bit_file_declared_utf16(tmp_path, real, codebook):
    path = tmp_path / "x.csv"
    path.write_bytes(csv_text(*real, ";").encode("cp1252"))
    with pytest.raises(InputError, match="no byte-order mark and no NUL bytes") as err:
        read_export(path, with_format(codebook, type="csv", delimiter=";", encoding="utf-16"))
    assert "reads as Windows-1252" in err.value.problem


def test_undecodable_bytes_name_the_encoding_line_and_field(tmp_path, codebook, answer_row, write_export):
    path = write_export(tmp_path / "x.csv", [answer_row(1), answer_row(2, firm="Smørrebrød ApS")])
    # Line 3 saved as Latin-1 (a classic Excel re-save): its 'ø' is not valid UTF-8.
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_bytes("".join(lines[:2]).encode("utf-8") + lines[2].encode("latin-1", errors="replace"))
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    # The first byte that is not UTF-8 is the 'ø' of Gennemført, field 2 (Status): a closed
    # answer, so its text is shown, but only that cell's (not the response id before it).
    offset = path.read_bytes().index(b"Gennemf\xf8rt") + len(b"Gennemf")
    assert err.value.problem.startswith(
        f"line 3, field 2 cannot be decoded as utf-8 (format.encoding): column 'Status', byte "
        f"offset {offset} of the file; bytes b'\\xf8' after 'Gennemf'; the file reads as "
        "Windows-1252 (cp1252), where b'\\xf8' is 'ø'")
    assert "1002" not in err.value.message()
    assert err.value.rows == [3] and err.value.found is None
    assert "text encoded as utf-8" in err.value.expected


def test_undecodable_line_number_points_at_the_bad_line(tmp_path, codebook):
    codebook_ascii = with_format(codebook, type="csv", delimiter=";", encoding="ascii")
    path = tmp_path / "x.csv"
    path.write_bytes(b"a;b\n1;2\n3;\xe6\n")
    with pytest.raises(InputError) as err:
        read_export(path, codebook_ascii)
    assert err.value.rows == [3]
    assert "line 3, field 2" in err.value.problem
    assert "ascii" in err.value.problem and "ascii" in err.value.expected


PHONE_COMMENT = "Ring til mig på 23 45 67 89, mvh. Søren"


def _cp1252_in_comment(path: Path, rows: list[dict[str, str]], comment: str) -> bytes:
    """The export with `comment`'s last non-ASCII character saved as Windows-1252, the rest
    UTF-8 (a cell pasted from an old spreadsheet): the first byte that is not UTF-8."""
    data = path.read_bytes()
    start = data.index(comment.encode("utf-8"))
    fixed = comment.encode("utf-8").replace("ø".encode("utf-8"), "ø".encode("cp1252"))
    data = data[:start] + fixed + data[start + len(comment.encode("utf-8")):]
    path.write_bytes(data)
    return data


def assert_quotes_no_identifier(message: str, row: dict[str, str]) -> None:
    """None of the row's identifier values, nor any part of them, is in the message."""
    email = row["E-mail"]
    for part in [row["Virksomhedens navn"], email, email.split("@")[1], email.split("@")[0],
                 row["CVR-nummer"], "23 45", "67 89", "Ring til", "Søren", "S\\xf8ren", "mvh"]:
        assert part not in message, part


@pytest.mark.parametrize("delimiter", [";", "auto"])
def test_undecodable_byte_in_a_comment_names_line_column_and_offset_but_no_content(
        tmp_path, codebook, answer_row, write_export, delimiter):
    """A cp1252 byte in a row's free-text comment, beside its e-mail, CVR number and a phone
    number: the message (and so stderr and the ingest log) names where, never what."""
    rows = [answer_row(1), answer_row(2, firm="Vestjysk Smed ApS", email="soren@vestjysk-smed.dk",
                                      cvr="38405357", comment=PHONE_COMMENT)]
    path = write_export(tmp_path / "x.csv", rows)
    data = _cp1252_in_comment(path, rows, PHONE_COMMENT)
    with pytest.raises(InputError) as err:
        read_export(path, with_format(codebook, type="csv", delimiter=delimiter, encoding="utf-8"))
    message = err.value.message()
    offset = data.index(b"S\xf8ren") + 1
    assert data[offset:offset + 1] == b"\xf8"
    assert (f"line 3, field 8 cannot be decoded as utf-8 (format.encoding): column 'Kommentarer', "
            f"byte offset {offset} of the file; its content is not shown") in message
    assert "the file reads as Windows-1252 (cp1252)" in message
    assert err.value.rows == [3] and err.value.found is None
    assert_quotes_no_identifier(message, rows[1])
    assert "\\xf8" not in message and "'ø'" not in message  # not even the character


def test_undecodable_byte_in_a_comment_spanning_lines_names_both_lines(
        tmp_path, codebook, answer_row, write_export):
    comment = "Vi bruger LinkedIn.\nRing til mig på 23 45 67 89, mvh. Søren"
    rows = [answer_row(1, comment=comment, email="soren@vestjysk-smed.dk", cvr="38405357",
                       firm="Vestjysk Smed ApS")]
    path = write_export(tmp_path / "x.csv", rows)
    data = _cp1252_in_comment(path, rows, comment)
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    offset = data.index(b"S\xf8ren") + 1
    assert err.value.problem.startswith(
        f"line 3 (in the record from line 2), field 8 cannot be decoded as utf-8 "
        f"(format.encoding): column 'Kommentarer', byte offset {offset} of the file")
    assert err.value.rows == [3]
    assert_quotes_no_identifier(err.value.message(), rows[0])
    assert "LinkedIn" not in err.value.message()


def test_a_comment_with_an_unquoted_delimiter_is_not_taken_for_the_next_column(
        tmp_path, codebook, answer_row, write_export):
    """'Ring; mvh Søren' unquoted splits the comment, so the bad byte sits in the field where
    the employee count (a column messages may quote) belongs: nothing is quoted all the same."""
    comment = "Ring på 23 45 67 89. Mvh Søren"
    rows = [answer_row(1, comment=comment, cvr="38405357")]
    path = write_export(tmp_path / "x.csv", rows)
    data = path.read_bytes().replace(b"89. Mvh", b"89; Mvh")
    data = data.replace("Søren".encode("utf-8"), "Søren".encode("cp1252"))
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    message = err.value.message()
    assert (f"line 2, field 9 cannot be decoded as utf-8 (format.encoding): column '{EMPLOYEES}' "
            "by position (the record does not have the header's number of fields), byte offset "
            f"{data.index(b'S' + bytes([0xf8])) + 1} of the file; its content is not shown") in message
    for part in ["Mvh", "Søren", "23 45", "\\xf8", "38405357"]:
        assert part not in message, part


@pytest.fixture
def ascii_codebook(codebook):
    """A codebook whose column names are ASCII, so a file's first non-ASCII byte is in a row."""
    return dataclasses.replace(
        codebook, meta={"response_id": "id", "status": "status"}, identifiers=("email", "note"),
        respondent_key="email", employees_column="employees", columns={"q1": "post_facebook"},
        format={"type": "csv", "delimiter": ";", "encoding": "cp1252"})


def test_utf8_declared_cp1252_quotes_a_closed_answer_cell_only(tmp_path, ascii_codebook):
    path = tmp_path / "x.csv"
    path.write_bytes("id;email;note;status;employees;q1\n"
                     "7;x@firma.dk;Hej;Gennemført;12;Dagligt\n".encode("utf-8"))
    with pytest.raises(InputError) as err:
        read_export(path, ascii_codebook)
    offset = path.read_bytes().index("ø".encode("utf-8"))
    assert ("the file is UTF-8 (its first non-ASCII character: line 2, field 4, column "
            f"'status', byte offset {offset} of the file: 'Gennemført' would read as "
            "'GennemfÃ¸rt')") in err.value.problem
    assert "firma" not in err.value.message() and "Hej" not in err.value.message()


@pytest.mark.parametrize("column, value", [("email", "søren@firma.dk"), ("note", "Ring på 23456789"),
                                           ("extra", "Fri tekst på 23456789")])
def test_utf8_declared_cp1252_shows_no_identifier_or_unmapped_text(tmp_path, ascii_codebook,
                                                                     column, value):
    header = ["id", "email", "note", "status", "employees", "q1", "extra"]
    row = {"id": "7", "email": "x@firma.dk", "note": "", "status": "Done", "employees": "12",
           "q1": "Dagligt", "extra": "", column: value}
    path = tmp_path / "x.csv"
    path.write_bytes((";".join(header) + "\n" + ";".join(row[h] for h in header) + "\n")
                     .encode("utf-8"))
    with pytest.raises(InputError) as err:
        read_export(path, ascii_codebook)
    field = header.index(column) + 1
    offset = path.read_bytes().index(value.encode("utf-8")) + value.index("ø" if "ø" in value else "å")
    assert (f"line 2, field {field}, column '{column}', byte offset {offset} of the file; its "
            "content is not shown") in err.value.problem
    message = err.value.message()
    for part in [value, "firma", "23456789", "søren", "Ring", "Fri tekst", "x@"]:
        assert part not in message, part


def test_wrong_delimiter_says_which_was_expected(tmp_path, codebook, answer_row, write_export):
    path = write_export(tmp_path / "x.csv", [answer_row(1)], delimiter=",")
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    assert "single column" in err.value.problem
    assert "comma-separated" in err.value.problem  # what the file seems to use
    assert "line 1 has no ';'" in err.value.problem
    assert "';'" in err.value.expected


def test_semicolon_file_declared_comma(tmp_path, real, codebook):
    # The Danish headers contain commas, so ',' splits them into *some* columns: the check
    # compares how many codebook columns each delimiter finds.
    path = tmp_path / "x.csv"
    path.write_text(csv_text(*real, ";"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_export(path, with_format(codebook, type="csv", delimiter=",", encoding="utf-8"))
    assert "split on it has 0 of the codebook's 33 required columns and split on ';' 33" in err.value.problem
    assert "semicolon-separated" in err.value.problem


# --- xlsx ----------------------------------------------------------------------------------------


def test_xlsx_sheet_choice_row_numbers_and_cell_types(tmp_path, codebook):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Info"
    book.active["A1"] = "exported by SurveyXact"
    sheet = book.create_sheet("Data")
    sheet.append(["Respons-ID", "Status", "Startet", "Ansatte", ""])
    sheet.append(["007", "Gennemført", dt.datetime(2024, 1, 9, 15, 51, 58), 30, None])
    sheet.append([None, None, None, None, None])  # a blank row: skipped, numbering kept
    sheet.append([8, " Delvist gennemført ", "2024-01-10 08:00:00", 12.5, None])
    path = tmp_path / "x.xlsx"
    book.save(path)
    cb = dataclasses.replace(codebook, meta={"response_id": "Respons-ID", "status": "Status"},
                             respondent_key=None, employees_column="Ansatte", columns={})
    for sheet_choice in ("Data", "data", 1):
        frame = read_export(path, with_format(cb, type="xlsx", sheet=sheet_choice, decimal=","))
        assert frame["raw_row"].tolist() == [2, 4]
        assert frame["Respons-ID"].tolist() == ["007", "8"]  # text stays text
        assert frame["Startet"].tolist() == ["2024-01-09 15:51:58", "2024-01-10 08:00:00"]
        assert frame["Ansatte"].tolist() == ["30", "12,5"]
        assert frame["Status"].tolist() == ["Gennemført", " Delvist gennemført "]  # raw
        assert "" not in frame.columns  # the unnamed empty column is dropped
    with pytest.raises(InputError) as err:
        read_export(path, with_format(cb, type="xlsx", sheet="Besvarelser"))
    assert "no sheet named 'Besvarelser'" in err.value.problem and err.value.found == ["Info", "Data"]
    with pytest.raises(InputError, match="no sheet number 5"):
        read_export(path, with_format(cb, type="xlsx", sheet=5))
    with pytest.raises(InputError, match="required column") as err:
        read_export(path, with_format(cb, type="xlsx"))  # default: the first sheet, 'Info'
    assert "(sheet 'Info')" in err.value.file


def test_xlsx_unnamed_column_with_values_and_not_a_workbook(tmp_path, codebook):
    frame = pd.DataFrame([["1", "Gennemført", "x"]], columns=["Respons-ID", "Status", ""])
    path = tmp_path / "x.xlsx"
    frame.to_excel(path, index=False)
    cb = dataclasses.replace(codebook, format={"type": "xlsx"},
                             meta={"response_id": "Respons-ID", "status": "Status"},
                             respondent_key=None, employees_column="Status", columns={})
    with pytest.raises(InputError, match="column 3 has values but no name in the header \\(row 1\\)") as err:
        read_export(path, cb)
    assert err.value.rows == [2]
    zipped = tmp_path / "damaged.xlsx"
    zipped.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(InputError, match="not a readable xlsx workbook"):
        read_export(zipped, cb)
    sav = tmp_path / "x.xlsx.sav"
    sav.write_bytes(b"$FL2" + b"\x00" * 100)
    with pytest.raises(InputError, match="it is an SPSS .sav file"):
        read_export(sav, cb)


# --- structure, shared by all formats -----------------------------------------------------------


def test_reads_raw_strings_with_line_numbers_and_na_for_empty(tmp_path, codebook, answer_row, write_export):
    rows = [answer_row(1, employees=" 12 "), answer_row(2, comment="", employees="ca. 40"),
            answer_row(3, **{"Kommentarer": "   "})]
    path = write_export(tmp_path / "x.csv", rows)
    frame = read_export(path, codebook)
    assert frame["raw_row"].tolist() == [2, 3, 4]
    assert frame["raw_row"].dtype == "int64"
    assert frame[codebook.employees_column].tolist() == [" 12 ", "ca. 40", "12"]  # raw, untouched
    assert frame["Kommentarer"].isna().all()  # empty and blank cells are NA
    assert all(pd.api.types.is_string_dtype(frame[c]) for c in frame.columns if c != "raw_row")


def test_line_numbers_follow_the_file_across_multiline_cells_and_blank_lines(
        tmp_path, codebook, answer_row, write_export):
    path = write_export(tmp_path / "x.csv", [answer_row(1, comment="line one\nline two"), answer_row(2)])
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    path.write_text(text + path.read_text(encoding="utf-8").splitlines()[-1] .replace("1002", "1003") + "\n",
                    encoding="utf-8")
    frame = read_export(path, codebook)
    # header = 1, first record spans lines 2-3, the second is on 4, a blank line 5, then 6.
    assert frame["raw_row"].tolist() == [2, 4, 6]
    assert frame.loc[0, "Kommentarer"] == "line one\nline two"


def test_utf8_byte_order_mark_is_not_part_of_the_first_header(tmp_path, codebook, answer_row, write_export):
    path = write_export(tmp_path / "x.csv", [answer_row(1)])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert "Respons-ID" in read_export(path, codebook).columns


def test_trailing_delimiter_on_every_line_is_ignored(tmp_path, codebook, answer_row, write_export):
    path = write_export(tmp_path / "x.csv", [answer_row(1), answer_row(2)])
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("".join(line + ";\n" for line in lines), encoding="utf-8")
    frame = read_export(path, codebook)
    assert frame.columns[-1] == list(codebook.columns)[-1] and len(frame) == 2


def test_second_header_line_of_joined_exports(tmp_path, codebook, answer_row, write_export):
    path = write_export(tmp_path / "x.csv", [answer_row(1), answer_row(2)])
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, *lines]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    assert err.value.problem.startswith("line 4 looks like a second header line")
    assert "'Respons-ID', 'Status', 'Startet'" in err.value.problem
    assert err.value.rows == [4]


def test_missing_file(tmp_path, codebook):
    with pytest.raises(InputError, match="file not found") as err:
        read_export(tmp_path / "nope.csv", codebook)
    assert err.value.file.endswith("nope.csv")
    assert "dk_2024.yaml" in err.value.expected


@pytest.mark.parametrize("content, problem", [
    (b"", "the file is empty (0 bytes)"),
    (b"\n\n  \n", "the file is empty (only white space)"),
    (b";;;\n;;\n", "the file has no header (only blank lines or delimiters)"),
])
def test_empty_file(tmp_path, codebook, content, problem):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    assert err.value.problem == problem
    assert "a header line and data rows" in err.value.expected


def test_header_only(tmp_path, codebook, write_export):
    path = write_export(tmp_path / "h.csv", [])
    with pytest.raises(InputError, match="header but no data rows"):
        read_export(path, codebook)


def test_rows_with_wrong_field_count_are_all_named(tmp_path, codebook, answer_row, write_export):
    path = write_export(tmp_path / "x.csv", [answer_row(i) for i in range(1, 6)])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] += ";extra"  # line 3
    lines[4] = lines[4].rsplit(";", 2)[0]  # line 5: two fields short
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    assert err.value.rows == [3, 5]
    assert "wrong number of fields (first: line 3)" in err.value.problem
    assert err.value.found == f"{len(lines[0].split(';')) - 2}, {len(lines[0].split(';')) + 1} fields"
    assert str(len(lines[0].split(";"))) in err.value.expected


def test_unclosed_quote(tmp_path, codebook, answer_row, write_export):
    path = write_export(tmp_path / "x.csv", [answer_row(1), answer_row(2)])
    text = path.read_text(encoding="utf-8").replace("Firma 2 ApS", '"Firma 2 ApS')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="malformed CSV from line 3 on") as err:
        read_export(path, codebook)
    assert err.value.rows == [3]


def test_csv_declared_but_the_file_is_a_workbook(tmp_path, codebook):
    path = tmp_path / "x.csv"
    pd.DataFrame({"a": [1]}).to_excel(path.with_suffix(".xlsx"), index=False)
    path.write_bytes(path.with_suffix(".xlsx").read_bytes())
    with pytest.raises(InputError, match="declares a CSV export .* but the file is a ZIP container"):
        read_export(path, codebook)


def test_missing_required_columns_are_listed(tmp_path, codebook, export_header, answer_row, write_export):
    dropped = [codebook.meta["status"], codebook.employees_column, list(codebook.columns)[3]]
    header = [c for c in export_header if c not in dropped]
    path = write_export(tmp_path / "x.csv", [answer_row(1)], header=header)
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    assert sorted(err.value.missing) == sorted(dropped)
    assert err.value.found is None
    assert "3 required column(s) missing from the header (line 1)" in err.value.problem
    # the message labels them as what they are, not as something found
    assert "; missing [" in str(err.value) and "found" not in str(err.value)


def test_repeated_header_names(tmp_path, codebook, export_header, answer_row, write_export):
    header = [*export_header, "E-mail"]
    with pytest.raises(InputError, match="repeats column names") as err:
        read_export(write_export(tmp_path / "x.csv", [answer_row(1)], header=header), codebook)
    assert err.value.found == ["E-mail"]


def test_missing_optional_identifier_is_fine(tmp_path, codebook, export_header, answer_row, write_export):
    header = [c for c in export_header if c != "Kommentarer"]
    frame = read_export(write_export(tmp_path / "x.csv", [answer_row(1)], header=header), codebook)
    assert "Kommentarer" not in frame


def test_near_miss_header_is_suggested(tmp_path, codebook, export_header, answer_row, write_export):
    header = [c.replace("Status", "Statu") for c in export_header]
    row = {k.replace("Status", "Statu"): v for k, v in answer_row(1).items()}
    with pytest.raises(InputError) as err:
        read_export(write_export(tmp_path / "x.csv", [row], header=header), codebook)
    assert "'Status' ~ 'Statu'" in err.value.expected


def test_required_columns_cover_meta_key_employees_and_items(codebook):
    required = required_columns(codebook)
    assert required[:4] == ["Respons-ID", "Status", "Startet", "Afsluttet"]
    assert "CVR-nummer" in required and codebook.employees_column in required
    assert set(codebook.columns) <= set(required)
    assert "E-mail" not in required
    assert len(required) == 4 + 1 + 1 + len(codebook.columns)


# --- the format block ------------------------------------------------------------------------------


def test_unsupported_format_type(tmp_path, codebook):
    other = with_format(codebook, type="json")
    with pytest.raises(InputError, match="unsupported export format") as err:
        read_export(tmp_path / "x.json", other)
    assert err.value.expected == "one of: csv, sav, xlsx"


@pytest.mark.parametrize("fmt, problem", [
    ({"delimiter": "::"}, "format.delimiter must be one character or 'auto'"),
    ({"encoding": "klingon"}, "format.encoding is not a known text encoding"),
    ({"decimal": ";"}, "format.decimal must be ',' or '.'"),
    ({"type": "sav", "columns_by": "title"}, "format.columns_by must be 'name' or 'label'"),
])
def test_bad_format_values(tmp_path, codebook, fmt, problem):
    with pytest.raises(InputError) as err:
        read_export(tmp_path / "x.csv", with_format(codebook, **{"type": "csv", **fmt}))
    assert err.value.problem == problem
    assert err.value.file == codebook.path


@pytest.mark.parametrize("change, key", [
    ({"delimeter": ";"}, "format"),  # misspelt: would silently fall back to auto
    ({"type": "xls"}, "format.type"),
    ({"sheet": -1}, "format.sheet"),
    ({"columns_by": "title"}, "format.columns_by"),
])
def test_codebook_schema_rejects_bad_format_blocks(tmp_path, change, key):
    import yaml

    raw = yaml.safe_load((ROOT / "config/codebook/dk_2024.yaml").read_text(encoding="utf-8"))
    raw["format"] = {**raw["format"], **change}
    path = tmp_path / "codebook.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_codebook(path)
    assert err.value.problem == f"invalid configuration at key '{key}'"
    assert err.value.file == str(path)


def test_shipped_codebooks_follow_the_schema():
    for path in sorted((ROOT / "config" / "codebook").glob("*.yaml")):
        if path.name != "harmonised.yaml":
            assert load_codebook(path).wave == path.stem


def test_parquet_rewrite_is_byte_identical(tmp_path):
    frame = pd.DataFrame({
        "id": pd.array(["b", "a"], dtype="str"),
        "n": [2, 1],
        "level": pd.Categorical(["x", None], categories=["x", "y"], ordered=True),
        "flag": pd.array([True, None], dtype="boolean"),
        "when": pd.to_datetime(["2023-12-01 10:00", None]),
    }, index=[7, 3])
    write_parquet(frame, tmp_path / "a.parquet")
    write_parquet(frame.copy(), tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    back = pd.read_parquet(tmp_path / "a.parquet")
    assert back["level"].cat.ordered and list(back["level"].cat.categories) == ["x", "y"]
    assert back.index.tolist() == [0, 1]
