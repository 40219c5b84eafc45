"""What every Snakemake entry script shares: logging to the rule's log, one readable paragraph
on bad input instead of a traceback, and no partial outputs left behind."""

from __future__ import annotations

import gc
import logging
import resource
import runpy
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smesocial.errors import InputError

log = logging.getLogger("smesocial")


def configure_logging(log_file: str | None, mode: str = "w") -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode=mode, encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", handlers=handlers, force=True
    )


# A Parquet file starts and ends with this; the 4 bytes before the end give its footer length.
PARQUET_MAGIC = b"PAR1"
RESULTS = "results/"  # where every step writes; a CSV there is one of ours, ended by a newline


def damage(path: Path) -> str | None:
    """Why a table an earlier step wrote (a Parquet file, or a CSV under results/) cannot be
    whole, or None. A structural check, cheap and without pyarrow: a file cut short (a full disk,
    a killed copy) loses Parquet's closing signature, or a CSV its final line end."""
    size = path.stat().st_size
    if path.suffix == ".parquet":
        if size < 3 * len(PARQUET_MAGIC):
            return f"it has {size} bytes, fewer than the smallest Parquet file"
        with path.open("rb") as handle:
            head = handle.read(len(PARQUET_MAGIC))
            handle.seek(-2 * len(PARQUET_MAGIC), 2)
            tail = handle.read()
        if head != PARQUET_MAGIC:
            return "it does not start with Parquet's signature 'PAR1'"
        if tail[4:] != PARQUET_MAGIC:
            return f"it does not end with Parquet's signature 'PAR1' ({size} bytes: cut short?)"
        footer = int.from_bytes(tail[:4], "little")
        if footer > size - 3 * len(PARQUET_MAGIC):
            return f"its footer claims {footer} bytes, more than the file's {size}"
    elif path.suffix == ".csv" and path.as_posix().startswith(RESULTS):
        if size == 0:
            return "it is empty"
        with path.open("rb") as handle:
            handle.seek(-1, 2)
            if handle.read() != b"\n":
                return "its last line is cut off (the file does not end with a line end)"
    return None


def check_intermediates(inputs: list[str]) -> None:
    """Stop, naming the file and what to do, when an input an earlier step wrote is damaged
    (instead of a reader's traceback, with the step's old downstream results left standing)."""
    for name in inputs:
        path = Path(name)
        problem = damage(path) if path.is_file() else None
        if problem:
            raise InputError(name, f"this table, written by an earlier step of the workflow, is "
                             f"damaged: {problem}", expected="the whole file: delete it and "
                             "build again (bash workflow/run.sh build), which remakes it")


def input_files(inputs: Any) -> list[str]:
    """A job's input files: Snakemake's input list (named or not), or a namespace of them (as
    tests build a job), lists flattened."""
    if inputs is None or isinstance(inputs, str | Path):
        return [] if inputs is None else [str(inputs)]
    if isinstance(inputs, list | tuple):  # Snakemake's Namedlist is a list
        return [name for item in inputs for name in input_files(item)]
    return [name for item in vars(inputs).values() for name in input_files(item)]


def remove_outputs(outputs: list[str]) -> None:
    for output in outputs:
        path = Path(output)
        if path.is_file():
            path.unlink()


class ReadConfig(dict):
    """A job's config params (a dict in config's shape) that records which keys the script
    reads, as '/'-joined paths ('waves/dk_2024/population/min_employees'; list items by index).

    A leaf is a value that is neither a mapping nor a list of mappings; a key looked up but
    absent counts as read too (adding it later changes the result). Run logs list the paths
    (run_step), so a reviewer sees which configuration each step used and the configuration
    test can check that Snakemake reruns a step exactly when one of them changes.
    """

    def __init__(self, data: dict[str, Any], path: tuple[str, ...] = (),
                 reads: set[str] | None = None) -> None:
        super().__init__(data)
        self.path = path
        self.reads: set[str] = set() if reads is None else reads

    def _tracked(self, key: Any, value: Any) -> Any:
        path = (*self.path, str(key))
        if isinstance(value, dict):
            return ReadConfig(value, path, self.reads)
        if isinstance(value, list) and any(isinstance(item, dict) for item in value):
            return _ReadList(value, path, self.reads)
        self.reads.add("/".join(path))
        return value

    def __getitem__(self, key: Any) -> Any:
        if key not in self:
            self.reads.add("/".join((*self.path, str(key))))
        return self._tracked(key, super().__getitem__(key))

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else self._absent(key, default)

    def _absent(self, key: Any, default: Any) -> Any:
        self.reads.add("/".join((*self.path, str(key))))
        return default

    def items(self) -> list[tuple[Any, Any]]:  # type: ignore[override]
        return [(key, self[key]) for key in self.keys()]

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self[key] for key in self.keys()]


class _ReadList(list):
    """A list of mappings inside ReadConfig: its items are tracked by index."""

    def __init__(self, data: list[Any], path: tuple[str, ...], reads: set[str]) -> None:
        super().__init__(data)
        self.path, self.reads = path, reads

    def __getitem__(self, index: Any) -> Any:
        value = super().__getitem__(index)
        if isinstance(index, slice):
            return [ReadConfig({"_": v}, self.path, self.reads)["_"] for v in value]
        return ReadConfig({str(index): value}, self.path, self.reads)[str(index)]

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))


