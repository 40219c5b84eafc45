"""Loading and expanding the project's YAML configuration.

Templates in the harmonised spec, the indicators and codebooks are expanded here, once, so every
other module sees plain, explicit names. A template dimension (`DIMENSIONS`) is a placeholder
`{<dimension>}` (the key) or `{<dimension>_label}` (the label) that expands over a key -> label
mapping: `{platform}` over `platforms`, `{purpose}` over `purposes`. A template using several
expands over their product, the first dimension of `DIMENSIONS` outermost, so
`purpose_{purpose}_{platform}` lists every purpose of one platform before the next platform.
"""

from __future__ import annotations

import hashlib
import itertools
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from smesocial.errors import InputError

PLATFORM_KEY = "{platform}"
# Template dimensions, outermost first; each names a `<dimension>s` mapping (key -> label) in the
# harmonised spec and, for its raw columns, in a wave's codebook.
DIMENSIONS: tuple[str, ...] = ("platform", "purpose")
# The codebook schema ships with the project (the package is installed editable from it), so
# every codebook, wherever it lives, is checked against the same contract.
CODEBOOK_SCHEMA = Path(__file__).resolve().parents[2] / "config" / "schemas" / "codebook.schema.yaml"


# libyaml's parser where PyYAML was built with it: the same safe loading, ~10x faster on the
# codebooks and parameters every job reads.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=SAFE_LOADER)


