"""smesocial.build, what `run.sh build` does around Snakemake: which commands build, a live build
told from a stale lock, one progress line per finished step, the failing step's own message
from its log, Snakemake's start-up errors in one line, and which old outputs a failed build
removes. (tests/integration/test_bad_inputs.py runs it on real builds.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smesocial import build
from smesocial.build import (Progress, config_files, failure_lines, killed_message, lock_message,
                             mode, snakemake_error, snakemake_processes, stale_outputs,
                             step_message, without_forcing, working_directory, yaml_problem)

BASE = ["--cores", "2", "--printshellcmds", "--rerun-incomplete"]


@pytest.mark.parametrize("args, expected", [
    ([], "build"),
    (["--forcerun", "ingest"], "build"),
    (["results/dk_2024/clean.parquet", "--workflow-profile", "profiles/slurm"], "build"),
    (["--unlock"], "unlock"),
    (["-n"], "other"),
    (["--dry-run"], "other"),
    (["-np"], "other"),
    (["--summary"], "other"),
    (["--list-rules"], "other"),
    (["--dag"], "other"),
    (["--lint"], "other"),
    (["--report=x.html"], "other"),
    (["-j", "4", "-p"], "build"),
])
def test_only_a_real_build_gets_the_build_treatment(args, expected):
    assert mode([*BASE, *args]) == expected


def test_the_working_directory_and_config_files_snakemake_reads(tmp_path):
    (tmp_path / "config" / "codebook").mkdir(parents=True)
    for name in ("config/config.yaml", "config/codebook/dk.yaml", "other.yaml"):
        (tmp_path / name).write_text("a: 1\n", encoding="utf-8")
    args = [*BASE, "--directory", str(tmp_path), "results/x.csv", "--configfile", "other.yaml"]
    assert working_directory(args, Path("/")) == tmp_path.resolve()
    assert working_directory(BASE, tmp_path) == tmp_path.resolve()
    assert config_files(args, tmp_path) == [tmp_path / "config/config.yaml",
                                            tmp_path / "other.yaml",
                                            tmp_path / "config/codebook/dk.yaml"]


def test_a_yaml_error_names_the_file_relative_to_the_checkout_line_and_column(tmp_path):
    good, bad = tmp_path / "config" / "config.yaml", tmp_path / "config" / "codebook" / "x.yaml"
    bad.parent.mkdir(parents=True)
    good.write_text("alpha: 0.05\n", encoding="utf-8")
    bad.write_text("columns:\n  a: [b\n  c: d\n", encoding="utf-8")
    assert yaml_problem([good], tmp_path) is None
    problem = yaml_problem([good, bad], tmp_path)
    assert problem.startswith("config/codebook/x.yaml: not valid YAML: line 3, column 4: ")
    assert "flow sequence that starts at line 2, column 6" in problem


# --- locks -----------------------------------------------------------------------------------


@pytest.fixture
def processes(tmp_path):
    """A process named snakemake working in the checkout, one working elsewhere, and a job
    script of the checkout's (all asleep)."""
    checkout, elsewhere = tmp_path / "checkout", tmp_path / "elsewhere"
    (checkout / ".snakemake" / "scripts").mkdir(parents=True)
    elsewhere.mkdir()
    started = [
        subprocess.Popen(["bash", "-c", "exec -a snakemake sleep 60"], cwd=checkout),
        subprocess.Popen(["bash", "-c", "exec -a snakemake sleep 60"], cwd=elsewhere),
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                          str(checkout / ".snakemake" / "scripts" / "tmpab12.clean.py")],
                         cwd=elsewhere),
    ]
    time.sleep(0.3)  # until exec has renamed them
    yield checkout, [p.pid for p in started]
    for process in started:
        process.kill()
        process.wait()


def test_a_live_build_is_found_by_its_snakemake_and_its_jobs_in_this_checkout_only(processes):
    checkout, (snakemake, other, job) = processes
    found = {p.pid: p.kind for p in snakemake_processes(checkout)}
    assert found == {snakemake: "Snakemake", job: "a Snakemake job"}
    assert other not in found
    message = lock_message(snakemake_processes(checkout))
    assert message.startswith(f".snakemake/locks is held by a build running in this checkout "
                              f"(Snakemake, pid {snakemake}; a Snakemake job, pid {job}): not "
                              "starting another build.")
    assert message.endswith(f"stop it (kill {snakemake}) and build again.")  # it stops its jobs


