"""What `bash workflow/run.sh build` does around Snakemake, so that a build ends in one clear
line: what was made, or what stopped it and what to do.

    python -m smesocial.build snakemake --cores 2 ... [snakemake arguments]

Before Snakemake starts: every YAML file of the configuration must parse (else: the file, line
and column), and a lock left in `.snakemake/locks` is told apart: a live build (a Snakemake
process, or a job of one, working in this checkout on this machine) or a stale lock an
interrupted build left behind (remove it with `run.sh build --unlock`).

During a build: Snakemake's output and the steps' own go to results/logs/snakemake.log; the
terminal gets one line per finished step (naming the step's log when it logged a warning).
Set SMESOCIAL_VERBOSE=1 to see everything as well.

After a failed build: the outputs that Snakemake would now remake and that this build did not
write are removed (an input, the code or the configuration changed, or an input failed: a
reviewer must not take them for current results), with results/report.html of the last build;
the last lines on stderr name the step that failed, its log, and its own message. After a successful build the
Snakemake report (results/report.html) is remade when it is out of date: when a step ran, or
the report is missing or older than results/provenance.json (a build outside run.sh); a build
that ran nothing leaves it alone. Where a step will most likely run (an input is newer than
provenance.json), the build's own Snakemake makes it right after the build
(--report-after-run); otherwise a second Snakemake does, if needed (it reads the workflow again:
a second start-up). `--report` before the Snakemake command (`bash workflow/run.sh report`)
remakes it after any build. A summary line says where everything is.

Commands that build nothing (--dry-run, --unlock, --summary, --list-..., --dag, --lint ...) pass
Snakemake's output through, make no report and remove nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from smesocial.config import load_yaml
from smesocial.errors import InputError

PREFIX = "smesocial: "
SNAKEMAKE_LOG = "results/logs/snakemake.log"
REPORT = "results/report.html"
REPORT_LOG = "results/logs/report.log"
# Rewritten whenever any final output changes: a report older than it shows older results.
PROVENANCE = "results/provenance.json"
RESULTS = "results/"
LOCKS = ".snakemake/locks"
CONFIG_FILE = "config/config.yaml"  # the Snakefile's `configfile:`
VERBOSE = "SMESOCIAL_VERBOSE"

# Snakemake options after which nothing is built (its output is what the user asked for).
NO_BUILD_OPTIONS = {
    "--dry-run", "--dryrun", "--summary", "--detailed-summary", "--lint", "--dag", "--rulegraph",
    "--filegraph", "--d3dag", "--cleanup-metadata", "--cm", "--cleanup-shadow", "--touch",
    "--delete-all-output", "--delete-temp-output", "--report", "--archive", "--containerize",
    "--export-cwl", "--print-compilation", "--generate-unit-tests", "--conda-create-envs-only",
    "--list-conda-envs", "--conda-cleanup-envs", "--lt", "--lc", "--li", "--lp", "--lu",
    "--help", "--version", "--unlock",
}
NO_BUILD_LETTERS = set("nSDlthv")  # -n, -S, -D, -l (list rules), -t (touch), -h, -v (version)
ASKS_ONLY = {"--help", "-h", "--version", "-v"}  # no checks needed to answer these


def _option_name(arg: str) -> str:
    return arg.split("=", 1)[0]


def mode(args: Sequence[str]) -> str:
    """'build', 'unlock' or 'other' (anything else that builds nothing)."""
    names = {_option_name(a) for a in args if a.startswith("--")}
    if "--unlock" in names:
        return "unlock"
    letters = {c for a in args if re.fullmatch(r"-[A-Za-z]+", a) for c in a[1:]}
    if names & NO_BUILD_OPTIONS or any(n.startswith("--list") for n in names) \
            or letters & NO_BUILD_LETTERS:
        return "other"
    return "build"


def option_values(args: Sequence[str], *options: str, many: bool = False) -> list[str]:
    """The values given to any of `options` (`--opt a`, `--opt=a`; `--opt a b` if `many`), in
    order."""
    values: list[str] = []
    taking = False
    for arg in args:
        if arg.startswith("-"):
            name, _, value = arg.partition("=")
            taking = name in options and not value
            if name in options and value:
                values.append(value)
        elif taking:
            values.append(arg)
            taking = many
    return values


def working_directory(args: Sequence[str], cwd: Path) -> Path:
    given = option_values(args, "--directory", "-d")
    return (cwd / given[-1]).resolve() if given else cwd.resolve()


def snakemake_configs(args: Sequence[str]) -> list[str]:
    """The config files Snakemake reads: the Snakefile's, then any --configfile."""
    return [CONFIG_FILE, *option_values(args, "--configfile", "--configfiles", many=True)]


