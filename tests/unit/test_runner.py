"""smesocial.runner: a script sees configuration only through its params, the keys it reads are
logged, and a bad input or a read of snakemake.config ends the step with one message."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from smesocial.errors import InputError
from smesocial.runner import (ReadConfig, check_intermediates, damage, input_files, read_everything,
                              run_step)


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers[:]:
        handler.close()
    root.handlers[:], root.level = handlers, level


def job(tmp_path: Path, config: dict) -> SimpleNamespace:
    output = tmp_path / "out.csv"
    output.write_text("stale\n", encoding="utf-8")
    return SimpleNamespace(config={"alpha": 0.05, "secret": 1}, params=SimpleNamespace(config=config),
                           output=[str(output)], log=[str(tmp_path / "step.log")], rule="demo")


def test_reads_are_recorded_as_leaf_paths_lists_of_mappings_by_index():
    config = ReadConfig({"waves": {"dk": {"year": 2024, "population": {"min": 1}}},
                         "segmentation": {"s": {"segments": [{"name": "a", "min": 1}]}},
                         "markers": ["test", "x"]})
    assert config["waves"]["dk"]["year"] == 2024
    assert config["waves"]["dk"].get("boundary_checks", []) == []
    assert [seg["name"] for seg in config["segmentation"]["s"]["segments"]] == ["a"]
    assert config["markers"] == ["test", "x"]
    assert config.reads == {"waves/dk/year", "waves/dk/boundary_checks",
                            "segmentation/s/segments/0/name", "markers"}
    assert read_everything(config) == {"waves": {"dk": {"year": 2024, "population": {"min": 1}}},
                                       "segmentation": {"s": {"segments": [{"name": "a",
                                                                            "min": 1}]}},
                                       "markers": ["test", "x"]}
    assert "waves/dk/population/min" in config.reads


def test_a_step_logs_the_config_keys_it_read(tmp_path, restore_logging):
    smk = job(tmp_path, {"alpha": 0.05, "random_seed": 7})
    run_step(smk, lambda s: Path(s.output[0]).write_text(str(s.params.config["alpha"])))
    log = (tmp_path / "step.log").read_text(encoding="utf-8")
    assert log.strip().endswith("config read: alpha")
    assert Path(smk.output[0]).read_text() == "0.05"


def test_a_step_logs_the_cpu_of_its_process_and_of_the_processes_it_ran(tmp_path):
    """In a process of its own, as Snakemake runs a script: a step that works 0.2 s of CPU and
    runs a child that works 0.3 s (as a notebook's kernel or pandoc does)."""
    import os
    import re
    import subprocess
    import sys
    import textwrap

    log_file = tmp_path / "step.log"
    code = textwrap.dedent(f"""\
        import subprocess, sys, time
        from types import SimpleNamespace
        from smesocial.runner import run_step

        def work(seconds):
            started = time.process_time()
            while time.process_time() - started < seconds:
                pass

        def step(snakemake):
            work(0.2)
            subprocess.run([sys.executable, "-c", "import time\\nt = time.process_time()\\n"
                            "while time.process_time() - t < 0.3: pass"], check=True)

        run_step(SimpleNamespace(params=SimpleNamespace(), output=[], log=[{str(log_file)!r}],
                                 rule="demo"), step)
        """)
    workflow = Path(__file__).resolve().parents[2] / "workflow"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(workflow)})
    log = log_file.read_text(encoding="utf-8")
    found = re.search(r"INFO smesocial: step cost: (\d+\.\d{3}) s CPU in its process, "
                      r"(\d+\.\d{3}) s in the processes it ran, peak RSS (\d+) MiB\n", log)
    assert found, log
    own, children = float(found[1]), float(found[2])
    assert int(found[3]) >= 20  # at least the interpreter with smesocial's imports
    assert own >= 0.2  # its own work, and its imports
    assert 0.3 <= children < 1.5  # the one child: its 0.3 s and Python's start
    assert log.strip().endswith("config read: none")  # still the last line


def test_a_step_run_in_process_leaves_its_cost_to_the_batch(tmp_path, restore_logging):
    from smesocial.runner import run_in_process

    run_in_process(script(tmp_path, "    open(snakemake.output[0], 'w').write('done')"),
                   job(tmp_path, {}))
    assert "step cost" not in (tmp_path / "step.log").read_text(encoding="utf-8")


def test_reading_snakemake_config_stops_the_step_and_removes_its_outputs(tmp_path, restore_logging):
    smk = job(tmp_path, {"alpha": 0.05})
    with pytest.raises(SystemExit) as stopped:
        run_step(smk, lambda s: s.config["alpha"])
    assert stopped.value.code == 1
    assert not Path(smk.output[0]).exists()  # no stale output left looking valid
    log = (tmp_path / "step.log").read_text(encoding="utf-8")
    assert "rule demo: the script read snakemake.config; declare the keys it needs" in log
    assert "Traceback" not in log


def test_bad_input_ends_the_step_with_its_one_paragraph(tmp_path, restore_logging):
    smk = job(tmp_path, {})

    def fail(_s):
        raise InputError("data/raw/x.csv", "no such column", column="Ansatte")

    with pytest.raises(SystemExit):
        run_step(smk, fail)
    log = (tmp_path / "step.log").read_text(encoding="utf-8").strip().splitlines()
    assert log[-1] == "ERROR smesocial: data/raw/x.csv: no such column; column 'Ansatte'."
    assert not Path(smk.output[0]).exists()


def script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "entry.py"
    path.write_text("from smesocial.errors import InputError\n"
                    "from smesocial.runner import run_step\n\n"
                    f"def step(snakemake):\n{body}\n\n"
                    "run_step(snakemake, step)\n", encoding="utf-8")
    return path