def yaml_error_text(exc: yaml.YAMLError) -> str:
    """Where a YAML syntax error is and what it is, in one line: 'line 23, column 5: expected
    ',' or ']', but got '<block mapping start>' (while parsing a flow sequence that starts at
    line 20, column 19)'. Lines and columns count from 1, as editors do."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
    text = f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else problem
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context:
        starts = (f" that starts at line {context_mark.line + 1}, column {context_mark.column + 1}"
                  if context_mark and context_mark is not mark else "")
        text += f" ({context}{starts})"
    return text


# Parsed YAML by the file's text, for the life of the process, pickled: a job running many
# steps in one process (the ensemble's batches) reads the same config files for every step and
# draw, and parsing is most of that (unpickling costs a few percent of it). Each caller gets a
# copy of its own (some edit what they read); a changed file is new text, parsed afresh.
_PARSED: dict[bytes, bytes] = {}


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file; a missing or unparsable file is an InputError naming it (and, for a
    syntax error, the line and column)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "file not found", expected="an existing YAML file")
    with path.open(encoding="utf-8") as handle:
        text = handle.read()
    key = hashlib.sha256(text.encode("utf-8")).digest()
    if key in _PARSED:
        return pickle.loads(_PARSED[key])
    try:
        parsed = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise InputError(str(path), f"not valid YAML: {yaml_error_text(exc)}",
                         expected="valid YAML: check that line and the ones before it (an "
                         "unclosed bracket or quote, or a tab in the indentation, is the usual "
                         "cause)") from exc
    _PARSED[key] = pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL)
    return parsed


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


Assignment = dict[str, tuple[str, str]]  # dimension -> (key, label) one expansion uses


def template_dimensions(template: str) -> list[str]:
    """The dimensions whose placeholder (`{platform}` or `{platform_label}`, ...) `template` uses."""
    return [d for d in DIMENSIONS if f"{{{d}}}" in template or f"{{{d}_label}}" in template]


def fill_template(text: str, assignment: Mapping[str, tuple[str, str]], where: str = "template") -> str:
    """`text` with each assigned dimension's key and label put in; text without placeholders is
    returned as is (so a literal brace in a plain column name does not matter)."""
    if not template_dimensions(text):
        return text
    values: dict[str, str] = {}
    for dimension, (key, label) in assignment.items():
        values[dimension], values[f"{dimension}_label"] = key, label
    try:
        return text.format_map(values)
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(where, f"template {text!r} has a placeholder its name does not expand",
                         found=str(exc),
                         expected=f"only the placeholders of its own dimensions: "
                         f"{', '.join(sorted(values)) or 'none'}") from exc


def expand_template(template: str, dimensions: Mapping[str, Mapping[str, str]],
                    where: str = "template") -> dict[str, Assignment]:
    """Expand `template` over every dimension it uses: name -> {dimension: (key, label)}.

    A string without placeholders maps to itself with an empty assignment. A dimension the
    template uses but `dimensions` does not give is an InputError naming `where`.
    """
    used = template_dimensions(template)
    missing = [d for d in used if d not in dimensions]
    if missing:
        raise InputError(where, f"template {template!r} uses {{{missing[0]}}}, but no "
                         f"`{missing[0]}s` are given to expand it over",
                         expected=f"a `{missing[0]}s:` mapping (key -> label)")
    out: dict[str, Assignment] = {}
    axes = [[(d, str(k), str(v)) for k, v in dimensions[d].items()] for d in used]
    for combo in itertools.product(*axes):
        assignment = {d: (k, label) for d, k, label in combo}
        out[fill_template(template, assignment, where)] = assignment
    return out


def _key(assignment: Mapping[str, tuple[str, str]], dimension: str) -> str:
    return assignment[dimension][0] if dimension in assignment else ""


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
    purpose: str = ""


@dataclass(frozen=True)
class Derived:
    name: str
    source: str
    true_levels: tuple[str, ...]
    platform: str = ""
    purpose: str = ""


@dataclass(frozen=True)
class Harmonised:
    scales: dict[str, Scale]
    platforms: dict[str, str]
    variables: dict[str, Variable]
    derived: dict[str, Derived]
    purposes: dict[str, str] = field(default_factory=dict)


def load_harmonised(path: str | Path) -> Harmonised:
    raw = load_yaml(path)
    platforms: dict[str, str] = dict(raw["platforms"])
    purposes: dict[str, str] = dict(raw.get("purposes") or {})
    dimensions = {"platform": platforms, "purpose": purposes}
    where = str(path)
    scales = {
        name: Scale(name, spec["type"], tuple(spec.get("levels", ())))
        for name, spec in raw["scales"].items()
    }
    variables: dict[str, Variable] = {}
    for template, spec in raw["variables"].items():
        for name, assignment in expand_template(template, dimensions, where).items():
            variables[name] = Variable(
                name, spec["scale"], fill_template(spec["label"], assignment, where),
                _key(assignment, "platform"), _key(assignment, "purpose"),
            )
    derived: dict[str, Derived] = {}
    for template, spec in raw["derived"].items():
        for name, assignment in expand_template(template, dimensions, where).items():
            derived[name] = Derived(name, fill_template(spec["from"], assignment, where),
                                    tuple(spec["true_levels"]), _key(assignment, "platform"),
                                    _key(assignment, "purpose"))
    return Harmonised(scales, platforms, variables, derived, purposes)


@dataclass(frozen=True)
class Indicator:
    id: str
    variable: str
    values: tuple[Any, ...]
    label: str
    platform: str = ""
    purpose: str = ""


def load_indicators(path: str | Path, platforms: Mapping[str, str],
                    purposes: Mapping[str, str] | None = None) -> dict[str, Indicator]:
    """The indicators of `path`, templates expanded over `platforms` and `purposes`.

    Without `purposes`, `{purpose}` expands over the purposes of the harmonised spec the file
    names under `dimensions_from` (a path relative to the file), so callers that pass only the
    platforms keep working.
    """
    raw = load_yaml(path)
    if purposes is None:
        purposes = {}
        if raw.get("dimensions_from"):
            spec_path = Path(path).parent / str(raw["dimensions_from"])
            purposes = dict(load_yaml(spec_path).get("purposes") or {})
    dimensions = {"platform": dict(platforms), "purpose": dict(purposes)}
    indicators: dict[str, Indicator] = {}
    for template, spec in raw["indicators"].items():
        for name, assignment in expand_template(template, dimensions, str(path)).items():
            indicators[name] = Indicator(
                name, fill_template(spec["variable"], assignment, str(path)),
                tuple(spec["values"]), fill_template(spec["label"], assignment, str(path)),
                _key(assignment, "platform"), _key(assignment, "purpose"),
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
    """Load a wave's codebook, checked against config/schemas/codebook.schema.yaml."""
    raw = load_yaml(path)
    validate_config(raw, load_yaml(CODEBOOK_SCHEMA), str(path))
    # This wave's questionnaire labels per dimension key (e.g. purposes: recruitment: Rekruttering).
    dimensions = {d: dict(raw.get(f"{d}s") or {}) for d in DIMENSIONS}
    columns: dict[str, str] = {}
    for column_template, variable_template in raw["columns"].items():
        for column, assignment in expand_template(column_template, dimensions, str(path)).items():
            columns[column] = fill_template(variable_template, assignment, str(path))
    known = {"wave", "format", "meta", "status_labels", "identifiers", "respondent_key",
             "employees", "labels", "columns", *(f"{d}s" for d in DIMENSIONS)}
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
    path = Path(path)
    config = load_yaml(path)
    schema = load_yaml(path.parent / "schemas" / "config.schema.yaml")
    validate_config(config, schema, str(path))
    return config


