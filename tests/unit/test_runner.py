"""smesocial.runner: a script sees configuration only through its params, the keys it reads are
logged, and a bad input or a read of snakemake.config ends the step with one message."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from smesocial.errors import InputError
from smesocial.runner import ReadConfig, read_everything, run_step


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