def config_files(args: Sequence[str], workdir: Path) -> list[Path]:
    """The YAML files of the configuration: the config files Snakemake reads, and every YAML
    file under config/ (codebooks, published figures, schemas ...)."""
    given = [workdir / name for name in snakemake_configs(args)]
    found = sorted((workdir / "config").rglob("*.y*ml")) if (workdir / "config").is_dir() else []
    unique: dict[Path, None] = dict.fromkeys(p for p in [*given, *found] if p.is_file())
    return list(unique)


def yaml_problem(files: Iterable[Path], workdir: Path) -> str | None:
    """The first YAML file that does not parse, as load_yaml says it (file, line, column)."""
    for path in files:
        try:
            load_yaml(path)
        except InputError as exc:
            shown = path.relative_to(workdir) if path.is_relative_to(workdir) else path
            return str(exc).replace(str(path), str(shown), 1)
    return None


# --- locks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Process:
    pid: int
    kind: str  # "Snakemake" or "a Snakemake job"


def _is_snakemake(argv: Sequence[str]) -> bool:
    """`snakemake ...`, `python .../snakemake ...` or `python -m snakemake ...`."""
    head = list(argv[:3])
    if any(Path(a).name == "snakemake" for a in head):
        return True
    return "-m" in head[:-1] and head[head.index("-m") + 1] == "snakemake"


def snakemake_processes(workdir: Path, proc: Path = Path("/proc")) -> list[Process]:
    """Processes on this machine working in `workdir`: Snakemake whose working directory (or
    --directory) is the checkout, or a job it started (a script under <workdir>/.snakemake/),
    which keeps running, and writing, after its Snakemake was killed."""
    target = workdir.resolve()
    jobs_dir = str(target / ".snakemake") + os.sep
    found = []
    for entry in proc.iterdir() if proc.is_dir() else []:
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            raw = (entry / "cmdline").read_bytes().split(b"\0")
            argv = [a.decode(errors="replace") for a in raw if a]
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:  # gone meanwhile, or another user's
            continue
        if not argv:
            continue
        if _is_snakemake(argv) and working_directory(argv, cwd) == target:
            found.append(Process(int(entry.name), "Snakemake"))
        elif any(a.startswith(jobs_dir) for a in argv):
            found.append(Process(int(entry.name), "a Snakemake job"))
    return sorted(found, key=lambda p: p.pid)


def locks(workdir: Path) -> list[Path]:
    directory = workdir / LOCKS
    return sorted(directory.glob("*.lock")) if directory.is_dir() else []


def lock_message(running: Sequence[Process], unlocking: bool = False) -> str:
    """Which kind of lock this checkout holds, and what to do."""
    if running:
        shown = "; ".join(f"{p.kind}, pid {p.pid}" for p in running[:3])
        more = f" and {len(running) - 3} more" if len(running) > 3 else ""
        # Snakemake stops its own jobs when asked to; jobs left by a killed one need killing
        stop = [p for p in running if p.kind == "Snakemake"] or running
        pids = " ".join(str(p.pid) for p in stop)
        act = "not unlocking" if unlocking else "not starting another build"
        return (f"{LOCKS} is held by a build running in this checkout ({shown}{more}): {act}. "
                f"Wait for it to finish, or stop it (kill {pids}) and build again.")
    return (f"{LOCKS} holds a stale lock: no Snakemake process or job is running in this "
            "checkout on this machine, so an earlier build was interrupted (killed, or the "
            "machine stopped). If no build of this checkout runs on another machine, remove the "
            "lock with `bash workflow/run.sh build --unlock`, then build again.")


# --- Snakemake's output ----------------------------------------------------------------------

