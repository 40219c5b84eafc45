"""Snakemake entry: a batch of the ensemble's draws, each run through the stage rules' own jobs
(common.smk draw_jobs) by their own scripts, in this one process -> results/ensemble/batch<NNN>/."""

import time
from itertools import groupby
from pathlib import Path

from smesocial.ensemble import job_object
from smesocial.errors import InputError
from smesocial.runner import configure_logging, log, run_in_process, run_step


def step(snakemake) -> None:
    batch_log = snakemake.log[0]
    log.info("draws %s: %d steps", ", ".join(snakemake.params.draws), len(snakemake.params.jobs))
    costs = []
    try:
        for draw, steps in groupby(snakemake.params.jobs, key=lambda job: job["draw"]):
            steps = list(steps)
            for job in steps:
                started, cpu = time.perf_counter(), time.process_time()
                try:
                    # The steps' config reads are this job's: a change to one reruns the batch.
                    snakemake.config_read.update(run_in_process(job["script"], job_object(job)))
                except InputError as exc:
                    raise InputError(exc.file, f"draw {draw}, rule {job['rule']}: {exc.problem}",
                                     column=exc.column, rows=exc.rows, found=exc.found,
                                     expected=exc.expected, missing=exc.missing) from exc
                finally:
                    configure_logging(batch_log, mode="a")  # back to this job's log
                costs.append((draw, job["rule"], time.process_time() - cpu,
                              time.perf_counter() - started))
            # Temporary outputs (the draw's export, identifiers included) go once the draw is done.
            for path in (p for job in steps for p in job["temp"]):
                Path(path).unlink(missing_ok=True)
    finally:
        for draw, rule, cpu, wall in costs:  # read by workflow/bench/ensemble.py
            log.info("step cost: draw %s, rule %s: %.3f s CPU, %.3f s wall", draw, rule, cpu, wall)
        # the process's CPU since it started: Python, Snakemake's preamble and imports included
        log.info("batch cost: %.3f s CPU", time.process_time())


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
