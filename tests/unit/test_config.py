"""smesocial.config: a YAML syntax error names its file, line and column, and every
cross-reference of the configuration is checked at start-up, naming the key that is wrong."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from smesocial.config import check_references, load_yaml
from smesocial.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path):
    broken = tmp_path / "config.yaml"
    broken.write_text("waves:\n  dk_2024:\n    segmentation: [report_dk_2024\n"
                      "    year: 2024\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_yaml(broken)
    message = str(err.value)
    assert message.startswith(f"{broken}: not valid YAML: line 4, column 9: ")
    # where the unclosed bracket opened, as well as where the parser gave up
    assert "flow sequence that starts at line 3, column 19" in message


def test_a_tab_in_the_indentation_is_located(tmp_path):
    broken = tmp_path / "codebook.yaml"
    broken.write_text("labels:\n\tyes: true\n", encoding="utf-8")
    # libyaml (the loader used where PyYAML has it) does not quote the character itself
    with pytest.raises(InputError, match=r"not valid YAML: line 2, column 1: found character "
                       r".*that cannot start any token"):
        load_yaml(broken)


def test_the_shipped_configuration_resolves(config):
    check_references(config, root=ROOT)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(config: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = config
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value
    return mutate


def _rename_weighting_wave(config: dict[str, Any]) -> None:
    config["weighting"]["no_2011"] = config["weighting"].pop("no_2010")


# (what is wrong, the mutation, what the message must say)
BROKEN = [
    ("segmentation typo", _set("waves.dk_2024.segmentation", "report_dk2024"),
     "waves.dk_2024.segmentation names an unknown segmentation scheme; found 'report_dk2024'"),
    ("raw file", _set("waves.dk_2024.raw_file", "data/raw/dk_2024/nope.csv"),
     "waves.dk_2024.raw_file names a file that does not exist; found 'data/raw/dk_2024/nope.csv'"),
    ("codebook", _set("waves.no_2010.codebook", "config/codebook/no_2011.yaml"),
     "waves.no_2010.codebook names a file that does not exist"),
    ("published", _set("waves.dk_2024.published", "config/published/dk.yaml"),
     "waves.dk_2024.published names a file that does not exist"),
    ("harmonised spec", _set("harmonised", "config/harmonised.yaml"),
     "harmonised names a file that does not exist"),
    ("indicators", _set("indicators", "config/indicator.yaml"),
     "indicators names a file that does not exist"),
    ("harmonisation spec", _set("harmonisation", "config/harmonization.yaml"),
     "harmonisation names a file that does not exist"),
    ("official figures", _set("official.file", "data/raw/official/x.csv"),
     "official.file names a file that does not exist"),
    ("population counts", _set("population_targets.no_firms_2017.file", "data/raw/x.csv"),
     "population_targets.no_firms_2017.file names a file that does not exist"),
    ("weighting wave", _rename_weighting_wave,
     "weighting.no_2011 names no configured wave; found 'no_2011'"),
    ("weighting scheme", _set("weighting.no_2010.scheme", "eu_sme_employer"),
     "weighting.no_2010.scheme names an unknown segmentation scheme"),
    ("population target", _set("weighting.no_2010.margins.0.population", "no_firms_2018"),
     "weighting.no_2010.margins[0].population names an unknown population target"),
    ("ensemble wave", _set("ensemble.wave", "dk_2023"), "ensemble.wave names no configured wave"),
    ("ensemble parameters", _set("ensemble.params", "config/synthetic/dk.yaml"),
     "ensemble.params names a file that does not exist"),
]


@pytest.mark.parametrize("what, mutate, says", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_reference_stops_start_up_naming_its_key(config, what, mutate, says):
    broken = copy.deepcopy(config)
    mutate(broken)
    with pytest.raises(InputError) as err:
        check_references(broken, root=ROOT)
    assert str(err.value).startswith("config/config.yaml: ")
    assert says in str(err.value)


def _copy(tmp_path: Path, *names: str) -> Path:
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def test_a_codebook_of_another_wave_is_named(config, tmp_path):
    broken = copy.deepcopy(config)
    broken["ensemble"] = None
    root = _copy(tmp_path, *[config[k] for k in ("harmonised", "indicators", "harmonisation")],
                 config["official"]["file"], config["population_targets"]["no_firms_2017"]["file"],
                 *[e[k] for e in config["waves"].values()
                   for k in ("raw_file", "codebook", "published")])
    # a copied codebook whose `wave:` was not changed
    codebook = yaml.safe_load((root / "config/codebook/no_2010.yaml").read_text(encoding="utf-8"))
    codebook["wave"] = "dk_2024"
    (root / "config/codebook/no_2010.yaml").write_text(yaml.safe_dump(codebook), encoding="utf-8")
    with pytest.raises(InputError) as err:
        check_references(broken, root=root)
    assert str(err.value) == (
        "config/codebook/no_2010.yaml: `wave:` names another wave than the config entry that "
        "uses this codebook (waves.no_2010.codebook in config/config.yaml); found 'dk_2024'; "
        "expected wave: no_2010.")


def test_a_missing_input_of_the_generator_names_its_key(config, tmp_path):
    params = yaml.safe_load((ROOT / config["ensemble"]["params"]).read_text(encoding="utf-8"))
    params["inputs"]["published"] = "config/published/gone.yaml"
    edited = tmp_path / "params.yaml"
    edited.write_text(yaml.safe_dump(params), encoding="utf-8")
    broken = copy.deepcopy(config)
    broken["ensemble"]["params"] = str(edited)
    with pytest.raises(InputError) as err:
        check_references(broken, root=ROOT)
    assert str(err.value).startswith(f"{edited}: inputs.published names a file that does not "
                                     "exist; found 'config/published/gone.yaml'")


def test_load_yaml_parses_each_text_once_and_gives_every_caller_its_own_copy(tmp_path, monkeypatch):
    import smesocial.config as config_module

    parses = []
    real_load = yaml.load
    monkeypatch.setattr(config_module, "_PARSED", {})
    monkeypatch.setattr(config_module.yaml, "load", lambda *a, **k: parses.append(1) or real_load(*a, **k))
    path = tmp_path / "a.yaml"
    path.write_text("shared: &s {n: 1}\nalias: *s\nlist: [1, 2]\n", encoding="utf-8")
    first = load_yaml(path)
    first["list"].append(3)  # a caller editing what it read
    second = load_yaml(path)
    assert second == {"shared": {"n": 1}, "alias": {"n": 1}, "list": [1, 2]}
    assert second["shared"] is second["alias"]  # YAML aliases stay one object, as parsed
    assert len(parses) == 1
    path.write_text("list: [4]\n", encoding="utf-8")  # a changed file is parsed afresh
    assert load_yaml(path) == {"list": [4]}
    assert len(parses) == 2