def check_wave_schemes(config: Mapping[str, Any], source: str = "config/config.yaml") -> None:
    """Every wave's `segmentation` names a configured scheme (checked at start-up, so a typo
    stops the run with this message instead of failing in a later step)."""
    schemes = config.get("segmentation") or {}
    for wave, entry in (config.get("waves") or {}).items():
        if entry.get("segmentation") not in schemes:
            raise InputError(source, f"waves.{wave}.segmentation names an unknown segmentation "
                             "scheme", found=entry.get("segmentation"),
                             expected=f"one of {', '.join(schemes)} (under `segmentation`)")


def check_ensemble(config: Mapping[str, Any], source: str = "config/config.yaml") -> None:
    """The ensemble's wave is a configured wave (checked at start-up)."""
    ensemble = config.get("ensemble")
    if ensemble and ensemble.get("wave") not in (config.get("waves") or {}):
        raise InputError(source, "ensemble.wave names no configured wave",
                         found=ensemble.get("wave"),
                         expected=f"one of {', '.join(config.get('waves') or {})}")


# Configuration keys that name a file (relative to the repository root), with what it holds.
CONFIG_FILES = {"harmonised": "the harmonised variables",
                "indicators": "the indicators",
                "harmonisation": "the cross-country harmonisation spec"}
WAVE_FILES = {"raw_file": "the wave's raw export", "codebook": "the wave's codebook mapping",
              "published": "the wave's published figures"}


def _check_file(path: Any, key: str, what: str, source: str, root: Path) -> None:
    if not (root / str(path)).is_file():
        raise InputError(source, f"{key} names a file that does not exist", found=str(path),
                         expected=f"the path of {what}, relative to the repository root "
                         "(correct the path, or add the file)")