JOB_HEAD = re.compile(r"^\s*(?:local)?(?:rule|checkpoint) (?P<rule>\S+):$")
ERROR_HEAD = re.compile(r"^\s*Error in rule (?P<rule>\S+):$")
FIELD = re.compile(r"^\s+(?P<key>[\w-]+): ?(?P<value>.*)$")
FINISHED = re.compile(r"^Finished jobid: (?P<jobid>\S+) \(Rule: (?P<rule>\S+)\)$")
COUNT = re.compile(r"^(?P<done>\d+) of (?P<total>\d+) steps \(\d+%\) done$")
NOTHING = "Nothing to be done"


@dataclass
class Job:
    rule: str
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def logs(self) -> list[str]:
        value = self.fields.get("log", "").split(" (check log file", 1)[0]
        return [p.strip() for p in value.split(",") if p.strip()]

    @property
    def name(self) -> str:
        """The rule and its wildcards, e.g. 'clean wave=dk_2024' (empty wildcards left out)."""
        pairs = [p.strip() for p in self.fields.get("wildcards", "").split(",")]
        shown = [p for p in pairs if p and not p.endswith("=")]
        return " ".join([self.rule, *shown])


class Progress:
    """Reads Snakemake's output line by line: which jobs started, finished and failed."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.jobs: dict[str, Job] = {}
        self.failed: list[Job] = []
        self.finished: list[Job] = []
        self.warned: list[tuple[Job, int]] = []
        self.total = 0
        self.nothing_to_do = False
        self._block: Job | None = None
        self._block_is_error = False
        self._finishing: list[Job] = []  # finished since the last count (a group: several)

    @property
    def started(self) -> bool:
        return bool(self.jobs or self.failed)

    def feed(self, line: str) -> str | None:
        """Take one line of output; return a progress line to show, if this line ends a step."""
        line = line.rstrip("\n")
        if self._block is not None:
            match = FIELD.match(line)
            if match:
                self._block.fields[match["key"]] = match["value"]
                if match["key"] == "jobid" and not self._block_is_error:
                    self.jobs[match["value"]] = self._block
                return None
            if self._block_is_error:
                jobid = self._block.fields.get("jobid", "")
                started = self.jobs.get(jobid)
                if started is not None:  # the job's start says its wildcards
                    self._block.fields = {**started.fields, **self._block.fields}
                self.failed.append(self._block)
            self._block = None
        if match := ERROR_HEAD.match(line):
            self._block, self._block_is_error = Job(match["rule"]), True
        elif match := JOB_HEAD.match(line):
            self._block, self._block_is_error = Job(match["rule"]), False
        elif match := FINISHED.match(line):
            self._finishing.append(self.jobs.get(match["jobid"], Job(match["rule"])))
        elif match := COUNT.match(line):
            self.total = int(match["total"])
            jobs, self._finishing = self._finishing, []
            self.finished.extend(jobs)
            first = int(match["done"]) - len(jobs) + 1
            return "\n".join(self._progress(job, first + i) for i, job in enumerate(jobs)) or None
        elif line.startswith(NOTHING):
            self.nothing_to_do = True
        return None

    def close(self) -> None:
        self.feed("")  # ends a block the output ended in

    def _progress(self, job: Job, done: int) -> str:
        width = len(str(self.total))
        text = f"{PREFIX}[{done:>{width}}/{self.total}] {job.name}"
        warnings = sum(count_warnings(self.workdir / log) for log in job.logs)
        if warnings:
            self.warned.append((job, warnings))
            plural = "s" if warnings > 1 else ""
            text += f" ({warnings} warning{plural}: {', '.join(job.logs)})"
        return text


def count_warnings(log: Path) -> int:
    if not log.is_file():
        return 0
    return sum(1 for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
               if line.startswith("WARNING "))


# A step's log: records "LEVEL logger: message", continued on the lines that follow.
RECORD = re.compile(r"^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")


def step_message(log_text: str) -> str | None:
    """What a failed step said about its failure: its last ERROR record (smesocial.runner logs
    bad input as one paragraph), or for a bug the exception its traceback ends in."""
    lines = log_text.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("ERROR ") and RECORD.match(line)]
    if not errors:
        return None
    first = errors[-1]
    body = [RECORD.sub("", lines[first], count=1)]
    for line in lines[first + 1:]:
        if RECORD.match(line):
            break
        body.append(line)
    if any(line.startswith("Traceback (most recent call last)") for line in body):
        raised = [line for line in body[1:] if line.strip() and not line.startswith((" ", "\t"))
                  and not line.startswith("Traceback")]
        return ("an unexpected error, a bug in the workflow rather than bad input (please report "
                f"it with the step's log): {raised[-1] if raised else body[0]}")
    return " ".join(" ".join(body).split())


def job_said(job: Job, workdir: Path, since: float = 0.0) -> str | None:
    """The failed job's own message, from a log it wrote from `since` on (an older log is a
    former run's)."""
    said = None
    for log in job.logs:
        path = workdir / log
        if path.is_file() and path.stat().st_mtime >= since:
            said = step_message(path.read_text(encoding="utf-8", errors="replace")) or said
    return said


