"""The machinery every synthetic-export generator shares (smesocial.synthetic.dk, .no).

A wave's generator reconstructs a raw export whose retained respondents reproduce the wave's
followed published figures. What every wave needs lives here, once:

- parameters and project files: `load_wave_inputs` (`WaveInputs`, which each wave's Context
  extends; `wave_of` finds the project config's wave), provenance (`provenance_value`,
  `require_provenance`, `check_provenance_entry`, `check_pct`, `require_defects`), the
  questionnaire, its items and labels (`wave_dimension`, `build_items`, `questionnaire_pages`,
  `invert_labels`, `check_labels`), followed figures (`followed_figures`);
- count allocation: the MILP (`allocate_item`, over any strata: size segments, samples) and its
  assumed counts (`answer_targets`);
- respondents: named random streams (`named_rng`), the Gaussian copula (`standardise_within`,
  `copula_factors`, `copula_loadings`, `item_scores`, `assign_item`), identities
  (`draw_identity`, `draw_firm_name`, `mod11_number`), times (`draw_times`, and
  `lift_speeder_durations`, which keeps every retained response above the clean stage's speeder
  cut-off), the test response (`make_test_row`) and the duplicate submission
  (`add_duplicate_submissions`), response ids and file order (`number_and_shuffle`);
- the result (`GeneratedExport`) and its self-check, which runs THE PIPELINE'S OWN ingest and
  clean stages on the written bytes (`pipeline_retained`, the one place that calls them) and
  verifies on what the pipeline retains: who is excluded by which rule (`exclusion_problems`),
  the read-back (`read_back_problems`), the strata (`stratum_problems`) and the published
  figures through the pipeline's reproduction check (`reproduction_table`); plus the rows'
  identifiers and times (`duplicate_pair_problems`, `window_problems`);
- the data README's regeneration section and the one CLI (`main`, `python -m
  smesocial.synthetic`), which dispatches on the parameters file's `generator` key (absent:
  smesocial.synthetic.dk).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import math
import os
import re
import sys
import tempfile
import unicodedata
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from smesocial.clean import apply_exclusions
from smesocial.ingest import with_employee_counts
from smesocial.ingest import build_ingested
from smesocial.config import (
    Codebook,
    Harmonised,
    Indicator,
    expand_template,
    load_codebook,
    load_harmonised,
    load_indicators,
    load_yaml,
)
from smesocial.errors import InputError
from smesocial.readers import read_export
from smesocial.respondent_key import is_synthetic, key_secret
from smesocial.reproduce import compare_published
from smesocial.segment import load_schemes, segment_table
from smesocial.estimates import asked_indicators, share_estimates

DEFAULT_GENERATOR = "smesocial.synthetic.dk"  # a parameters file without `generator`
NA: None = None  # the "no answer" category in allocations and in the harmonised frame
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PROVENANCE_KINDS = ("source", "derived", "assumption")

ROLE_RETAINED = "retained"
ROLE_DUPLICATE = "duplicate"
ROLE_TEST = "test"
ROLE_EXCLUDED_PARTIAL = "excluded_partial"
ROLE_SPEEDER = "speeder"
# The clean-stage rule meant to exclude each defect row (smesocial.clean.RULES); retained rows
# must pass every rule.
RULE_OF_ROLE = {ROLE_TEST: "test_response", ROLE_DUPLICATE: "duplicate_submission",
                ROLE_EXCLUDED_PARTIAL: "partial_below_threshold", ROLE_SPEEDER: "speeder",
                ROLE_RETAINED: "retained"}


class VerificationError(RuntimeError):
    """The generated data fail a self-check: a bug in the generator, not bad input."""


# --------------------------------------------------------------------------------------------
# Parameters and project configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    """One mapped questionnaire item: its raw column, harmonised variable and labels."""

    name: str
    column: str
    scale: str
    scale_type: str
    levels: tuple[Any, ...]  # lowest first; (False, True) for booleans
    label_of: Mapping[Any, str]  # harmonised level -> raw label
    dont_know_label: str
    group: str  # item_nonresponse / dont_know group
    position: int  # 0-based place in the questionnaire (= export column order)
    page: int


@dataclass(frozen=True)
class FigureTarget:
    """A followed published figure, as a constraint on one item's counts."""

    id: str
    indicator: str
    segment: str
    value: float
    item: str
    categories: frozenset[Any]


@dataclass
class WaveInputs:
    """A wave generator's parameters and the project files they name (each wave's Context
    extends it)."""

    params_path: str
    params: dict[str, Any]
    root: Path
    harmonised: Harmonised
    indicators: dict[str, Indicator]
    codebook: Codebook
    published: dict[str, Any]
    project_config: dict[str, Any]
    wave: str  # the project config's wave whose codebook the parameters name

    def input_path(self, name: str) -> Path:
        """The project file the parameters' `inputs.<name>` names."""
        return self.root / self.params["inputs"][name]


def provenance_value(block: Any, path: str, where: str) -> Any:
    """The number of a `{value: x, <provenance>: ...}` block; it must carry provenance."""
    if not isinstance(block, Mapping) or "value" not in block:
        raise InputError(path, f"{where} must be a mapping with `value` and its provenance",
                         found=block)
    require_provenance(block, path, where)
    return block["value"]


def require_provenance(block: Mapping[str, Any], path: str, where: str) -> None:
    if not any(kind in block for kind in PROVENANCE_KINDS):
        raise InputError(path, f"{where} has no provenance",
                         expected="one of `source: published:<id>`, `derived:`, `assumption:`")


def check_provenance_entry(entry: Any, path: str, where: str, figure_ids: set[str]) -> None:
    if not isinstance(entry, Mapping) or len(entry) != 1 or next(iter(entry)) not in PROVENANCE_KINDS:
        raise InputError(path, f"{where}: malformed provenance", found=entry,
                         expected="{source: 'published:<figure id>'} | {derived: ...} | {assumption: ...}")
    kind, text = next(iter(entry.items()))
    if kind == "source":
        ref = str(text)
        if not ref.startswith("published:") or ref.removeprefix("published:") not in figure_ids:
            raise InputError(path, f"{where}: source names no published figure", found=ref,
                             expected="published:<an id of config/published figures>")
    elif not str(text).strip():
        raise InputError(path, f"{where}: empty {kind} text")


def check_pct(pct: Mapping[Any, Any], levels: Sequence[Any], path: str, where: str) -> None:
    """`pct` gives a non-negative share (%) to exactly the scale's levels, summing to 100."""
    if set(pct) != set(levels):
        raise InputError(path, f"{where} must name exactly the scale's levels",
                         found=sorted(map(str, pct)), expected=str(list(levels)))
    values = [float(v) for v in pct.values()]
    if any(v < 0 for v in values) or abs(sum(values) - 100) > 1e-6:
        raise InputError(path, f"{where} must be non-negative and sum to 100", found=sum(values))


def require_defects(defects: Mapping[str, Any], path: str, keys: Iterable[str]) -> None:
    """Each of the defects `keys` is given, with its provenance."""
    for key in keys:
        if key not in defects:
            raise InputError(path, f"defects.{key} missing")
        require_provenance(defects[key], path, f"defects.{key}")


