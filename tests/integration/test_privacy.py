"""Privacy: no direct identifier of any configured wave's raw export reaches results/.

The identifiers are the columns each wave's codebook lists under `identifiers` (firm name,
e-mail, phone, CVR/organisation number, free-text comments). Every file the shared full run
wrote under results/ is scanned: parquet files by their values (every cell, as text) and their
raw bytes; every other file as text. A positive control shows the scanner finds a planted value.
"""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from smesocial.ingest import build_ingested
from smesocial.config import load_codebook, load_config, load_harmonised
from smesocial.readers import read_export
from smesocial.respondent_key import KEY_ENV, keyed_hash
from smesocial.tables import write_parquet
from workflow_support import ROOT, SNAKEMAKE, copy_repository

MIN_LENGTH = 4  # shorter values ("ja", "3") would hit by accident
MIN_DIGITS = 6  # a number identifier (CVR 8, organisation number 9, phone 8 digits)
# A number identifier as typed: digits with spaces, dashes or dots, optionally a country prefix
# or the Norwegian "MVA" suffix ("DK 3840 5357", "987 654 321 MVA").
NUMBER_LIKE = re.compile(r"(?:dk|no)?[\s\-.:]*\d[\d\s\-.]*(?:\s*mva)?", re.IGNORECASE)
DIGIT_RUN = re.compile(r"\d+")


def normalise(text: str) -> str:
    """As compared: NFC (exports differ in how they encode å/ø), single spaces, casefolded."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


@dataclass
class Identifiers:
    """The values to look for: normalised texts, and number identifiers as digit strings."""

    texts: dict[str, str] = field(default_factory=dict)  # normalised value -> "wave: column"
    digits: dict[str, str] = field(default_factory=dict)  # digit string -> "wave: column"

    def __len__(self) -> int:
        return len(self.texts) + len(self.digits)


def harmless(config: dict[str, Any], workdir: Path) -> set[str]:
    """Values that are not identifying even when typed into an identifier field: harmonised
    levels and labels, every wave's answer and status labels, and the configured test markers
    (which exclusions.csv quotes on purpose)."""
    spec = load_harmonised(workdir / config["harmonised"])
    words: set[str] = set()
    for scale in spec.scales.values():
        words.update(scale.levels)
    words.update(spec.platforms.values())
    words.update(spec.variables)
    words.update(spec.derived)
    words.update(variable.label for variable in spec.variables.values())
    for wave_cfg in config["waves"].values():
        codebook = load_codebook(workdir / wave_cfg["codebook"])
        for labels in codebook.labels.values():
            words.update(str(label) for label in labels)
            words.update(str(level) for level in labels.values() if level is not None)
        words.update(codebook.status_labels)
    words.update(config["exclusions"]["test_response_markers"])
    words.add("test")  # a firm named "TEST" marks a test response, and the reason says so
    return {normalise(w) for w in words}


def raw_identifiers(config: dict[str, Any], workdir: Path) -> Identifiers:
    """Every non-empty value of every identifier column of every configured wave's raw file."""
    skip = harmless(config, workdir)
    found = Identifiers()
    for wave, wave_cfg in config["waves"].items():
        codebook = load_codebook(workdir / wave_cfg["codebook"])
        raw = read_export(workdir / wave_cfg["raw_file"], codebook)
        columns = [c for c in codebook.identifiers if c in raw.columns]
        assert columns, f"{wave}: none of the codebook's identifier columns is in the raw file"
        for column in columns:
            for value in raw[column].dropna():
                text = normalise(str(value))
                if NUMBER_LIKE.fullmatch(text):
                    digits = "".join(DIGIT_RUN.findall(text))
                    if len(digits) >= MIN_DIGITS:
                        found.digits[digits] = f"{wave}: {column}"
                    continue
                if len(text) >= MIN_LENGTH and text not in skip:
                    found.texts[text] = f"{wave}: {column}"
    return found


