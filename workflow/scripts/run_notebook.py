"""Snakemake entry: execute a notebook with papermill (kernel `smesocial`, cwd = the repository
root so its relative paths work, parameters from the rule) and keep the executed notebook for
audit without the times papermill records, so that two runs give the same bytes. A notebook
that fails is kept beside the rule's log (`.failed.ipynb`) to show where it stopped."""

import os
import shutil
from pathlib import Path

import nbformat
import papermill

from smesocial.figures import normalise_executed_notebook, notebook_errors
from smesocial.runner import log, run_step

KERNEL = "smesocial"


def step(snakemake) -> None:
    output = Path(snakemake.output.notebook)
    output.parent.mkdir(parents=True, exist_ok=True)
    # The notebook records which rule ran it and where its executed copy is (figure manifests).
    parameters = {**snakemake.params.parameters, "rule": snakemake.rule,
                  "executed_notebook": output.as_posix()}
    os.environ["PYTHONHASHSEED"] = "0"  # the kernel inherits it, as the build's other steps
    log.info("executing %s -> %s with %s", snakemake.input.notebook, output, parameters)
    try:
        papermill.execute_notebook(
            snakemake.input.notebook, str(output), parameters=parameters, kernel_name=KERNEL,
            cwd=".", progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            # nbclient options: no per-cell timings, one output per stream and cell
            record_timing=False, coalesce_streams=True,
        )
    except papermill.PapermillExecutionError as exc:
        failed = Path(snakemake.log[0]).with_suffix(".failed.ipynb")
        if output.is_file():
            shutil.copyfile(output, failed)
        log.error("notebook %s failed in cell %s: %s: %s (executed copy: %s)",
                  snakemake.input.notebook, exc.exec_count, exc.ename, exc.evalue, failed)
        raise
    notebook = nbformat.read(output, as_version=nbformat.NO_CONVERT)
    errors = notebook_errors(notebook)
    if errors:  # a cell tagged raises-exception would let papermill carry on
        raise RuntimeError(f"{output}: error outputs: {errors}")
    nbformat.write(normalise_executed_notebook(notebook), output)
    log.info("executed notebook written without run times: %s", output)


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
