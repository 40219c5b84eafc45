"""Bad input end to end: the workflow, run as a user would on each malformed export of
tests/data/bad/, stops with one message naming the file, where and what was expected, and leaves
nothing behind under results/dk_2024/. And the build's own faults, through `run.sh build`: a
killed build's lock, a damaged intermediate, a bad configuration each end in one last line on
stderr naming the file, key or step and what to do, with no stale result left.

Each case runs in its own copy of the repository with the dk_2024 wave's raw_file pointed at the
bad file and its raw_sha256 at the file's own sha256 (and, where the case needs it, a copy of the
codebook with another `format`). The runs are independent, so one module-scoped fixture runs them
two at a time.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from smesocial import build
from workflow_support import ROOT, copy_repository, run_workflow

pytestmark = pytest.mark.e2e

BAD = "tests/data/bad"
EMPLOYEES = "Hvor mange ansatte er der i virksomheden (inkl. dig selv)?"
FB_POST = "Hvor ofte poster virksomheden på følgende sociale medier? - Facebook"
DECLARED = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))[
    "waves"]["dk_2024"]["raw_sha256"]
REPLACED = hashlib.sha256((ROOT / BAD / "replaced_export.csv").read_bytes()).hexdigest()
# Where the Windows-1252 'ø' sits in the comment (make_corpus.py cp1252_comment).
PASTED = (ROOT / BAD / "cp1252_comment_declared_utf8.csv").read_bytes().index(b"S\xf8ren") + 1
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
    # The wave's raw_sha256 stays the shipped export's instead of becoming the file's own.
    keep_declared_sha256: bool = False
    # What must be neither in the run's output nor in the step's log (identifier values).
    absent: tuple[str, ...] = ()


CASES = [
    Case("cp1252_row_declared_utf8.csv",
         ("line 3, field 2 cannot be decoded as utf-8", "the file reads as Windows-1252",
          "b'\\xf8' is 'ø'", "row(s) 3")),
    Case("cp1252_comment_declared_utf8.csv",
         ("line 3, field 8 cannot be decoded as utf-8 (format.encoding): column 'Kommentarer', "
          f"byte offset {PASTED} of the file; its content is not shown",
          "the file reads as Windows-1252 (cp1252)", "row(s) 3"),
         absent=("kontakt@fredericia-el-service.dk", "fredericia-el-service", "24643557",
                 "Fredericia El-service", "23 45", "67 89", "Ring til", "mvh", "\\xf8")),
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
    Case("replaced_export.csv",
         (f"the file's sha256 is {REPLACED}, but config/config.yaml declares {DECLARED} "
          "(waves.dk_2024.raw_sha256)", f"set waves.dk_2024.raw_sha256: {REPLACED}"),
         keep_declared_sha256=True),
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
    # checked at start-up (smesocial.config.check_references): the key that names it, too
    Case("no_such_export.csv", ("config/config.yaml: waves.dk_2024.raw_file names a file that "
                                "does not exist", "expected the path of the wave's raw export"),
         stage="snakemake"),
]


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str
    results: frozenset[str]  # files under results/dk_2024/
    seconds: float
    log: str  # results/logs/dk_2024/ingest.log ("" if the step did not run)


def prepare(workdir: Path, case: Case) -> None:
    """Point the dk_2024 wave at the bad file (and a codebook copy with the case's format)."""
    config_file = workdir / "config" / "config.yaml"
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    wave = config["waves"]["dk_2024"]
    wave["raw_file"] = f"{BAD}/{case.file}"
    bad_file = workdir / BAD / case.file
    if bad_file.is_file() and not case.keep_declared_sha256:
        wave["raw_sha256"] = hashlib.sha256(bad_file.read_bytes()).hexdigest()
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
    log = workdir / "results" / "logs" / "dk_2024" / "ingest.log"
    return Outcome(done.returncode, done.stdout + done.stderr, left, time.perf_counter() - start,
                   log.read_text(encoding="utf-8") if log.is_file() else "")


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
    if case.absent:
        assert case.expected[0] in " ".join(outcome.log.split())  # the log has the message
        leaked = [part for part in case.absent if part in outcome.output or part in outcome.log]
        assert not leaked, f"identifier values in the output or log: {leaked}"


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



# --- `run.sh build`: faults of the build itself ------------------------------------------------
# Run as a user would, through workflow/run.sh (smesocial.build around Snakemake), in a copy of
# the repository using this test run's virtualenv. Each fault ends in one line, the last on
# stderr, naming the file, key or step and what to do; no traceback; no stale result left.

# ingest, segment, clean, weights, estimates, reproduce (the notebooks, one job for all of them,
# need the whole pipeline: tests/integration/test_notebooks.py reruns them and checks their
# kernel is quiet)
TARGETS = ("results/dk_2024/reproduction.csv",)
STEPS = 6
PINS = ("workflow/envs/requirements.txt", "workflow/envs/constraints.txt", "pyproject.toml")


@dataclass(frozen=True)
class Run:
    returncode: int
    stderr: str

    @property
    def last(self) -> str:
        return self.stderr.strip().splitlines()[-1] if self.stderr.strip() else ""


def with_venv(workdir: Path) -> Path:
    """The copy's .venv is this test run's environment (its parts linked), stamped as set up
    from the copy's pins, so run.sh uses it instead of installing one; the environment's own
    stamp may predate packages installed by hand."""
    venv = workdir / ".venv"
    venv.mkdir()
    for part in ("bin", "lib", "lib64", "include", "pyvenv.cfg"):
        if (Path(sys.prefix) / part).exists():
            (venv / part).symlink_to(Path(sys.prefix) / part)
    digest = hashlib.sha256(b"".join((workdir / p).read_bytes() for p in PINS)).hexdigest()
    (venv / ".smesocial-pins.sha256").write_text(f"{digest}\n", encoding="utf-8")
    return workdir


def build_env(workdir: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(workdir / "workflow")}


def run_sh(workdir: Path, *args: str, command: str = "build") -> Run:
    done = subprocess.run(["bash", "workflow/run.sh", command, *args], cwd=workdir,
                          env=build_env(workdir), capture_output=True, text=True, timeout=900)
    return Run(done.returncode, done.stderr)


def wait_for(condition, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One copy through a sequence of faults: a build killed mid-way (checked while its
    Snakemake is paused, then after kill -9), unlocking, a clean build, a truncated intermediate,
    and the rebuild its message asks for."""
    workdir = with_venv(copy_repository(tmp_path_factory.mktemp("faults")))
    runs: dict[str, Any] = {}
    first = subprocess.Popen(["bash", "workflow/run.sh", "build", *TARGETS], cwd=workdir,
                             env=build_env(workdir), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: bool(build.locks(workdir)), "the build's lock")
        snakemake = [p for p in build.snakemake_processes(workdir) if p.kind == "Snakemake"]
        assert len(snakemake) == 1, snakemake
        os.kill(snakemake[0].pid, signal.SIGSTOP)  # still alive, so it cannot finish meanwhile
        runs["pid"] = snakemake[0].pid
        runs["live"] = run_sh(workdir, *TARGETS)
        runs["live unlock"] = run_sh(workdir, "--unlock")
        os.kill(snakemake[0].pid, signal.SIGKILL)
        _out, err = first.communicate(timeout=300)
        runs["killed"] = Run(first.returncode, err)
    finally:
        if first.poll() is None:
            first.kill()
    # the killed Snakemake's jobs run on and finish; meanwhile the lock still counts as live
    wait_for(lambda: not build.snakemake_processes(workdir), "the killed build's jobs")
    runs["stale"] = run_sh(workdir, *TARGETS)
    runs["unlock"] = run_sh(workdir, "--unlock")
    runs["report after unlock"] = (workdir / "results/report.html").exists()
    # the last step reruns whether or not the killed build got to it
    runs["build"] = run_sh(workdir, *TARGETS, "--forcerun", "reproduce")
    results = workdir / "results" / "dk_2024"
    runs["built"] = {p.name: p.read_bytes() for p in results.iterdir()}
    runs["report"] = (workdir / "results/report.html").is_file()
    runs["snakemake.log"] = (workdir / "results/logs/snakemake.log").read_text(encoding="utf-8")
    ingested = results / "ingested.parquet"
    ingested.write_bytes(ingested.read_bytes()[:100])
    runs["truncated"] = run_sh(workdir, *TARGETS)
    runs["left"] = sorted(p.name for p in results.iterdir())
    runs["report after failure"] = (workdir / "results/report.html").exists()
    ingested.unlink()  # as the message says
    runs["rebuilt"] = run_sh(workdir, *TARGETS)
    runs["rebuilt files"] = {p.name: p.read_bytes() for p in results.iterdir()}
    report = workdir / "results/report.html"
    runs["report after rebuild"] = report.stat().st_mtime_ns
    runs["no-op"] = run_sh(workdir, *TARGETS)
    runs["report after no-op"] = report.stat().st_mtime_ns
    runs["report on demand"] = run_sh(workdir, *TARGETS, command="report")
    runs["report after asking"] = report.stat().st_mtime_ns
    return runs


def test_a_live_build_holds_the_lock_and_says_so(faults):
    pid = faults["pid"]
    for name, act in (("live", "not starting another build"), ("live unlock", "not unlocking")):
        run = faults[name]
        assert run.returncode != 0
        assert run.last.startswith(f"smesocial: .snakemake/locks is held by a build running in "
                                   f"this checkout (Snakemake, pid {pid}"), run.stderr
        assert f"{act}. Wait for it to finish, or stop it (kill {pid}) and build again." in run.last


def test_a_killed_build_names_the_signal_and_how_to_unlock(faults):
    run = faults["killed"]
    assert run.returncode == 137
    assert run.last.startswith("smesocial: Snakemake was killed (SIGKILL) before the build "
                               "finished; its lock remains in .snakemake/locks."), run.stderr
    assert "`bash workflow/run.sh build --unlock`" in run.last


def test_a_stale_lock_is_told_from_a_live_build_and_unlocking_builds_nothing(faults):
    stale, unlock = faults["stale"], faults["unlock"]
    assert stale.returncode != 0
    assert stale.last.startswith("smesocial: .snakemake/locks holds a stale lock: no Snakemake "
                                 "process or job is running in this checkout"), stale.stderr
    assert unlock.returncode == 0, unlock.stderr
    assert unlock.last.startswith("smesocial: unlocked (.snakemake/locks is empty); nothing was "
                                  "built."), unlock.stderr
    assert "rerun with --rerun-incomplete" not in unlock.stderr
    assert faults["report after unlock"] is False  # no report after --unlock


def test_a_build_shows_a_line_per_step_and_keeps_the_details_in_the_log(faults):
    run = faults["build"]
    assert run.returncode == 0, run.stderr
    lines = run.stderr.strip().splitlines()
    assert all(line.startswith("smesocial: ") for line in lines), run.stderr
    steps = [line for line in lines if re.match(r"smesocial: \[ ?\d+/\d+\] ", line)]
    # every step of the killed build, rerun (it was incomplete) or not yet run, once
    assert len(steps) == len({s.split("] ", 1)[1] for s in steps}) and len(steps) <= STEPS + 1
    assert steps[-1].startswith(f"smesocial: [{len(steps)}/{len(steps)}] ")
    assert run.last.startswith(f"smesocial: done: {len(steps)} step(s) run. Results in results/")
    assert faults["report"]
    log = faults["snakemake.log"]
    assert log.count("Finished jobid:") == len(steps) and "INFO smesocial: config read:" in log
    assert any(step.endswith("] reproduce wave=dk_2024") for step in steps)


def test_a_truncated_intermediate_names_the_file_and_leaves_no_stale_result(faults):
    run = faults["truncated"]
    assert run.returncode != 0
    assert run.last == (
        "smesocial: results/dk_2024/ingested.parquet: this table, written by an earlier step of "
        "the workflow, is damaged: it does not end with Parquet's signature 'PAR1' (100 bytes: "
        "cut short?); expected the whole file: delete it and build again (bash workflow/run.sh "
        "build), which remakes it."), run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines[-2] == ("smesocial: step segment wave=dk_2024 failed; its log: "
                         "results/logs/dk_2024/segment.log")
    assert "Traceback" not in run.stderr
    assert re.search(r"^smesocial: removed \d+ result\(s\) of an earlier build", run.stderr,
                     re.MULTILINE)
    # everything downstream of the damaged table is gone (the report of the last build too);
    # the table itself stays until the user deletes it, as the message says, beside ingest's
    # other output (what happened to each raw column), which is whole
    assert faults["left"] == ["ingested.parquet", "raw_columns.csv"]
    assert faults["report after failure"] is False


def test_following_the_message_rebuilds_the_same_results(faults):
    run = faults["rebuilt"]
    assert run.returncode == 0, run.stderr
    assert faults["rebuilt files"] == faults["built"]
    assert "report in results/report.html (remade)" in run.last


def test_a_build_with_nothing_to_do_leaves_the_report_alone(faults):
    run = faults["no-op"]
    assert run.returncode == 0, run.stderr
    assert run.last.startswith("smesocial: done: nothing to rebuild, results/ was up to date.")
    assert ("report in results/report.html (up to date; `bash workflow/run.sh report` remakes "
            "it)") in run.last
    assert faults["report after no-op"] == faults["report after rebuild"]  # not rewritten
    asked = faults["report on demand"]
    assert asked.returncode == 0, asked.stderr
    assert asked.last.startswith("smesocial: done: nothing to rebuild, results/ was up to date.")
    assert "report in results/report.html (remade, as asked)" in asked.last
    assert faults["report after asking"] > faults["report after no-op"]


# Faults a build meets at start-up, before any step runs, each in a copy: (id, edit of the
# config text, extra arguments, what the last line says).
CONFIG_FAULTS = [
    ("segmentation typo", ("segmentation: report_dk_2024\n", "segmentation: report_dk2024\n"), (),
     "smesocial: config/config.yaml: waves.dk_2024.segmentation names an unknown segmentation "
     "scheme; found 'report_dk2024'; expected one of report_dk_2024, "),
    ("segmentation typo, dry run", ("segmentation: report_dk_2024\n",
                                    "segmentation: report_dk2024\n"), ("--dry-run",),
     "smesocial: config/config.yaml: waves.dk_2024.segmentation names an unknown segmentation "),
    ("yaml syntax", ("segmentation: report_dk_2024\n", "segmentation: [report_dk_2024\n"), (),
     "smesocial: config/config.yaml: not valid YAML: line "),
    ("missing raw file", ("dk_2024_survey_export.csv", "dk_2024_export.csv"), (),
     "smesocial: config/config.yaml: waves.dk_2024.raw_file names a file that does not exist; "
     "found 'data/raw/dk_2024/dk_2024_export.csv'; expected the path of the wave's raw export"),
    ("schema violation", ("\nalpha: 0.05\n", "\nalpha: high\n"), (),
     "smesocial: config/config.yaml: invalid value at key 'alpha': 'high' is not of type "
     "'number'; expected what config/schemas/config.schema.yaml allows there"),
    ("dry run", ("", ""), ("--dry-run",), ""),
]


@pytest.fixture(scope="module")
def config_faults(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Run, bool]]:
    """Each start-up fault in turn in one copy (none gets as far as writing a result)."""
    workdir = with_venv(copy_repository(tmp_path_factory.mktemp("config_faults")))
    config = workdir / "config" / "config.yaml"
    original = config.read_text(encoding="utf-8")
    runs = {}
    for name, (old, new), args, _says in CONFIG_FAULTS:
        assert old in original
        config.write_text(original.replace(old, new, 1), encoding="utf-8")
        runs[name] = (run_sh(workdir, *args, *TARGETS), (workdir / "results/report.html").exists())
    config.write_text(original, encoding="utf-8")
    return runs


@pytest.mark.parametrize("name, edit, args, says", CONFIG_FAULTS, ids=[c[0] for c in CONFIG_FAULTS])
def test_a_start_up_fault_ends_in_one_line_naming_file_and_key(config_faults, name, edit, args,
                                                                  says):
    run, report_made = config_faults[name]
    assert not report_made  # no report after a failed or a dry run
    if name == "dry run":  # nothing wrong: Snakemake's plan (on stdout), and nothing built
        assert run.returncode == 0 and run.stderr.count("smesocial: ") == 0, run.stderr
        return
    assert run.returncode != 0
    assert run.last.startswith(says), run.stderr
    assert "Traceback" not in run.stderr and 'File "' not in run.stderr
    if "--dry-run" not in args:
        assert run.stderr.count("\n") <= 2  # the stop, and what stopped it
