"""The run's provenance manifest: what made each output, from which inputs, with which code.

Snakemake already records, for every file it makes, the rule and the concrete input files of
the job (in .snakemake/metadata/); reading that record, rather than re-deriving the DAG here,
keeps the manifest true to what actually ran. Times are left out so that two runs of the same
checkout give the same manifest.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

MANIFEST_VERSION = 1


@functools.cache
def sha256_file(path: str | Path) -> str:
    """Cached: a file that feeds many outputs is hashed once per manifest."""
    with Path(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_record(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    return {"path": path.as_posix(), "sha256": sha256_file(path), "bytes": path.stat().st_size}


def snakemake_record(output: str, metadata_dir: Path) -> dict[str, Any] | None:
    """Snakemake's own record of the job that made `output` (None when there is none)."""
    for encode in (base64.urlsafe_b64encode, base64.b64encode):
        candidate = metadata_dir / encode(output.encode()).decode()
        if candidate.is_file():
            return json.loads(candidate.read_text(encoding="utf-8"))
    return None


def package_versions(names: Iterable[str]) -> dict[str, str]:
    versions = {}
    for name in sorted(set(names)):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_state(repo: Path) -> dict[str, Any]:
    """Commit and whether tracked files differ from it; 'unknown' outside a git checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, check=True).stdout.strip()
        return {"commit": commit, "tracked_files_modified": bool(dirty)}
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
) -> dict[str, Any]:
    produced = []
    for output in sorted(set(outputs)):
        record = snakemake_record(output, metadata_dir) or {}
        rule = record.get("rule", "unknown")
        produced.append({
            **file_record(output),
            "rule": rule,
            "script": scripts_by_rule.get(rule),
            "inputs": [file_record(p) for p in sorted(record.get("input", [])) if Path(p).is_file()],
            "log": sorted(record.get("log", [])),
        })
    return {
        "manifest_version": MANIFEST_VERSION,
        "git": git_state(repo),
        "python": platform.python_version(),
        "packages": package_versions(requirement_names(requirements)),
        "config": dict(config),
        "inputs": [file_record(p) for p in sorted(set(inputs))],
        "outputs": produced,
    }


def write_manifest(manifest: Mapping[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                          encoding="utf-8")