def test_a_script_run_in_process_returns_the_keys_it_read(tmp_path, restore_logging):
    from smesocial.runner import run_in_process

    entry = script(tmp_path, "    snakemake.params.config['alpha']\n"
                             "    open(snakemake.output[0], 'w').write('done')")
    read = run_in_process(entry, job(tmp_path, {"alpha": 0.05, "seed": 1}))
    assert read == {"alpha"}
    assert (tmp_path / "out.csv").read_text() == "done"
    assert "config read: alpha" in (tmp_path / "step.log").read_text()


def test_a_script_run_in_process_raises_its_input_error_with_outputs_removed(tmp_path,
                                                                             restore_logging):
    from smesocial.runner import run_in_process

    entry = script(tmp_path, "    raise InputError('data.csv', 'no rows', expected='rows')")
    with pytest.raises(InputError, match="data.csv: no rows"):
        run_in_process(entry, job(tmp_path, {}))
    assert not (tmp_path / "out.csv").exists()  # the stale output is gone, as from Snakemake
    assert "data.csv: no rows" in (tmp_path / "step.log").read_text().splitlines()[-1]


@pytest.fixture
def tables(tmp_path, monkeypatch):
    """A whole Parquet file and a whole CSV under results/, as a step wrote them."""
    import pandas as pd

    monkeypatch.chdir(tmp_path)
    Path("results/w").mkdir(parents=True)
    pd.DataFrame({"a": [1, 2, 3]}).to_parquet("results/w/ingested.parquet")
    Path("results/w/estimates.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return Path("results/w/ingested.parquet"), Path("results/w/estimates.csv")


def test_whole_tables_pass(tables):
    parquet, csv = tables
    assert damage(parquet) is None and damage(csv) is None
    check_intermediates([str(parquet), str(csv), "data/raw/not_here.csv"])


def test_a_parquet_file_cut_short_is_damaged(tables):
    parquet, _csv = tables
    data = parquet.read_bytes()
    parquet.write_bytes(data[:100])
    assert damage(parquet) == "it does not end with Parquet's signature 'PAR1' (100 bytes: cut short?)"
    parquet.write_bytes(data[:5])
    assert damage(parquet) == "it has 5 bytes, fewer than the smallest Parquet file"
    parquet.write_bytes(b"x" + data[1:])
    assert damage(parquet) == "it does not start with Parquet's signature 'PAR1'"
    # the footer length is the 4 bytes before the closing signature
    parquet.write_bytes(data[:-8] + (len(data)).to_bytes(4, "little") + b"PAR1")
    assert damage(parquet) == f"its footer claims {len(data)} bytes, more than the file's {len(data)}"


def test_a_csv_of_ours_cut_mid_line_is_damaged_a_raw_one_is_left_to_its_reader(tables):
    _parquet, csv = tables
    csv.write_text("a,b\n1,", encoding="utf-8")
    assert damage(csv) == "its last line is cut off (the file does not end with a line end)"
    csv.write_text("", encoding="utf-8")
    assert damage(csv) == "it is empty"
    raw = Path("export.csv")
    raw.write_text("a,b\n1,", encoding="utf-8")
    assert damage(raw) is None  # an export's own checks (smesocial.readers) say more


def test_a_damaged_input_stops_the_step_before_it_reads_naming_the_file(tables, restore_logging):
    parquet, _csv = tables
    parquet.write_bytes(parquet.read_bytes()[:100])
    output = Path("results/w/segments.parquet")
    output.write_text("stale", encoding="utf-8")
    smk = SimpleNamespace(input=[str(parquet)], output=[str(output)], log=["step.log"],
                          params=SimpleNamespace(config={}), rule="segment")
    ran = []
    with pytest.raises(SystemExit):
        run_step(smk, ran.append)
    assert ran == [] and not output.exists()
    log = Path("step.log").read_text(encoding="utf-8").strip().splitlines()
    assert log[-1] == (
        "ERROR smesocial: results/w/ingested.parquet: this table, written by an earlier step of "
        "the workflow, is damaged: it does not end with Parquet's signature 'PAR1' (100 bytes: "
        "cut short?); expected the whole file: delete it and build again "
        "(bash workflow/run.sh build), which remakes it.")


def test_an_unexpected_error_puts_its_traceback_in_the_log_and_removes_outputs(tmp_path,
                                                                             restore_logging):
    smk = job(tmp_path, {})

    def bug(_s):
        return {}["report_dk2024"]

    with pytest.raises(SystemExit) as stopped:
        run_step(smk, bug)
    assert stopped.value.code == 1
    assert not Path(smk.output[0]).exists()
    log = (tmp_path / "step.log").read_text(encoding="utf-8").strip().splitlines()
    assert log[0] == ("ERROR smesocial: unexpected error in rule demo (a bug in the workflow, not "
                      "bad input; the traceback follows)")
    assert log[1] == "Traceback (most recent call last):"
    assert log[-1] == "KeyError: 'report_dk2024'"


def test_input_files_of_a_snakemake_list_or_a_namespace():
    from snakemake.iocontainers import InputFiles

    named = InputFiles(fromdict={"clean": ["results/a/clean.parquet", "results/b/clean.parquet"],
                                "trends": "results/official/trends.csv"})
    assert input_files(named) == ["results/a/clean.parquet", "results/b/clean.parquet",
                                  "results/official/trends.csv"]
    assert input_files(SimpleNamespace(params="config/x.yaml", more=["a", "b"])) == [
        "config/x.yaml", "a", "b"]
    assert input_files(None) == []
