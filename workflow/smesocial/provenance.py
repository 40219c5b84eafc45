"""The run's provenance manifest: what made each output, from which inputs, with which code.

Snakemake already records, for every file it makes, the rule and the concrete input files of
the job (in .snakemake/metadata/); reading that record, rather than re-deriving the DAG here,
keeps the manifest true to what actually ran. Besides the final outputs it lists every file the
build made on the way to them (a wave's intermediate tables, each ensemble draw's files, the
manuscript's staged build), so that `python -m smesocial.verify` can tell a file the build made
from one it did not. Times are left out so that two runs of the same checkout give the same
manifest; every path is relative to the repository root.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import os
import platform
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

MANIFEST_VERSION = 2


def sha256_now(path: str | Path) -> str:
    with Path(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# Cached: a file that feeds many outputs is hashed once per manifest.
sha256_file = functools.cache(sha256_now)


def file_record(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    return {"path": path.as_posix(), "sha256": sha256_file(path), "bytes": path.stat().st_size}


def repo_relative(path: str | Path, root: str | Path) -> str:
    """`path` (absolute, or relative to the working directory, `..` allowed) relative to the
    repository root, as every path of the manifest is: `workflow/rules/../scripts/x.py` ->
    `workflow/scripts/x.py`."""
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(root))).as_posix()


def _record_name(parts: Iterable[str]) -> str | None:
    """The path a metadata file stands for: Snakemake names it by the urlsafe base64 of the
    output's path, split into folders (prefixed '@') where that is longer than a file name."""
    encoded = "".join(part.removeprefix("@") for part in parts)
    try:
        return base64.urlsafe_b64decode(encoded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def snakemake_records(metadata_dir: Path) -> dict[str, dict[str, Any]]:
    """Every record Snakemake keeps of a file it made: path -> record (empty without a
    metadata folder)."""
    records: dict[str, dict[str, Any]] = {}
    if not metadata_dir.is_dir():
        return records
    for folder, _, files in os.walk(metadata_dir):
        prefix = Path(folder).relative_to(metadata_dir).parts
        for name in files:
            path = _record_name([*prefix, name])
            if path is None:
                continue
            try:
                records[path] = json.loads((Path(folder) / name).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a record being written or damaged: the file counts as unrecorded
    return records


def _job_of(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """What the records of one job's outputs share: the rule, Snakemake's hash of the job
    (its rule and wildcards) and its log files."""
    return (record.get("rule"), record.get("job_hash"), tuple(sorted(record.get("log", []))))


def made_by_build(finals: Iterable[str], records: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every file the build made to reach `finals`: the finals, the outputs of the jobs that made
    them (a job's other outputs included) and, recursively, the recorded inputs of those jobs
    that the build made itself. Directories (a `directory()` output) stay as one path."""
    siblings: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for path, record in records.items():
        siblings[_job_of(record)].append(path)
    seen: set[str] = set()
    queue = list(finals)
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        record = records.get(path)
        if record is None:
            continue
        queue.extend(siblings[_job_of(record)])
        queue.extend(p for p in record.get("input", []) if p in records)
    return sorted(seen)


def _files_of(path: str) -> list[str]:
    """A made path as files: itself, or a directory output's files (sorted)."""
    folder = Path(path)
    if folder.is_dir():
        return sorted(p.as_posix() for p in folder.rglob("*") if p.is_file())
    return [path] if folder.is_file() else []


def package_versions(names: Iterable[str]) -> dict[str, str]:
    versions = {}
    for name in sorted(set(names)):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          check=True).stdout


def modified_files(repo: Path) -> list[dict[str, Any]]:
    """Tracked files whose working copy differs from the commit (staged or not), each with the
    sha256 of the working copy (None: deleted)."""
    names = _git(repo, "diff", "--name-only", "--no-renames", "-z", "HEAD", "--").split("\0")
    found = []
    for name in sorted(filter(None, names)):
        path = repo / name
        found.append({"path": name, "sha256": sha256_now(path) if path.is_file() else None})
    return found


def git_state(repo: Path) -> dict[str, Any]:
    """The commit and which tracked files differed from it, with their checksums (hashed
    afresh, as a checkout changes between calls); 'unknown' outside a git checkout."""
    try:
        commit = _git(repo, "rev-parse", "HEAD").strip()
        return {"commit": commit, "tracked_files_modified": modified_files(repo)}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown", "tracked_files_modified": None}


def requirement_names(requirements: Path) -> list[str]:
    names = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line.split("==", 1)[0].strip())
    return names


def build_manifest(
    *,
    config: Mapping[str, Any],
    inputs: Iterable[str],
    outputs: Iterable[str],
    scripts_by_rule: Mapping[str, str | None],
    metadata_dir: Path,
    repo: Path,
    requirements: Path,
    inputs_of: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, Any]:
    """`outputs` are the build's final outputs; the manifest lists them (`final: true`) and every
    file the build made to reach them (`final: false`), each with the rule and script that made
    it, the inputs it read (with checksums) and its log.

    The inputs of a file are its job's, as Snakemake recorded them, except for a file in
    `inputs_of`: a job that runs independent parts (the notebooks job, a notebook per part)
    names there what the part that made the file read. Those must be inputs of the job."""
    finals = set(outputs)
    records = snakemake_records(metadata_dir)
    own_inputs = {path: sorted(set(inputs)) for path, inputs in (inputs_of or {}).items()}
    produced = []
    for made in made_by_build(sorted(finals), records):
        record = records.get(made) or {}
        rule = record.get("rule", "unknown")
        recorded = sorted(record.get("input", []))
        for path in _files_of(made):
            names = own_inputs.get(path, recorded)
            if not set(names) <= set(recorded):
                raise ValueError(f"{path}: inputs {sorted(set(names) - set(recorded))} are no "
                                 f"inputs of the {rule} job that made it")
            produced.append({
                **file_record(path),
                "final": made in finals,
                "rule": rule,
                "script": scripts_by_rule.get(rule),
                "inputs": [file_record(p) for p in names if Path(p).is_file()],
                "log": sorted(record.get("log", [])),
            })
    return {
        "manifest_version": MANIFEST_VERSION,
        "git": git_state(repo),
        "python": platform.python_version(),
        "packages": package_versions(requirement_names(requirements)),
        "config": dict(config),
        "inputs": [file_record(p) for p in sorted(set(inputs))],
        "outputs": sorted(produced, key=lambda o: o["path"]),
    }


def write_manifest(manifest: Mapping[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                          encoding="utf-8")
