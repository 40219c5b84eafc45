"""`bash workflow/run.sh verify`: check a results tree against its provenance manifest.

A reviewer given results/ (and the checkout) can check, without writing code, that every file
results/provenance.json records still has the checksum recorded when it was made, that none is
missing, that results/ holds no file the build did not make, and whether results/ was built
from the current commit and configuration. The report goes to stdout; the exit status is 0 when
everything holds, 1 when anything does not, 2 when there is nothing to verify (no readable
manifest).

Not recorded by design, and so not reported: the logs and benchmarks (they hold times), the
Snakemake report (made after the manifest) and the manifest itself.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from smesocial.provenance import MANIFEST_VERSION, git_state, sha256_now

MANIFEST = "results/provenance.json"
CONFIG_FILE = "config/config.yaml"
# Under results/, made by the build but never recorded (times, or made after the manifest).
NOT_RECORDED = ("results/logs/", "results/benchmarks/")
NOT_RECORDED_FILES = ("results/report.html", MANIFEST)
SHORT = 12  # characters of a sha256 shown


@dataclass(frozen=True)
class Recorded:
    """One checksum the manifest records for a path, and where it records it."""

    sha256: str
    where: str  # "output of rule stats", "input of results/x.csv", "raw input or configuration"


@dataclass
class Report:
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)
    build_state: list[str] = field(default_factory=list)  # problems: not built from this checkout
    notes: list[str] = field(default_factory=list)  # facts that are not problems
    commit_checked: bool = True
    checked: int = 0

    def problems(self) -> int:
        return (len(self.changed) + len(self.missing) + len(self.unrecorded)
                + len(self.inconsistent) + len(self.build_state))


def recorded_checksums(manifest: Mapping[str, Any]) -> dict[str, list[Recorded]]:
    """Every path the manifest records a checksum for: its raw inputs and configuration, each
    output, and each input an output was made from."""
    recorded: dict[str, list[Recorded]] = defaultdict(list)
    for item in manifest.get("inputs", []):
        recorded[item["path"]].append(Recorded(item["sha256"], "raw input or configuration"))
    for output in manifest.get("outputs", []):
        recorded[output["path"]].append(Recorded(output["sha256"],
                                                 f"output of rule {output.get('rule')}"))
        for item in output.get("inputs", []):
            recorded[item["path"]].append(Recorded(item["sha256"], f"input of {output['path']}"))
    return dict(recorded)


def describe(entries: Sequence[Recorded]) -> str:
    """What a path is to the build, from its records: the output of a rule, a raw input or
    configuration file, or else the input of which outputs."""
    kinds = [e.where for e in entries if not e.where.startswith("input of ")]
    if kinds:
        return kinds[0]
    readers = sorted(e.where.removeprefix("input of ") for e in entries)
    return f"input of {_listed(readers, 2)}"


def _short(digest: str | None) -> str:
    return "(none)" if digest is None else digest[:SHORT]


def check_checksums(recorded: Mapping[str, Sequence[Recorded]], root: Path,
                    hasher: Callable[[Path], str] = sha256_now) -> Report:
    """Each recorded path re-hashed: changed (with the recorded and current checksum and where
    the manifest records it), missing, or recorded with two checksums (an output made from an
    older version of its input)."""
    report = Report()
    for path in sorted(recorded):
        entries = recorded[path]
        file = root / path
        if not file.is_file():
            report.missing.append(f"{path} ({describe(entries)})")
            continue
        report.checked += 1
        now = hasher(file)
        digests = sorted({e.sha256 for e in entries})
        if len(digests) > 1:
            report.inconsistent.append(
                f"{path}: recorded as " + "; ".join(
                    f"{_short(d)} ({describe([e for e in entries if e.sha256 == d])})"
                    for d in digests) + f"; now {_short(now)}")
        elif now != digests[0]:
            report.changed.append(f"{path}: recorded {_short(digests[0])} ({describe(entries)}), "
                                  f"now {_short(now)}")
    return report


def unrecorded_files(results: Path, root: Path, recorded: Iterable[str]) -> list[str]:
    """Files under results/ the manifest does not record (logs, benchmarks, the Snakemake
    report and the manifest itself aside)."""
    known = set(recorded)
    found = []
    for file in sorted(p for p in results.rglob("*") if p.is_file()):
        path = file.relative_to(root).as_posix()
        if path in known or path in NOT_RECORDED_FILES or path.startswith(NOT_RECORDED):
            continue
        found.append(path)
    return found


def config_differences(recorded: Any, current: Any, prefix: str = "") -> list[str]:
    """Keys (slash-joined) whose value in the configuration file differs from the configuration
    the build recorded. Only keys the file sets count: the build's copy also holds the schema's
    defaults, which the file leaves out."""
    if isinstance(current, Mapping):
        if not isinstance(recorded, Mapping):
            return [prefix or "(the whole configuration)"]
        differing = []
        for key, value in current.items():
            path = f"{prefix}/{key}" if prefix else str(key)
            if key not in recorded:
                differing.append(path)
            else:
                differing.extend(config_differences(recorded[key], value, path))
        return differing
    return [] if recorded == current else [prefix or "(the whole configuration)"]


def _changed_between(root: Path, first: str, second: str) -> list[str] | None:
    try:
        done = subprocess.run(["git", "diff", "--name-only", "--no-renames", first, second, "--"],
                              cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None  # e.g. the build's commit is not in this clone
    return sorted(filter(None, done.stdout.splitlines()))


def _listed(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def compare_checkouts(built: Mapping[str, Any], now: Mapping[str, Any],
                      changed_between: Callable[[str, str], list[str] | None] | None = None,
                      ) -> tuple[list[str], list[str]]:
    """(problems, notes): whether the checkout the build recorded (`git` of the manifest) is the
    current one (`smesocial.provenance.git_state` now): the same commit and the same
    uncommitted changes, file by file."""
    built_commit, now_commit = built.get("commit", "unknown"), now.get("commit", "unknown")
    if built_commit == "unknown":
        return [], ["results/ were not built in a git checkout: which commit made them cannot "
                    "be checked (the checksums above still are)"]
    if now_commit == "unknown":
        return [], [f"results/ were built from commit {built_commit}, but this directory is not "
                    "a git checkout: whether it holds that commit cannot be checked"]
    problems: list[str] = []
    if built_commit != now_commit:
        between = changed_between(built_commit, now_commit) if changed_between else None
        detail = (f" (files that differ between them: {_listed(between)})" if between
                  else "")
        problems.append(f"results/ were built from commit {built_commit}; the checkout is at "
                        f"{now_commit}{detail}")
    built_changes = {f["path"]: f["sha256"] for f in built.get("tracked_files_modified") or []}
    now_changes = {f["path"]: f["sha256"] for f in now.get("tracked_files_modified") or []}
    if built_commit == now_commit:
        differing = sorted(p for p in built_changes.keys() | now_changes.keys()
                           if built_changes.get(p, "unmodified") != now_changes.get(p, "unmodified"))
        if differing:
            problems.append("tracked files differ from the checkout results/ were built from "
                            f"(uncommitted changes made or undone since): {_listed(differing)}")
    notes = []
    if not problems:
        state = (f" with the same uncommitted changes to {_listed(sorted(now_changes))}"
                 if now_changes else ", no uncommitted changes")
        notes.append(f"results/ were built from the current checkout: commit {now_commit}{state}")
    elif now_changes and built_commit != now_commit:
        notes.append(f"the checkout also has uncommitted changes to {_listed(sorted(now_changes))}")
    return problems, notes


def check_config(manifest: Mapping[str, Any], config_file: Path,
                 name: str = CONFIG_FILE) -> list[str]:
    """Problems when the configuration the build recorded is not the configuration file as it
    is (`name`: the file as the report names it)."""
    try:
        current = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{name} is missing"]
    except yaml.YAMLError as exc:
        return [f"{name} is not valid YAML ({exc}): the configuration cannot be compared"]
    differing = config_differences(manifest.get("config", {}), current or {})
    if differing:
        return [f"the configuration results/ were built with differs from {name} at: "
                f"{_listed(differing)}"]
    return []


def verify(root: Path, manifest_path: Path, config_file: Path) -> Report:
    """The whole check: checksums, unrecorded files, the checkout and the configuration."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    recorded = recorded_checksums(manifest)
    report = check_checksums(recorded, root)
    report.unrecorded = unrecorded_files(root / "results", root, recorded)
    built, now = manifest.get("git", {}), git_state(root)
    problems, notes = compare_checkouts(
        built, now, lambda first, second: _changed_between(root, first, second))
    report.build_state = problems + check_config(manifest, config_file)
    version = manifest.get("manifest_version")
    if version != MANIFEST_VERSION:
        notes.append(f"the manifest is version {version}, this workflow writes version "
                     f"{MANIFEST_VERSION} (which records intermediate files too): rebuild with "
                     "`bash workflow/run.sh build` before reading the lists above")
    report.notes = notes
    report.commit_checked = "unknown" not in (built.get("commit", "unknown"), now["commit"])
    return report