def read_everything(config: Any) -> Any:
    """A plain deep copy of a ReadConfig, marking every leaf read (for steps such as the
    provenance manifest that record the whole configuration)."""
    if isinstance(config, dict):
        return {key: read_everything(value) for key, value in config.items()}
    if isinstance(config, list):
        return [read_everything(value) for value in config]
    return config


class _Params:
    """`snakemake.params` with its `config` entry tracked (ReadConfig)."""

    def __init__(self, params: Any, reads: set[str]) -> None:
        self._params = params
        config = getattr(params, "config", None)
        self.config = ReadConfig(config, reads=reads) if isinstance(config, dict) else config

    def __getattr__(self, name: str) -> Any:
        return getattr(self._params, name)


class ConfigAccessError(AttributeError):
    """A script read `snakemake.config`: a programming error, not bad input."""


class ParamsOnly:
    """The job's `snakemake` object without `config`.

    Snakemake reruns a job when its declared params or inputs change, never when a config key
    it did not declare changes; a script that read `snakemake.config` would then keep a stale
    result. So a script sees configuration only through `snakemake.params` (filled from config by
    the rule: common.smk `config_subset`) and reading `.config` stops the job at once.
    """

    def __init__(self, snakemake: Any) -> None:
        self._snakemake = snakemake
        params = getattr(snakemake, "params", None)
        # Params the rule computed from the config while the workflow was read (a notebook's
        # parameters, a draw's seed) come with the keys they took (common.smk read_from_config).
        self.config_read: set[str] = set(getattr(params, "config_read", None) or [])
        self.params = _Params(params, self.config_read)

    def __getattr__(self, name: str) -> Any:
        if name == "config":
            raise ConfigAccessError(
                f"rule {getattr(self._snakemake, 'rule', '?')}: the script read snakemake.config; "
                "declare the keys it needs as the rule's params (config_subset in "
                "workflow/rules/common.smk) and read snakemake.params instead")
        return getattr(self._snakemake, name)




# Set while run_in_process runs an entry script: the config keys each step read.
_steps_read_in_process: list[set[str]] | None = None


# workflow/bench/build.py sums these lines of the steps' logs; workflow/bench/scale.py reads
# their CPU and peak memory
STEP_COST = "step cost: "


def step_cost() -> str:
    """The CPU a job's process has used since it started (Python, Snakemake's preamble and the
    imports included: what Snakemake's sampled benchmark misses for short jobs), that of the
    processes it ran and waited for (a notebook kernel, pandoc), and the process's peak resident
    memory (exact, where Snakemake's benchmark samples it every 30 s after a job's first 15 s)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return (f"{STEP_COST}{time.process_time():.3f} s CPU in its process, "
            f"{children.ru_utime + children.ru_stime:.3f} s in the processes it ran, "
            f"peak RSS {peak_mib:.0f} MiB")


def run_step(snakemake: Any, step: Callable[[Any], None]) -> None:
    """Run `step(snakemake)` with config hidden (ParamsOnly), after checking the tables earlier
    steps wrote are whole (check_intermediates); on InputError log the message, on any other
    exception the traceback, delete outputs, exit 1 (raise, when run_in_process runs the
    script)."""
    log_files = list(getattr(snakemake, "log", []) or [])
    in_process = _steps_read_in_process is not None
    if in_process:
        gc.collect()  # the previous step's garbage, before the freeze below keeps it for good
    # Everything imported so far lives as long as the job: moved out of the collector's reach,
    # so a library's explicit gc.collect() (statsmodels' Holm adjustment calls one) scans only
    # the step's own objects (~65 ms a call less here).
    gc.freeze()
    configure_logging(log_files[0] if log_files else None)
    job = ParamsOnly(snakemake)
    try:
        check_intermediates(input_files(getattr(snakemake, "input", None)))
        step(job)
        if not in_process:  # (a batch logs the cost of each step it runs: ensemble_batch.py)
            log.info("%s", step_cost())
        # One line a reviewer (and tests/integration/test_config_params.py) reads.
        log.info("config read: %s", ", ".join(sorted(job.config_read)) or "none")
    except (InputError, ConfigAccessError) as exc:  # str(InputError) is its one paragraph
        remove_outputs(list(snakemake.output))
        log.error("%s", exc)
        if in_process:
            raise
        sys.exit(1)
    except Exception:  # a bug: its traceback goes to the step's log, not only to stderr
        remove_outputs(list(snakemake.output))
        log.exception("unexpected error in rule %s (a bug in the workflow, not bad input; "
                      "the traceback follows)", getattr(snakemake, "rule", "?"))
        if in_process:
            raise
        sys.exit(1)
    finally:
        if _steps_read_in_process is not None:
            _steps_read_in_process.append(job.config_read)


def run_in_process(script: str | Path, snakemake: Any) -> set[str]:
    """Run a workflow entry script (one that calls run_step) in this process for the job
    `snakemake`, as Snakemake's script directive runs it in a new one; return the config keys
    it read. Its InputError propagates (its outputs already removed, its log written).

    A job running many small jobs this way (the ensemble's draws) loads the libraries once
    instead of once per job; the scripts and their jobs are unchanged."""
    global _steps_read_in_process
    reads: list[set[str]] = []
    _steps_read_in_process = reads
    try:
        runpy.run_path(str(script), init_globals={"snakemake": snakemake}, run_name="__main__")
    finally:
        _steps_read_in_process = None
    return set().union(*reads)
