"""environment.yml (conda users) and workflow/envs/requirements.txt (the pip path) must pin
the same packages at the same versions."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# In environment.yml only: the interpreter, the installer, and Quarto (not on PyPI).
CONDA_ONLY = {"python", "pip", "quarto"}


def pip_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "workflow/envs/requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def conda_pins() -> dict[str, str]:
    """conda packages (name=version) and the environment's own pip section (name==version)."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, _, version = dep.partition("=")
            pins[name.strip().lower()] = version.lstrip("=").strip()
        elif isinstance(dep, dict):
            for requirement in dep.get("pip", []):
                if "==" in requirement:
                    name, version = requirement.split("==")
                    pins[name.strip().lower()] = version.strip()
    return pins


def test_every_pip_pin_is_in_environment_yml_at_the_same_version():
    conda = conda_pins()
    mismatched = {name: (version, conda.get(name)) for name, version in pip_pins().items()
                  if conda.get(name) != version}
    assert mismatched == {}, f"requirements.txt vs environment.yml (pip, conda): {mismatched}"


def test_environment_yml_has_no_package_the_pip_path_lacks():
    extra = set(conda_pins()) - set(pip_pins()) - CONDA_ONLY
    assert extra == set()


def test_environment_yml_includes_quarto_and_the_core_engine():
    conda = conda_pins()
    for name in ["quarto", "snakemake", "papermill", "pandas", "scipy", "statsmodels", "seaborn"]:
        assert name in conda


def test_requirements_pins_are_satisfied_by_the_constraints_file():
    constraints = {}
    for line in (ROOT / "workflow/envs/constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==")
            constraints[name.strip().lower().replace("_", "-")] = version.strip()
    clash = {n: (v, constraints[n]) for n, v in pip_pins().items()
             if n in constraints and constraints[n] != v}
    assert clash == {}


def test_test_modules_have_unique_basenames():
    """pytest imports test modules by basename (rootdir-relative without packages): a unit and
    an integration test file of the same name stop the whole suite at collection."""
    root = Path(__file__).resolve().parents[1]
    names = [path.name for path in root.rglob("test_*.py")]
    repeated = sorted({name for name in names if names.count(name) > 1})
    assert not repeated, f"test modules sharing a basename: {repeated}"