def render(report: Report, manifest: str) -> list[str]:
    """The report's lines, one section per kind of problem."""
    lines = [f"smesocial verify: {report.checked} recorded files re-hashed against {manifest}"]
    for title, items in (("changed since they were recorded", report.changed),
                         ("missing", report.missing),
                         ("in results/ but not recorded (not made by this build)",
                          report.unrecorded),
                         ("recorded with two checksums (made from an older input)",
                          report.inconsistent),
                         ("not built from the current checkout and configuration",
                          report.build_state)):
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines.extend(f"  {item}" for item in items)
    lines.extend(f"note: {note}" for note in report.notes)
    return lines


def verdict(report: Report) -> str:
    if not report.problems():
        unchecked = "" if report.commit_checked else " (the commit is not checked: see the note)"
        return f"smesocial verify: results/ match their provenance{unchecked}."
    counts = [f"{len(items)} {label}" for label, items in (
        ("changed", report.changed), ("missing", report.missing),
        ("not recorded", report.unrecorded), ("recorded twice", report.inconsistent),
        ("about the build's checkout or configuration", report.build_state)) if items]
    return (f"smesocial verify: results/ do not match their provenance: {', '.join(counts)} "
            "(listed above); rebuild with `bash workflow/run.sh build`.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bash workflow/run.sh verify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=".", help="the repository root (default: .)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        print(f"smesocial verify: {MANIFEST} not found: nothing to verify; build first with "
              "`bash workflow/run.sh build`.", file=sys.stderr)
        return 2
    try:
        report = verify(root, manifest_path, root / CONFIG_FILE)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        print(f"smesocial verify: {MANIFEST} is not a readable provenance manifest ({exc}); "
              "rebuild with `bash workflow/run.sh build`.", file=sys.stderr)
        return 2
    for line in render(report, MANIFEST):
        print(line)
    if report.problems():
        sys.stdout.flush()
        print(verdict(report), file=sys.stderr)
        return 1
    print(verdict(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
