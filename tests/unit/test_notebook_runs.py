"""smesocial.notebook_runs: the notebooks of a build run one after another on one kernel, each
executed notebook what a kernel of its own would give (nothing left from the one before: names,
execution count, warnings already shown), on private sockets and without a word on stderr; a
notebook that fails is kept to show where, and an undeclared parameter stops the job."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path

import nbformat
import papermill
import pytest

from smesocial import notebook_runs
from smesocial.notebook_runs import NotebookRun, execute_notebooks

# A module both notebooks call: Python shows its warning once per place and process unless the
# kernel forgets that it was shown.
WARNER = """\
import warnings


def warn():
    warnings.warn("a warning from a module", UserWarning)
"""

FIRST = """\
# %%
import warner

# %% tags=["parameters"]
value = 1
notebook = ""
rule = ""
executed_notebook = ""

# %%
left_behind = value * 10
warner.warn()
left_behind
"""

SECOND = """\
# %%
import warner

# %% tags=["parameters"]
value = 2
notebook = ""
rule = ""
executed_notebook = ""

# %%
print("left_behind" in globals())
warner.warn()
value
"""

FAILING = """\
# %% tags=["parameters"]
value = 3
notebook = ""
rule = ""
executed_notebook = ""

# %%
raise KeyError("no such column")
"""


IMPORTS = """\
# %% tags=["parameters"]
notebook = ""
rule = ""
executed_notebook = ""

# %%
import gc
import sys
print("seaborn" in sys.modules, "scipy.stats" in sys.modules,
      [name for name in globals() if "seaborn" in name], gc.get_freeze_count() > 10_000)

# %%
import scipy.stats
print(scipy.stats.norm.cdf(0.0))
"""


def source(directory: Path, name: str, text: str) -> str:
    path = directory / "notebooks" / f"{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path.relative_to(directory).as_posix()


def run_of(directory: Path, name: str, text: str, **parameters) -> NotebookRun:
    return NotebookRun(name=name, notebook=source(directory, name, text),
                       executed=f"results/notebooks/{name}.ipynb", parameters=parameters)


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """Two checkouts (the kernel runs in the working directory) that import `warner`."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "warner.py").write_text(WARNER, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "lib"))
    for name in ("shared", "alone"):
        (tmp_path / name).mkdir()
    return tmp_path


def test_a_notebook_after_another_on_the_shared_kernel_is_the_one_its_own_kernel_gives(
        checkout, monkeypatch, capfd):
    monkeypatch.chdir(checkout / "shared")
    runs = [run_of(Path("."), "first", FIRST, value=4), run_of(Path("."), "second", SECOND,
                                                                  value=5)]
    execute_notebooks(runs, "notebooks", failed_dir="results/logs/notebooks")
    shared = Path("results/notebooks/second.ipynb").read_bytes()
    monkeypatch.chdir(checkout / "alone")
    execute_notebooks([run_of(Path("."), "second", SECOND, value=5)], "notebooks",
                      failed_dir="results/logs/notebooks")
    alone = Path("results/notebooks/second.ipynb").read_bytes()
    assert shared == alone
    cells = [c for c in json.loads(shared)["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in cells] == [1, 2, 3, 4]
    outputs = cells[-1]["outputs"]
    assert outputs[0] == {"name": "stdout", "output_type": "stream", "text": ["False\n"]}
    assert "a warning from a module" in "".join(outputs[1]["text"])  # shown again
    assert outputs[2]["execution_count"] == 4 and outputs[2]["data"]["text/plain"] == ["5"]
    # the first ran with its own parameters and recorded itself and the rule
    first = nbformat.read(checkout / "shared/results/notebooks/first.ipynb", as_version=4)
    assert first.metadata.papermill.parameters == {
        "value": 4, "notebook": "notebooks/first.py", "rule": "notebooks",
        "executed_notebook": "results/notebooks/first.ipynb"}
    assert first.metadata.papermill.input_path == "notebooks/first.py"
    assert first.cells[-1].outputs[-1]["data"]["text/plain"] == "40"
    assert capfd.readouterr().err == ""
    # the kernel's sockets went with it
    assert not any(p.name.startswith("kernel") for p in Path(".").rglob("*"))


def test_the_kernel_starts_with_seaborn_loaded_without_scipy_stats_and_frozen_from_the_gc(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    execute_notebooks([run_of(Path("."), "imports", IMPORTS)], "notebooks",
                      failed_dir="results/logs/notebooks")
    cells = [c for c in nbformat.read("results/notebooks/imports.ipynb", as_version=4).cells
             if c.cell_type == "code"]
    # seaborn is there, scipy.stats is not, the start-up code left no name behind, and what
    # it loaded is frozen out of the garbage collector's sight
    assert cells[-2].outputs[0]["text"] == "True False [] True\n"
    assert cells[-1].outputs[0]["text"] == "0.5\n"


def test_a_failing_notebook_stops_the_run_and_is_kept_beside_the_log(checkout, monkeypatch):
    monkeypatch.chdir(checkout / "shared")
    runs = [run_of(Path("."), "failing", FAILING), run_of(Path("."), "first", FIRST)]
    with pytest.raises(papermill.PapermillExecutionError, match="no such column"):
        execute_notebooks(runs, "notebooks", failed_dir="results/logs/notebooks")
    kept = nbformat.read("results/logs/notebooks/failing.failed.ipynb", as_version=4)
    assert kept.metadata.papermill.input_path == "notebooks/failing.py"
    assert kept.cells[-1].outputs[0]["ename"] == "KeyError"
    assert not Path("results/notebooks/first.ipynb").exists()  # the runs after it did not run


def test_a_parameter_the_notebook_does_not_declare_stops_the_run(checkout, monkeypatch):
    monkeypatch.chdir(checkout / "shared")
    with pytest.raises(ValueError, match=r"notebooks/first.py has no parameter\(s\) colour in "
                                         r"its `parameters` cell"):
        execute_notebooks([run_of(Path("."), "first", FIRST, colour="red")], "notebooks",
                          failed_dir="results/logs/notebooks")


def test_the_kernel_listens_on_private_sockets_and_is_not_interrupted_at_shutdown(tmp_path):
    options = notebook_runs.kernel_options(tmp_path)
    sockets = options["config"]["KernelManager"]
    assert sockets["transport"] == "ipc" and sockets["ip"] == str(tmp_path / "kernel")
    manager = options["kernel_manager_class"]()
    # no kernel is running: an interrupt is an error, except while shutting down (skipped)
    with pytest.raises(RuntimeError, match="No kernel is running"):
        asyncio.run(manager._async_interrupt_kernel())
    manager.shutting_down = True
    assert asyncio.run(manager._async_interrupt_kernel()) is None


def test_executing_a_notebook_says_nothing_on_stderr(tmp_path, capfd):
    """The kernel's own log (an unencrypted-TCP warning on every start, a KeyboardInterrupt at
    shutdown) went to the build's output; the kernel writes to the step's stderr directly."""
    source = tmp_path / "in.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
    nbformat.write(notebook, source)
    for _ in range(3):
        papermill.execute_notebook(str(source), str(tmp_path / "out.ipynb"), kernel_name="smesocial",
                                   progress_bar=False, log_output=False,
                                   **notebook_runs.kernel_options(tmp_path))
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "42\n"
    assert capfd.readouterr().err == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.ipynb", "out.ipynb"]  # sockets gone
