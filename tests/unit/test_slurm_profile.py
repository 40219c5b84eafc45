"""profiles/slurm/config.yaml names real rules, and its status polling agrees with the local
SLURM's configuration (the plugin hangs or falls back to sacct otherwise)."""

from __future__ import annotations

import re

import yaml

from workflow_files import ROOT, RULES

PROFILE = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
SCRIPT = (ROOT / "workflow" / "cluster" / "slurm_local.sh").read_text()


def rule_names() -> set[str]:
    return {m for path in RULES.glob("*.smk")
            for m in re.findall(r"^rule (\w+):", path.read_text(), flags=re.M)}


def test_every_rule_the_profile_names_exists():
    # a renamed rule would silently lose its resources or leave its group
    grouped = {entry.split("=")[0] for entry in PROFILE["groups"]}
    named = grouped | set(PROFILE["set-resources"])
    assert named - rule_names() == set()


def test_the_grouped_rules_are_the_per_wave_chain_without_the_battery():
    # stats reads every wave: grouped, it would merge all chains into one; the ensemble's draws
    # already run in batches (ensemble_batch), one SLURM job each
    grouped = {entry.split("=")[0] for entry in PROFILE["groups"]}
    assert grouped == {"ingest", "segment", "clean", "weights", "estimates"}
    assert "ensemble_batch" in PROFILE["set-resources"]


def test_squeue_polling_fits_the_local_slurms_min_job_age():
    assert PROFILE["executor"] == "slurm"
    assert PROFILE["slurm-status-command"] == "squeue"
    min_job_age = int(re.search(r"^MinJobAge=(\d+)$", SCRIPT, flags=re.M).group(1))
    assert min_job_age >= 3 * PROFILE["slurm-init-seconds-before-status-checks"]


def test_every_job_asks_for_one_cpu_and_memory_and_time():
    defaults = PROFILE["default-resources"]
    assert defaults["cpus_per_task"] == 1 and PROFILE["cores"] == 1
    assert defaults["mem_mb"] >= 512 and defaults["runtime"] >= 5
