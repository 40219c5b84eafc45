"""Editing the configuration reruns exactly the steps that read what changed.

Scripts see configuration only through their rule's params (smesocial.runner hides
`snakemake.config`) and every step logs the keys its script read ("config read: ..."). For every
leaf of config/config.yaml this test changes the value in a copy of a built workflow and asks
Snakemake which outputs it would now rebuild (the `plan` of its detailed summary: what a
`--dry-run` schedules). That must be exactly the outputs of the steps that read the key, or
take the file it names as an input, and of everything downstream of them. The keys come from
the config itself, so a key added later is covered without editing this test. Editing each
config file the workflow reads must likewise rerun exactly its readers and their descendants.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from smesocial.respondent_key import KEY_ENV
from workflow_support import SNAKEMAKE

pytestmark = pytest.mark.e2e

CONFIG = "config/config.yaml"
READ_PREFIX = "INFO smesocial: config read: "
# Values of a closed set (the schema's enums): another member of the set.
OTHER_MEMBER = {"da": "en", "nb": "nn", "first_complete": "last_complete", "error": "warn",
                "warn": "error", "beta": "logit", "logit": "beta"}
# Keys that cannot change alone without making the configuration contradict itself: the
# workflow must refuse to start, naming what is wrong (checked below), instead of running.
REFUSED_ALONE = {
    # a country outside the schema's DK/NO (and DK<->NO would leave the comparison one-sided)
    "waves/dk_2024/country": "Error validating config file",
    "waves/no_2010/country": "Error validating config file",
    # a raw file's sha256 is 64 hex digits (another valid one would stop ingest, which reads it)
    "waves/dk_2024/raw_sha256": "Error validating config file",
    "waves/no_2010/raw_sha256": "Error validating config file",
    # a wave of real data needs the respondent key's secret, which the test leaves unset
    "waves/dk_2024/synthetic": "wave dk_2024 is not marked synthetic",
    "waves/no_2010/synthetic": "wave no_2010 is not marked synthetic",
    # a wave's segmentation names a configured scheme
    "waves/dk_2024/segmentation": "waves.dk_2024.segmentation names an unknown segmentation",
    "waves/no_2010/segmentation": "waves.no_2010.segmentation names an unknown segmentation",
    # the ensemble reconstructs a configured wave
    "ensemble/wave": "ensemble.wave names no configured wave",
    # the only value the schema allows for a wave without population targets
    "weighting/dk_2024/targets": "Error validating config file",
    # a weighting margin is the segment column of the wave's weighting scheme, and names a
    # configured population target
    "weighting/no_2010/scheme": "weighting.no_2010.scheme names an unknown segmentation scheme",
    "weighting/no_2010/margins/0/variable": "segment column of another scheme",
    "weighting/no_2010/margins/0/population": "names an unknown population target",
}
# Keys a step reads only for some waves, known once it runs: the rule declares them for every
# wave, so Snakemake may rerun it (to the same result) where this run did not read the key.
READ_FOR_SOME_WAVES = {
    # the configured sample names a wave's respondents only where its export has no sample
    # column; the Norwegian export has one (panel/expert)
    ("clean", "sample"),
}


@dataclass(frozen=True)
class Job:
    rule: str
    log: str
    inputs: frozenset[str]
    outputs: frozenset[str]


def leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """('a/b/0/c', value) for every leaf: a value that is not a mapping or a list of mappings,
    as smesocial.runner.ReadConfig records reads."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, (*path, str(key)))
    elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
        for index, child in enumerate(value):
            yield from leaves(child, (*path, str(index)))
    else:
        yield "/".join(path), value


