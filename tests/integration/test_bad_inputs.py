"""Bad input end to end: the workflow, run as a user would on each malformed export of
tests/data/bad/, stops with one message naming the file, where and what was expected, and leaves
nothing behind under results/dk_2024/.

Each case runs in its own copy of the repository with the dk_2024 wave's raw_file pointed at the
bad file (and, where the case needs it, a copy of the codebook with another `format`). The runs
are independent, so one module-scoped fixture runs them two at a time.
"""

from __future__ import annotations

import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from workflow_support import ROOT, copy_repository, run_workflow

pytestmark = pytest.mark.e2e

BAD = "tests/data/bad"
EMPLOYEES = "Hvor mange ansatte er der i virksomheden (inkl. dig selv)?"
FB_POST = "Hvor ofte poster virksomheden på følgende sociale medier? - Facebook"
XLSX = {"type": "xlsx", "sheet": "Data", "decimal": ","}
SAV = {"type": "sav", "columns_by": "label", "decimal": ","}


@dataclass(frozen=True)
class Case:
    file: str
    expected: tuple[str, ...]  # substrings of the run's output, besides the file's name
    format: dict[str, Any] | None = None  # replaces (type given) or amends the codebook's format
    # Stage that stops: "ingest" (the rule's script: reading, labels, employee counts) or
    # "snakemake" (before any rule runs). Either way no file is left under results/dk_2024.
    stage: str = "ingest"


CASES = [
    Case("cp1252_row_declared_utf8.csv",
         ("line 3, field 2 cannot be decoded as utf-8", "the file reads as Windows-1252",
          "b'\\xf8' is 'ø'", "row(s) 3")),
    Case("cp1252_header_declared_utf8.csv",
         ("line 1, field 10 cannot be decoded as utf-8", "after 'g selv)?;Hvor ofte poster "
          "virksomheden p'", "b'\\xe5' is 'å'", "format.encoding: cp1252")),
    Case("utf16_declared_utf8.csv",
         ("declares encoding 'utf-8' (format.encoding)",
          "the file starts with a UTF-16 (little-endian) byte-order mark (line 1)",
          "format.encoding: utf-16")),
    Case("utf16_no_bom_declared_utf8.csv",
         ("declares encoding 'utf-8'", "line 1 contains NUL bytes",
          "format.encoding: utf-16-le")),
    Case("utf8_bom_declared_cp1252.csv",
         ("declares encoding 'cp1252'", "starts with a UTF-8 byte-order mark (line 1)",
          "format.encoding: utf-8"), format={"encoding": "cp1252"}),
    Case("comma_declared_semicolon.csv",
         ("single column when split on ';'", "line 1 has no ';'", "comma-separated",
          "format.delimiter: ','")),
    Case("semicolon_declared_comma.csv",
         ("declares delimiter ','", "split on it has 0 of the codebook's 33 required columns",
          "split on ';' 33", "semicolon-separated"), format={"delimiter": ","}),
    Case("empty.csv", ("the file is empty (0 bytes)", "a header line and data rows")),
    Case("header_only.csv", ("header but no data rows", "at least one response")),
    Case("missing_column.csv",
         ("1 required column(s) missing from the header (line 1)", "missing ['Status']",
          "dk_2024.yaml")),
    Case("truncated_row.csv",
         ("wrong number of fields (first: line 3)", "row(s) 3", "found '20 fields'",
          "expected 36 fields")),
    Case("too_many_fields.csv",
         ("wrong number of fields (first: line 4)", "row(s) 4", "found '37 fields'",
          "expected 36 fields")),
    Case("mixed_wave.csv",
         ("line 4 looks like a second header line", "'Respons-ID'", "two exports joined",
          "one header at the top (line 1)")),
    Case("unclosed_quote.csv",
         ("malformed CSV from line 4 on", "every quoted cell closed")),
    Case("unknown_label.csv",
         ("unknown answer label", f"column '{FB_POST}'", "row(s) 3", "found 'Hver time'",
          "'Stort set aldrig'")),
    Case("unknown_status.csv",
         ("unknown completion status", "column 'Status'", "row(s) 3", "found ['Fullført']",
          "'Gennemført', 'Delvist gennemført'")),
    Case("bad_date.csv",
         ("timestamps that cannot be read", "column 'Startet'", "row(s) 3",
          "found '31-13-2023 25:61'", "format.datetime_format")),
    Case("duplicate_response_id.csv",
         ("response ids are not unique", "column 'Respons-ID'", "row(s) 2, 4",
          "found ['5121355']", "one row per response id")),
    Case("missing_response_id.csv",
         ("responses without a response id", "column 'Respons-ID'", "row(s) 3")),
    Case("employees_words.csv",
         ("'mange' is not an employee count", f"column '{EMPLOYEES}'", "row(s) 3",
          "a whole number of employees")),
    Case("employees_negative.csv",
         ("'-5' is negative", f"column '{EMPLOYEES}'", "row(s) 3")),
    Case("employees_absurd.csv",
         ("'5000000' is implausibly large", f"column '{EMPLOYEES}'", "row(s) 3")),
    Case("employees_decimal.csv",
         ("'12,5' is a decimal number", f"column '{EMPLOYEES}'", "row(s) 3")),
    Case("wrong_sheet.xlsx",
         ("no sheet named 'Data' (codebook format.sheet)", "found ['Besvarelser']"),
         format=XLSX),
    Case("missing_column.xlsx",
         ("(sheet 'Data'): 1 required column(s) missing from the header (row 1)",
          f"missing ['{EMPLOYEES}']"), format=XLSX),
    Case("csv_named_xlsx.xlsx",
         ("declares an xlsx workbook (format.type), but the file is not one",
          "starts like a text file: 'Respons-ID;Status"), format={"type": "xlsx"}),
    Case("missing_column.sav",
         ("1 required column(s) missing from the variable labels (format.columns_by)",
          "missing ['Startet']"), format=SAV),
    Case("corrupt.sav",
         ("declares an SPSS .sav file (format.type), but the file is not one",
          "no '$FL2' signature"), format=SAV),
    Case("truncated.sav",
         ("cannot be read as an SPSS .sav file", "truncated or damaged"), format=SAV),
    Case("no_such_export.csv", ("Missing input files for rule ingest",), stage="snakemake"),
]


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str
    results: frozenset[str]  # files under results/dk_2024/
    seconds: float


