"""The one full workflow run (twice, to compare bytes) that every end-to-end test reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflow_support import copy_repository, digests, run_workflow


@pytest.fixture(scope="session")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], dict[str, str]]:
    first = copy_repository(tmp_path_factory.mktemp("run1"))
    second = copy_repository(tmp_path_factory.mktemp("run2"))
    for workdir in (first, second):
        done = run_workflow(workdir)
        assert done.returncode == 0, done.stderr[-4000:]
    return first, digests(first / "results"), digests(second / "results")