def failure_lines(job: Job, workdir: Path, since: float = 0.0) -> list[str]:
    """Two lines: which step failed and where its log is; then its own message."""
    logs = job.logs
    where = f"its log: {', '.join(logs)}" if logs else "it has no log"
    said = job_said(job, workdir, since)
    if said is None:
        said = (f"the step stopped without a message of its own (killed, out of memory?); see "
                f"{', '.join(logs) or 'its output'} and {SNAKEMAKE_LOG}")
    return [f"{PREFIX}step {job.name} failed; {where}", f"{PREFIX}{said}"]


def failures(jobs: Sequence[Job], workdir: Path, since: float = 0.0) -> list[str]:
    """The lines of every failed job; where several are reported failed (the jobs of a group,
    of which one failed), those that said why."""
    speaking = [job for job in jobs if job_said(job, workdir, since) is not None]
    return [line for job in speaking or jobs for line in failure_lines(job, workdir, since)]


EXCEPTION_HEAD = re.compile(r"^(?P<name>[A-Z]\w*(?:Error|Exception))"
                            r"(?: in (?:rule \S+ in )?file .*, line \d+)?:\s*(?P<rest>.*)$")


def snakemake_error(lines: Sequence[str], configs: Sequence[str] = (CONFIG_FILE,)) -> str:
    """Snakemake's error in its output, as one line: the project's own message (an InputError
    of a start-up check names the file and key), a schema violation with its key, or
    Snakemake's error without its traceback."""
    for i, line in enumerate(lines):
        match = EXCEPTION_HEAD.match(line.strip())
        if not match:
            continue
        body = [match["rest"]] if match["rest"] else []
        for following in lines[i + 1:]:
            if following.startswith("  File "):
                break
            body.append(following.strip())
        text = " ".join(" ".join(body).split())
        if match["name"] == "LockException":
            return lock_message([])
        if "Error validating config file" in text:
            return _validation_message(body, configs) or text
        if match["name"] == "InputError":
            return text
        return f"Snakemake stopped: {match['name']}: {text}"
    return f"Snakemake stopped without an error message: see {SNAKEMAKE_LOG}"


def _validation_message(body: Sequence[str], configs: Sequence[str]) -> str | None:
    problem = next((b.split(":", 1)[1].strip() for b in body if b.startswith("ValidationError:")),
                   None)
    instance = next((re.findall(r"\['?([^'\]]+)'?\]", b) for b in body
                     if b.startswith("On instance")), None)
    if problem is None:
        return None
    key = ".".join(instance) if instance else "(top level)"
    return (f"{', '.join(configs)}: invalid value at key '{key}': {problem}; expected what "
            "config/schemas/config.schema.yaml allows there")


# --- after a failure -------------------------------------------------------------------------


