"""The workflow on a real SLURM: a single-node cluster brought up on this machine
(workflow/cluster/slurm_local.sh), the whole build submitted through profiles/slurm, its
results byte-identical to the local build's, and a failing job ending the run with the
project's own message rather than a hang.

Needs root and apt-get (it installs Debian's SLURM packages and starts the daemons). Elsewhere
it skips saying so; with CI=true it fails instead, so CI cannot pass without running it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workflow_support import ROOT, copy_repository, digests, run_workflow

pytestmark = pytest.mark.e2e

SCRIPT = ROOT / "workflow" / "cluster" / "slurm_local.sh"
JOBCOMP_LOG = Path("/var/log/slurm/jobcomp.log")
# Measured here: the build 4-6 min through SLURM, the failing run ~30 s; well beyond, a run
# hangs (the executor's known failure mode is to poll forever), which is a failure.
BUILD_TIMEOUT = 900
FAILURE_TIMEOUT = 300
SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+)")


def cannot_run() -> str | None:
    if os.geteuid() != 0:
        return "needs root to install and start SLURM's daemons"
    if shutil.which("apt-get") is None:
        return "needs apt-get (Debian's slurmctld, slurmd, slurm-client and munge packages)"
    return None


@pytest.fixture(scope="module")
def slurm() -> None:
    reason = cannot_run()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the SLURM test must run in CI, but it {reason}")
        pytest.skip(reason)
    started = subprocess.run(["bash", str(SCRIPT), "up"], capture_output=True, text=True,
                             timeout=600)
    assert started.returncode == 0, started.stderr[-3000:]
    try:
        yield
    finally:
        stopped = subprocess.run(["bash", str(SCRIPT), "down"], capture_output=True, text=True,
                                 timeout=120)
        assert stopped.returncode == 0, stopped.stderr[-3000:]


def slurm_environment() -> dict[str, str]:
    """What workflow/run.sh exports before calling snakemake; sbatch hands it to every job."""
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def run_on_slurm(workdir: Path, *targets: str, timeout: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("snakemake")), "--directory", str(workdir),
         "--workflow-profile", str(workdir / "profiles" / "slurm"),
         # the local cluster has no accounts; a real one may need slurm_account instead
         "--slurm-no-account", *targets],
        cwd=workdir, capture_output=True, text=True, timeout=timeout, env=slurm_environment(),
    )


def completed_jobs() -> dict[str, str]:
    """SLURM's own record of finished jobs (job-completion log): job id -> final state."""
    if not JOBCOMP_LOG.exists():
        return {}
    jobs = {}
    for line in JOBCOMP_LOG.read_text().splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if "JobId" in fields:
            jobs[fields["JobId"]] = fields.get("JobState", "")
    return jobs


def test_the_build_through_slurm_is_byte_identical_to_the_local_build(
    slurm: None, two_runs: tuple[Path, dict[str, str], dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    _, local, _ = two_runs
    workdir = copy_repository(tmp_path_factory.mktemp("slurm"))
    start = time.perf_counter()
    done = run_on_slurm(workdir, timeout=BUILD_TIMEOUT)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-4000:]
    job_ids = SUBMITTED.findall(done.stderr)
    # Every job but `all` (no command) went to SLURM: with the pipeline grouped, one job per
    # wave chain and per ensemble draw, plus one per reporting rule.
    assert len(job_ids) >= 10, done.stderr[-4000:]
    finished = completed_jobs()
    assert {job: finished.get(job) for job in job_ids} == {job: "COMPLETED" for job in job_ids}
    assert "localrule" not in done.stderr.replace("localrule all", "")
    slurm_results = digests(workdir / "results")
    assert set(slurm_results) == set(local)
    assert {name for name in local if slurm_results[name] != local[name]} == set()
    print(f"SLURM build: {len(job_ids)} SLURM jobs in {seconds:.0f} s")


def test_a_failing_job_on_slurm_ends_the_run_with_the_projects_message(
    slurm: None, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    import yaml

    workdir = copy_repository(tmp_path_factory.mktemp("slurm_failing"))
    config_file = workdir / "config" / "config.yaml"
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    # a raw export with a negative employee count: ingest refuses it
    config["waves"]["dk_2024"]["raw_file"] = "tests/data/bad/employees_negative.csv"
    # declared as it is, so ingest gets as far as the count
    config["waves"]["dk_2024"]["raw_sha256"] = hashlib.sha256(
        (workdir / "tests/data/bad/employees_negative.csv").read_bytes()).hexdigest()
    config_file.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                           encoding="utf-8")
    done = run_on_slurm(workdir, "results/dk_2024/clean.parquet", timeout=FAILURE_TIMEOUT)
    assert done.returncode != 0
    job_ids = SUBMITTED.findall(done.stderr)
    assert len(job_ids) == 1, done.stderr[-4000:]
    assert completed_jobs().get(job_ids[0]) == "FAILED"
    # the script's one-paragraph error, in the rule's log and shown by Snakemake
    log = (workdir / "results" / "logs" / "dk_2024" / "ingest.log").read_text()
    assert "'-5' is negative" in log and "row(s) 3" in log
    assert "'-5' is negative" in done.stderr, done.stderr[-4000:]
    assert not (workdir / "results" / "dk_2024" / "ingested.parquet").exists()