# The project config's sections the self-check reads (the wave's entry, clean stage, segments,
# the reproduction check); a caller passing the config as a mapping must include them.
PROJECT_CONFIG_SECTIONS = ("waves", "exclusions", "segmentation", "alpha", "reproduction")


def load_wave_inputs(params_path: str | Path, root: str | Path | None,
                     required: Sequence[str], *,
                     project_config: Mapping[str, Any] | None = None) -> WaveInputs:
    """Read the parameters (a mapping with every `required` top-level key; a relative path is
    taken from `root`, default the working directory) and the project files of their `inputs`.
    `project_config`, when given, replaces the file of `inputs.project_config` (a workflow rule
    passes the config it already holds); it needs PROJECT_CONFIG_SECTIONS."""
    root = Path(root) if root is not None else Path.cwd()
    params_file = Path(params_path)
    if not params_file.is_absolute():
        params_file = root / params_file
    path = str(params_path)
    params = load_yaml(params_file)
    if not isinstance(params, dict):
        raise InputError(path, "not a mapping of parameters")
    for key in required:
        if key not in params:
            raise InputError(path, f"missing top-level key {key!r}")

    def resolve(name: str) -> Path:
        return root / params["inputs"][name]

    harmonised = load_harmonised(resolve("harmonised"))
    if project_config is None:
        project_config = load_yaml(resolve("project_config"))
    else:
        missing = [k for k in PROJECT_CONFIG_SECTIONS if k not in project_config]
        if missing:
            raise InputError("project_config", "the project config passed in lacks sections the "
                             "self-check reads", found=missing,
                             expected=", ".join(PROJECT_CONFIG_SECTIONS))
        project_config = dict(project_config)
    return WaveInputs(path, params, root, harmonised,
                      load_indicators(resolve("indicators"), harmonised.platforms, harmonised.purposes),
                      load_codebook(resolve("codebook")), load_yaml(resolve("published")),
                      project_config, wave_of(project_config, params["inputs"]["codebook"], path))


def wave_of(project_config: Mapping[str, Any], codebook: str, path: str) -> str:
    """The one wave of the project config read with `codebook`: its clean-stage settings are
    the ones the self-check runs."""
    waves = [name for name, spec in (project_config.get("waves") or {}).items()
             if Path(str(spec.get("codebook", ""))) == Path(codebook)]
    if len(waves) != 1:
        raise InputError(path, "inputs.codebook must be the codebook of exactly one wave of the "
                         "project config", found=waves or codebook,
                         expected="a `waves.<wave>.codebook` of inputs.project_config")
    return waves[0]


def scale_levels(harmonised: Harmonised, scale_name: str) -> tuple[Any, ...]:
    """A scale's levels, lowest first; (False, True) for a boolean scale."""
    scale = harmonised.scales[scale_name]
    return (False, True) if scale.type == "boolean" else scale.levels


def questionnaire_pages(params: Mapping[str, Any], dimensions: Mapping[str, Mapping[str, str]],
                        codebook: Codebook, path: str) -> dict[str, int]:
    """Item -> its page (0-based) of `questionnaire.pages`, whose templates expanded over
    `dimensions` must list the codebook's mapped variables in its column order."""
    pages = [[name for template in page for name in expand_template(template, dimensions, path)]
             for page in params["questionnaire"]["pages"]]
    order = [name for page in pages for name in page]
    mapped = list(codebook.columns.values())
    if mapped != order:
        raise InputError(path, "questionnaire.pages do not list the codebook's mapped variables "
                         "in its column order", found=order, expected=str(mapped))
    return {name: i for i, page in enumerate(pages) for name in page}


def wave_dimension(harmonised: Harmonised, codebook: Codebook, attribute: str, *,
                   codebook_order: bool) -> dict[str, str]:
    """The harmonised platforms (`attribute` 'platform') or purposes ('purpose') the codebook
    maps a column to, with their labels: in the codebook's column order, or in the harmonised
    spec's. A wave's random draws follow this order, so each wave keeps the one it was built
    with (in the harmonised order, platforms another wave adds cannot reorder it)."""
    labels = harmonised.platforms if attribute == "platform" else harmonised.purposes
    variables = [harmonised.variables[v] for v in codebook.columns.values() if v in harmonised.variables]
    used = [k for k in dict.fromkeys(getattr(var, attribute) for var in variables) if k]
    return {key: labels[key] for key in (used if codebook_order else [k for k in labels if k in used])}


def build_items(params: Mapping[str, Any], harmonised: Harmonised, codebook: Codebook,
                dimensions: Mapping[str, Mapping[str, str]], path: str,
                group_of: Callable[[str], str], hidden_groups: Collection[str] = ()) -> list[ItemSpec]:
    """The codebook's items in export column order, labels inverted from the codebook (so they
    cannot drift), each on its `questionnaire.pages` page and in its `group_of(variable)`.

    An item of `hidden_groups` is set by the survey tool, not answered (e.g. the sample): it has
    only the levels the codebook labels and no 'don't know'.
    """
    page_of = questionnaire_pages(params, dimensions, codebook, path)
    items: list[ItemSpec] = []
    for position, (column, variable) in enumerate(codebook.columns.items()):
        var = harmonised.variables.get(variable)
        if var is None:
            raise InputError(codebook.path, "column mapped to an unknown harmonised variable",
                             column=column, found=variable)
        levels = scale_levels(harmonised, var.scale)
        label_of, dont_know = invert_labels(codebook, var.scale)
        group = group_of(variable)
        if group in hidden_groups:
            levels = tuple(lv for lv in levels if lv in label_of)
        else:
            check_labels(codebook, var.scale, levels, label_of, dont_know)
        items.append(ItemSpec(variable, column, var.scale, harmonised.scales[var.scale].type,
                              levels, label_of, dont_know, group, position, page_of[variable]))
    return items


def invert_labels(codebook: Codebook, scale: str) -> tuple[dict[Any, str], str]:
    """The export's labels, inverted from the codebook so they cannot drift: harmonised level ->
    its first raw label, and the first label mapped to null ('don't know'; '' if none)."""
    labels = codebook.labels.get(scale)
    if labels is None:
        raise InputError(codebook.path, f"no labels for scale {scale!r}")
    label_of: dict[Any, str] = {}
    dont_know = ""
    for label, level in labels.items():
        if level is None:
            dont_know = dont_know or str(label)
        elif level not in label_of:
            label_of[level] = str(label)
    return label_of, dont_know


def check_labels(codebook: Codebook, scale: str, levels: Sequence[Any], label_of: Mapping[Any, str],
                 dont_know: str) -> None:
    """Every level of an item's scale, and 'don't know', needs a raw label."""
    missing = [lv for lv in levels if lv not in label_of]
    if missing or not dont_know:
        raise InputError(codebook.path, f"scale {scale!r} lacks a raw label",
                         found=missing or "no label mapped to null",
                         expected="a label for every level and one for 'don't know'")


