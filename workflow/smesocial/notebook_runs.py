"""Running the source notebooks (notebooks/*.py, jupytext percent scripts) for the workflow:
every notebook of a build, one after another, in one job and one Jupyter kernel.

A kernel's start and the imports of the figure code (pandas, matplotlib, seaborn) cost ~3 s of
CPU, more than most notebooks' own work, so the notebooks job starts one kernel and executes
each notebook on it with papermill. Between two notebooks the kernel is reset as a fresh one
would be (reset_kernel: an empty namespace, the execution count back to 1, every record of a
warning already shown forgotten), so that an executed notebook is the one its own kernel gives,
byte for byte; the imported modules stay, which is the saving. This module is the job's only:
the kernel never imports it (nor jupytext or papermill).

`notebook_from_script` reads a source notebook with stable cell ids; `normalise_executed_notebook`
strips what papermill and nbclient record about time from an executed notebook, so the notebooks
kept for audit are byte-identical across runs too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import papermill
from jupyter_core.utils import ensure_async, run_sync
from nbformat import NotebookNode

log = logging.getLogger(__name__)

KERNEL = "smesocial"
KERNELSPEC = {"name": KERNEL, "display_name": "smesocial (.venv)", "language": "python"}
KERNEL_TIMEOUT = 120  # seconds for the kernel to answer (start, reset)


def notebook_from_script(path: str | Path) -> NotebookNode:
    """The notebook a jupytext percent script (notebooks/*.py) stands for, ready for papermill.

    Each cell gets an id derived from its type and source, numbered on repeats: jupytext stores
    no ids and nbformat draws random ones, which would change the executed notebook's bytes on
    every run. The notebook's metadata is the `smesocial` kernel only: jupytext's own (its
    version, the text format) says nothing about the run."""
    nb = jupytext.read(path, fmt="py:percent")
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC),
                                      "language_info": {"name": "python"}})
    seen: Counter[str] = Counter()
    for cell in nb.cells:
        digest = hashlib.sha256(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:12]
        seen[digest] += 1
        cell["id"] = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
    nbformat.validate(nb)
    return nb


@lru_cache(maxsize=None)
def quiet_kernel_manager() -> type:
    """jupyter_client's kernel manager, except that shutting an idle kernel down does not first
    interrupt it: jupyter_client sends SIGINT before every shutdown request, and a kernel still
    handling its last message then logs "[IPKernelApp] ERROR | KeyboardInterrupt caught in
    kernel" on the build's output although nothing went wrong. A kernel that does not stop on
    the shutdown request is still killed (jupyter_client's own fallback).

    It also keeps the clients it hands out, for `stop_clients`: nbclient leaves the client of a
    kernel it was given (the shared kernel) running, and a client collected running logs
    "Could not destroy zmq context" as a warning."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietShutdownKernelManager(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

        def client(self, **kwargs: Any) -> Any:
            made = super().client(**kwargs)
            self.__dict__.setdefault("_handed_out", []).append(made)
            return made

        def stop_clients(self) -> None:
            for made in self.__dict__.pop("_handed_out", []):
                if made.channels_running:
                    made.stop_channels()

    return QuietShutdownKernelManager


def kernel_options(scratch: str | Path) -> dict[str, Any]:
    """papermill's (nbclient's) options for the notebooks' kernel: its sockets are Unix domain
    sockets in `scratch` (a private temporary directory), not TCP ports every local user can
    connect to without encryption (ipykernel warns about those on every start), and it is shut
    down without an interrupt (quiet_kernel_manager)."""
    from traitlets.config import Config

    sockets = {"transport": "ipc", "ip": str(Path(scratch) / "kernel")}
    return {"config": Config({"KernelManager": sockets}),
            "kernel_manager_class": quiet_kernel_manager()}


# Run silently (no output, the execution count untouched) between two notebooks. Resetting the
# warnings filters bumps their version, which voids every module's record of the warnings it
# has shown (a warning the first notebook printed is printed again by the next); the filters
# themselves are put back. The namespace goes last, the names used here with it.
RESET_CODE = """\
import warnings
_filters = list(warnings.filters)
warnings.resetwarnings()
warnings.filters[:] = _filters
get_ipython().reset(new_session=True)
"""


# Run by the kernel as it starts, before the first notebook (IPython's exec_lines; it leaves no
# name behind). seaborn imports scipy.stats and scipy.cluster as it loads, for its KDE and its
# clustering: ~1 CPU s, mostly scipy.stats building its distributions' docstrings, and the
# figures draw neither. Hidden while seaborn loads, they are left out: seaborn falls back on its
# bundled KDE and its clustermap and dendrogram say they need scipy; a notebook that imports
# scipy.stats itself still gets it. A notebook opened in Jupyter by hand gets seaborn whole.
# The objects loaded by then (seaborn, matplotlib, pandas: modules live as long as the kernel)
# are then frozen out of the cyclic garbage collector's sight (gc.freeze): it scanned them all
# again on every full collection, each reset between notebooks being one (~0.3 CPU s in all).
KERNEL_START_CODE = """\
def _import_seaborn_without_scipy_stats():
    import gc
    import sys
    hidden = [name for name in ("scipy.stats", "scipy.cluster") if name not in sys.modules]
    sys.modules.update(dict.fromkeys(hidden))
    try:
        import seaborn  # noqa: F401
    finally:
        for name in hidden:
            del sys.modules[name]
    gc.freeze()
_import_seaborn_without_scipy_stats()
del _import_seaborn_without_scipy_stats
"""


async def _reset(manager: Any) -> None:
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=KERNEL_TIMEOUT)
        reply = await client.execute_interactive(RESET_CODE, silent=True, store_history=False,
                                                 timeout=KERNEL_TIMEOUT)
    finally:
        client.stop_channels()
    content = reply["content"]
    if content["status"] != "ok":
        raise RuntimeError(f"the notebooks' kernel could not be reset: {content.get('ename')}: "
                           f"{content.get('evalue')}")


reset_kernel = run_sync(_reset)


async def _shutdown(manager: Any) -> None:
    try:
        if manager.has_kernel and await ensure_async(manager.is_alive()):
            # Killed (SIGKILL), not asked to stop: the notebooks are executed and everything
            # they wrote is written, and a clean exit only frees every object the figure code
            # made, module by module (~0.5 CPU s) before the process ends anyway.
            await ensure_async(manager.shutdown_kernel(now=True))
    finally:
        await ensure_async(manager.cleanup_resources())


@contextmanager
def shared_kernel(scratch: str | Path) -> Iterator[Any]:
    """A kernel manager for the `smesocial` kernel (private sockets in `scratch`, a quiet
    shutdown); the first notebook given it starts the kernel, which is killed on leaving."""
    options = kernel_options(scratch)
    manager = options["kernel_manager_class"](kernel_name=KERNEL, config=options["config"])
    try:
        yield manager
    finally:
        run_sync(_shutdown)(manager)


@dataclass(frozen=True)
class NotebookRun:
    """One execution of a source notebook: its name (wave_profile_dk_2024), the source script,
    where its executed copy goes and the parameters the rule passes (in the order the injected
    cell shows them)."""

    name: str
    notebook: str
    executed: str
    parameters: Mapping[str, Any]

    def parameters_for(self, rule: str) -> dict[str, Any]:
        """Its parameters, then what it records of itself: the source, the rule that ran it
        and its executed copy (in its figure manifest)."""
        return {**self.parameters, "notebook": self.notebook, "rule": rule,
                "executed_notebook": self.executed}


def read_executed(path: str | Path, source: str) -> NotebookNode:
    """The executed notebook at `path`, naming the source script as papermill's input:
    papermill ran a converted copy in a temporary directory, whose path says nothing."""
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    notebook.metadata.setdefault("papermill", {})["input_path"] = source
    return notebook


def execute_run(run: NotebookRun, rule: str, manager: Any, scratch: str | Path,
                failed_dir: str | Path) -> None:
    """Execute one notebook on the shared kernel and keep it without run times; a notebook
    that fails is kept as <failed_dir>/<name>.failed.ipynb to show where it stopped."""
    output = Path(run.executed)
    output.parent.mkdir(parents=True, exist_ok=True)
    parameters = run.parameters_for(rule)
    log.info("executing %s -> %s with %s", run.notebook, output, parameters)
    converted = Path(scratch, f"{run.name}.ipynb")
    nbformat.write(notebook_from_script(run.notebook), converted)
    # A parameter the notebook does not declare would leave it on its default (the default
    # wave's labels, say) without a word: papermill only warns, this stops the job.
    undeclared = sorted(set(parameters) - set(papermill.inspect_notebook(str(converted))))
    if undeclared:
        raise ValueError(f"{run.notebook} has no parameter(s) {', '.join(undeclared)} in its "
                         "`parameters` cell; the rule passes them")
    try:
        papermill.execute_notebook(
            str(converted), str(output), parameters=parameters, kernel_name=KERNEL, cwd=".",
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            # nbclient options: no per-cell timings, one output per stream and cell; the
            # shared kernel's manager
            record_timing=False, coalesce_streams=True, km=manager,
            # for the kernel's start (the first notebook's)
            extra_arguments=[f"--IPKernelApp.exec_lines={KERNEL_START_CODE}"],
        )
    except papermill.PapermillExecutionError as exc:
        failed = Path(failed_dir, f"{run.name}.failed.ipynb")
        if output.is_file():
            failed.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(read_executed(output, run.notebook), failed)
        log.error("notebook %s failed in cell %s: %s: %s (executed copy: %s)",
                  run.notebook, exc.exec_count, exc.ename, exc.evalue, failed)
        raise
    notebook = read_executed(output, run.notebook)
    errors = notebook_errors(notebook)
    if errors:  # a cell tagged raises-exception would let papermill carry on
        raise RuntimeError(f"{output}: error outputs: {errors}")
    nbformat.write(normalise_executed_notebook(notebook), output)
    log.info("executed notebook written without run times: %s", output)


def execute_notebooks(runs: Sequence[NotebookRun], rule: str, failed_dir: str | Path) -> None:
    """Execute the runs in order on one kernel, reset between them (module docstring)."""
    os.environ["PYTHONHASHSEED"] = "0"  # the kernel inherits it, as the build's other steps
    # papermill lays out the injected parameters with black whenever black is importable; black
    # is no pin of ours (snakefmt brings it, say), so keep it out: the bytes must not depend on it.
    sys.modules["black"] = None  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="smesocial-notebooks-") as scratch, \
            shared_kernel(scratch) as manager:
        for index, run in enumerate(runs):
            if index:
                reset_kernel(manager)
            try:
                execute_run(run, rule, manager, scratch, failed_dir)
            finally:
                manager.stop_clients()


# Recorded at run time by papermill (notebook and cells) and nbclient (cells); everything else
# an executed notebook holds follows from the notebook, its parameters and its inputs.
VOLATILE_PAPERMILL_KEYS = ("start_time", "end_time", "duration")
INJECTED_TAG = "injected-parameters"


def normalise_executed_notebook(nb: Any) -> Any:
    """Strip the times papermill records (start, end and duration of the notebook and of each
    cell) and give papermill's injected-parameters cell a fixed id (nbformat draws a random one).
    Per-cell timings and split stream outputs are nbclient's to avoid: execute_run executes
    with `record_timing=False, coalesce_streams=True`. In place on a NotebookNode or a plain
    dict; returns it."""
    papermill_metadata = nb.get("metadata", {}).get("papermill")
    if isinstance(papermill_metadata, dict):
        for key in VOLATILE_PAPERMILL_KEYS:
            papermill_metadata.pop(key, None)
    for cell in nb.get("cells", []):
        metadata = cell.setdefault("metadata", {})
        if isinstance(metadata.get("papermill"), dict):
            for key in VOLATILE_PAPERMILL_KEYS:
                metadata["papermill"].pop(key, None)
        if INJECTED_TAG in metadata.get("tags", []):
            cell["id"] = INJECTED_TAG
    return nb


def notebook_errors(nb: Mapping[str, Any]) -> list[str]:
    """The error outputs of an executed notebook, as 'ename: evalue'."""
    return [f"{o.get('ename')}: {o.get('evalue')}" for cell in nb.get("cells", [])
            for o in cell.get("outputs", []) if o.get("output_type") == "error"]