def _parquet_texts(path: Path) -> Iterable[str]:
    """Every cell (as text), the column names, the schema metadata, and the raw bytes."""
    table = pq.read_table(path)
    yield " ".join(table.column_names)
    yield str(table.schema.metadata or {})
    frame = table.to_pandas()
    for column in frame.columns:
        values = frame[column].astype("object")
        yield "\n".join(str(v) for v in values[values.notna()])
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            yield "\n".join(map(str, frame[column].cat.categories))
    yield path.read_bytes().decode("utf-8", errors="replace")


def file_texts(path: Path) -> Iterable[str]:
    if path.suffix == ".parquet":
        yield from _parquet_texts(path)
    else:  # csv, md, json, html, txt, log, tsv and anything else: as text
        yield path.read_bytes().decode("utf-8", errors="replace")


def scan(paths: Iterable[Path], identifiers: Identifiers) -> list[str]:
    """'<file>: <wave: column> value' for every identifier found in any of the files."""
    hits: list[str] = []
    for path in paths:
        for chunk in file_texts(path):
            text = normalise(chunk)
            runs = set(DIGIT_RUN.findall(text))
            hits.extend(f"{path}: {where} {value!r}" for value, where in identifiers.texts.items()
                        if value in text)
            hits.extend(f"{path}: {where} {digits!r}" for digits, where in identifiers.digits.items()
                        if digits in runs)
    return sorted(set(hits))


@pytest.fixture(scope="module")
def identifiers() -> Identifiers:
    config = load_config(ROOT / "config" / "config.yaml")
    found = raw_identifiers(config, ROOT)
    # The shipped Danish export has 337 firm names, e-mails and CVR numbers: a scan that looks
    # for a handful would prove nothing.
    assert len(found.digits) >= 300 and len(found.texts) >= 600
    return found


@pytest.mark.e2e
def test_no_raw_identifier_value_is_anywhere_under_results(two_runs, identifiers):
    workdir, _, _ = two_runs
    files = sorted(p for p in (workdir / "results").rglob("*") if p.is_file())
    assert {p.suffix for p in files} >= {".parquet", ".csv", ".md", ".json", ".log"}
    assert scan(files, identifiers) == []


def _one_email(identifiers: Identifiers) -> tuple[str, str]:
    return next((value, where) for value, where in identifiers.texts.items()
                if re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", value))


def test_positive_control_the_scanner_finds_planted_values(tmp_path, identifiers):
    email, where = _one_email(identifiers)
    planted = tmp_path / "planted.csv"
    planted.write_text(f"wave,note\nxx_2000,contact {email.upper()} please\n", encoding="utf-8")
    assert scan([planted], identifiers) == [f"{planted}: {where} {email!r}"]

    cvr = next(d for d in identifiers.digits if not d.startswith("0"))
    as_number = tmp_path / "as_number.parquet"
    write_parquet(pd.DataFrame({"id": [int(cvr)], "x": ["fine"]}), as_number)
    assert [hit.split(": ", 1)[0] for hit in scan([as_number], identifiers)] == [str(as_number)]

    in_value = tmp_path / "in_value.parquet"
    write_parquet(pd.DataFrame({"note": pd.Categorical([f"mail {email}"])}), in_value)
    assert scan([in_value], identifiers) != []


def test_negative_control_labels_markers_and_longer_numbers_are_not_hits(tmp_path, identifiers):
    cvr = next(iter(identifiers.digits))
    clean_file = tmp_path / "reasons.csv"
    clean_file.write_text(
        "reason,n\n"
        "\"test response: contains a test marker ('test', 'testbesvarelse', 'prøve')\",1\n"
        f"Meget enig; Ved ikke; daily; strongly_agree,{cvr}9\n", encoding="utf-8")
    assert scan([clean_file], identifiers) == []


# --- the respondent key at ingest (unit level) ---------------------------------------------------


def test_respondent_key_hash_hides_the_key_and_depends_on_the_secret(tmp_path, codebook, harmonised,
                                                                     answer_row, write_export, config):
    rows = [answer_row(n) for n in range(1, 5)]
    path = write_export(tmp_path / "export.csv", rows)
    raw = read_export(path, codebook)
    markers = config["exclusions"]["test_response_markers"]

    def ingest(secret: bytes) -> pd.DataFrame:
        return build_ingested(raw, codebook, harmonised, source=str(path), secret=secret,
                              test_markers=markers)

    first, again = ingest(b"secret-number-one"), ingest(b"secret-number-one")
    other = ingest(b"secret-number-two")
    keys = raw[codebook.respondent_key].tolist()
    hashes = first["respondent_key_hash"].tolist()
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)
    assert all(key not in h for key, h in zip(keys, hashes, strict=True))
    assert len(set(hashes)) == len(keys)
    assert hashes == again["respondent_key_hash"].tolist()  # reproducible with the same secret
    assert not set(hashes) & set(other["respondent_key_hash"])  # another secret, other hashes

    # The ingested table written to disk holds no identifier value at all.
    ingested_file = tmp_path / "ingested.parquet"
    write_parquet(first, ingested_file)
    written = Identifiers(
        texts={normalise(v): c for c in codebook.identifiers if c in raw
               for v in raw[c].dropna() if len(v) >= MIN_LENGTH and not v.isdigit()},
        digits={v: codebook.respondent_key for v in raw[codebook.respondent_key].dropna()})
    assert len(written.texts) >= 8 and len(written.digits) == 4
    assert scan([ingested_file], written) == []