def resolve_indicator(indicator: Indicator, harmonised: Harmonised) -> tuple[str, frozenset[Any]]:
    """The recoded item an indicator is computed from, and the item categories it counts."""
    if indicator.variable in harmonised.variables:
        return indicator.variable, frozenset(indicator.values)
    derived = harmonised.derived.get(indicator.variable)
    if derived is None:
        raise InputError("indicators", f"indicator {indicator.id!r} uses unknown variable",
                         found=indicator.variable)
    source_levels = scale_levels(harmonised, harmonised.variables[derived.source].scale)
    true_levels = frozenset(derived.true_levels)
    if tuple(indicator.values) == (True,):
        return derived.source, true_levels
    if tuple(indicator.values) == (False,):
        return derived.source, frozenset(lv for lv in source_levels if lv not in true_levels)
    raise InputError("indicators", f"indicator {indicator.id!r} on a derived boolean must count "
                     "[true] or [false]", found=indicator.values)


def followed_figures(published: dict[str, Any], indicators: dict[str, Indicator],
                     harmonised: Harmonised, items: Collection[str], strata: Collection[str],
                     published_path: Path) -> list[FigureTarget]:
    """The published figures marked `follow`, as targets on the items they count; a figure's
    segment must be one of the generator's `strata` or "all"."""
    figures: list[FigureTarget] = []
    for fig in published["figures"]:
        if not fig.get("follow"):
            continue
        indicator = indicators.get(fig["indicator"])
        if indicator is None:
            raise InputError(str(published_path), f"figure {fig['id']!r} names an unknown indicator",
                             found=fig["indicator"])
        item, categories = resolve_indicator(indicator, harmonised)
        if item not in items:
            raise InputError(str(published_path), f"figure {fig['id']!r} needs item {item!r}, "
                             "which the codebook does not map")
        if fig["segment"] not in (*strata, "all"):
            raise InputError(str(published_path), f"figure {fig['id']!r} has an unknown segment",
                             found=fig["segment"], expected=f"one of {[*strata, 'all']}")
        figures.append(FigureTarget(fig["id"], fig["indicator"], fig["segment"], float(fig["value"]),
                                    item, categories))
    return figures


# --------------------------------------------------------------------------------------------
# Count allocation (MILP)
# --------------------------------------------------------------------------------------------


Allocation = dict[str, dict[str, dict[Any, int]]]  # item -> segment -> category (NA=None) -> count


def answer_targets(n: int, na_forced: int, na_pct: float, pct: Mapping[Any, Any],
                   levels: Sequence[Any]) -> dict[Any, float]:
    """Assumed counts in one stratum of `n`: item non-response `na_pct`% among those who reached
    the item (beyond the `na_forced` break-offs and routed-away), the rest shared by `pct`."""
    na = na_forced + na_pct / 100 * (n - na_forced)
    out: dict[Any, float] = {lv: (n - na) * float(pct[lv]) / 100 for lv in levels}
    out[NA] = na
    return out


def allocate_item(item: str, levels: Sequence[Any], sizes: Mapping[str, int],
                  targets: Mapping[str, Mapping[Any, float]], figures: Sequence[FigureTarget],
                  na_min: Mapping[str, int], tolerance: float, source: str = "synthetic parameters",
                  ) -> dict[str, dict[Any, int]]:
    """Integer counts per segment x category (NA included) reproducing every figure within
    `tolerance` pp on the base of those who answered, closest in L1 to `targets`.

    The strata are the keys of `sizes` (the size segments here; any partition of the
    respondents elsewhere, e.g. samples); a figure's segment is one of them or "all".
    Raises InputError naming the item and the segment whose figures cannot all hold.
    """
    key = _problem_key(levels, sizes, targets, figures, na_min, tolerance)
    solved = _SOLVED.get(key)
    x = _solve_counts(levels, sizes, targets, figures, na_min, tolerance) if solved is None else solved
    if x is None:
        raise _infeasible(item, levels, sizes, targets, figures, na_min, tolerance, source)
    _SOLVED[key] = x
    x = {seg: dict(counts) for seg, counts in x.items()}  # the caller's own copy
    # Re-check in exact integer arithmetic: the solver works to floating-point tolerances.
    for fig in figures:
        k, n = _figure_counts(x, fig)
        if n == 0 or abs(100 * k - fig.value * n) > tolerance * n + 1e-9:
            raise RuntimeError(f"MILP solution for {item!r} misses figure {fig.id!r}: {k}/{n}")
    return x


# Solved count problems by everything the solver reads (`_problem_key`), for the life of the
# process: the ensemble's draws vary knobs most items' problems do not read (the copula
# strength none, a posting split only the posting items), so a batch solves each distinct
# problem once. HiGHS is deterministic, so a cached solution is the one a new solve gives.
_SOLVED: dict[str, dict[str, dict[Any, int]]] = {}


def _problem_key(levels: Sequence[Any], sizes: Mapping[str, int],
                 targets: Mapping[str, Mapping[Any, float]], figures: Sequence[FigureTarget],
                 na_min: Mapping[str, int], tolerance: float) -> str:
    """Exactly what `_solve_counts` reads, in the order it builds the problem (the row order
    can decide between equally good solutions): equal keys, equal problems."""
    cats = [*levels, NA]
    return repr((
        [(type(lv).__name__, lv) for lv in levels],
        [(seg, n, [float(targets[seg][cat]) for cat in cats], na_min.get(seg, 0))
         for seg, n in sizes.items()],
        [(fig.segment, float(fig.value), [lv in fig.categories for lv in levels]) for fig in figures],
        float(tolerance)))


def _figure_counts(x: Mapping[str, Mapping[Any, int]], fig: FigureTarget) -> tuple[int, int]:
    segs = tuple(x) if fig.segment == "all" else (fig.segment,)
    k = sum(c for s in segs for lv, c in x[s].items() if lv is not NA and lv in fig.categories)
    n = sum(c for s in segs for lv, c in x[s].items() if lv is not NA)
    return k, n


def _solve_counts(levels: Sequence[Any], sizes: Mapping[str, int],
                  targets: Mapping[str, Mapping[Any, float]], figures: Sequence[FigureTarget],
                  na_min: Mapping[str, int], tolerance: float) -> dict[str, dict[Any, int]] | None:
    segs = list(sizes)
    cats: list[Any] = [*levels, NA]
    n_seg, n_cat = len(segs), len(cats)
    nx = n_seg * n_cat  # counts x, then as many deviations d >= |x - target|

    def ix(s: int, k: int) -> int:
        return s * n_cat + k

    rows: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []

    def add(row: np.ndarray, low: float, high: float) -> None:
        rows.append(row)
        lo.append(low)
        hi.append(high)

    for s, seg in enumerate(segs):
        row = np.zeros(2 * nx)
        row[[ix(s, k) for k in range(n_cat)]] = 1
        add(row, sizes[seg], sizes[seg])
        for k, cat in enumerate(cats):
            t = float(targets[seg][cat])
            row = np.zeros(2 * nx)
            row[ix(s, k)], row[nx + ix(s, k)] = 1, -1
            add(row, -np.inf, t)  # x - d <= t
            row = np.zeros(2 * nx)
            row[ix(s, k)], row[nx + ix(s, k)] = 1, 1
            add(row, t, np.inf)  # x + d >= t
    for fig in figures:
        # |100 k / n - v| <= tol  <=>  100 k - (v + tol) n <= 0  and  (v - tol) n - 100 k <= 0,
        # linear because n (those who answered) is itself a sum of counts.
        upper, lower, answered = np.zeros(2 * nx), np.zeros(2 * nx), np.zeros(2 * nx)
        for s, seg in enumerate(segs):
            if fig.segment not in ("all", seg):
                continue
            for k, cat in enumerate(levels):
                hit = 100.0 if cat in fig.categories else 0.0
                upper[ix(s, k)] = hit - (fig.value + tolerance)
                lower[ix(s, k)] = (fig.value - tolerance) - hit
                answered[ix(s, k)] = 1
        add(upper, -np.inf, 0)
        add(lower, -np.inf, 0)
        add(answered, 1, np.inf)
    lb = np.zeros(2 * nx)
    ub = np.full(2 * nx, np.inf)
    for s, seg in enumerate(segs):
        ub[[ix(s, k) for k in range(n_cat)]] = sizes[seg]
        lb[ix(s, n_cat - 1)] = na_min.get(seg, 0)
    cost = np.concatenate([np.zeros(nx), np.ones(nx)])
    integrality = np.concatenate([np.ones(nx), np.zeros(nx)])
    if (lb > ub).any():
        return None
    res = milp(cost, constraints=LinearConstraint(np.vstack(rows), lo, hi),
               integrality=integrality, bounds=Bounds(lb, ub))
    if res.status == 2:  # infeasible
        return None
    if not res.success or res.x is None:
        raise RuntimeError(f"MILP solver failed: {res.message}")
    counts = np.rint(res.x[:nx]).astype(int)
    return {seg: {cat: int(counts[ix(s, k)]) for k, cat in enumerate(cats)}
            for s, seg in enumerate(segs)}