def prepare(workdir: Path, case: Case) -> None:
    """Point the dk_2024 wave at the bad file (and a codebook copy with the case's format)."""
    config_file = workdir / "config" / "config.yaml"
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    wave = config["waves"]["dk_2024"]
    wave["raw_file"] = f"{BAD}/{case.file}"
    if case.format is not None:
        codebook = yaml.safe_load((workdir / wave["codebook"]).read_text(encoding="utf-8"))
        if "type" in case.format:
            codebook["format"] = dict(case.format)
        else:
            codebook["format"] = {**codebook["format"], **case.format}
        copy = "config/codebook/dk_2024_case.yaml"
        (workdir / copy).write_text(yaml.safe_dump(codebook, allow_unicode=True, sort_keys=False),
                                    encoding="utf-8")
        wave["codebook"] = copy
    config_file.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                           encoding="utf-8")


def run_case(workdir: Path) -> Outcome:
    start = time.perf_counter()
    done: subprocess.CompletedProcess[str] = run_workflow(workdir, "results/dk_2024/clean.parquet")
    results = workdir / "results" / "dk_2024"
    left = frozenset(p.relative_to(results).as_posix() for p in results.rglob("*") if p.is_file()) \
        if results.is_dir() else frozenset()
    return Outcome(done.returncode, done.stdout + done.stderr, left, time.perf_counter() - start)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    workdirs = {}
    for case in CASES:  # copies made one after another: mktemp is not meant for threads
        workdir = copy_repository(tmp_path_factory.mktemp(re.sub(r"\W", "_", case.file)))
        prepare(workdir, case)
        workdirs[case.file] = workdir
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(workdirs, pool.map(run_case, workdirs.values())))


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_bad_input_stops_the_run_with_a_clear_message(case: Case, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[case.file]
    assert outcome.returncode != 0, outcome.output[-3000:]
    message = " ".join(outcome.output.split())  # Snakemake may wrap or indent long lines
    assert f"{BAD}/{case.file}" in message
    missing = [part for part in case.expected if " ".join(part.split()) not in message]
    assert not missing, f"not in the output: {missing}\n{outcome.output[-3000:]}"
    if case.stage != "snakemake":
        # The message is the runner's one paragraph, not a traceback.
        assert re.search(rf"ERROR smesocial: {re.escape(BAD)}/{re.escape(case.file)}", message)
        assert "Traceback" not in outcome.output
    assert outcome.results == frozenset()  # no partial results, whichever stage stopped


def test_every_corpus_file_is_a_case_and_described() -> None:
    corpus = ROOT / BAD
    files = {p.name for p in corpus.iterdir() if p.suffix in {".csv", ".xlsx", ".sav"}}
    cases = {c.file for c in CASES}
    assert files == cases - {"no_such_export.csv"}
    assert len(cases) >= 22
    readme = (corpus / "README.md").read_text(encoding="utf-8")
    described = set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.MULTILINE))
    assert described == cases
    assert not (corpus / "no_such_export.csv").exists()

