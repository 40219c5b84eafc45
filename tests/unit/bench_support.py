"""Loading a benchmark script of workflow/bench/ (not a package) as a module, for the tests of
its parts (test_bench_design.py, test_bench_scale.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).parents[2] / "workflow/bench"


def load_bench(name: str) -> ModuleType:
    """workflow/bench/<name>.py as the module bench_<name>."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module
