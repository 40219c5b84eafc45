"""Helpers of the synthetic-generator tests (test_synth.py for smesocial.synthetic.dk,
test_synth_no.py for smesocial.synthetic.no): a generator's context, allocation and default-seed
result as module fixtures, its parameters edited in a temporary copy of the project config, and
the checks of the shipped export and of the one CLI."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from smesocial.synthetic import core
from smesocial.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
README_SHA256 = re.compile(r"sha256 \(`[^`]+`\): `([0-9a-f]{64})`")


def generator_fixtures(generator: ModuleType, params: Path) -> tuple[Any, Any, Any]:
    """Module-scoped fixtures `ctx`, `allocation` and `result` (default seed) of a generator
    module; bind them in the test module: `ctx, allocation, result = generator_fixtures(...)`."""

    @pytest.fixture(scope="module")
    def ctx() -> Any:
        return generator.load_context(params, root=ROOT)

    @pytest.fixture(scope="module")
    def allocation(ctx: Any) -> core.Allocation:
        return generator.allocate_all(ctx)

    @pytest.fixture(scope="module")
    def result(ctx: Any, allocation: core.Allocation) -> Any:
        return generator.generate(context=ctx, allocation=allocation)

    return ctx, allocation, result


def copy_params(tmp_path: Path, params: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """The parameters file edited, with the project config it reads beside it in tmp_path."""
    for rel in ("config/codebook", "config/published"):
        shutil.copytree(ROOT / rel, tmp_path / rel)
    for rel in ("config/indicators.yaml", "config/config.yaml"):
        shutil.copy(ROOT / rel, tmp_path / rel)
    data = yaml.safe_load(params.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / params.relative_to(ROOT)
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def assert_params_rejected(generator: ModuleType, params: Path, tmp_path: Path,
                           edit: Callable[[dict[str, Any]], None], match: str) -> None:
    """Loading the parameters as `edit` changes them raises an InputError matching `match`."""
    path = copy_params(tmp_path, params, edit)
    with pytest.raises(InputError, match=match):
        generator.load_context(path, root=tmp_path)


def check_shipped(generator: ModuleType, params: Path, shipped: Path) -> str:
    """The shipped export's sha256 is the one its README states and a fresh generation's (the
    full path: no cached context, default seed), and the README says how to regenerate it.
    Returns the README."""
    readme_path = shipped.parent / "README.md"
    command = (f".venv/bin/python -m smesocial.synthetic --params {params.relative_to(ROOT)} "
               f"--out {shipped.relative_to(ROOT)}")
    assert shipped.is_file() and readme_path.is_file(), f"run: {command}"
    shipped_sha = hashlib.sha256(shipped.read_bytes()).hexdigest()
    readme = readme_path.read_text(encoding="utf-8")
    assert README_SHA256.findall(readme) == [shipped_sha]
    assert generator.generate(params, root=ROOT).sha256 == shipped_sha
    assert command in readme
    return readme


def run_cli(params: Path, out: Path, seed: int, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> str:
    """Run the one CLI (smesocial.synthetic.core.main, `python -m smesocial.synthetic`) from the
    repository root with `seed`, writing `out` and the README beside it, which must state the
    export's sha256. Returns what it printed."""
    monkeypatch.chdir(ROOT)
    assert core.main(["--params", str(params), "--out", str(out), "--seed", str(seed)]) == 0
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    assert sha in (out.parent / "README.md").read_text(encoding="utf-8")
    return capsys.readouterr().out