def _infeasible(item: str, levels: Sequence[Any], sizes: Mapping[str, int],
                targets: Mapping[str, Mapping[Any, float]], figures: Sequence[FigureTarget],
                na_min: Mapping[str, int], tolerance: float, source: str) -> InputError:
    """Name the first stratum whose own figures conflict; else the all-strata coupling."""
    culprit = "all"
    for seg in sizes:
        own = [f for f in figures if f.segment == seg]
        if own and _solve_counts(levels, sizes, targets, own, na_min, tolerance) is None:
            culprit = seg
            break
    if culprit == "all" and not figures:
        return InputError(source, f"item {item!r}: no integer counts satisfy the segment sizes and "
                          "non-response lower bounds", found=dict(na_min))
    involved = [f for f in figures if f.segment == culprit] if culprit != "all" else list(figures)
    shown = ", ".join(f"{f.id}={f.value:g}% ({f.indicator})" for f in involved)
    return InputError(source, f"item {item!r}, segment {culprit!r}: no integer counts reproduce "
                      f"the published figures within {tolerance} pp", found=shown,
                      expected="figures that can hold together (check `follow` and `conflicts`, "
                      "or the retained-partial NA lower bounds)")


# --------------------------------------------------------------------------------------------
# Firms: random streams, identities, times
# --------------------------------------------------------------------------------------------