def stale_outputs(summary_tsv: str, workdir: Path, started: float) -> dict[str, str]:
    """Outputs under results/ that Snakemake would remake (`plan` of its summary) and that exist
    from before this build began, with the summary's `status` (why: 'updated input files', 'ok'
    for one downstream of such a file, ...): they no longer follow from their inputs, code or
    configuration. Those this build wrote (mtime from `started` on) are current and kept."""
    rows = [line.split("\t") for line in summary_tsv.splitlines()]
    if not rows or rows[0][:1] != ["output_file"]:
        return {}
    header = rows[0]
    name, status, plan = (header.index(c) for c in ("output_file", "status", "plan"))
    stale = {}
    for row in rows[1:]:
        if len(row) != len(header) or row[plan] == "no update":
            continue
        path = workdir / row[name]
        if row[name].startswith(RESULTS) and path.exists() and path.stat().st_mtime < started:
            stale[row[name]] = row[status]
    return stale


# Options that make Snakemake remake outputs that are up to date: left out when asking which
# outputs are stale (an output a --forcerun would remake still follows from its inputs).
FORCING = {"--forcerun", "-R", "--forceall", "-F", "--force", "-f"}
FORCING_WITH_VALUES = {"--forcerun", "-R"}


def without_forcing(command: Sequence[str]) -> list[str]:
    kept: list[str] = []
    skipping = False
    for arg in command:
        if arg.startswith("-"):
            name = _option_name(arg)
            skipping = name in FORCING_WITH_VALUES and "=" not in arg
            if name in FORCING:
                continue
        elif skipping:
            continue
        kept.append(arg)
    return kept


def killed_message(code: int, workdir: Path) -> str:
    """Snakemake itself was killed (kill -9, out of memory): its jobs may still be running and
    its lock remains."""
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    text = f"Snakemake was killed ({name}) before the build finished"
    if locks(workdir):
        return (f"{text}; its lock remains in {LOCKS}. Once its jobs have ended (`bash "
                "workflow/run.sh build` says whether any still run), remove the lock with `bash "
                "workflow/run.sh build --unlock`, then build again.")
    return f"{text}; build again."


def remove(paths: Iterable[str], workdir: Path) -> None:
    for name in paths:
        path = workdir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def listed(names: Sequence[str], shown: int = 4) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


# --- the build -------------------------------------------------------------------------------


def say(*lines: str) -> None:
    for line in lines:
        print(line, file=sys.stderr, flush=True)


def run_passing_through(command: Sequence[str], workdir: Path, configs: Sequence[str]) -> int:
    """A command that builds nothing: its output as it comes, each stream to its own (a --dag
    goes to stdout, where a dry run also puts its errors); on failure its error, last."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, errors="replace")
    lines: list[str] = []

    def relay(source: IO[str], target: IO[str]) -> None:
        for line in iter(source.readline, ""):
            target.write(line)
            target.flush()
            lines.append(line.rstrip("\n"))

    assert process.stdout is not None and process.stderr is not None
    relays = [threading.Thread(target=relay, args=(process.stdout, sys.stdout)),
              threading.Thread(target=relay, args=(process.stderr, sys.stderr))]
    for thread in relays:
        thread.start()
    for thread in relays:
        thread.join()
    code = process.wait()
    if code != 0:
        say(PREFIX + snakemake_error(lines, configs))
    elif mode(command[1:]) == "unlock":
        say(f"{PREFIX}unlocked ({LOCKS} is empty); nothing was built. Build with `bash "
            "workflow/run.sh build`: it reruns what the interrupted build left incomplete.")
    return code


class _Interrupt:
    """Ctrl-C reaches Snakemake too (same process group): it stops its jobs; we keep reading
    until it has, then report."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, _signum: int, _frame: object) -> None:
        self.seen = True