def test_a_lock_without_a_live_build_is_called_stale_and_unlocking_is_the_advice(tmp_path):
    assert snakemake_processes(tmp_path) == []
    message = lock_message([])
    assert "holds a stale lock: no Snakemake process or job is running in this checkout" in message
    assert message.endswith("remove the lock with `bash workflow/run.sh build --unlock`, then "
                            "build again.")


def test_unlocking_a_live_build_is_refused(processes):
    checkout, _pids = processes
    assert ": not unlocking." in lock_message(snakemake_processes(checkout), unlocking=True)


def test_a_killed_snakemake_leaves_advice_on_its_lock(tmp_path):
    assert killed_message(-9, tmp_path) == ("Snakemake was killed (SIGKILL) before the build "
                                            "finished; build again.")
    (tmp_path / ".snakemake" / "locks").mkdir(parents=True)
    (tmp_path / ".snakemake" / "locks" / "0.input.lock").write_text("x", encoding="utf-8")
    assert "its lock remains in .snakemake/locks" in killed_message(-9, tmp_path)


# --- progress and failures -------------------------------------------------------------------

# Snakemake 9's output of a build whose second step fails (abridged from a real one).
OUTPUT = """\
Building DAG of jobs...
Select jobs to execute...
Execute 1 jobs...

[Tue Dec  1 16:37:20 2026]
localrule ingest:
    input: data/raw/dk_2024/export.csv
    output: results/dk_2024/ingested.parquet
    log: results/logs/dk_2024/ingest.log
    jobid: 1
    reason: Missing output files: results/dk_2024/ingested.parquet
    wildcards: prefix=, wave=dk_2024
    resources: tmpdir=/tmp
Shell command: None
INFO smesocial: dk_2024: 339 rows ingested
[Tue Dec  1 16:37:21 2026]
Finished jobid: 1 (Rule: ingest)
1 of 12 steps (8%) done

[Tue Dec  1 16:37:22 2026]
localrule segment:
    input: results/dk_2024/ingested.parquet
    output: results/dk_2024/segments.parquet
    log: results/logs/dk_2024/segment.log
    jobid: 2
    wildcards: prefix=, wave=dk_2024
    resources: tmpdir=/tmp
Shell command: None
ERROR smesocial: results/dk_2024/ingested.parquet: damaged.
RuleException:
CalledProcessError in file "/x/workflow/rules/segment.smk", line 17:
Command 'set -euo pipefail;  python /x/.snakemake/scripts/tmpg5.segment.py' returned non-zero exit status 1.
[Tue Dec  1 16:37:23 2026]
Error in rule segment:
    message: None
    jobid: 2
    input: results/dk_2024/ingested.parquet
    output: results/dk_2024/segments.parquet
    log: results/logs/dk_2024/segment.log (check log file(s) for error details)
Shutting down, this might take some time.
Exiting because a job execution failed. Look above for error messages
WorkflowError:
At least one job did not complete successfully.
"""


def test_one_progress_line_per_finished_step_naming_its_warnings(tmp_path):
    (tmp_path / "results/logs/dk_2024").mkdir(parents=True)
    (tmp_path / "results/logs/dk_2024/ingest.log").write_text(
        "INFO smesocial: read\nWARNING smesocial.ingest: 3 variables have no column\n",
        encoding="utf-8")
    progress = Progress(tmp_path)
    shown = [line for line in map(progress.feed, OUTPUT.splitlines(keepends=True)) if line]
    progress.close()
    assert shown == ["smesocial: [ 1/12] ingest wave=dk_2024 (1 warning: "
                     "results/logs/dk_2024/ingest.log)"]
    assert progress.started and progress.total == 12 and not progress.nothing_to_do
    assert [(job.name, job.logs) for job in progress.failed] == [
        ("segment wave=dk_2024", ["results/logs/dk_2024/segment.log"])]