def set_leaf(config: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split("/")
    node: Any = config
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def changed(value: Any, workdir: Path, key_name: str = "") -> Any:
    """Another value of the same kind: a file named by the key is copied to a new name."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return round(value * 1.5, 6)
    if value is None:
        return "micro" if key_name == "0" else 1000  # a mapping's class, or a head count
    if isinstance(value, list):
        return [*value, changed(value[-1], workdir) if value else "added"]
    if isinstance(value, str) and value in OTHER_MEMBER:
        return OTHER_MEMBER[value]
    if isinstance(value, str) and (workdir / value).is_file():
        source = Path(value)
        copy = source.with_name(f"{source.stem}_edited{source.suffix}")
        shutil.copy2(workdir / source, workdir / copy)
        return copy.as_posix()
    return f"{value}_edited"


def _dag(workdir: Path, show: Any) -> str:
    """What `show(dag)` prints for the workflow in `workdir`, in-process (the imports are paid
    once, so each configuration costs a fraction of a second)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (ConfigSettings, DAGSettings, OutputSettings,
                                          ResourceSettings, StorageSettings)

    printed = io.StringIO()
    with contextlib.chdir(workdir), SnakemakeApi(OutputSettings()) as api:
        workflow = api.workflow(resource_settings=ResourceSettings(cores=1),
                                config_settings=ConfigSettings(),
                                storage_settings=StorageSettings(),
                                snakefile=workdir / "Snakefile", workdir=workdir)
        dag = workflow.dag(dag_settings=DAGSettings())
        with contextlib.redirect_stdout(printed):
            show(dag)
    return printed.getvalue()


def input_changes(workdir: Path) -> set[str]:
    """Outputs whose step now has another set of input files (Snakemake's --list-changes input)."""
    from snakemake.settings.enums import ChangeType

    return set(_dag(workdir, lambda dag: dag.list_changes(ChangeType.INPUT)).split())


def summary(workdir: Path) -> list[dict[str, str]]:
    """Snakemake's detailed summary of the workflow in `workdir` (its `plan` says what a
    --dry-run schedules)."""
    printed = _dag(workdir, lambda dag: dag.summary(detailed=True))
    return list(csv.DictReader(io.StringIO(printed), delimiter="\t"))


def jobs_of(rows: list[dict[str, str]]) -> dict[str, Job]:
    """The jobs by log file (one log per job) with their inputs and outputs."""
    grouped: dict[str, dict[str, Any]] = {}
    for row in rows:
        log = row["log-file(s)"]
        job = grouped.setdefault(log, {"rule": row["rule"], "inputs": set(), "outputs": set()})
        job["inputs"] |= set(filter(None, row["input-file(s)"].split(",")))
        job["outputs"].add(row["output_file"])
    return {log: Job(j["rule"], log, frozenset(j["inputs"]), frozenset(j["outputs"]))
            for log, j in grouped.items()}


def pending(rows: list[dict[str, str]]) -> set[str]:
    return {row["output_file"] for row in rows if row["plan"] != "no update"}


def with_descendants(direct: set[str], jobs: dict[str, Job]) -> set[str]:
    """The outputs of the `direct` jobs and of every job downstream of them."""
    affected = set(direct)
    outputs = {o for log in affected for o in jobs[log].outputs}
    grew = True
    while grew:
        grew = False
        for log, job in jobs.items():
            if log not in affected and job.inputs & outputs:
                affected.add(log)
                outputs |= job.outputs
                grew = True
    return outputs


def reads_of(workdir: Path, jobs: dict[str, Job]) -> dict[str, set[str]]:
    """Per job, the config keys its script logged as read."""
    reads: dict[str, set[str]] = {}
    for log in jobs:
        lines = (workdir / log).read_text(encoding="utf-8").splitlines()
        listed = [line.removeprefix(READ_PREFIX) for line in lines if line.startswith(READ_PREFIX)]
        assert listed, f"{log} does not say which configuration its step read"
        reads[log] = set() if listed[-1] == "none" else set(listed[-1].split(", "))
    return reads


@pytest.fixture(scope="module")
def built(two_runs: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of a built workflow (results, logs and Snakemake's metadata, times kept)."""
    first, _, _ = two_runs
    workdir = tmp_path_factory.mktemp("config_params") / "repo"
    shutil.copytree(first, workdir, symlinks=True)
    return workdir


@pytest.fixture(scope="module")
def baseline(built: Path) -> tuple[dict[str, Job], dict[str, set[str]]]:
    rows = summary(built)
    assert pending(rows) == set(), "a freshly built workflow must have nothing to rebuild"
    jobs = jobs_of(rows)
    return jobs, reads_of(built, jobs)


def test_every_step_says_which_configuration_it_read(baseline: Any) -> None:
    jobs, reads = baseline
    by_rule = {jobs[log].rule: keys for log, keys in reads.items()}
    assert {"alpha", "random_seed"} <= by_rule["stats"]
    assert "exclusions/speeder_min_share_of_median" in by_rule["clean"]
    assert "exclusions/speeder_min_share_of_median" not in by_rule["ingest"]
    assert by_rule["manuscript"] == set()  # the paper reads results and its own files only
    assert all(key for keys in reads.values() for key in keys)


def test_each_config_key_reruns_exactly_its_readers_and_their_descendants(
        built: Path, baseline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs, reads = baseline
    monkeypatch.delenv(KEY_ENV, raising=False)  # so a wave marked real is refused, as documented
    original = (built / CONFIG).read_text(encoding="utf-8")
    config = yaml.safe_load(original)
    wrong: list[str] = []
    refused: dict[str, str] = {}
    checked = 0
    try:
        for key, value in leaves(config):
            mutated = yaml.safe_load(original)
            new_value = changed(value, built, key.rsplit("/", 1)[-1])
            set_leaf(mutated, key, new_value)
            (built / CONFIG).write_text(yaml.safe_dump(mutated, allow_unicode=True, sort_keys=False),
                                        encoding="utf-8")
            try:
                rows = summary(built)
            except Exception as exc:  # noqa: BLE001 - the start-up check's message is the result
                refused[key] = str(exc)
                continue
            rebuilt = pending(rows)
            checked += 1
            # Steps that read the config file itself (the manuscript takes values such as alpha
            # from it, each traced to its key in values.csv) depend on every key.
            direct = {log for log, keys in reads.items() if key in keys}
            direct |= {log for log, job in jobs.items() if CONFIG in job.inputs}
            if isinstance(value, str) and isinstance(new_value, str) and value != new_value:
                # A key naming a file: the steps that read it through this key, i.e. that had
                # it as an input and now have another set of inputs (a step may name the same
                # file by another route, as the generator does through its parameters file).
                moved = input_changes(built)
                direct |= {log for log, job in jobs.items()
                           if value in job.inputs and job.outputs & moved}
            expected = with_descendants(direct, jobs)
            # A key that adds steps (one more draw of the ensemble) adds outputs no step of the
            # built workflow had: those are new, not reruns. A temporary output (a draw's
            # export, deleted once used) is remade whenever a step that uses it reruns.
            rebuilt &= {o for job in jobs.values() for o in job.outputs}
            rebuilt -= {o for o in rebuilt - expected if not (built / o).exists()}
            tolerated = with_descendants(
                {log for log, job in jobs.items()
                 if (job.rule, key.rsplit("/", 1)[-1]) in READ_FOR_SOME_WAVES
                 and f"/{key.split('/')[1]}/" in log}, jobs)
            if not expected <= rebuilt <= expected | tolerated:
                wrong.append(f"{key}: Snakemake rebuilds {sorted(rebuilt - expected)} that do "
                             f"not read it, misses {sorted(expected - rebuilt)}")
    finally:
        (built / CONFIG).write_text(original, encoding="utf-8")
    assert not wrong, "\n".join(wrong)
    assert sorted(refused) == sorted(REFUSED_ALONE), {k: v[:200] for k, v in refused.items()}
    for key, says in REFUSED_ALONE.items():
        assert says in refused[key], f"{key}: {refused[key]}"
    assert checked == len(list(leaves(config))) - len(REFUSED_ALONE) >= 90


# A comment each kind of file ignores: the content changes (Snakemake compares checksums, so a
# bare `touch` reruns nothing), the meaning does not.
COMMENT = {".yaml": "\n# edited\n", ".yml": "\n# edited\n", ".bib": "\n% edited\n",
           ".qmd": "\n<!-- edited -->\n"}


def test_editing_a_config_file_reruns_exactly_its_readers(built: Path, baseline: Any) -> None:
    jobs, _reads = baseline
    files = sorted({f for job in jobs.values() for f in job.inputs
                    if f.startswith(("config/", "manuscript/")) and f != CONFIG})
    assert {"config/hypotheses.yaml", "config/harmonisation.yaml",
            "config/codebook/harmonised.yaml", "manuscript/values.yaml"} <= set(files)
    wrong = []
    for name in files:
        path = built / name
        original, stat = path.read_bytes(), path.stat()
        path.write_bytes(original + COMMENT[path.suffix].encode())
        try:
            rebuilt = pending(summary(built))
        finally:
            path.write_bytes(original)
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        expected = with_descendants({log for log, job in jobs.items() if name in job.inputs}, jobs)
        if rebuilt != expected:
            wrong.append(f"{name}: extra {sorted(rebuilt - expected)}, "
                         f"missing {sorted(expected - rebuilt)}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("key, value, rule", [("alpha", 0.1, "stats"),
                                              ("random_seed", 7, "stats")])
def test_dry_run_schedules_the_battery_when_alpha_or_seed_change(
        built: Path, key: str, value: Any, rule: str) -> None:
    """The reviewer's check from the command line: `snakemake -n` after editing the key."""
    original = (built / CONFIG).read_text(encoding="utf-8")
    config = yaml.safe_load(original)
    config[key] = value
    (built / CONFIG).write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    try:
        done = subprocess.run([str(SNAKEMAKE), "--dry-run", "--cores", "1", "--directory",
                               str(built)], cwd=built, capture_output=True, text=True)
    finally:
        (built / CONFIG).write_text(original, encoding="utf-8")
    assert done.returncode == 0, done.stderr[-2000:]
    scheduled = {line.split()[0] for line in done.stdout.splitlines()
                 if line.strip() and line.split()[-1].isdigit() and len(line.split()) == 2}
    assert rule in scheduled and "manuscript" in scheduled
    # The shipped waves' data steps stay as they are (a draw of the ensemble reruns: its
    # generator checks the draw with the project's settings, alpha among them).
    outputs = {line.split("output:")[1].strip() for line in done.stdout.splitlines()
               if line.strip().startswith("output:")}
    shipped = {o for out in outputs for o in out.split(", ")
               if re.match(r"results/(dk_2024|no_2010)/(ingested|segments|clean|weights)\.", o)}
    assert shipped == set()