def run_build(command: Sequence[str], workdir: Path, configs: Sequence[str],
              force_report: bool = False) -> int:
    # The same Snakemake makes the report right after the build when a step will most likely
    # run (no second process reading the workflow again); else a second one makes it if needed.
    report_in_run = force_report or steps_likely(workdir)
    log_path = workdir / SNAKEMAKE_LOG
    log_path.parent.mkdir(parents=True, exist_ok=True)
    verbose = os.environ.get(VERBOSE, "") not in ("", "0")
    progress = Progress(workdir)
    output: list[str] = []
    started = time.time()
    interrupt = _Interrupt()
    running = [*command, *REPORT_AFTER_RUN] if report_in_run else list(command)
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(running, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, errors="replace")
        previous = signal.signal(signal.SIGINT, interrupt)
        try:
            assert process.stdout is not None
            for line in iter(process.stdout.readline, ""):
                log.write(line)
                log.flush()
                output.append(line.rstrip("\n"))
                if verbose:
                    sys.stderr.write(line)
                shown = progress.feed(line)
                if shown and not verbose:
                    say(shown)
            code = process.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
        progress.close()
        if code == 0:
            stamp = workdir / LAST_BUILD
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.touch()
            os.utime(stamp, (started, started))
            return _after_success(command, workdir, progress, force_report, report_in_run)
        if code < 0:  # its jobs may still be writing: remove nothing but the old report
            remove([REPORT], workdir)
            say(f"{PREFIX}Snakemake's output: {SNAKEMAKE_LOG}",
                PREFIX + killed_message(code, workdir))
            return 128 - code
        if not progress.started and not interrupt.seen:
            say(f"{PREFIX}the build stopped before any step ran; nothing under results/ was "
                f"changed (Snakemake's output: {SNAKEMAKE_LOG})",
                PREFIX + snakemake_error(output, configs))
            return code
        removed = _remove_stale(command, workdir, started, log)
    lines = []
    if removed is None:
        lines.append(f"{PREFIX}could not tell which results are out of date (Snakemake's "
                     f"--summary failed: {SNAKEMAKE_LOG}); results/ may hold some")
    elif removed:
        lines.append(f"{PREFIX}removed {len(removed)} result(s) of an earlier build that this "
                     "build would have remade (an input, the code or the configuration changed, "
                     "or an input failed or is missing), so they could not be taken as current: "
                     f"{listed(removed)} (all in {SNAKEMAKE_LOG})")
    lines.append(f"{PREFIX}Snakemake's output: {SNAKEMAKE_LOG}; {REPORT} is made after a "
                 "complete build only")
    if interrupt.seen:  # the steps it stopped have nothing to say
        lines.append(f"{PREFIX}build interrupted: the steps that were running were stopped and "
                     "their outputs removed; build again to finish")
    elif progress.failed:
        lines.extend(failures(progress.failed, workdir, started))
    else:
        lines.append(PREFIX + snakemake_error(output, configs))
    say(*lines)
    return code


def _remove_stale(command: Sequence[str], workdir: Path, started: float,
                  log: IO[str]) -> list[str] | None:
    """After a failed build: the report of the last complete build, and the outputs this build
    would have remade that predate it, removed; their list goes to the log. Returns the
    outputs (None: Snakemake could not say which they are)."""
    remove([REPORT], workdir)
    summary = subprocess.run([*without_forcing(command), "--summary"], capture_output=True,
                             text=True, errors="replace", check=False)
    if summary.returncode != 0:
        log.write(f"\n[smesocial] could not list stale outputs:\n{summary.stderr}\n")
        return None
    stale = stale_outputs(summary.stdout, workdir, started)
    remove(stale, workdir)
    log.write("\n[smesocial] removed after the failed build (would be remade; older than it), "
              "with Snakemake's status:\n")
    log.write("".join(f"  {name}  ({status})\n" for name, status in stale.items()))
    return list(stale)


# Where a build's inputs are: when one changed since the last successful build began (or there
# is no record of one, or no results/), a step will most likely run: a cold build, an edit.
# Only where the report is made depends on this guess (by the build's own Snakemake, or by a
# second one when needed), never whether the report is current.
SOURCES = ("Snakefile", "config", "data", "manuscript", "notebooks", "workflow")
LAST_BUILD = ".snakemake/smesocial-last-build"  # its mtime: when the last good build began
REPORT_AFTER_RUN = ["--report", REPORT, "--report-after-run"]


def steps_likely(workdir: Path) -> bool:
    """Whether a file the build reads (SOURCES, caches left out) changed since the last
    successful build began, or there was none (no record of it, no results/)."""
    stamp = workdir / LAST_BUILD
    if not (stamp.is_file() and (workdir / RESULTS).is_dir()):
        return True
    written = stamp.stat().st_mtime
    for name in SOURCES:
        path = workdir / name
        if path.is_file() and path.stat().st_mtime > written:
            return True
        for folder, subfolders, files in os.walk(path):
            subfolders[:] = [d for d in subfolders if d != "__pycache__" and not d.startswith(".")]
            if any(Path(folder, f).stat().st_mtime > written for f in files):
                return True
    return False