def test_a_failed_step_ends_in_its_own_message_from_its_log(tmp_path):
    progress = Progress(tmp_path)
    for line in OUTPUT.splitlines():
        progress.feed(line)
    (tmp_path / "results/logs/dk_2024").mkdir(parents=True)
    (tmp_path / "results/logs/dk_2024/segment.log").write_text(
        "INFO smesocial: reading\nERROR smesocial: results/dk_2024/ingested.parquet: this table "
        "is damaged;\n  delete it.\n", encoding="utf-8")
    assert failure_lines(progress.failed[0], tmp_path) == [
        "smesocial: step segment wave=dk_2024 failed; its log: results/logs/dk_2024/segment.log",
        "smesocial: results/dk_2024/ingested.parquet: this table is damaged; delete it."]


def test_a_bug_is_reported_as_one_and_by_the_exception_it_raised():
    log = ("INFO smesocial: reading\n"
           "ERROR smesocial: unexpected error in rule clean (a bug in the workflow, not bad "
           "input; the traceback follows)\n"
           "Traceback (most recent call last):\n"
           '  File "/x/clean.py", line 3, in step\n'
           "    schemes[wave_cfg['segmentation']]\n"
           "KeyError: 'report_dk2024'\n")
    assert step_message(log) == ("an unexpected error, a bug in the workflow rather than bad "
                                 "input (please report it with the step's log): KeyError: "
                                 "'report_dk2024'")
    assert step_message("INFO smesocial: all fine\n") is None


def test_a_step_that_died_without_a_word_says_so(tmp_path):
    job = build.Job("stats", {"log": "results/logs/stats.log"})
    assert failure_lines(job, tmp_path)[-1] == (
        "smesocial: the step stopped without a message of its own (killed, out of memory?); see "
        "results/logs/stats.log and results/logs/snakemake.log")


# --- Snakemake's start-up errors ---------------------------------------------------------------


def test_a_start_up_check_gives_its_message_without_the_traceback():
    lines = ['InputError in file "/x/workflow/rules/common.smk", line 27:',
             "config/config.yaml: waves.dk_2024.segmentation names an unknown segmentation "
             "scheme; found 'report_dk2024'.",
             '  File "/x/workflow/rules/common.smk", line 27, in <module>',
             '  File "/x/workflow/smesocial/config.py", line 262, in check_wave_schemes']
    assert snakemake_error(lines) == ("config/config.yaml: waves.dk_2024.segmentation names an "
                                      "unknown segmentation scheme; found 'report_dk2024'.")


def test_a_schema_violation_names_the_config_file_and_the_key():
    lines = ['WorkflowError in file "/x/Snakefile", line 15:', "Error validating config file.",
             "ValidationError: 'high' is not of type 'number'", "",
             "Failed validating 'type' in schema['properties']['alpha']:",
             "    {'type': 'number', 'exclusiveMinimum': 0, 'exclusiveMaximum': 1}", "",
             "On instance['waves']['dk_2024']['year']:", "    'high'"]
    assert snakemake_error(lines, ["config/config.yaml", "mine.yaml"]) == (
        "config/config.yaml, mine.yaml: invalid value at key 'waves.dk_2024.year': 'high' is not "
        "of type 'number'; expected what config/schemas/config.schema.yaml allows there")


def test_other_snakemake_errors_keep_their_name_and_text_in_one_line():
    lines = ["Building DAG of jobs...",
             'MissingInputException in rule ingest in file "/x/ingest.smk", line 4:',
             "Missing input files for rule ingest:", "    output: results/dk_2024/ingested.parquet",
             "    affected files:", "        data/raw/dk_2024/x.csv"]
    assert snakemake_error(lines) == (
        "Snakemake stopped: MissingInputException: Missing input files for rule ingest: output: "
        "results/dk_2024/ingested.parquet affected files: data/raw/dk_2024/x.csv")
    assert snakemake_error(["LockException:", "Error: Directory cannot be locked."]) == \
        lock_message([])
    assert snakemake_error(["Building DAG of jobs..."]) == (
        "Snakemake stopped without an error message: see results/logs/snakemake.log")


