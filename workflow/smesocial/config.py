"""Loading and expanding the project's YAML configuration.

`{platform}` templates in the harmonised spec, the indicators and codebooks are expanded here,
once, so every other module sees plain, explicit names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from smesocial.errors import InputError

PLATFORM_KEY = "{platform}"


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file; a missing or unparsable file is an InputError naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "file not found", expected="an existing YAML file")
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        raise InputError(str(path), f"not valid YAML ({exc})") from exc


def expand_platforms(template: str, platforms: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Expand a `{platform}`-template over platforms: name -> (platform key, platform label).

    A string without the placeholder maps to itself with an empty platform.
    """
    if PLATFORM_KEY not in template and "{platform_label}" not in template:
        return {template: ("", "")}
    return {
        template.format(platform=key, platform_label=label): (key, label)
        for key, label in platforms.items()
    }


@dataclass(frozen=True)
class Scale:
    name: str
    type: str  # ordered | nominal | boolean
    levels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Variable:
    name: str
    scale: str
    label: str
    platform: str = ""


@dataclass(frozen=True)
class Derived:
    name: str
    source: str
    true_levels: tuple[str, ...]
    platform: str = ""


@dataclass(frozen=True)
class Harmonised:
    scales: dict[str, Scale]
    platforms: dict[str, str]
    variables: dict[str, Variable]
    derived: dict[str, Derived]


def load_harmonised(path: str | Path) -> Harmonised:
    raw = load_yaml(path)
    platforms: dict[str, str] = dict(raw["platforms"])
    scales = {
        name: Scale(name, spec["type"], tuple(spec.get("levels", ())))
        for name, spec in raw["scales"].items()
    }
    variables: dict[str, Variable] = {}
    for template, spec in raw["variables"].items():
        for name, (key, label) in expand_platforms(template, platforms).items():
            variables[name] = Variable(
                name, spec["scale"], spec["label"].format(platform_label=label), key
            )
    derived: dict[str, Derived] = {}
    for template, spec in raw["derived"].items():
        for name, (key, _label) in expand_platforms(template, platforms).items():
            source = spec["from"].format(platform=key) if key else spec["from"]
            derived[name] = Derived(name, source, tuple(spec["true_levels"]), key)
    return Harmonised(scales, platforms, variables, derived)


@dataclass(frozen=True)
class Indicator:
    id: str
    variable: str
    values: tuple[Any, ...]
    label: str
    platform: str = ""


def load_indicators(path: str | Path, platforms: dict[str, str]) -> dict[str, Indicator]:
    raw = load_yaml(path)
    indicators: dict[str, Indicator] = {}
    for template, spec in raw["indicators"].items():
        for name, (key, label) in expand_platforms(template, platforms).items():
            variable = spec["variable"].format(platform=key) if key else spec["variable"]
            indicators[name] = Indicator(
                name, variable, tuple(spec["values"]), spec["label"].format(platform_label=label), key
            )
    return indicators


@dataclass(frozen=True)
class Codebook:
    """A wave's mapping from its raw export to the harmonised variables."""

    path: str
    wave: str
    format: dict[str, Any]
    meta: dict[str, str]
    status_labels: dict[str, str]
    identifiers: tuple[str, ...]
    respondent_key: str | None
    employees_column: str
    labels: dict[str, dict[str, Any]]  # scale -> raw label -> harmonised level (None = NA)
    columns: dict[str, str]  # raw column -> harmonised variable (expanded)
    extra: dict[str, Any] = field(default_factory=dict)


def load_codebook(path: str | Path) -> Codebook:
    raw = load_yaml(path)
    platforms = dict(raw.get("platforms", {}))
    columns: dict[str, str] = {}
    for column_template, variable_template in raw["columns"].items():
        for column, (key, _label) in expand_platforms(column_template, platforms).items():
            columns[column] = variable_template.format(platform=key) if key else variable_template
    known = {"wave", "format", "meta", "status_labels", "identifiers", "respondent_key",
             "employees", "labels", "platforms", "columns"}
    return Codebook(
        path=str(path),
        wave=raw["wave"],
        format=dict(raw["format"]),
        meta=dict(raw.get("meta", {})),
        status_labels=dict(raw.get("status_labels", {})),
        identifiers=tuple(raw.get("identifiers", ())),
        respondent_key=raw.get("respondent_key"),
        employees_column=raw["employees"]["column"],
        labels={scale: dict(mapping) for scale, mapping in raw["labels"].items()},
        columns=columns,
        extra={k: v for k, v in raw.items() if k not in known},
    )


def load_config(path: str | Path = "config/config.yaml") -> dict[str, Any]:
    """Load config.yaml and validate it against the schema (as Snakemake's `validate` does)."""
    import jsonschema

    path = Path(path)
    config = load_yaml(path)
    schema = load_yaml(path.parent / "schemas" / "config.schema.yaml")
    validate_config(config, schema, str(path))
    return config


def validate_config(config: Any, schema: dict[str, Any], source: str) -> None:
    """Raise InputError naming the offending key and what the schema expects."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path) or "(top level)"
        raise InputError(source, f"invalid configuration at key '{where}'", expected=first.message)
