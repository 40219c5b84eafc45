"""Reading raw exports: values, line numbers, and one clear InputError per malformed case."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from smesocial.errors import InputError
from smesocial.io import read_export, required_columns, write_parquet


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


def test_missing_file(tmp_path, codebook):
    with pytest.raises(InputError, match="file not found") as err:
        read_export(tmp_path / "nope.csv", codebook)
    assert err.value.file.endswith("nope.csv")
    assert "dk_2024.yaml" in err.value.expected


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file(tmp_path, codebook, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match="file is empty") as err:
        read_export(path, codebook)
    assert "';'" in err.value.expected


def test_header_only(tmp_path, codebook, write_export):
    path = write_export(tmp_path / "h.csv", [])
    with pytest.raises(InputError, match="header but no data rows"):
        read_export(path, codebook)


def test_undecodable_bytes_name_the_encoding_and_line(tmp_path, codebook, answer_row, write_export):
    path = write_export(tmp_path / "x.csv", [answer_row(1), answer_row(2, firm="Smørrebrød ApS")])
    # Line 3 saved as Latin-1 (a classic Excel re-save): its 'ø' is not valid UTF-8.
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_bytes("".join(lines[:2]).encode("utf-8") + lines[2].encode("latin-1", errors="replace"))
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    assert err.value.problem == "line 3 cannot be decoded as utf-8"
    assert err.value.rows == [3]
    assert err.value.found.startswith(b"\xf8")
    assert "text encoded as utf-8" in err.value.expected


def test_undecodable_line_number_points_at_the_bad_line(tmp_path, codebook):
    codebook_ascii = dataclasses.replace(codebook, format={**codebook.format, "encoding": "ascii"})
    path = tmp_path / "x.csv"
    path.write_bytes(b"a;b\n1;2\n3;\xe6\n")
    with pytest.raises(InputError) as err:
        read_export(path, codebook_ascii)
    assert err.value.rows == [3]
    assert "ascii" in err.value.problem and "ascii" in err.value.expected


def test_wrong_delimiter_says_which_was_expected(tmp_path, codebook, answer_row, write_export):
    path = write_export(tmp_path / "x.csv", [answer_row(1)], delimiter=",")
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    assert "single column" in err.value.problem
    assert "comma" in err.value.problem  # what the file seems to use
    assert "';'" in err.value.expected


def test_rows_with_wrong_field_count_are_all_named(tmp_path, codebook, answer_row, write_export):
    path = write_export(tmp_path / "x.csv", [answer_row(i) for i in range(1, 6)])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] += ";extra"  # line 3
    lines[4] = lines[4].rsplit(";", 2)[0]  # line 5: two fields short
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    assert err.value.rows == [3, 5]
    assert "wrong number of fields" in err.value.problem
    assert str(len(lines[0].split(";"))) in err.value.expected


def test_missing_required_columns_are_listed(tmp_path, codebook, export_header, answer_row, write_export):
    dropped = [codebook.meta["status"], codebook.employees_column, list(codebook.columns)[3]]
    header = [c for c in export_header if c not in dropped]
    path = write_export(tmp_path / "x.csv", [answer_row(1)], header=header)
    with pytest.raises(InputError) as err:
        read_export(path, codebook)
    assert sorted(err.value.found) == sorted(dropped)
    assert "3 required column(s) missing" in err.value.problem


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


def test_unsupported_format_type(tmp_path, codebook):
    other = dataclasses.replace(codebook, format={**codebook.format, "type": "sav"})
    with pytest.raises(InputError, match="unsupported export format") as err:
        read_export(tmp_path / "x.sav", other)
    assert "csv" in err.value.expected


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