def check_references(config: Mapping[str, Any], source: str = "config/config.yaml",
                     root: str | Path = ".") -> None:
    """Every cross-reference in the configuration resolves, checked at start-up so that a typo
    stops the run with a message naming its key before any step runs: the files it names (each
    wave's raw export, codebook and published figures, the harmonised spec, indicators,
    harmonisation spec, official figures, population counts, the ensemble's parameters and the
    inputs they name), each wave's segmentation scheme, each codebook's `wave`, the waves and
    schemes and population targets `weighting` names, and the ensemble's wave. (The waves and
    scheme config/harmonisation.yaml names are checked when it is loaded:
    smesocial.compare.load_spec.)"""
    root = Path(root)
    for key, what in CONFIG_FILES.items():
        if key in config:
            _check_file(config[key], key, what, source, root)
    waves = config.get("waves") or {}
    for wave, entry in waves.items():
        for key, what in WAVE_FILES.items():
            if key in entry:
                _check_file(entry[key], f"waves.{wave}.{key}", what, source, root)
        codebook = load_yaml(root / str(entry["codebook"]))
        named = codebook.get("wave") if isinstance(codebook, Mapping) else None
        if named is not None and str(named) != str(wave):
            raise InputError(str(entry["codebook"]), "`wave:` names another wave than the "
                             f"config entry that uses this codebook (waves.{wave}.codebook in "
                             f"{source})", found=named, expected=f"wave: {wave}")
    check_wave_schemes(config, source)
    if config.get("official"):
        _check_file(config["official"]["file"], "official.file", "the official figures",
                    source, root)
    for name, target in (config.get("population_targets") or {}).items():
        _check_file(target["file"], f"population_targets.{name}.file", "the population counts",
                    source, root)
    for wave, entry in (config.get("weighting") or {}).items():
        if wave not in waves:
            raise InputError(source, f"weighting.{wave} names no configured wave", found=wave,
                             expected=f"one of {', '.join(waves)} (under `waves`)")
        for i, margin in enumerate((entry or {}).get("margins") or []):
            if "population_file" in margin:
                _check_file(margin["population_file"],
                            f"weighting.{wave}.margins[{i}].population_file",
                            "the population counts", source, root)
        weighting_spec(config, wave, source)  # its scheme and named population targets
    check_ensemble(config, source)
    ensemble = config.get("ensemble")
    if ensemble:
        _check_file(ensemble["params"], "ensemble.params", "the synthetic generator's "
                    "parameters", source, root)
        params = load_yaml(root / str(ensemble["params"]))
        inputs = params.get("inputs") if isinstance(params, Mapping) else None
        for key, path in (inputs or {}).items():
            _check_file(path, f"inputs.{key}", "an input of the generator",
                        str(ensemble["params"]), root)


def ensemble_draw_ids(config: Mapping[str, Any]) -> list[str]:
    """The ids of the configured draws: '001', '002', ... (at least three digits)."""
    count = int((config.get("ensemble") or {}).get("draws") or 0)
    width = max(3, len(str(count)))
    return [f"{i:0{width}d}" for i in range(1, count + 1)]


def ensemble_draw(config: Mapping[str, Any], draw: str) -> dict[str, Any]:
    """{draw, seed, variant, assumptions} of one draw: draw i has seed `first_seed + i - 1` and
    the i-th variant, cycling through `ensemble.variants` in order. Reads only that variant's
    knobs, so editing another variant leaves this draw as it is."""
    ensemble = config["ensemble"]
    variants = ensemble["variants"]
    index = int(draw) - 1
    name = list(variants)[index % len(variants)]
    return {"draw": draw, "seed": int(ensemble["first_seed"]) + index, "variant": name,
            "assumptions": {knob: value for knob, value in variants[name].items()}}


