"""Snakemake entry: execute a source notebook (a jupytext percent script, notebooks/*.py) with
papermill (kernel `smesocial`, cwd = the repository root so its relative paths work,
parameters from the rule) and keep the executed notebook for audit without the times papermill
records, so that two runs give the same bytes. A notebook that fails is kept beside the rule's
log (`.failed.ipynb`) to show where it stopped."""

import os
import sys
import tempfile
from pathlib import Path

import nbformat
import papermill
from nbformat import NotebookNode

from smesocial.notebooks import (kernel_options, normalise_executed_notebook, notebook_errors,
                                 notebook_from_script)
from smesocial.runner import log, run_step

KERNEL = "smesocial"


def read_executed(path: Path, source: str) -> NotebookNode:
    """The executed notebook at `path`, naming the source script as papermill's input:
    papermill ran a converted copy in a temporary directory, whose path says nothing."""
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    notebook.metadata.setdefault("papermill", {})["input_path"] = source
    return notebook


def step(snakemake) -> None:
    source = str(snakemake.input.notebook)
    output = Path(snakemake.output.notebook)
    output.parent.mkdir(parents=True, exist_ok=True)
    # The notebook records itself, the rule that ran it and its executed copy (figure manifests).
    parameters = {**snakemake.params.parameters, "notebook": source, "rule": snakemake.rule,
                  "executed_notebook": output.as_posix()}
    os.environ["PYTHONHASHSEED"] = "0"  # the kernel inherits it, as the build's other steps
    # papermill lays out the injected parameters with black whenever black is importable; black
    # is no pin of ours (snakefmt brings it, say), so keep it out: the bytes must not depend on it.
    sys.modules["black"] = None
    log.info("executing %s -> %s with %s", source, output, parameters)
    with tempfile.TemporaryDirectory(prefix="smesocial-notebook-") as scratch:
        converted = Path(scratch, f"{Path(source).stem}.ipynb")
        nbformat.write(notebook_from_script(source), converted)
        # A parameter the notebook does not declare would leave it on its default (the default
        # wave's labels, say) without a word: papermill only warns, this stops the job.
        undeclared = sorted(set(parameters) - set(papermill.inspect_notebook(str(converted))))
        if undeclared:
            raise ValueError(f"{source} has no parameter(s) {', '.join(undeclared)} in its "
                             "`parameters` cell; the rule passes them")
        try:
            papermill.execute_notebook(
                str(converted), str(output), parameters=parameters, kernel_name=KERNEL,
                cwd=".", progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                # nbclient options: no per-cell timings, one output per stream and cell
                record_timing=False, coalesce_streams=True,
                # a private, quiet kernel (sockets in the scratch directory)
                **kernel_options(scratch),
            )
        except papermill.PapermillExecutionError as exc:
            failed = Path(snakemake.log[0]).with_suffix(".failed.ipynb")
            if output.is_file():
                nbformat.write(read_executed(output, source), failed)
            log.error("notebook %s failed in cell %s: %s: %s (executed copy: %s)",
                      source, exc.exec_count, exc.ename, exc.evalue, failed)
            raise
    notebook = read_executed(output, source)
    errors = notebook_errors(notebook)
    if errors:  # a cell tagged raises-exception would let papermill carry on
        raise RuntimeError(f"{output}: error outputs: {errors}")
    nbformat.write(normalise_executed_notebook(notebook), output)
    log.info("executed notebook written without run times: %s", output)


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
