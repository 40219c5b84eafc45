"""Recoding raw labels to harmonised variables, derived booleans, and the ingested table."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from smesocial.ingest import (build_ingested, check_raw_sha256, check_unmapped_columns, file_sha256,
                              hash_respondent_key, mark_test_responses, normalise_label,
                              raw_column_uses, recode, validate_codebook)
from smesocial.errors import InputError
from smesocial.readers import read_export

FB_POST = "Hvor ofte poster virksomheden på følgende sociale medier? - Facebook"
FB_IMPORTANT = ("Hvor enig er du i, at følgende sociale medier vil være vigtige for at vækste "
                "virksomheden? - Facebook")
FULLTIME = "Har virksomheden en fuldtidsansat, der arbejder med marketing?"
TEAM = "Hvor mange ansatte er der i marketingafdelingen?"
HANDLING = "Hvem håndterer den daglige markedsføring/kommunikation på SoMe?"
ROOT = Path(__file__).resolve().parents[2]


def raw_frame(columns: dict[str, list[object]]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame({k: pd.array(v, dtype="str") for k, v in columns.items()})
    frame.insert(0, "raw_row", range(2, n + 2))
    return frame


@pytest.fixture
def full_raw(codebook, answer_row):
    """A raw frame with every mapped column present (valid labels), to override per test."""
    rows = [answer_row(i) for i in range(1, 5)]
    return raw_frame({c: [r[c] for r in rows] for c in rows[0]})


def test_labels_match_ignoring_case_and_white_space(full_raw, codebook, harmonised):
    full_raw[FB_POST] = ["  dagligt ", "UGENTLIGT", "Stort  set aldrig", None]
    out = recode(full_raw, codebook, harmonised, "x.csv")
    assert out["post_facebook"].astype("object").tolist()[:3] == ["daily", "weekly", "almost_never"]
    assert pd.isna(out["post_facebook"].iloc[3])


@pytest.mark.parametrize("raw, label", [
    ("Ma\u030anedligt", "Månedligt"),  # decomposed å (macOS exports) vs composed
    ("Ved\u00a0ikke", "Ved ikke"),  # non-breaking space
    ("  VED   IKKE ", "Ved ikke"),
    ("Don\u2019t know", "Don't know"),  # curly apostrophe from a word processor
    ("\u201cJa\u201d", '"Ja"'),
    ("2\u20133", "2-3"),  # en dash
    ("\ufeffDagligt", "Dagligt"),  # byte-order mark glued to a first cell
    ("Dag\u00adligt", "Dagligt"),  # soft hyphen
    ("Ｊａ", "Ja"),  # full-width letters
])
def test_normalise_label_equates_typographic_variants(raw, label):
    assert normalise_label(raw) == normalise_label(label)


@pytest.mark.parametrize("raw, label", [("Ugentligt", "Dagligt"), ("Ved ikke", "Vet ikke"),
                                        ("Enig", "Uenig"), ("2-3", "23")])
def test_normalise_label_keeps_different_words_apart(raw, label):
    assert normalise_label(raw) != normalise_label(label)


@pytest.fixture
def aliased(codebook):
    """The Danish codebook with per-wave aliases: several labels for one level."""
    labels = {**codebook.labels,
              "frequency": {**codebook.labels["frequency"], "Vet ikke": None, "Don't know": None,
                            "Hver dag": "daily"},
              "team_size": {**codebook.labels["team_size"], "To til tre": "two_three"}}
    return dataclasses.replace(codebook, labels=labels)


def test_aliases_map_several_labels_to_one_level(full_raw, aliased, harmonised):
    full_raw[FB_POST] = ["Vet ikke", "DON\u2019T  KNOW", "hver\u00a0dag", "Ved ikke"]
    full_raw[TEAM] = ["2\u20133", "to til tre", "2-3", "Ingen"]
    out = recode(full_raw, aliased, harmonised, "x.csv")
    assert out["post_facebook"].isna().tolist() == [True, True, False, True]
    assert out["post_facebook"].iloc[2] == "daily"
    assert out["marketing_team_size"].astype("object").tolist() == ["two_three"] * 3 + ["none"]


def test_unknown_label_lists_the_aliases_as_allowed(full_raw, aliased, harmonised):
    full_raw[FB_POST] = ["Dagligt", "Ikke relevant", "Dagligt", "Dagligt"]
    with pytest.raises(InputError) as err:
        recode(full_raw, aliased, harmonised, "data/raw/x.csv")
    assert err.value.found == "Ikke relevant" and err.value.rows == [3]
    assert err.value.column == FB_POST
    for label in ["'Ved ikke'", "'Vet ikke'", "\"Don't know\"", "'Hver dag'"]:
        assert label in err.value.expected


def test_aliases_that_collide_after_normalising_must_agree(codebook, harmonised):
    clash = dataclasses.replace(codebook, labels={
        **codebook.labels, "frequency": {**codebook.labels["frequency"], "VED\u00a0IKKE": "never"}})
    with pytest.raises(InputError, match="differ only in case, spacing, quotes or dashes") as err:
        validate_codebook(clash, harmonised)
    assert err.value.found == "VED\u00a0IKKE"
    agreeing = dataclasses.replace(codebook, labels={
        **codebook.labels, "frequency": {**codebook.labels["frequency"], "VED IKKE": None}})
    validate_codebook(agreeing, harmonised)  # the same level twice is a harmless alias


def test_yaml_boolean_label_is_reported(codebook, harmonised):
    # `Yes: true` unquoted in YAML 1.1 is the key True, which would never match "Yes".
    broken = dataclasses.replace(codebook, labels={**codebook.labels,
                                                   "yes_no": {True: True, "Nej": False}})
    with pytest.raises(InputError, match="label YAML read as the boolean True") as err:
        validate_codebook(broken, harmonised)
    assert '"Yes": true' in err.value.expected


def test_status_labels_match_after_normalising(tmp_path, codebook, harmonised, answer_row, write_export):
    path = write_export(tmp_path / "e.csv", [answer_row(1, status="GENNEMFØRT\u200b"),
                                              answer_row(2, status=" delvist\u00a0GENNEMFØRT ")])
    out = build_ingested(read_export(path, codebook), codebook, harmonised, source=str(path),
                         secret=b"pepper-secret", test_markers=[])
    assert out["status"].tolist() == ["complete", "partial"]


def test_ordered_scale_is_an_ordered_categorical_lowest_first(full_raw, codebook, harmonised):
    full_raw[FB_POST] = ["Dagligt", "Aldrig", "Månedligt", "Ugentligt"]
    post = recode(full_raw, codebook, harmonised, "x.csv")["post_facebook"]
    assert post.cat.ordered
    assert list(post.cat.categories) == ["never", "almost_never", "monthly", "weekly", "daily"]
    assert post.cat.codes.tolist() == [4, 0, 2, 3]
    assert (post > "monthly").tolist() == [True, False, False, True]  # order-aware comparison
    assert post.max() == "daily" and post.min() == "never"


def test_nominal_is_unordered_and_yes_no_is_nullable_boolean(full_raw, codebook, harmonised):
    full_raw[HANDLING] = ["Vi varetager al SoMe selv", "Ved ikke", "Vi bruger bureau til al vores SoMe", None]
    full_raw[FULLTIME] = ["Ja", "nej", "Ved ikke", None]
    out = recode(full_raw, codebook, harmonised, "x.csv")
    assert not out["handling"].cat.ordered
    assert out["handling"].astype("object").tolist()[::2] == ["in_house", "agency"]
    assert out["marketing_fulltime"].dtype == "boolean"
    assert out["marketing_fulltime"].tolist() == [True, False, pd.NA, pd.NA]


def test_dont_know_and_empty_are_na(full_raw, codebook, harmonised):
    full_raw[FB_IMPORTANT] = ["Ved ikke", None, "ved ikke ", "Enig"]
    out = recode(full_raw, codebook, harmonised, "x.csv")
    assert out["important_facebook_likert"].isna().tolist() == [True, True, True, False]


def test_derived_booleans_true_for_true_levels_na_where_source_na(full_raw, codebook, harmonised):
    full_raw[FB_IMPORTANT] = ["Meget enig", "Enig", "Hverken enig eller uenig", "Ved ikke"]
    full_raw[TEAM] = ["Mere end 3", "2-3", "Ingen", None]
    out = recode(full_raw, codebook, harmonised, "x.csv")
    assert out["important_facebook"].dtype == "boolean"
    assert out["important_facebook"].tolist() == [True, True, False, pd.NA]
    assert out["marketing_team_gt3"].tolist() == [True, False, False, pd.NA]
    # The Likert original stays beside the derived boolean.
    assert out["important_facebook_likert"].astype("object").tolist()[:3] == [
        "strongly_agree", "agree", "neutral"]
    assert set(harmonised.derived) <= set(out.columns)
    assert set(harmonised.variables) <= set(out.columns)


def test_unknown_label_stops_with_file_column_value_rows_and_allowed(full_raw, codebook, harmonised):
    full_raw[FB_POST] = ["Dagligt", "Hver time", "Ugentligt", "Hver time"]
    with pytest.raises(InputError) as err:
        recode(full_raw, codebook, harmonised, "data/raw/x.csv")
    e = err.value
    assert e.file == "data/raw/x.csv"
    assert e.column == FB_POST
    assert e.found == "Hver time"
    assert e.rows == [3, 5]
    for label in ["Dagligt", "Ugentligt", "Månedligt", "Stort set aldrig", "Aldrig", "Ved ikke"]:
        assert repr(label) in e.expected
    message = e.message()
    assert "Hver time" in message and "row(s) 3, 5" in message and FB_POST in message


def test_unknown_labels_in_several_columns_are_all_mentioned(full_raw, codebook, harmonised):
    full_raw[FB_POST] = ["x", "Dagligt", "Dagligt", "Dagligt"]
    full_raw[FULLTIME] = ["Ja", "Måske", "Ja", "Ja"]
    with pytest.raises(InputError) as err:
        recode(full_raw, codebook, harmonised, "x.csv")
    assert err.value.column == FB_POST
    assert "1 more column" in err.value.problem and FULLTIME in err.value.problem


def test_codebook_level_not_in_scale_is_rejected(codebook, harmonised):
    broken = dataclasses.replace(codebook, labels={**codebook.labels,
                                                   "frequency": {"Dagligt": "hourly"}})
    with pytest.raises(InputError, match="level the scale does not have") as err:
        validate_codebook(broken, harmonised)
    assert err.value.found == "hourly"


def test_hash_is_hmac_sha256_of_normalised_key():
    keys = pd.Series(["12345678", " 1234 5678 ", None, "87654321"], dtype="str")
    hashed = hash_respondent_key(keys, b"pepper-secret")
    assert hashed[0] == hashed[1] == hmac.new(b"pepper-secret", b"12345678", hashlib.sha256).hexdigest()
    assert pd.isna(hashed[2]) and hashed[3] != hashed[0]
    assert hash_respondent_key(keys, b"other-secret")[0] != hashed[0]
    with pytest.raises(ValueError):
        hash_respondent_key(keys, b"")


@pytest.mark.parametrize("value, marked", [
    ("test@firma.dk", True), ("TEST", True), (" test ", True), ("Testbesvarelse, slet", True),
    ("Dette er en prøve", True), ("Testrup Tømrer ApS", False), ("kontakt@testfirma.dk", False),
    ("Protest ApS", False), (None, False),
])
def test_test_markers_match_whole_words_case_insensitively(value, marked):
    raw = pd.DataFrame({"E-mail": pd.array([value], dtype="str")})
    assert mark_test_responses(raw, ["E-mail"], ["test", "testbesvarelse", "prøve"]).tolist() == [marked]


def test_firm_name_test_is_marked_even_without_markers():
    raw = pd.DataFrame({"Virksomhedens navn": pd.array(["Test", "Bager Test ApS"], dtype="str")})
    assert mark_test_responses(raw, ["Virksomhedens navn"], []).tolist() == [True, False]


@pytest.fixture
def ingested(tmp_path, codebook, harmonised, answer_row, write_export, config):
    rows = [
        answer_row(1),
        answer_row(2, status="Delvist gennemført", finished="", **{FB_POST: "Ved ikke", FB_IMPORTANT: ""}),
        answer_row(3, firm="TEST", email="test@cphbusiness.dk", comment="testbesvarelse"),
        answer_row(4, cvr="3000 0001", started="2023-12-20 09:00:00"),
    ]
    path = write_export(tmp_path / "export.csv", rows)
    raw = read_export(path, codebook)
    return build_ingested(raw, codebook, harmonised, source=str(path), secret=b"pepper-secret",
                          test_markers=config["exclusions"]["test_response_markers"])


def test_ingested_has_bookkeeping_and_no_identifiers(ingested, codebook, harmonised):
    assert ingested["raw_row"].tolist() == [2, 3, 4, 5]
    assert ingested["response_id"].tolist() == ["1001", "1002", "1003", "1004"]
    assert ingested["status"].tolist() == ["complete", "partial", "complete", "complete"]
    assert ingested["is_test_marked"].tolist() == [False, False, True, False]
    assert str(ingested["started"].dtype).startswith("datetime64")
    assert ingested["started"][3] == pd.Timestamp("2023-12-20 09:00:00")
    assert pd.isna(ingested["finished"][1])
    assert not set(codebook.identifiers) & set(ingested.columns)
    assert not set(codebook.columns) & set(ingested.columns)  # raw headers gone, variables in
    assert set(harmonised.variables) | set(harmonised.derived) <= set(ingested.columns)
    flat = ingested.astype("str").to_numpy().ravel().tolist()
    assert not any(v in flat for v in ["30000001", "kontakt1@firma1.dk", "Firma 1 ApS", "TEST"])


def test_ingested_key_hash_recognises_the_same_firm(ingested):
    hashes = ingested["respondent_key_hash"]
    assert hashes[0] == hashes[3]  # "30000001" and "3000 0001"
    assert hashes.nunique() == 3
    assert all(len(h) == 64 for h in hashes)


def test_items_answered_counts_dont_know_as_answered(ingested, codebook):
    total = len(codebook.columns)
    assert (ingested["items_total"] == total).all()
    assert ingested["items_answered"].tolist() == [total, total - 1, total, total]


def test_unknown_status_label_stops(tmp_path, codebook, harmonised, answer_row, write_export):
    path = write_export(tmp_path / "e.csv", [answer_row(1), answer_row(2, status="Afbrudt")])
    with pytest.raises(InputError, match="unknown completion status") as err:
        build_ingested(read_export(path, codebook), codebook, harmonised, source=str(path),
                       secret=b"pepper-secret", test_markers=[])
    assert err.value.rows == [3] and err.value.found == ["Afbrudt"] and err.value.column == "Status"
    assert "'Gennemført'" in err.value.expected


def test_unreadable_timestamp_stops(tmp_path, codebook, harmonised, answer_row, write_export):
    path = write_export(tmp_path / "e.csv", [answer_row(1), answer_row(2, started="i går")])
    with pytest.raises(InputError, match="timestamps") as err:
        build_ingested(read_export(path, codebook), codebook, harmonised, source=str(path),
                       secret=b"pepper-secret", test_markers=[])
    assert err.value.rows == [3] and err.value.column == "Startet"


def test_day_first_timestamps_are_read(tmp_path, codebook, harmonised, answer_row, write_export):
    path = write_export(tmp_path / "e.csv", [answer_row(1, started="15-12-2023 10:23:45"),
                                              answer_row(2, started="02-01-2024 08:00:00")])
    out = build_ingested(read_export(path, codebook), codebook, harmonised, source=str(path),
                         secret=b"pepper-secret", test_markers=[])
    assert out["started"].tolist() == [pd.Timestamp("2023-12-15 10:23:45"),
                                       pd.Timestamp("2024-01-02 08:00:00")]


def test_repeated_response_id_stops(tmp_path, codebook, harmonised, answer_row, write_export):
    path = write_export(tmp_path / "e.csv", [answer_row(1), answer_row(1)])
    with pytest.raises(InputError, match="not unique") as err:
        build_ingested(read_export(path, codebook), codebook, harmonised, source=str(path),
                       secret=b"pepper-secret", test_markers=[])
    assert err.value.rows == [2, 3]


# --- the raw file's declared sha256 --------------------------------------------------------------

README_SHA256 = re.compile(r"^sha256 \(`([^`]+)`\): `([0-9a-f]{64})`$", re.MULTILINE)


def test_every_wave_declares_its_raw_files_sha256_as_its_data_readme_states_it(config):
    """One checksum, three places that must agree: the file, its config entry (checked by
    ingest) and its data README (which says where the file comes from)."""
    for wave, entry in config["waves"].items():
        raw = ROOT / entry["raw_file"]
        stated = dict(README_SHA256.findall((raw.parent / "README.md").read_text(encoding="utf-8")))
        assert stated == {raw.name: entry["raw_sha256"]}, wave
        assert file_sha256(raw) == entry["raw_sha256"] == check_raw_sha256(raw, entry["raw_sha256"], wave)
        readme = (raw.parent / "README.md").read_text(encoding="utf-8")
        assert f"`waves.{wave}.raw_sha256`" in readme


def test_a_raw_file_with_other_bytes_stops_with_both_hashes_the_file_and_the_key(tmp_path, config):
    declared = config["waves"]["dk_2024"]["raw_sha256"]
    shipped = ROOT / config["waves"]["dk_2024"]["raw_file"]
    edited = tmp_path / "dk_2024_survey_export.csv"
    edited.write_bytes(shipped.read_bytes().replace(b"Dagligt", b"Ugentligt", 1))
    actual = hashlib.sha256(edited.read_bytes()).hexdigest()
    with pytest.raises(InputError) as err:
        check_raw_sha256(edited, declared, "dk_2024")
    message = err.value.message()
    assert message.startswith(f"{edited}: the file's sha256 is {actual}, but config/config.yaml "
                              f"declares {declared} (waves.dk_2024.raw_sha256)")
    assert f"set waves.dk_2024.raw_sha256: {actual}" in message
    # sha256sum prints lower case, PowerShell's Get-FileHash upper case: both are the hash
    assert check_raw_sha256(shipped, declared.upper(), "dk_2024") == declared


# --- columns of the export the codebook does not map ---------------------------------------------


@pytest.fixture
def export_with_extra(tmp_path, codebook, answer_row, write_export, export_header):
    """An export with two columns the codebook does not know (free text, a new question)."""
    extra = ["Andet, angiv", "Hvor mange timer bruger I på SoMe om ugen?"]
    rows = [{**answer_row(n), extra[0]: "Ring på 23 45 67 89", extra[1]: "5"} for n in (1, 2)]
    header = [*export_header[:5], extra[0], *export_header[5:], extra[1]]
    return write_export(tmp_path / "export.csv", rows, header=header), extra


def test_raw_column_uses_account_for_every_column_in_file_order(export_with_extra, codebook):
    path, extra = export_with_extra
    uses = raw_column_uses(list(read_export(path, codebook).columns), codebook)
    assert uses["position"].tolist() == list(range(1, len(uses) + 1))
    by_column = uses.set_index("column")
    assert by_column.loc["Respons-ID", ["use", "maps_to"]].tolist() == ["meta", "response_id"]
    assert by_column.loc["CVR-nummer", ["use", "maps_to"]].tolist() == ["respondent_key",
                                                                        "respondent_key_hash"]
    assert by_column.loc["E-mail", "use"] == "identifier"
    assert by_column.loc[FB_POST, ["use", "maps_to"]].tolist() == ["item", "post_facebook"]
    assert by_column.loc[codebook.employees_column, "use"] == "employees"
    assert uses.loc[uses["use"] == "unmapped", "column"].tolist() == extra
    assert by_column.loc[extra[0], "position"] == 6
    assert len(uses) == len(codebook.columns) + 4 + 4 + 1 + 2


def test_unmapped_columns_warn_lists_them_in_the_log(export_with_extra, codebook, caplog):
    path, extra = export_with_extra
    uses = raw_column_uses(list(read_export(path, codebook).columns), codebook)
    caplog.set_level(logging.INFO, logger="smesocial")
    assert check_unmapped_columns(uses, "warn", source=str(path), wave="dk_2024",
                                  codebook=codebook) == extra
    warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
    assert (f"2 column(s) of the export are not in the codebook {codebook.path} and are not read "
            f"(waves.dk_2024.unmapped_columns: warn): {extra[0]!r}, {extra[1]!r}") in warning.message
    assert "23 45" not in caplog.text  # names, never the content


def test_unmapped_columns_error_stops_naming_them(export_with_extra, codebook):
    path, extra = export_with_extra
    uses = raw_column_uses(list(read_export(path, codebook).columns), codebook)
    with pytest.raises(InputError) as err:
        check_unmapped_columns(uses, "error", source=str(path), wave="dk_2024", codebook=codebook)
    assert err.value.file == str(path) and err.value.found == extra
    assert f"2 column(s) of the export are not in the codebook {codebook.path}" in err.value.problem
    assert "waves.dk_2024.unmapped_columns: warn" in err.value.expected
    with pytest.raises(InputError, match="not a policy"):
        check_unmapped_columns(uses, "ignore", source=str(path), wave="dk_2024", codebook=codebook)


def test_an_export_the_codebook_fully_maps_passes_either_policy(tmp_path, codebook, answer_row,
                                                                write_export, caplog):
    path = write_export(tmp_path / "export.csv", [answer_row(1)])
    uses = raw_column_uses(list(read_export(path, codebook).columns), codebook)
    caplog.set_level(logging.INFO, logger="smesocial")
    for policy in ("warn", "error"):
        assert check_unmapped_columns(uses, policy, source=str(path), wave="dk_2024",
                                      codebook=codebook) == []
    assert f"all {len(uses)} columns of the export are in {codebook.path}" in caplog.text