def ensemble_batch_ids(config: Mapping[str, Any]) -> list[str]:
    """The ids of the jobs the draws are run in: '001', ... (draws_per_job draws each)."""
    draws = len(ensemble_draw_ids(config))
    per_job = int((config.get("ensemble") or {}).get("draws_per_job") or 1)
    return [f"{i:03d}" for i in range(1, -(-draws // per_job) + 1)]


def ensemble_batch(config: Mapping[str, Any], batch: str) -> list[str]:
    """The draws job `batch` runs: draws_per_job consecutive draws (the last job the rest)."""
    per_job = int(config["ensemble"]["draws_per_job"])
    first = (int(batch) - 1) * per_job
    return ensemble_draw_ids(config)[first:first + per_job]


def ensemble_draws(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every configured draw (ensemble_draw) by id."""
    return {draw: ensemble_draw(config, draw) for draw in ensemble_draw_ids(config)}


def validate_config(config: Any, schema: dict[str, Any], source: str) -> None:
    """Raise InputError naming the offending key and what the schema expects."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    # str(): a path may mix key types (YAML reads an unquoted Yes key as a boolean).
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path) or "(top level)"
        raise InputError(source, f"invalid configuration at key '{where}'", expected=first.message)


# --------------------------------------------------------------------------------------------
SEGMENT_PREFIX = "segment_"
DEFAULT_SOURCE = "weighting targets"
DEFAULT_MAX_ITER = 1000
DEFAULT_TOL = 1e-10  # largest gap between a weighted and a population share, in share units


# Survey weighting (`weighting:` and `population_targets:`): read while the workflow is parsed,
# so it stays free of numpy/pandas; smesocial.weights computes the weights.


@dataclass(frozen=True)
class MarginSpec:
    """One configured margin: which respondent variable, which population counts, how mapped."""

    variable: str
    file: str
    filter: dict[str, str]
    mapping: dict[str, str | None]  # population class -> cell of `variable` (None = out of scope)
    source: str
    class_column: str = "size_class_persons_employed"
    count_column: str = "count"
    note: str = ""
    where: str = DEFAULT_SOURCE  # the config key, named in errors about this margin


@dataclass(frozen=True)
class WeightingSpec:
    """A wave's weighting configuration; no margins = unweighted, for `reason`."""

    wave: str
    scheme: str | None = None
    margins: tuple[MarginSpec, ...] = ()
    reason: str = ""
    max_iter: int = DEFAULT_MAX_ITER
    tol: float = DEFAULT_TOL
    # The samples (values of the respondents' `sample`) the margins describe; the others keep
    # unit weights in a design stratum of their own. Empty: every respondent is weighted.
    weighted_samples: tuple[str, ...] = ()


def weighting_spec(config: Mapping[str, Any], wave: str,
                   source: str = "config/config.yaml") -> WeightingSpec:
    """Resolve `weighting.<wave>` (and the named `population_targets` it refers to)."""
    entry = (config.get("weighting") or {}).get(wave)
    if entry is None:
        return WeightingSpec(wave, reason=f"wave {wave!r} has no entry under `weighting` in {source}")
    where = f"weighting.{wave}"
    if not entry.get("margins"):
        reason = str(entry.get("reason") or "no population targets configured")
        return WeightingSpec(wave, reason=reason)
    scheme = str(entry["scheme"])
    if scheme not in config.get("segmentation", {}):
        raise InputError(source, f"{where}.scheme names an unknown segmentation scheme",
                         found=scheme, expected=f"one of {sorted(config.get('segmentation', {}))}")
    named = config.get("population_targets") or {}
    margins: list[MarginSpec] = []
    for i, raw in enumerate(entry["margins"]):
        key = f"{where}.margins[{i}]"
        variable = str(raw["variable"])
        if variable.startswith(SEGMENT_PREFIX) and variable != SEGMENT_PREFIX + scheme:
            raise InputError(source, f"{key}.variable is a segment column of another scheme than "
                             f"the wave's weighting scheme {scheme!r}", found=variable,
                             expected=f"{SEGMENT_PREFIX}{scheme} (or change {where}.scheme)")
        if "population" in raw:
            name = str(raw["population"])
            if name not in named:
                raise InputError(source, f"{key}.population names an unknown population target",
                                 found=name, expected=f"one of {sorted(named)} (population_targets)")
            target = named[name]
            file, filt, src = target["file"], target.get("filter", {}), target["source"]
            class_column = target.get("class_column", MarginSpec.class_column)
            count_column = target.get("count_column", MarginSpec.count_column)
        else:
            file, filt, src = raw["population_file"], raw.get("population_filter", {}), raw["source"]
            class_column = raw.get("class_column", MarginSpec.class_column)
            count_column = raw.get("count_column", MarginSpec.count_column)
        # YAML reads an unquoted class like 0 as an integer: classes are compared as text.
        mapping = {str(k): (None if v is None else str(v)) for k, v in raw["mapping"].items()}
        margins.append(MarginSpec(variable, str(file), {str(k): str(v) for k, v in filt.items()},
                                  mapping, str(src), str(class_column), str(count_column),
                                  str(raw.get("note", "")), f"{source} ({key})"))
    variables = [m.variable for m in margins]
    if len(set(variables)) != len(variables):
        raise InputError(source, f"{where}.margins repeats a variable", found=variables,
                         expected="each variable in one margin")
    return WeightingSpec(wave, scheme, tuple(margins), str(entry.get("reason", "")),
                         int(entry.get("max_iter", DEFAULT_MAX_ITER)),
                         float(entry.get("tol", DEFAULT_TOL)),
                         tuple(str(s) for s in entry.get("weighted_samples") or ()))