def report_reason(workdir: Path, steps_run: int, forced: bool = False) -> str | None:
    """Why the report must be (re)made after a successful build, or None when the one there
    is current: nothing ran, and it is newer than the provenance manifest, which every change
    of a final output rewrites (a build run outside run.sh, say)."""
    report, provenance = workdir / REPORT, workdir / PROVENANCE
    if forced:
        return "remade, as asked"
    if steps_run:
        return "remade"
    if not report.is_file():
        return "made: there was none"
    if provenance.is_file() and provenance.stat().st_mtime > report.stat().st_mtime:
        return f"remade: it was older than {PROVENANCE}"
    return None


def make_report(command: Sequence[str], workdir: Path) -> int:
    """`snakemake --report` into REPORT (its output in REPORT_LOG); on failure the old report
    goes too (it would show older results) and the last lines say why."""
    report_log = workdir / REPORT_LOG
    report_log.parent.mkdir(parents=True, exist_ok=True)
    with report_log.open("w", encoding="utf-8") as log:
        made = subprocess.run([*command, "--report", REPORT], stdout=log,
                              stderr=subprocess.STDOUT, check=False)
    if made.returncode != 0:
        remove([REPORT], workdir)
        lines = report_log.read_text(encoding="utf-8", errors="replace").splitlines()
        say(f"{PREFIX}building {REPORT} failed (log: {REPORT_LOG})",
            PREFIX + snakemake_error(lines))
    return made.returncode


def _after_success(command: Sequence[str], workdir: Path, progress: Progress,
                   force_report: bool = False, report_made: bool = False) -> int:
    reason = report_reason(workdir, len(progress.finished), force_report)
    if reason is not None and not report_made:
        code = make_report(command, workdir)
        if code != 0:
            return code
    elif report_made:  # by the build's Snakemake, after the build: current whatever ran
        reason = reason or "remade"
    lines = []
    if progress.warned:
        lines.append(f"{PREFIX}{len(progress.warned)} step(s) logged warnings: read the logs "
                     "named above")
    ran = (f"{len(progress.finished)} step(s) run" if progress.finished
           else "nothing to rebuild, results/ was up to date")
    report = (f"report in {REPORT} ({reason})" if reason is not None
              else f"report in {REPORT} (up to date; `bash workflow/run.sh report` remakes it)")
    lines.append(f"{PREFIX}done: {ran}. Results in results/, summary in results/summary.md, "
                 f"{report}, Snakemake's output in {SNAKEMAKE_LOG}")
    say(*lines)
    return 0


REPORT_OPTION = "--report"  # before the snakemake command: remake the report after the build
USAGE = f"usage: python -m smesocial.build [{REPORT_OPTION}] snakemake [arguments]"


def main(argv: Sequence[str]) -> int:
    """argv: the snakemake command to run, with its arguments, after an optional --report
    (remake the report whether or not a step ran)."""
    force_report = bool(argv) and argv[0] == REPORT_OPTION
    if force_report:
        argv = argv[1:]
    if not argv:
        say(PREFIX + USAGE)
        return 2
    command, args = list(argv), list(argv[1:])
    workdir = working_directory(args, Path.cwd())
    kind = mode(args)
    if not set(args) & ASKS_ONLY:
        files = config_files(args, workdir)
        problem = yaml_problem(files, workdir)
        if problem:
            say(PREFIX + problem)
            return 1
        if kind in ("build", "unlock") and locks(workdir):
            running = snakemake_processes(workdir)
            if running or kind == "build":
                say(PREFIX + lock_message(running, unlocking=kind == "unlock"))
                return 1
    configs = snakemake_configs(args)
    if kind != "build":
        if force_report:
            say(f"{PREFIX}{REPORT_OPTION} goes with a build; this command builds nothing")
            return 2
        return run_passing_through(command, workdir, configs)
    return run_build(command, workdir, configs, force_report)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # a second Ctrl-C, while cleaning up after the first
        say(f"{PREFIX}interrupted; results/ may hold results the build would have remade")
        sys.exit(130)