def named_rng(seed: int, stream: str) -> np.random.Generator:
    """An independent, named random stream: changing one component never shifts another's draws."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(stream.encode())]))


def slug(text: str) -> str:
    text = text.lower().replace("&", " og ")
    for a, b in (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("é", "e")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def mod11_check_digit(digits: Sequence[int], weights: Sequence[int]) -> int:
    """The check digit making sum(weight * digit) + check divisible by 11 (10: no valid number)."""
    return (-sum(w * d for w, d in zip(weights, digits))) % 11


def mod11_number(rng: np.random.Generator, used: set[str], weights: Sequence[int],
                 first_digit: tuple[int, int]) -> str:
    """A new number (added to `used`) of len(weights) digits, the first drawn from
    [first_digit[0], first_digit[1]), then a modulus-11 check digit on `weights`."""
    while True:
        digits = [int(rng.integers(*first_digit))]
        digits += [int(d) for d in rng.integers(0, 10, size=len(weights) - 1)]
        check = mod11_check_digit(digits, weights)
        if check == 10:
            continue
        number = "".join(map(str, digits)) + str(check)
        if number not in used:
            used.add(number)
            return number


def pick(pool: Sequence[Any], rng: np.random.Generator) -> str:
    """One entry of `pool`, uniformly."""
    return str(pool[int(rng.integers(len(pool)))])


def draw_firm_name(ids: Mapping[str, Any], forms: Sequence[str], rng: np.random.Generator,
                   used_names: set[str]) -> tuple[str, str]:
    """A new invented firm name (added to `used_names`) from the `identities` pools, ending in
    one of the legal `forms`: (name, its base without the form)."""
    for _attempt in range(1000):
        surname, second = pick(ids["surnames"], rng), pick(ids["surnames"], rng)
        if second == surname:
            continue
        base = pick(ids["patterns"], rng).format(
            s=surname, s2=second, t=pick(ids["trades"], rng), w=pick(ids["words"], rng),
            town=pick(ids["towns"], rng), form="").strip()
        name = f"{base} {pick(forms, rng)}"
        if name not in used_names:
            used_names.add(name)
            return name, base
    raise RuntimeError("could not draw a unique firm name")  # pragma: no cover - the pools give tens of thousands


def draw_identity(ids: Mapping[str, Any], forms: Sequence[str], rng: np.random.Generator,
                  used_names: set[str], key: str, draw_key: Callable[[np.random.Generator], str],
                  domain: str) -> dict[str, str]:
    """A firm's identifiers from the `identities` pools: a new name ending in one of `forms`,
    an e-mail at its `domain` (top level), a comment for `comment_share` of firms, and its
    register number `key` from `draw_key`."""
    name, base = draw_firm_name(ids, forms, rng, used_names)
    mailbox = pick(ids["mailbox"], rng)
    names = {"first": slug(pick(ids["first_names"], rng))}
    # A surname is drawn only where a mailbox pattern uses one, so a wave without such a
    # pattern keeps its random draws.
    if any("{last}" in pattern for pattern in ids["mailbox"]):
        names["last"] = slug(pick(ids["surnames"], rng))
    comment = pick(ids["comments"], rng) if rng.random() < float(ids["comment_share"]) else ""
    return {"firm": name, "email": f"{mailbox.format(**names)}@{slug(base)}.{domain}",
            key: draw_key(rng), "comment": comment}


def make_test_row(test: Mapping[str, Any], ctx: Any, rng: np.random.Generator, key: str) -> dict[str, Any]:
    """The bookkeeping of a test response (`defects.test_responses`): started within 40 minutes
    of its `started`, as long as a break-off, its identifiers as given and no register number."""
    start = parse_time(test["started"]) + timedelta(minutes=int(rng.integers(0, 40)))
    return {"role": ROLE_TEST, "status": "complete", "started": start,
            "finished": start + draw_duration("breakoff", ctx, rng),
            "firm": test["firm"], "email": test["email"], key: "", "comment": test["comment"]}


def parse_time(text: str) -> datetime:
    return datetime.strptime(str(text), TIME_FORMAT) if " " in str(text) else datetime.strptime(str(text), "%Y-%m-%d")


def draw_times(kind: str, ctx: Any, rng: np.random.Generator) -> tuple[datetime, datetime]:
    """Start in one of the two mailing waves (decaying after each mailing), in working hours."""
    t = ctx.params["timing"]
    waves = t["waves"]
    shares = np.asarray([w["share"] for w in waves], dtype=float)
    wave = waves[int(rng.choice(len(waves), p=shares / shares.sum()))]
    first, last = parse_time(wave["first_day"]), parse_time(wave["last_day"])
    day = min(int(rng.exponential(float(wave["decay_days"]))), (last - first).days)
    hours = np.asarray(t["hours"])
    hw = np.asarray(t["hour_weights"], dtype=float)
    hour = int(rng.choice(hours, p=hw / hw.sum()))
    start = first + timedelta(days=day, hours=hour, minutes=int(rng.integers(60)),
                              seconds=int(rng.integers(60)))
    finish = start + draw_duration(kind, ctx, rng)
    end = parse_time(t["window_end"])
    if finish > end:  # the survey closed: a late response is shifted back, not cut
        start, finish = start - (finish - end), end
    return start, finish


def draw_duration(kind: str, ctx: Any, rng: np.random.Generator) -> timedelta:
    """Log-normal minutes around `timing.minutes_median[kind]`; with `timing.minutes_min_share`,
    never below that share of the median (so no complete response looks like a speeder)."""
    t = ctx.params["timing"]
    median = float(t["minutes_median"][kind])
    minutes = median * math.exp(float(t["minutes_sigma"]) * rng.standard_normal())
    if "minutes_min_share" in t:
        minutes = max(minutes, float(t["minutes_min_share"]) * median)
    return timedelta(seconds=max(45, int(round(minutes * 60))))


def lift_speeder_durations(rows: Sequence[dict[str, Any]], exclusions: Mapping[str, Any],
                           window_end: datetime) -> int:
    """Lengthen every retained response the clean stage's speeder rule would cut, so any seed
    reproduces the report. Returns how many were lengthened.

    The rule (`exclusions.speeder_min_share_of_median` of the project config) cuts any timed
    response, partial ones included, faster than that share of the median duration of the
    complete responses still in play when it runs: tests, duplicate submissions and partials
    below the threshold are gone by then, so those are the retained complete ones and the
    speeders. A lengthened response stays below the median, so the median does not move.
    """
    share = exclusions.get("speeder_min_share_of_median")
    if share is None:
        return 0
    role = np.asarray([r["role"] for r in rows])
    complete = np.asarray([r["status"] == "complete" for r in rows])
    seconds = np.asarray([(r["finished"] - r["started"]).total_seconds() for r in rows])
    base = np.isin(role, (ROLE_RETAINED, ROLE_SPEEDER)) & complete
    # One second above the cut-off: durations are whole seconds and the rule cuts below it.
    floor = math.floor(float(share) * float(np.median(seconds[base]))) + 1
    lift = np.flatnonzero((role == ROLE_RETAINED) & (seconds < floor))
    for i in lift:
        row = rows[i]
        row["finished"] = row["started"] + timedelta(seconds=floor)
        if row["finished"] > window_end:  # the survey closed: start earlier instead
            row["started"], row["finished"] = window_end - timedelta(seconds=floor), window_end
    return len(lift)


# --------------------------------------------------------------------------------------------
# Respondent-level assignment (Gaussian copula)
# --------------------------------------------------------------------------------------------


def copula_loadings(raw: Mapping[str, Mapping[str, Any]], dimensions: Mapping[str, Mapping[str, str]],
                    needed: Iterable[str], source: str) -> dict[str, dict[str, float]]:
    """Loadings per item from `copula.loadings` (templates expanded over `dimensions`, in that
    order, which is the order of the items' own noise draws); the factor 'platform' is resolved
    to the item's own platform factor. Every `needed` item must have loadings."""
    out: dict[str, dict[str, float]] = {}
    for template, loads in raw.items():
        for name, assignment in expand_template(template, dimensions, source).items():
            platform = assignment.get("platform", ("", ""))[0]
            resolved = {(f"platform:{platform}" if f == "platform" else f): float(v)
                        for f, v in loads.items()}
            if sum(v * v for v in resolved.values()) > 1:
                raise InputError(source, f"copula.loadings.{template}: squared loadings "
                                 "sum above 1", found=loads)
            out[name] = resolved
    missing = [name for name in needed if name not in out]
    if missing:
        raise InputError(source, "copula.loadings lacks items", found=missing)
    return out


def standardise_within(values: np.ndarray, strata: np.ndarray, groups: Iterable[Any]) -> np.ndarray:
    """`values` standardised within each of the strata `groups` (0 outside them): strata differ
    by their allocation, not by their scores."""
    z = np.zeros(len(values))
    for group in groups:
        mask = strata == group
        sd = values[mask].std()
        z[mask] = (values[mask] - values[mask].mean()) / (sd if sd > 0 else 1.0)
    return z


def copula_factors(z_size: np.ndarray, r: float, size_factor: str, platforms: Iterable[str],
                   rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The respondents' latent standard-normal factors: engagement; `size_factor`, correlated
    `r` with the standardised firm size `z_size`; one per platform (`platform:<key>`)."""
    n = len(z_size)
    factors: dict[str, np.ndarray] = {
        "engagement": rng.standard_normal(n),
        size_factor: r * z_size + math.sqrt(1 - r * r) * rng.standard_normal(n),
    }
    for platform in platforms:
        factors[f"platform:{platform}"] = rng.standard_normal(n)
    return factors


def item_scores(loadings: Mapping[str, Mapping[str, float]], factors: Mapping[str, np.ndarray],
                rng: np.random.Generator, source: str) -> dict[str, np.ndarray]:
    """Per item: sum(loading * factor) + sqrt(1 - sum(loading^2)) * its own standard normal noise,
    so every score is standard normal and items sharing a factor correlate."""
    n = len(next(iter(factors.values())))
    scores: dict[str, np.ndarray] = {}
    for name, loads in loadings.items():
        own = math.sqrt(max(0.0, 1 - sum(v * v for v in loads.values())))
        score = own * rng.standard_normal(n)
        for factor, loading in loads.items():
            if factor not in factors:
                raise InputError(source, f"copula.loadings: unknown factor {factor!r}")
            score = score + loading * factors[factor]
        scores[name] = score
    return scores


def assign_item(name: str, order: Sequence[Any], counts: Mapping[str, Mapping[Any, int]],
                strata: np.ndarray, forced_na: np.ndarray, score: np.ndarray,
                rng: np.random.Generator, *, employees: np.ndarray | None = None,
                floors: Mapping[Any, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One item's answers from its allocated counts per stratum (NA included).

    Within each stratum (in `counts` order), the NA cells beyond the forced ones (break-offs,
    routing) go to randomly drawn firms (item non-response, marked in the second array); the
    other firms get the categories in rank order of `score`, the highest categories of `order`
    to the highest scores, among firms with at least `floors[category]` employees.
    """
    floors = floors or {}
    col = np.full(len(strata), None, dtype=object)
    skipped = np.zeros(len(strata), dtype=bool)
    for stratum, stratum_counts in counts.items():
        idx = np.flatnonzero(strata == stratum)
        forced = forced_na[idx]
        free = idx[~forced]
        extra = stratum_counts[NA] - int(forced.sum())
        if extra < 0:
            raise RuntimeError(f"{name}/{stratum}: fewer NA than break-offs force")
        extra_na = np.sort(rng.choice(free, size=extra, replace=False)) if extra else np.array([], int)
        skipped[extra_na] = True
        answering = np.setdiff1d(free, extra_na)
        # Highest categories first, to the highest scores among firms large enough for them.
        ranked = list(answering[np.argsort(-score[answering], kind="stable")])
        for cat in reversed(order):
            need = stratum_counts[cat]
            floor = int(floors.get(cat, 0))
            chosen = ([i for i in ranked if employees[i] >= floor] if floor and employees is not None
                      else ranked)[:need]
            if len(chosen) < need:
                raise RuntimeError(f"{name}/{stratum}: too few firms with >= {floor} "
                                   f"employees for {need} x {cat!r}")
            col[chosen] = cat
            chosen_set = set(chosen)
            ranked = [i for i in ranked if i not in chosen_set]
        assert not ranked, "every answering firm gets a category"
    return col, skipped


# --------------------------------------------------------------------------------------------
# The generated export and its defects
# --------------------------------------------------------------------------------------------


@dataclass
class GeneratedExport:
    """A generated export in memory (each wave's SynthResult extends it)."""

    seed: int
    context: Any
    allocation: Allocation
    frame: pd.DataFrame  # every row: role, status, ids, stratum, items (None = NA), dk flags
    export: pd.DataFrame  # the export's table, in file order
    data: bytes  # the file's bytes
    defects: dict[str, int] = field(default_factory=dict)

    @property
    def retained(self) -> pd.DataFrame:
        return self.frame[self.frame["role"] == ROLE_RETAINED]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @cached_property
    def pipeline(self) -> PipelineRun:
        """The pipeline's ingest and clean stages run on `data`, once. A file they cannot read
        is the generator's fault (its inputs were checked when loaded)."""
        try:
            return run_pipeline(self.data, self.context)
        except InputError as exc:
            raise VerificationError(f"the pipeline cannot ingest or clean the generated export: {exc}") from exc


def draw_level(levels: Sequence[Any], pct: Mapping[Any, Any], rng: np.random.Generator) -> Any:
    """One of `levels`, drawn with the shares (%) `pct` (for defect rows, which no figure counts)."""
    p = np.asarray([float(pct[lv]) for lv in levels]) / 100
    return levels[int(rng.choice(len(levels), p=p / p.sum()))]


def add_duplicate_submissions(rows: list[dict[str, Any]], ctx: Any, rng: np.random.Generator,
                              changeable: Sequence[ItemSpec]) -> None:
    """Append the `defects.duplicate_submissions` second submissions: copies of retained
    complete responses finished by `latest_original_finish`, started `days_later` (or two hours
    later, if that would pass the survey's close), with `changed_items` of their answered
    `changeable` items changed a little. Marks each original with `duplicated` (popped by
    `number_and_shuffle`)."""
    dup = ctx.params["defects"]["duplicate_submissions"]
    window_end = parse_time(ctx.params["timing"]["window_end"])
    latest = parse_time(dup["latest_original_finish"])
    for _ in range(int(dup["value"])):
        pool = [r for r in rows if r["role"] == ROLE_RETAINED and r["status"] == "complete"
                and r["finished"] <= latest and not r.get("duplicated")]
        original = pool[int(rng.integers(len(pool)))]
        original["duplicated"] = True
        copy = {k: v for k, v in original.items() if k != "duplicated"}
        copy["role"] = ROLE_DUPLICATE
        lo_days, hi_days = dup["days_later"]
        start = original["finished"] + timedelta(days=int(rng.integers(lo_days, hi_days + 1)),
                                                 minutes=int(rng.integers(0, 600)))
        finish = start + draw_duration("complete", ctx, rng)
        if finish > window_end:
            start = original["finished"] + timedelta(hours=2)
            finish = start + draw_duration("complete", ctx, rng)
        copy["started"], copy["finished"] = start, finish
        answered = [s for s in changeable if copy[s.name] is not NA]
        lo_c, hi_c = dup["changed_items"]
        for k in rng.choice(len(answered), size=int(rng.integers(lo_c, hi_c + 1)), replace=False):
            spec = answered[int(k)]
            copy[spec.name] = changed_answer(spec, copy[spec.name], rng)
        rows.append(copy)


def number_and_shuffle(rows: list[dict[str, Any]], timing: Mapping[str, Any],
                       seed: int) -> list[dict[str, Any]]:
    """Response ids increasing with the start time (from `first_response_id`, gaps drawn from
    `response_id_gap`), then the rows in a shuffled file order."""
    by_start = sorted(range(len(rows)), key=lambda i: (rows[i]["started"], i))
    rng_ids = named_rng(seed, "response_ids")
    next_id = int(timing["first_response_id"])
    gap_lo, gap_hi = timing["response_id_gap"]
    for i in by_start:
        rows[i]["response_id"] = str(next_id)
        next_id += int(rng_ids.integers(gap_lo, gap_hi + 1))
    order = named_rng(seed, "row_order").permutation(len(rows))
    shuffled = [rows[i] for i in order]
    for row in shuffled:
        row.pop("duplicated", None)
    return shuffled


def row_counts(role: np.ndarray, status: np.ndarray, answered: np.ndarray, items: int) -> dict[str, int]:
    """What every export's README and summary report: rows and items, rows per role, retained
    partials, and how many items the partials answered (`answered`: per row)."""
    retained_partial = (role == ROLE_RETAINED) & (status == "partial")
    return {
        "rows": len(role), "items": items,
        "retained": int((role == ROLE_RETAINED).sum()),
        "duplicate": int((role == ROLE_DUPLICATE).sum()),
        "test": int((role == ROLE_TEST).sum()),
        "excluded_partial": int((role == ROLE_EXCLUDED_PARTIAL).sum()),
        "retained_partial": int(retained_partial.sum()),
        "excluded_partial_max_answered": int(answered[role == ROLE_EXCLUDED_PARTIAL].max(initial=0)),
        "retained_partial_min_answered": int(answered[retained_partial].min(initial=items)),
    }


def changed_answer(spec: ItemSpec, value: Any, rng: np.random.Generator) -> Any:
    """A second submission differs a little: an adjacent level where the scale is ordered."""
    levels = list(spec.levels)
    i = levels.index(value)
    if spec.scale_type == "ordered":
        options = [j for j in (i - 1, i + 1) if 0 <= j < len(levels)]
    else:
        options = [j for j in range(len(levels)) if j != i]
    return levels[options[int(rng.integers(len(options)))]]


# --------------------------------------------------------------------------------------------
# Verification: the pipeline's own ingest and clean stages on the written file
# --------------------------------------------------------------------------------------------


def answered_values(values: Iterable[Any]) -> list[Any]:
    """The answers among `values` (NA and NaN left out)."""
    return [v for v in values if v is not NA and not (isinstance(v, float) and math.isnan(v))]


def stratum_share(frame: pd.DataFrame, item: str, categories: Collection[Any], stratum: str = "all",
                  column: str = "segment") -> tuple[int, int]:
    """(hits, answered) of `item` among `frame`'s rows whose `column` is `stratum` (or all)."""
    rows = frame if stratum == "all" else frame[frame[column] == stratum]
    answered = answered_values(rows[item])
    return sum(1 for v in answered if v in categories), len(answered)


@dataclass(frozen=True)
class PipelineRun:
    """What the pipeline's ingest and clean stages make of an export."""

    ingested: pd.DataFrame  # one row per raw row (file order), recoded, identifiers dropped
    clean: pd.DataFrame  # the retained respondents, as clean.parquet holds them
    exclusions: pd.DataFrame  # one row per excluded raw row: response_id, rule, reason
    flow: pd.DataFrame  # the respondent flow, step by step


def pipeline_retained(export_path: str | Path, inputs: WaveInputs) -> PipelineRun:
    """Run the pipeline's own ingest and clean stages on an export, as workflow/scripts/ingest.py
    and workflow/scripts/clean.py call them, with the wave's settings of the project config.

    The generators call the pipeline only through this function, so a change of the stages'
    API is adapted here alone.
    """
    config, codebook, harmonised = inputs.project_config, inputs.codebook, inputs.harmonised
    source = str(export_path)
    secret, _origin = key_secret(inputs.wave, is_synthetic(config["waves"][inputs.wave]), os.environ)
    raw = read_export(export_path, codebook)
    ingested = build_ingested(raw, codebook, harmonised, source=source, secret=secret,
                              test_markers=config["exclusions"]["test_response_markers"])
    ingested = with_employee_counts(ingested, source=source, column=codebook.employees_column)
    segments = segment_table(ingested, load_schemes(config))
    clean, exclusions, flow = apply_exclusions(
        ingested, segments, config, inputs.wave, source=source,
        answer_columns=list(harmonised.variables))
    return PipelineRun(ingested, clean, exclusions, flow)


def run_pipeline(data: bytes, inputs: WaveInputs) -> PipelineRun:
    """`pipeline_retained` on export bytes (written to a temporary file, as the stages read files)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{inputs.wave}_synthetic.{inputs.codebook.format.get('type', 'csv')}"
        path.write_bytes(data)
        return pipeline_retained(path, inputs)


def reproduction_table(result: GeneratedExport, include_unfollowed: bool = False) -> pd.DataFrame:
    """The pipeline's reproduction check on what its clean stage retained (share_estimates ->
    compare_published, as the estimates and reproduce stages run it), with `follow` and `ok`
    (status 'match'); the followed figures only, unless `include_unfollowed`."""
    inputs, clean = result.context, result.pipeline.clean
    config = inputs.project_config
    indicators, _not_asked = asked_indicators(clean, inputs.indicators)
    estimates = share_estimates(clean, indicators, wave=inputs.wave, alpha=float(config["alpha"]))
    table = compare_published(estimates, inputs.published, float(config["reproduction"]["tolerance_pp"]))
    # compare_published keeps the published figures' order, so `follow` lines up row by row.
    table["follow"] = [bool(f.get("follow", True)) for f in inputs.published["figures"]]
    table["ok"] = table["status"] == "match"
    return table if include_unfollowed else table[table["follow"]].reset_index(drop=True)


def figure_problems(figures: pd.DataFrame) -> list[str]:
    """The figures of a `reproduction_table` that miss, one line each."""
    return [f"figure {row.figure_id}: published {row.published:g}, recomputed {row.recomputed:.2f} "
            f"({row.status})" for row in figures[~figures["ok"]].itertuples()]


def exclusion_problems(result: GeneratedExport) -> list[str]:
    """The pipeline's clean stage must exclude each defect row by the rule made for it
    (`RULE_OF_ROLE`) and retain every row the generator means to retain."""
    run = result.pipeline
    expected = result.frame.set_index("response_id")["role"].map(RULE_OF_ROLE)
    got = pd.Series(ROLE_RETAINED, index=expected.index, dtype=object)
    by_id = run.exclusions.set_index("response_id")
    got[by_id.index] = by_id["rule"]
    wrong = expected[expected != got].index
    return [f"row {rid}: meant to be {expected[rid]}, the clean stage says {got[rid]}"
            + (f" ({by_id.at[rid, 'reason']})" if rid in by_id.index else "") for rid in wrong]


def read_back_problems(result: GeneratedExport, items: Sequence[ItemSpec],
                       employees_field: str) -> list[str]:
    """The pipeline's reader and recoder give back, row by row, the generated response ids,
    statuses, start times, typed employee counts (frame column `employees_field`), answers, and
    the item cells shown ('don't know' included) that the partial rule counts."""
    back, frame = result.pipeline.ingested, result.frame  # both in file order
    problems = []
    if back["response_id"].tolist() != frame["response_id"].tolist():
        return ["the read-back's response ids differ from the generated ones"]
    for what, got, meant in (
            ("status", back["status"], frame["status"]),
            ("start time", back["started"], pd.to_datetime(list(frame["started"]))),
            ("employee count", back["employees_raw"], frame[employees_field].map(str.strip))):
        if list(got) != list(meant):
            problems.append(f"{what}s differ in the read-back")
    shown = np.zeros(len(frame), dtype=int)
    for spec in items:
        values = frame[spec.name]
        read = back[spec.name].astype(object)
        if read.where(read.notna(), None).tolist() != [None if v is NA else v for v in values]:
            problems.append(f"{spec.column}: read-back differs from the generated values")
        shown += (values.map(lambda v: v is not NA) | frame[f"dk:{spec.name}"].astype(bool)).to_numpy()
    if back["items_answered"].tolist() != shown.tolist():
        problems.append("answered item cells ('don't know' included) differ in the read-back")
    return problems


def stratum_problems(result: GeneratedExport, column: str, expected: Mapping[str, int]) -> list[str]:
    """The clean table's `column` (segment or sample) gives every retained respondent the
    generator's stratum, and each stratum its `expected` size."""
    clean = result.pipeline.clean
    counts = clean[column].astype(str).value_counts().to_dict()
    problems = [f"{column} {stratum}: {counts.get(stratum, 0)} retained, expected {n}"
                for stratum, n in expected.items() if counts.get(stratum, 0) != n]
    meant = result.retained.set_index("response_id")[column]
    got = clean.set_index("response_id")[column].astype(str)
    common = meant.index.intersection(got.index)
    moved = int((meant[common].astype(str) != got[common]).sum())
    if moved:
        problems.append(f"{moved} retained respondents fall in another {column} in the clean table")
    return problems


def duplicate_pair_problems(frame: pd.DataFrame, key: str) -> list[str]:
    """Only the duplicate pairs share a firm's `key` (CVR or organisation number), and each
    duplicate is a later copy (same e-mail, started after the original finished) of a retained
    firm."""
    keyed = frame.loc[frame[key] != "", key]
    problems = []
    shared = int(keyed.duplicated(keep=False).sum())
    duplicates = frame[frame["role"] == ROLE_DUPLICATE]
    if shared != 2 * len(duplicates):
        problems.append(f"{shared} rows share a {key}; expected the duplicate pairs only")
    originals = frame[frame["role"] == ROLE_RETAINED].set_index(key)
    for dup in duplicates.itertuples():
        first = originals.loc[[getattr(dup, key)]] if getattr(dup, key) in originals.index else originals.iloc[:0]
        if len(first) != 1 or not first["finished"].iloc[0] < dup.started or first["email"].iloc[0] != dup.email:
            problems.append(f"duplicate {dup.response_id}: not a later copy of a retained firm")
    return problems


def window_problems(frame: pd.DataFrame, timing: Mapping[str, Any]) -> list[str]:
    """Every firm's row (the test response aside) starts on or after the first mailing and
    finishes, after it started, by the survey's close."""
    begin = min(parse_time(w["first_day"]) for w in timing["waves"])
    end = parse_time(timing["window_end"])
    rows = frame[frame["role"] != ROLE_TEST]
    started, finished = pd.to_datetime(list(rows["started"])), pd.to_datetime(list(rows["finished"]))
    outside = ~((started >= begin) & (started < finished) & (finished <= end))
    return [f"row {rid}: timestamps outside the fieldwork window"
            for rid in rows["response_id"][outside]]


def raise_problems(problems: Sequence[str]) -> None:
    """Raise VerificationError listing every failed self-check, if any failed."""
    if problems:
        raise VerificationError("synthetic export fails its self-checks:\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------------------------
# README, writing, CLI
# --------------------------------------------------------------------------------------------


def regeneration_lines(result: GeneratedExport, command: str, file_name: str) -> list[str]:
    """The data README's section with the file's checksum and the command that regenerates it."""
    default = result.seed == int(result.context.params["seed"]["value"])
    return [
        "## Checksum and regeneration",
        "",
        f"sha256 (`{file_name}`): `{result.sha256}`",
        "",
        f"The same sha256 is declared as `waves.{result.context.wave}.raw_sha256` in "
        "`config/config.yaml`, and ingest checks the file against it before reading it: a "
        "regenerated file with other bytes (another seed, parameters or assumption) stops the run "
        "until that value is updated to the new sha256 above.",
        "",
        f"Regenerate byte-identically from the repository root (seed {result.seed}"
        + (", the default of the parameters file" if default else "") + "):",
        "",
        "```sh",
        command,
        "```",
        "",
    ]


def write_outputs(result: GeneratedExport, out: str | Path, readme: str | Path | None, command: str,
                  render: Callable[[Any, str, str], str]) -> None:
    """Write the export to `out` and, unless `readme` is None, its README rendered by `render`
    (the generator's `readme_text(result, command, file name)`)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(result.data)
    if readme is not None:
        Path(readme).write_text(render(result, command, out.name), encoding="utf-8")


def run_generator(args: argparse.Namespace, generator: Any) -> int:
    """The CLI for one generator module (its DEFAULT_OUT, generate, readme_text, summary_lines):
    generate, write the export and its README, print the summary."""
    out = args.out or generator.DEFAULT_OUT
    try:
        assumptions = parse_assumptions(args.assumption or [], generator)
        extra = {"assumptions": assumptions} if assumptions else {}
        result = generator.generate(args.params, args.seed, **extra)
    except (InputError, VerificationError) as exc:
        print(f"smesocial-generate: {exc}", file=sys.stderr)
        return 1
    command = f".venv/bin/python -m smesocial.synthetic --params {args.params} --out {out}"
    if args.seed is not None:
        command += f" --seed {args.seed}"
    command += "".join(f" --assumption {name}={value}" for name, value in assumptions.items())
    readme = None if args.no_readme else (args.readme or Path(out).parent / "README.md")
    write_outputs(result, out, readme, command, generator.readme_text)
    for line in generator.summary_lines(result):
        print(line)
    print(f"wrote {out}" + (f" and {readme}" if readme else ""))
    return 0


def parse_assumptions(pairs: Sequence[str], generator: Any) -> dict[str, str]:
    """`--assumption NAME=VALUE` options as {name: value} (the generator checks names and
    values); only a generator with assumption knobs (a KNOBS tuple) takes them."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError("--assumption", "expected NAME=VALUE", found=pair)
        out[name.strip()] = value.strip()
    if out and not getattr(generator, "KNOBS", None):
        raise InputError("--assumption", f"generator {generator.__name__} has no assumption knobs",
                         found=sorted(out))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m smesocial.synthetic` (console script smesocial-generate)."""
    parser = argparse.ArgumentParser(
        prog="smesocial-generate",
        description="Generate a SYNTHETIC raw export from published figures and stated "
                    "assumptions. The parameters file's `generator` names the wave's module "
                    f"(absent: {DEFAULT_GENERATOR}, the dk_2024 CSV).")
    parser.add_argument("--params", default=None,
                        help="parameters YAML (default: the dk_2024 generator's, "
                             "config/synthetic/dk_2024.yaml)")
    parser.add_argument("--out", default=None, help="export to write (default: the generator's)")
    parser.add_argument("--seed", type=int, default=None, help="overrides the parameters' seed")
    parser.add_argument("--readme", default=None, help="README path (default: README.md beside --out)")
    parser.add_argument("--no-readme", action="store_true", help="write the export only")
    parser.add_argument("--assumption", action="append", metavar="NAME=VALUE",
                        help="set an assumption knob (repeatable; see the parameters' "
                             "`assumption_knobs`), e.g. copula_strength=weak")
    args = parser.parse_args(argv)
    try:
        if args.params is None:
            args.params = importlib.import_module(DEFAULT_GENERATOR).DEFAULT_PARAMS
        generator = generator_module(args.params)
    except InputError as exc:
        print(f"smesocial-generate: {exc}", file=sys.stderr)
        return 1
    return run_generator(args, generator)


def generator_module(params_path: str | Path) -> Any:
    """The generator module the parameters' `generator` key names (absent: DEFAULT_GENERATOR).
    Only the modules of this package are accepted."""
    params = load_yaml(params_path)
    name = str((params.get("generator") if isinstance(params, Mapping) else None) or DEFAULT_GENERATOR)
    if not re.fullmatch(r"smesocial\.synthetic\.[a-z][a-z0-9_]*", name) or name.endswith(".core"):
        raise InputError(str(params_path), "`generator` must name a generator module of "
                         "smesocial.synthetic", found=name, expected="e.g. smesocial.synthetic.no")
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise InputError(str(params_path), "`generator` names no module", found=name,
                         expected="e.g. smesocial.synthetic.no") from exc


# (context, allocation) by their inputs, for the life of the process (see prepared_draw).
_PREPARED: dict[str, tuple[Any, Any]] = {}


def prepared_draw(generator: Any, params_path: str | Path, assumptions: Mapping[str, Any],
                  project_config: Mapping[str, Any]) -> tuple[Any, Any]:
    """The generator's context and count allocation for these inputs, made once per process:
    a job running many draws (the ensemble's batches) reads the inputs and solves the
    allocation once per assumption variant instead of once per draw (and allocate_item solves
    each distinct item problem once: variants that leave an item's problem alone share it).
    generate() from a ready context and allocation gives the same bytes
    (tests/unit/test_synth.py). Keyed by the
    parameters file's content too; the files it names are a job's inputs, fixed while it runs."""
    digest = hashlib.sha256(Path(params_path).read_bytes()).hexdigest()
    key = repr((generator.__name__, str(params_path), digest, sorted(assumptions.items()),
                sorted(project_config.items())))
    if key not in _PREPARED:
        context = generator.load_context(params_path, assumptions=assumptions,
                                         project_config=project_config)
        _PREPARED[key] = (context, generator.allocate_all(context))
    return _PREPARED[key]