# --- the respondent key's secret in a real run ---------------------------------------------------

SECRET = "e2e-secret-4f1c9a7d2b8e6035"


def _run(workdir: Path, env: dict[str, str], *targets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SNAKEMAKE), "--cores", "1", "--directory", str(workdir), *targets],
                          cwd=workdir, capture_output=True, text=True, env=env)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def real_wave(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository whose dk_2024 wave is marked as real data."""
    workdir = copy_repository(tmp_path_factory.mktemp("real_wave"))
    config_file = workdir / "config" / "config.yaml"
    text = config_file.read_text(encoding="utf-8")
    assert text.count("    synthetic: true\n") == 2
    config_file.write_text(text.replace("    synthetic: true\n", "    synthetic: false\n", 1),
                           encoding="utf-8")
    return workdir


@pytest.mark.e2e
def test_a_real_wave_without_the_secret_refuses_to_start(real_wave):
    env = {k: v for k, v in os.environ.items() if k != KEY_ENV}
    before = _files(real_wave / "results")
    done = _run(real_wave, env, "results/dk_2024/ingested.parquet")
    assert done.returncode != 0
    message = " ".join(done.stderr.split())
    assert (f"config/config.yaml: wave dk_2024 is not marked synthetic, so its respondent keys "
            f"are hashed with a secret from the environment, but ${KEY_ENV} is not set") in message
    assert f"export {KEY_ENV}=<secret>" in message
    assert "Traceback" not in done.stderr
    assert _files(real_wave / "results") == before  # refused before any step


@pytest.mark.e2e
def test_a_real_wave_with_the_secret_hashes_with_it_and_never_writes_it(real_wave, codebook):
    done = _run(real_wave, {**os.environ, KEY_ENV: SECRET}, "results/dk_2024/ingested.parquet")
    assert done.returncode == 0, done.stderr[-3000:]
    log = (real_wave / "results/logs/dk_2024/ingest.log").read_text(encoding="utf-8")
    assert f"respondent key hashed with HMAC-SHA256 under the secret in ${KEY_ENV}" in log
    ingested = pd.read_parquet(real_wave / "results/dk_2024/ingested.parquet")
    raw = read_export(real_wave / "data/raw/dk_2024/dk_2024_survey_export.csv", codebook)
    keys = raw[codebook.respondent_key]
    hashes = ingested["respondent_key_hash"]
    assert hashes.isna().tolist() == keys.isna().tolist()  # a row without a key has no hash
    assert hashes.dropna().tolist() == [keyed_hash(SECRET.encode(), k) for k in keys.dropna()]
    assert hashes.notna().sum() >= 300
    # Not in any file the run wrote: results, logs, Snakemake's metadata (params are recorded
    # there), the report's data.
    written = [p for d in ("results", ".snakemake") for p in (real_wave / d).rglob("*")
               if p.is_file()]
    assert any("metadata" in p.parts for p in written)
    assert [p for p in written if SECRET.encode() in p.read_bytes()] == []