# --- stale outputs -------------------------------------------------------------------------------


def test_outputs_a_failed_build_would_remake_and_did_not_write_are_stale(tmp_path):
    names = ["results/a/ingested.parquet", "results/a/clean.parquet", "results/a/estimates.csv",
             "results/a/new.csv", "results/a/segments.parquet"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    before = time.time() - 100
    for name in names[:3]:
        os.utime(tmp_path / name, (before, before))
    summary = "\n".join([
        "output_file\tdate\trule\tlog-file(s)\tstatus\tplan",
        "results/a/ingested.parquet\t-\tingest\tl\tok\tno update",  # up to date
        "results/a/clean.parquet\t-\tclean\tl\tupdated input files\tupdate pending",
        "results/a/estimates.csv\t-\testimates\tl\tok\tupdate pending",  # downstream of clean
        "results/a/new.csv\t-\tx\tl\tok\tupdate pending",  # written by this build: current
        "results/a/segments.parquet\t-\tsegment\tl\tmissing\tupdate pending",  # written now
        "results/a/gone.csv\t-\tx\tl\tmissing\tupdate pending",
        "elsewhere/out.csv\t-\tx\tl\tok\tupdate pending",  # never outside results/
    ])
    assert stale_outputs(summary, tmp_path, started=before + 50) == {
        "results/a/clean.parquet": "updated input files", "results/a/estimates.csv": "ok"}
    assert stale_outputs("Building DAG of jobs...", tmp_path, started=time.time()) == {}


def test_forcing_options_are_left_out_when_asking_what_is_stale():
    command = ["snakemake", *BASE, "--forcerun", "ingest", "segment", "--cores", "1", "-F",
               "--forcerun=clean", "results/x.csv"]
    assert without_forcing(command) == ["snakemake", *BASE, "--cores", "1", "results/x.csv"]


def test_the_jobs_of_a_group_each_get_their_line(tmp_path):
    """A cluster group job finishes several jobs before one count line."""
    progress = Progress(tmp_path)
    lines = ["Group job 7f3a (jobs in lexicogr. order):",
             "    rule ingest:", "        jobid: 1", "        wildcards: prefix=, wave=no_2010",
             "    rule segment:", "        jobid: 2", "        wildcards: prefix=, wave=no_2010",
             "Finished jobid: 1 (Rule: ingest)", "Finished jobid: 2 (Rule: segment)",
             "2 of 30 steps (7%) done"]
    shown = [line for line in map(progress.feed, lines) if line]
    assert shown == ["smesocial: [ 1/30] ingest wave=no_2010\n"
                     "smesocial: [ 2/30] segment wave=no_2010"]


def test_of_several_jobs_reported_failed_those_that_said_why_are_shown(tmp_path):
    logs = tmp_path / "results/logs/no_2010"
    logs.mkdir(parents=True)
    (logs / "ingest.log").write_text("ERROR smesocial: an old failure\n", encoding="utf-8")
    before = time.time() - 100
    os.utime(logs / "ingest.log", (before, before))  # a former run's log
    (logs / "segment.log").write_text("ERROR smesocial: x.parquet: damaged.\n", encoding="utf-8")
    jobs = [build.Job("ingest", {"log": "results/logs/no_2010/ingest.log"}),
            build.Job("segment", {"log": "results/logs/no_2010/segment.log"})]
    assert build.failures(jobs, tmp_path, since=before + 50) == [
        "smesocial: step segment failed; its log: results/logs/no_2010/segment.log",
        "smesocial: x.parquet: damaged."]
    # none said why: each is named
    assert len(build.failures(jobs[:1], tmp_path, since=before + 50)) == 2


# --- the report after a build ----------------------------------------------------------------

# Stands in for Snakemake: logs each call's arguments; prints a build that ran one step
# (STEPS=1) or found nothing to do, unless it is asked for the report alone; makes the report
# it is asked for (after the build with --report-after-run), or fails to (REPORT_FAILS=1).
FAKE_SNAKEMAKE = """\
import os, sys
from pathlib import Path
with open("calls.txt", "a", encoding="utf-8") as calls:
    calls.write(" ".join(sys.argv[1:]) + "\\n")
report = sys.argv[sys.argv.index("--report") + 1] if "--report" in sys.argv else None
if report is None or "--report-after-run" in sys.argv:
    if os.environ.get("STEPS") == "1":
        print("localrule summary:\\n    jobid: 1\\n    log: results/logs/summary.log\\n"
              "Finished jobid: 1 (Rule: summary)\\n1 of 1 steps (100%) done")
    else:
        print("Building DAG of jobs...\\nNothing to be done (all requested files are present "
              "and up to date).")
if report is not None and os.environ.get("REPORT_FAILS") == "1":
    print("WorkflowError:\\nFile x missing")
    sys.exit(1)
if report is not None:
    Path(report).write_text("report", encoding="utf-8")
"""
AFTER_RUN = " ".join([*BASE, "--report", "results/report.html", "--report-after-run"])
SECOND = " ".join([*BASE, "--report", "results/report.html"])


@pytest.fixture
def fake_checkout(tmp_path, monkeypatch):
    """A checkout with a config (unchanged for a minute) and a stand-in Snakemake; returns the
    command that runs it and a function giving the arguments of each call so far."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("alpha: 0.05\n", encoding="utf-8")
    _older(tmp_path / "config" / "config.yaml", 60)
    (tmp_path / "results").mkdir()
    (tmp_path / "fake_snakemake.py").write_text(FAKE_SNAKEMAKE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STEPS", raising=False)
    monkeypatch.delenv("REPORT_FAILS", raising=False)
    calls = tmp_path / "calls.txt"

    def called() -> list[str]:
        return calls.read_text(encoding="utf-8").splitlines() if calls.is_file() else []

    return [sys.executable, "fake_snakemake.py", *BASE], called


def _older(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def _built_earlier(report: bool = True) -> None:
    """The manifest (and report) of an earlier build, begun after every input changed."""
    Path("results/provenance.json").write_text("{}", encoding="utf-8")
    _older(Path("results/provenance.json"), 30)
    Path(build.LAST_BUILD).parent.mkdir(parents=True, exist_ok=True)
    Path(build.LAST_BUILD).touch()
    _older(Path(build.LAST_BUILD), 40)
    if report:
        Path(build.REPORT).write_text("last build's report", encoding="utf-8")
        _older(Path(build.REPORT), 20)


def test_a_build_that_ran_nothing_leaves_a_current_report_alone(fake_checkout, capsys):
    command, called = fake_checkout
    _built_earlier()
    assert not build.steps_likely(Path("."))
    assert build.main(command) == 0
    assert called() == [" ".join(BASE)]  # the build only: no report made, in it or after it
    assert Path(build.REPORT).read_text(encoding="utf-8") == "last build's report"
    assert not Path(build.REPORT_LOG).exists()
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("smesocial: done: nothing to rebuild, results/ was up to date.")
    assert ("report in results/report.html (up to date; `bash workflow/run.sh report` remakes "
            "it)") in last


@pytest.mark.parametrize("changed", ["no results", "no build", "config/config.yaml",
                                     "workflow/x.smk", "Snakefile"])
def test_where_a_step_will_likely_run_the_builds_own_snakemake_makes_the_report(
        fake_checkout, capsys, monkeypatch, changed):
    command, called = fake_checkout
    _built_earlier()
    if changed == "no results":
        shutil.rmtree("results")
    elif changed == "no build":
        Path(build.LAST_BUILD).unlink()
    else:  # an input edited since the last build began
        Path(changed).parent.mkdir(parents=True, exist_ok=True)
        Path(changed).write_text("edited\n", encoding="utf-8")
    assert build.steps_likely(Path("."))
    monkeypatch.setenv("STEPS", "1")
    assert build.main(command) == 0
    assert called() == [AFTER_RUN]  # one Snakemake: no second reading of the workflow
    assert Path(build.REPORT).read_text(encoding="utf-8") == "report"
    err = capsys.readouterr().err
    assert "smesocial: [1/1] summary" in err
    assert "done: 1 step(s) run." in err and "report in results/report.html (remade)" in err
    # the build is recorded as begun before it ran: an input edited meanwhile counts as edited
    assert abs(Path(build.LAST_BUILD).stat().st_mtime - time.time()) < 60
    assert not build.steps_likely(Path("."))


def test_a_failed_build_is_no_record_of_a_build(fake_checkout, monkeypatch):
    command, _ = fake_checkout
    _built_earlier()
    Path("config/config.yaml").write_text("alpha: 0.1\n", encoding="utf-8")
    before = Path(build.LAST_BUILD).stat().st_mtime
    monkeypatch.setenv("STEPS", "1")
    monkeypatch.setenv("REPORT_FAILS", "1")
    assert build.main(command) == 1
    assert Path(build.LAST_BUILD).stat().st_mtime == before
    assert build.steps_likely(Path("."))


def test_a_build_of_some_targets_only_is_a_record_of_a_build(fake_checkout):
    """No provenance manifest (it was no target): still no edit since the last build."""
    _built_earlier()
    Path("results/provenance.json").unlink()
    assert not build.steps_likely(Path("."))


def test_a_cache_newer_than_the_last_build_is_no_edit(fake_checkout):
    _built_earlier()
    Path("workflow/__pycache__").mkdir(parents=True)
    Path("workflow/__pycache__/x.cpython-311.pyc").write_bytes(b"")
    assert not build.steps_likely(Path("."))


def test_a_step_that_ran_unforeseen_gets_the_report_from_a_second_snakemake(
        fake_checkout, capsys, monkeypatch):
    command, called = fake_checkout
    _built_earlier()
    monkeypatch.setenv("STEPS", "1")  # a --forcerun, say: no input changed
    assert build.main(command) == 0
    assert called() == [" ".join(BASE), SECOND]
    assert Path(build.REPORT).read_text(encoding="utf-8") == "report"
    assert "report in results/report.html (remade)" in capsys.readouterr().err


@pytest.mark.parametrize("state, reason", [
    ("missing", "made: there was none"),
    ("older than the manifest", "remade: it was older than results/provenance.json"),
])
def test_a_missing_or_outdated_report_is_made_though_nothing_ran(fake_checkout, capsys, state,
                                                                   reason):
    command, called = fake_checkout
    _built_earlier(report=state != "missing")
    if state != "missing":
        _older(Path(build.REPORT), 60)
    assert build.main(command) == 0
    assert called() == [" ".join(BASE), SECOND]
    assert Path(build.REPORT).read_text(encoding="utf-8") == "report"
    assert f"report in results/report.html ({reason})" in capsys.readouterr().err


def test_the_report_option_remakes_a_current_report_after_a_no_op(fake_checkout, capsys):
    command, called = fake_checkout
    _built_earlier()
    assert build.main(["--report", *command]) == 0
    assert called() == [AFTER_RUN]
    assert Path(build.REPORT).read_text(encoding="utf-8") == "report"
    assert "(remade, as asked)" in capsys.readouterr().err
    # with a command that builds nothing it is refused, before Snakemake runs
    assert build.main(["--report", *command, "--dry-run"]) == 2
    assert len(called()) == 1
    assert capsys.readouterr().err.strip() == ("smesocial: --report goes with a build; this "
                                               "command builds nothing")


def test_a_failed_report_takes_the_old_one_with_it(fake_checkout, capsys, monkeypatch):
    command, _ = fake_checkout
    _built_earlier()
    monkeypatch.setenv("STEPS", "1")
    monkeypatch.setenv("REPORT_FAILS", "1")
    assert build.main(command) == 1  # by a second Snakemake
    assert not Path(build.REPORT).exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-2:] == ["smesocial: building results/report.html failed (log: "
                        "results/logs/report.log)",
                        "smesocial: Snakemake stopped: WorkflowError: File x missing"]
    Path(build.REPORT).write_text("last build's report", encoding="utf-8")
    Path(build.LAST_BUILD).unlink()
    assert build.main(command) == 1  # by the build's own Snakemake
    assert not Path(build.REPORT).exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "smesocial: Snakemake stopped: WorkflowError: File x missing"
    assert ("smesocial: Snakemake's output: results/logs/snakemake.log; results/report.html is "
            "made after a complete build only") in err
