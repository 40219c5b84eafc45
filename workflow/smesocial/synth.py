"""Seeded generator of a SYNTHETIC raw export for wave dk_2024, built from published figures.

The Danish survey's respondent-level data are not public. This module reconstructs a plausible
raw export (SurveyXact style) whose retained respondents reproduce every followed published
percentage of config/published/dk_2024.yaml within rounding:

1. count allocation: per item, integer counts per segment x category (NA included) from a MILP
   (scipy.optimize.milp, HiGHS) with the published figures as linear constraints and an L1
   objective towards the assumed distributions of config/synthetic/dk_2024.yaml;
2. respondent assignment: a Gaussian copula (latent factors per firm) ranks the answering firms
   of each segment and hands out the allocated categories in rank order, so counts stay exact
   while items correlate;
3. export: Danish headers and labels inverted from the codebook, plus the defects real exports
   carry (a duplicate submission, a test response, partial responses, item non-response).

The count allocation does not depend on the seed; only which firm gets which answer, the
identities, timestamps and defect details do. Everything is verified before anything is written.

The machinery is shared with other waves' generators (smesocial.synth_no): loading the
parameters and project files (`load_wave_inputs`, `WaveInputs`), provenance checks
(`provenance_value`, `require_provenance`, `check_provenance_entry`, `check_pct`), the
questionnaire and its labels (`questionnaire_pages`, `invert_labels`), followed figures
(`followed_figures`), the MILP (`allocate_item`, over any strata: segments here, samples there,
with `answer_targets`), named random streams (`named_rng`), the copula (`standardise_within`,
`copula_factors`, `copula_loadings`, `item_scores`, `assign_item`), identities (`draw_firm_name`,
`mod11_number`), times (`draw_times`), the defects every export carries
(`add_duplicate_submissions`), response ids and file order (`number_and_shuffle`), the result
(`GeneratedExport`) and its checks (`recompute_figures`, `stratum_share`, `figure_problems`), the
README's regeneration section and the CLI (`run_generator`). The CLI dispatches on the
parameters file's `generator` key (absent = this module).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib
import io
import math
import re
import sys
import unicodedata
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.stats import spearmanr

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
from smesocial.codebook import normalise_label
from smesocial.errors import InputError

SEGMENTS: tuple[str, ...] = ("micro", "small", "medium")
NA: None = None  # the "no answer" category in allocations and in the harmonised frame
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PROVENANCE_KINDS = ("source", "derived", "assumption")
VERIFY_TOLERANCE_PP = 0.5  # the pipeline's reproduction check (config.yaml reproduction.tolerance_pp)

ROLE_RETAINED = "retained"
ROLE_DUPLICATE = "duplicate"
ROLE_TEST = "test"
ROLE_EXCLUDED_PARTIAL = "excluded_partial"
ROLE_SPEEDER = "speeder"

DEFAULT_PARAMS = "config/synthetic/dk_2024.yaml"
DEFAULT_OUT = "data/raw/dk_2024/dk_2024_survey_export.csv"


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

    def input_path(self, name: str) -> Path:
        """The project file the parameters' `inputs.<name>` names."""
        return self.root / self.params["inputs"][name]


@dataclass
class Context(WaveInputs):
    items: list[ItemSpec]
    figures: list[FigureTarget]
    sizes: dict[str, int]
    bounds: dict[str, tuple[int, int | None]]
    item: dict[str, ItemSpec] = field(init=False)  # items by name
    platforms: dict[str, str] = field(init=False)  # the platforms this wave asks about

    def __post_init__(self) -> None:
        self.item = {spec.name: spec for spec in self.items}
        self.platforms = wave_platforms(self.harmonised, self.codebook)

    @property
    def dimensions(self) -> dict[str, dict[str, str]]:
        return {"platform": self.platforms}


def wave_platforms(harmonised: Harmonised, codebook: Codebook) -> dict[str, str]:
    """The harmonised platforms the codebook maps a column to, in the harmonised order.

    Templates expand over these, not over every harmonised platform: platforms another wave
    added (e.g. Twitter) must not change this wave's items or its random draws.
    """
    used = {harmonised.variables[v].platform for v in codebook.columns.values()
            if v in harmonised.variables}
    return {key: label for key, label in harmonised.platforms.items() if key in used}


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


def load_wave_inputs(params_path: str | Path, root: str | Path | None,
                     required: Sequence[str]) -> WaveInputs:
    """Read the parameters (a mapping with every `required` top-level key; a relative path is
    taken from `root`, default the working directory) and the project files of their `inputs`."""
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
    return WaveInputs(path, params, root, harmonised,
                      load_indicators(resolve("indicators"), harmonised.platforms, harmonised.purposes),
                      load_codebook(resolve("codebook")), load_yaml(resolve("published")),
                      load_yaml(resolve("project_config")))


def load_context(params_path: str | Path = DEFAULT_PARAMS, root: str | Path | None = None) -> Context:
    """Read and validate the parameters and every project file they name."""
    inputs = load_wave_inputs(params_path, root, (
        "seed", "inputs", "segments", "tolerance_pp", "employees", "questionnaire", "defects",
        "item_nonresponse", "copula", "timing", "identities", "targets"))
    path, params, published = inputs.params_path, inputs.params, inputs.published
    sizes: dict[str, int] = {}
    bounds: dict[str, tuple[int, int | None]] = {}
    for seg in SEGMENTS:
        spec = params["segments"].get(seg)
        if spec is None:
            raise InputError(path, f"segments.{seg} missing")
        require_provenance(spec, path, f"segments.{seg}")
        sizes[seg] = int(spec["n"])
        bounds[seg] = (int(spec["min"]), None if spec["max"] is None else int(spec["max"]))
    published_sizes = {s["segment"]: int(s["n"]) for s in published.get("segments_published", [])}
    if published_sizes and published_sizes != sizes:
        raise InputError(path, "segment sizes differ from the published ones", found=sizes,
                         expected=str(published_sizes))

    harmonised, codebook = inputs.harmonised, inputs.codebook
    items = _build_items(params, harmonised, codebook, path)
    figures = followed_figures(published, inputs.indicators, harmonised, {i.name for i in items},
                               SEGMENTS, inputs.input_path("published"))
    ctx = Context(**vars(inputs), items=items, figures=figures, sizes=sizes, bounds=bounds)
    _validate_params(ctx)
    return ctx


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


def _build_items(params: dict[str, Any], harmonised: Harmonised, codebook: Codebook,
                 path: str) -> list[ItemSpec]:
    """Items in export column order, with labels inverted from the codebook (so they cannot drift)."""
    page_of = questionnaire_pages(params, {"platform": wave_platforms(harmonised, codebook)},
                                  codebook, path)
    groups = {"post_": "post", "important_": "important"}
    items: list[ItemSpec] = []
    for position, (column, variable) in enumerate(codebook.columns.items()):
        var = harmonised.variables.get(variable)
        if var is None:
            raise InputError(codebook.path, "column mapped to an unknown harmonised variable",
                             column=column, found=variable)
        levels = scale_levels(harmonised, var.scale)
        label_of, dont_know = invert_labels(codebook, var.scale)
        check_labels(codebook, var.scale, levels, label_of, dont_know)
        group = next((g for prefix, g in groups.items() if variable.startswith(prefix)), "")
        if not group:
            group = {"professionalism": "professionalism", "handling": "handling",
                     "marketing_fulltime": "marketing", "marketing_team_size": "marketing"}.get(
                variable, "statements")
        items.append(ItemSpec(variable, column, var.scale, harmonised.scales[var.scale].type,
                              levels, label_of, dont_know, group, position, page_of[variable]))
    return items


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


def _validate_params(ctx: Context) -> None:
    """Every target sums to 100 over the scale's levels and every category has provenance."""
    p, path = ctx.params, ctx.params_path
    figure_ids = {f["id"] for f in ctx.published["figures"]} | {"segments_published"}
    for key in ("seed", "tolerance_pp"):
        provenance_value(p[key], path, key)
    for group, block in p["item_nonresponse"].items():
        provenance_value(block, path, f"item_nonresponse.{group}")
    for key in ("questionnaire", "copula", "timing", "identities"):
        require_provenance(p[key], path, key)
    for seg in SEGMENTS:
        require_provenance(p["employees"][seg], path, f"employees.{seg}")
    require_provenance(p["employees"]["text"], path, "employees.text")
    provenance_value(p["employees"]["small"]["exactly_50"], path, "employees.small.exactly_50")
    require_provenance(p["copula"].get("min_employees", {"assumption": "none"}), path,
                       "copula.min_employees")
    require_defects(p["defects"], path, ("duplicate_submissions", "test_responses",
                                          "excluded_partials", "retained_partials", "dont_know"))
    if "speeders" in p["defects"]:
        require_provenance(p["defects"]["speeders"], path, "defects.speeders")
    targets = p["targets"]
    for spec in ctx.items:
        block = targets.get(spec.name)
        if block is None:
            raise InputError(path, f"no targets for item {spec.name!r}")
        if block.get("nonresponse") not in p["item_nonresponse"]:
            raise InputError(path, f"targets.{spec.name}.nonresponse names no item_nonresponse group",
                             found=block.get("nonresponse"))
        shared = dict(block.get("provenance") or {})
        for seg in SEGMENTS:
            where = f"targets.{spec.name}.{seg}"
            seg_block = block.get(seg)
            if not isinstance(seg_block, Mapping) or "pct" not in seg_block:
                raise InputError(path, f"{where} missing or without `pct`")
            check_pct(seg_block["pct"], spec.levels, path, f"{where}.pct")
            provenance = {**shared, **(seg_block.get("provenance") or {})}
            covered: set[str] = set()
            for key, entry in provenance.items():
                check_provenance_entry(entry, path, f"{where}.provenance.{key}", figure_ids)
                covered.update(str(k).strip().lower() for k in str(key).split("+"))
            uncovered = [lv for lv in spec.levels if str(lv).lower() not in covered]
            if uncovered:
                raise InputError(path, f"{where}: categories without provenance",
                                 found=[str(u) for u in uncovered])
    # Retained partials must stop on the last page and still answer enough to be kept.
    threshold = float(ctx.project_config["exclusions"]["partial_min_answered_share"])
    last_page = max(spec.page for spec in ctx.items)
    for seg in SEGMENTS:
        for name in p["defects"]["retained_partials"].get(seg, []):
            spec = ctx.item.get(name)
            if spec is None or spec.page != last_page:
                raise InputError(path, f"defects.retained_partials.{seg}: {name!r} is not an item "
                                 "of the last page")
            if spec.position / len(ctx.items) < threshold:
                raise InputError(path, f"defects.retained_partials.{seg}: stopping at {name!r} "
                                 f"answers fewer than {threshold:.0%} of the items")
    first_page = [s for s in ctx.items if s.page == 0]
    if len(first_page) / len(ctx.items) >= threshold:
        raise InputError(path, "the first page holds too many items for a break-off after it to "
                         "fall below the partial threshold")
    for seg, ranges in p["employees"]["text"]["ranges"].items():
        lo_seg, hi_seg = ctx.bounds[seg]
        for text in ranges:
            a, b = (int(x) for x in text.split("-"))
            if not (lo_seg <= a <= b and (hi_seg is None or b <= hi_seg)):
                raise InputError(path, f"employees.text.ranges.{seg}: range {text!r} leaves the "
                                 "segment", expected=f"within {lo_seg}-{hi_seg or ''}")


# --------------------------------------------------------------------------------------------
# Count allocation (MILP)
# --------------------------------------------------------------------------------------------

Allocation = dict[str, dict[str, dict[Any, int]]]  # item -> segment -> category (NA=None) -> count


def na_lower_bounds(ctx: Context) -> dict[str, dict[str, int]]:
    """Per item and segment, the NA cells the retained partial responses force (break-offs)."""
    partials = ctx.params["defects"]["retained_partials"]
    bounds: dict[str, dict[str, int]] = {}
    for spec in ctx.items:
        bounds[spec.name] = {
            seg: sum(1 for stop in partials.get(seg, []) if ctx.item[stop].position <= spec.position)
            for seg in SEGMENTS
        }
    return bounds


def target_counts(ctx: Context, item: str, na_min: Mapping[str, int]) -> dict[str, dict[Any, float]]:
    """Assumed counts: item non-response among those who reached the item, then the shares."""
    block = ctx.params["targets"][item]
    na_pct = float(ctx.params["item_nonresponse"][block["nonresponse"]]["value"])
    return {seg: answer_targets(ctx.sizes[seg], na_min[seg], na_pct, block[seg]["pct"],
                                ctx.item[item].levels) for seg in SEGMENTS}


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
    x = _solve_counts(levels, sizes, targets, figures, na_min, tolerance)
    if x is None:
        raise _infeasible(item, levels, sizes, targets, figures, na_min, tolerance, source)
    # Re-check in exact integer arithmetic: the solver works to floating-point tolerances.
    for fig in figures:
        k, n = _figure_counts(x, fig)
        if n == 0 or abs(100 * k - fig.value * n) > tolerance * n + 1e-9:
            raise RuntimeError(f"MILP solution for {item!r} misses figure {fig.id!r}: {k}/{n}")
    return x


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


def allocate_all(ctx: Context) -> Allocation:
    tolerance = float(ctx.params["tolerance_pp"]["value"])
    na_min = na_lower_bounds(ctx)
    allocation: Allocation = {}
    for spec in ctx.items:
        figures = [f for f in ctx.figures if f.item == spec.name]
        allocation[spec.name] = allocate_item(
            spec.name, spec.levels, ctx.sizes, target_counts(ctx, spec.name, na_min[spec.name]),
            figures, na_min[spec.name], tolerance, ctx.params_path)
    return allocation


# --------------------------------------------------------------------------------------------
# Firms: employees, identities, times
# --------------------------------------------------------------------------------------------


def named_rng(seed: int, stream: str) -> np.random.Generator:
    """An independent, named random stream: changing one component never shifts another's draws."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(stream.encode())]))


def draw_employees(ctx: Context, segment: str, n: int, rng: np.random.Generator) -> np.ndarray:
    spec = ctx.params["employees"][segment]
    if segment == "micro":
        weights = np.asarray(spec["weights"], dtype=float)
        return rng.choice(np.asarray(spec["values"]), size=n, p=weights / weights.sum())
    if segment == "small":
        n50 = int(provenance_value(spec["exactly_50"], ctx.params_path, "employees.small.exactly_50"))
        lo, hi = int(spec["min"]), int(spec["max"])
        rest = np.floor(np.exp(rng.uniform(math.log(lo), math.log(hi + 1), size=n - n50))).astype(int)
        out = np.concatenate([np.full(n50, 50), np.clip(rest, lo, hi)])
        return rng.permutation(out)
    lo, hi = int(spec["min"]), int(spec["max"])
    values: list[int] = []
    while len(values) < n:  # truncation by redrawing keeps the log-normal shape inside [lo, hi]
        v = int(round(math.exp(math.log(float(spec["median"])) + float(spec["sigma"]) * rng.standard_normal())))
        if lo <= v <= hi:
            values.append(v)
    return np.asarray(values)


def employee_text(count: int, segment: str, ctx: Context, rng: np.random.Generator) -> str:
    """How a respondent might type the head count; any format that does not fit is a bare number."""
    spec = ctx.params["employees"]["text"]
    formats = list(spec["weights"])
    weights = np.asarray([spec["weights"][f] for f in formats], dtype=float)
    fmt = formats[int(rng.choice(len(formats), p=weights / weights.sum()))]
    if count == 50:  # the boundary firms say exactly "50", so the segment stage can count them
        return "50"
    if fmt in ("approx_dot", "approx") and count % int(spec["approx_multiple"]) == 0:
        return f"ca. {count}" if fmt == "approx_dot" else f"ca {count}"
    if fmt == "unit":
        return f"{count} ansat" if count == 1 else f"{count} ansatte"
    if fmt == "range":
        fits = [r for r in spec["ranges"][segment]
                if int(r.split("-")[0]) <= count <= int(r.split("-")[1])]
        if fits:
            return str(fits[int(rng.integers(len(fits)))])
    if fmt == "open" and segment == "medium":
        fits = [t for t in spec["open_thresholds"] if int(t) <= count]
        if fits:
            return f"{max(fits)}+"
    return str(count)


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


def _cvr(rng: np.random.Generator, used: set[str]) -> str:
    """An 8-digit CVR number passing the modulus-11 check (weights 2,7,6,5,4,3,2,1)."""
    return mod11_number(rng, used, (2, 7, 6, 5, 4, 3, 2), (1, 5))


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


def make_identity(segment: str, ctx: Context, rng: np.random.Generator,
                  used_names: set[str], used_cvr: set[str]) -> dict[str, str]:
    ids = ctx.params["identities"]
    name, base = draw_firm_name(ids, ids["forms"][segment], rng, used_names)
    mailbox = pick(ids["mailbox"], rng).format(first=slug(pick(ids["first_names"], rng)))
    comment = pick(ids["comments"], rng) if rng.random() < float(ids["comment_share"]) else ""
    return {"firm": name, "email": f"{mailbox}@{slug(base)}.dk", "cvr": _cvr(rng, used_cvr),
            "comment": comment}


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


def item_loadings(ctx: Context) -> dict[str, dict[str, float]]:
    """Loadings per item; the factor 'platform' is resolved to the item's own platform factor."""
    return copula_loadings(ctx.params["copula"]["loadings"], ctx.dimensions,
                           [spec.name for spec in ctx.items], ctx.params_path)


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


def latent_scores(ctx: Context, segments: np.ndarray, employees: np.ndarray,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    z_emp = standardise_within(np.log(employees.astype(float)), segments, SEGMENTS)
    r = float(provenance_value(ctx.params["copula"]["capacity_from_employees"], ctx.params_path,
                               "copula.capacity_from_employees"))
    factors = copula_factors(z_emp, r, "capacity", ctx.platforms, rng)
    return item_scores(item_loadings(ctx), factors, rng, ctx.params_path)


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


def assign_answers(ctx: Context, allocation: Allocation, segments: np.ndarray, employees: np.ndarray,
                   forced_na: Mapping[str, np.ndarray], scores: Mapping[str, np.ndarray],
                   rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Hand each segment's allocated categories to its answering firms in rank order of the
    item's latent score. Returns (harmonised values, mask of NA cells that are item
    non-response rather than a break-off)."""
    orders = ctx.params["copula"].get("orders", {})
    min_emp = ctx.params["copula"].get("min_employees", {})
    values: dict[str, np.ndarray] = {}
    nonresponse: dict[str, np.ndarray] = {}
    for spec in ctx.items:
        floors = {cat: int(v) for cat, v in min_emp.get(spec.name, {}).items()}
        values[spec.name], nonresponse[spec.name] = assign_item(
            spec.name, list(orders.get(spec.name, spec.levels)), allocation[spec.name], segments,
            forced_na[spec.name], scores[spec.name], rng, employees=employees, floors=floors)
    return values, nonresponse


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
# The whole export
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


@dataclass
class SynthResult(GeneratedExport):
    context: Context
    # frame: role, ids, segment, employees, harmonised items; export: the raw export, strings

    @property
    def csv_bytes(self) -> bytes:
        return self.data


def draw_level(levels: Sequence[Any], pct: Mapping[Any, Any], rng: np.random.Generator) -> Any:
    """One of `levels`, drawn with the shares (%) `pct` (for defect rows, which no figure counts)."""
    p = np.asarray([float(pct[lv]) for lv in levels]) / 100
    return levels[int(rng.choice(len(levels), p=p / p.sum()))]


def _draw_answer(spec: ItemSpec, segment: str, ctx: Context, rng: np.random.Generator) -> Any:
    return draw_level(spec.levels, ctx.params["targets"][spec.name][segment]["pct"], rng)


def generate(params_path: str | Path = DEFAULT_PARAMS, seed: int | None = None,
             root: str | Path | None = None, *, context: Context | None = None,
             allocation: Allocation | None = None) -> SynthResult:
    """Build the synthetic export in memory and verify it (raises VerificationError on a miss)."""
    ctx = context or load_context(params_path, root)
    p = ctx.params
    seed = int(p["seed"]["value"]) if seed is None else int(seed)
    alloc = allocation or allocate_all(ctx)
    defects = p["defects"]
    used_names: set[str] = set()
    used_cvr: set[str] = set()

    # --- retained firms ---------------------------------------------------------------------
    rng_emp = named_rng(seed, "employees")
    segments = np.concatenate([np.full(ctx.sizes[s], s, dtype=object) for s in SEGMENTS])
    employees = np.concatenate([draw_employees(ctx, s, ctx.sizes[s], rng_emp) for s in SEGMENTS])
    n = len(segments)
    rng_partial = named_rng(seed, "retained_partials")
    stop_at = np.full(n, len(ctx.items))  # position of the first unanswered item
    for seg in SEGMENTS:
        stops = defects["retained_partials"].get(seg, [])
        who = rng_partial.choice(np.flatnonzero(segments == seg), size=len(stops), replace=False)
        for firm, stop in zip(who, stops):
            stop_at[firm] = ctx.item[stop].position
    forced_na = {spec.name: stop_at <= spec.position for spec in ctx.items}
    scores = latent_scores(ctx, segments, employees, named_rng(seed, "copula"))
    values, skipped = assign_answers(ctx, alloc, segments, employees, forced_na, scores,
                                     named_rng(seed, "nonresponse"))

    rng_text = named_rng(seed, "employee_text")
    rng_id = named_rng(seed, "identities")
    rng_time = named_rng(seed, "times")
    rng_dk = named_rng(seed, "dont_know")
    dk_share = defects["dont_know"]
    rows: list[dict[str, Any]] = []
    for i in range(n):
        partial = stop_at[i] < len(ctx.items)
        start, finish = draw_times("partial" if partial else "complete", ctx, rng_time)
        row: dict[str, Any] = {
            "role": ROLE_RETAINED, "status": "partial" if partial else "complete",
            "segment": segments[i], "employees": int(employees[i]),
            "employees_text": employee_text(int(employees[i]), segments[i], ctx, rng_text),
            "started": start, "finished": finish, **make_identity(segments[i], ctx, rng_id, used_names, used_cvr),
        }
        for spec in ctx.items:
            row[spec.name] = values[spec.name][i]
            # A skipped item is written as "Ved ikke" or left empty; a break-off is always empty.
            row[f"dk:{spec.name}"] = bool(skipped[spec.name][i] and rng_dk.random() < float(dk_share[spec.group]))
        rows.append(row)

    # --- defects: duplicate, test response, partials that broke off after page 1 ----------------
    rng_def = named_rng(seed, "defects")
    add_duplicate_submissions(rows, ctx, rng_def, ctx.items)

    test = defects["test_responses"]
    for _ in range(int(test["value"])):
        start = parse_time(test["started"]) + timedelta(minutes=int(rng_def.integers(0, 40)))
        row = {"role": ROLE_TEST, "status": "complete", "segment": "micro", "employees": None,
               "employees_text": str(test["employees"]), "started": start,
               "finished": start + draw_duration("breakoff", ctx, rng_def),
               "firm": test["firm"], "email": test["email"], "cvr": "", "comment": test["comment"]}
        for spec in ctx.items:
            row[spec.name] = _draw_answer(spec, "micro", ctx, rng_def)
            row[f"dk:{spec.name}"] = False
        rows.append(row)

    sizes = np.asarray([ctx.sizes[s] for s in SEGMENTS], dtype=float)
    for _ in range(int(defects["excluded_partials"]["value"])):
        seg = SEGMENTS[int(rng_def.choice(len(SEGMENTS), p=sizes / sizes.sum()))]
        count = int(draw_employees(ctx, seg, 1, rng_def)[0]) if seg != "small" else int(rng_def.integers(11, 50))
        start, finish = draw_times("breakoff", ctx, rng_def)
        row = {"role": ROLE_EXCLUDED_PARTIAL, "status": "partial", "segment": seg, "employees": count,
               "employees_text": employee_text(count, seg, ctx, rng_def), "started": start,
               "finished": finish, **make_identity(seg, ctx, rng_def, used_names, used_cvr)}
        for spec in ctx.items:
            row[spec.name] = _draw_answer(spec, seg, ctx, rng_def) if spec.page == 0 else NA
            row[f"dk:{spec.name}"] = False
        rows.append(row)

    # Speeders: complete submissions clicked through in a minute or two; the clean stage's
    # speeder rule excludes them. Their own random stream leaves every other row unchanged.
    speeders = defects.get("speeders")
    if speeders:
        rng_fast = named_rng(seed, "speeders")
        lo_min, hi_min = (float(m) for m in speeders["minutes"])
        for _ in range(int(speeders["value"])):
            seg = SEGMENTS[int(rng_fast.choice(len(SEGMENTS), p=sizes / sizes.sum()))]
            count = (int(draw_employees(ctx, seg, 1, rng_fast)[0]) if seg != "small"
                     else int(rng_fast.integers(11, 50)))
            start, _ = draw_times("complete", ctx, rng_fast)
            finish = start + timedelta(seconds=int(round(60 * rng_fast.uniform(lo_min, hi_min))))
            row = {"role": ROLE_SPEEDER, "status": "complete", "segment": seg, "employees": count,
                   "employees_text": employee_text(count, seg, ctx, rng_fast), "started": start,
                   "finished": finish, **make_identity(seg, ctx, rng_fast, used_names, used_cvr)}
            for spec in ctx.items:
                row[spec.name] = _draw_answer(spec, seg, ctx, rng_fast)
                row[f"dk:{spec.name}"] = False
            rows.append(row)

    # --- response ids in start order, then a shuffled file order ----------------------------
    rows = number_and_shuffle(rows, p["timing"], seed)

    # object dtype keeps None as the NA of every item (pandas would turn it into NaN in str columns)
    frame = pd.DataFrame(rows, dtype=object)
    export = build_export(ctx, frame)
    csv_bytes = to_csv_bytes(export)
    item_columns = [s.column for s in ctx.items]
    answered = (export[item_columns] != "").sum(axis=1).to_numpy()
    role = frame["role"].to_numpy()
    defect_counts = {
        **row_counts(role, frame["status"].to_numpy(), answered, len(ctx.items)),
        "speeder": int((role == ROLE_SPEEDER).sum()),
        "employees_50": int(((role == ROLE_RETAINED) & (frame["employees"] == 50)).sum()),
    }
    retained_cells = export.loc[role == ROLE_RETAINED, item_columns]
    defect_counts["dont_know_cells"] = int(sum(
        (retained_cells[s.column] == s.dont_know_label).sum() for s in ctx.items))
    defect_counts["empty_cells"] = int((retained_cells == "").to_numpy().sum())
    comments = frame.loc[role != ROLE_TEST, "comment"]
    defect_counts["comments"] = int((comments != "").sum())
    defect_counts["comments_with_semicolon"] = int(comments.str.contains(";", regex=False).sum())
    result = SynthResult(seed, ctx, alloc, frame, export, csv_bytes, defect_counts)
    verify(result)
    return result


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


def export_columns(codebook: Codebook) -> list[str]:
    return [*codebook.meta.values(), *codebook.identifiers, codebook.employees_column,
            *codebook.columns]


def build_export(ctx: Context, frame: pd.DataFrame) -> pd.DataFrame:
    """The raw export as the survey tool writes it: Danish headers and labels, all strings."""
    cb = ctx.codebook
    status_label = {v: k for k, v in cb.status_labels.items()}
    data: dict[str, list[str]] = {
        cb.meta["response_id"]: frame["response_id"].tolist(),
        cb.meta["status"]: [status_label[s] for s in frame["status"]],
        cb.meta["started"]: [t.strftime(TIME_FORMAT) for t in frame["started"]],
        cb.meta["finished"]: [t.strftime(TIME_FORMAT) for t in frame["finished"]],
    }
    roles = dict(zip(cb.identifiers, ("firm", "email", "cvr", "comment")))
    for column in cb.identifiers:
        data[column] = [str(v) for v in frame[roles[column]]]
    data[cb.employees_column] = frame["employees_text"].tolist()
    for spec in ctx.items:
        cells = []
        for value, dk in zip(frame[spec.name], frame[f"dk:{spec.name}"]):
            if value is NA or (isinstance(value, float) and math.isnan(value)):
                cells.append(spec.dont_know_label if dk else "")
            else:
                cells.append(spec.label_of[value])
        data[spec.column] = cells
    export = pd.DataFrame(data, dtype=object)
    return export[export_columns(cb)]


def to_csv_bytes(export: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    export.to_csv(buffer, sep=";", index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue().encode("utf-8")


# --------------------------------------------------------------------------------------------
# Verification
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


def recompute_figures(inputs: WaveInputs, retained: pd.DataFrame, column: str,
                      include_unfollowed: bool = False) -> pd.DataFrame:
    """Every followed published figure (optionally also the unfollowed ones) recomputed on the
    `retained` respondents, a figure's segment read in their `column`: figure_id, indicator,
    segment, follow, published, recomputed, k, n, ok (within 0.5 pp)."""
    out = []
    for fig in inputs.published["figures"]:
        if not fig.get("follow") and not include_unfollowed:
            continue
        item, categories = resolve_indicator(inputs.indicators[fig["indicator"]], inputs.harmonised)
        k, n = stratum_share(retained, item, categories, fig["segment"], column)
        recomputed = 100 * k / n if n else float("nan")
        out.append({"figure_id": fig["id"], "indicator": fig["indicator"], "segment": fig["segment"],
                    "follow": bool(fig.get("follow")), "published": float(fig["value"]),
                    "recomputed": recomputed, "k": k, "n": n,
                    "ok": bool(n and abs(recomputed - float(fig["value"])) <= VERIFY_TOLERANCE_PP)})
    return pd.DataFrame(out)


def verify_figures(result: SynthResult, include_unfollowed: bool = False) -> pd.DataFrame:
    """Every followed published figure (optionally also the unfollowed ones) recomputed on the
    retained respondents: figure_id, published, recomputed, ok (within 0.5 pp)."""
    return recompute_figures(result.context, result.retained, "segment", include_unfollowed)


def figure_problems(figures: pd.DataFrame) -> list[str]:
    """The figures of a `recompute_figures` table that miss, one line each."""
    return [f"figure {row.figure_id}: published {row.published:g}, recomputed {row.recomputed:.2f}"
            for row in figures[~figures["ok"]].itertuples()]


def raise_problems(problems: Sequence[str]) -> None:
    """Raise VerificationError listing every failed self-check, if any failed."""
    if problems:
        raise VerificationError("synthetic export fails its self-checks:\n  " + "\n  ".join(problems))


def count_problems(strata: pd.Series, expected: Mapping[str, int], what: str) -> list[str]:
    """Retained respondents per stratum (`strata`: their stratum each) that differ from `expected`."""
    counts = strata.value_counts().to_dict()
    return [f"{what} {stratum}: {counts.get(stratum, 0)} retained, expected {n}"
            for stratum, n in expected.items() if counts.get(stratum, 0) != n]


def marker_problems(response_id: str, role: str, firm: Any, texts: Iterable[Any],
                         markers: Sequence[str]) -> list[str]:
    """The clean stage's test-response rule (a firm named 'test', or a casefolded marker in any
    of `texts`) must catch the test row and nothing else."""
    text = " ".join(str(t) for t in texts).casefold()
    marked = any(m in text for m in markers) or str(firm).strip().casefold() == "test"
    if marked == (role == ROLE_TEST):
        return []
    return [f"row {response_id}: test marker on a {role} row" if marked
            else f"row {response_id}: test row without a marker"]


def _platform_shares(result: SynthResult, measure: str, segment: str) -> dict[str, float]:
    shares = {}
    for platform in result.context.platforms:
        indicator = result.context.indicators[f"{measure}_{platform}"]
        item, cats = resolve_indicator(indicator, result.context.harmonised)
        k, n = stratum_share(result.retained, item, cats, segment)
        shares[platform] = 100 * k / n
    return shares


def rank_claim_checks(result: SynthResult) -> pd.DataFrame:
    """The report's ordinal claims: `order` = the named platforms lead, in that order, strictly;
    `least` = the named platforms are below every other platform."""
    out = []
    for claim in result.context.published.get("rank_claims", []):
        shares = _platform_shares(result, claim["measure"], claim["segment"])
        if "order" in claim:
            named = list(claim["order"])
            ranked = sorted(shares, key=lambda p: -shares[p])
            ok = ranked[: len(named)] == named and all(
                shares[a] > shares[b] for a, b in zip(named, named[1:]))
        else:
            named = list(claim["least"])
            others = [p for p in shares if p not in named]
            ok = max(shares[p] for p in named) < min(shares[p] for p in others)
        out.append({"claim_id": claim["id"], "segment": claim["segment"], "measure": claim["measure"],
                    "shares": ", ".join(f"{p}={shares[p]:.1f}" for p in sorted(shares, key=lambda p: -shares[p])),
                    "ok": bool(ok)})
    return pd.DataFrame(out)


# Claims of the report without a percentage, used to check the unpublished assumptions.
_PROFILE_ORDERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("small_most_used", "post_daily_weekly", "small", ("instagram", "facebook", "linkedin")),
    ("medium_most_used", "post_daily_weekly", "medium", ("linkedin", "facebook", "instagram")),
    ("micro_most_important", "important", "micro",
     ("linkedin", "instagram", "facebook", "trustpilot", "tiktok", "youtube")),
    ("small_most_important", "important", "small",
     ("linkedin", "facebook", "instagram", "youtube", "trustpilot")),
    ("medium_most_important", "important", "medium", ("linkedin", "facebook", "instagram")),
)


def qualitative_checks(result: SynthResult) -> pd.DataFrame:
    """Hovedkonklusion 6 ('op mod dobbelt så mange' rate a platform important as post on it daily
    or weekly; Facebook the only platform where the two are about equal) and the segment
    profiles' orderings, on all platforms including the unpublished ones."""
    out = []
    use = _platform_shares(result, "post_daily_weekly", "all")
    important = _platform_shares(result, "important", "all")
    for platform in use:
        ratio = important[platform] / use[platform]
        if platform == "facebook":
            ok, claim = abs(ratio - 1) <= 0.1, "about equal (ratio 0.9-1.1)"
        else:
            ok, claim = 1.1 < ratio <= 2.3, "importance above use, up to about twice (1.1-2.3)"
        out.append({"check": f"use_vs_importance_{platform}", "expected": claim,
                    "value": f"{important[platform]:.1f}/{use[platform]:.1f} = {ratio:.2f}", "ok": bool(ok)})
    for check, measure, segment, order in _PROFILE_ORDERS:
        shares = _platform_shares(result, measure, segment)
        ranked = sorted(shares, key=lambda p: -shares[p])
        ok = tuple(ranked[: len(order)]) == order and all(
            shares[a] > shares[b] for a, b in zip(order, order[1:]))
        out.append({"check": check, "expected": " > ".join(order) + " > the rest",
                    "value": ", ".join(f"{p}={shares[p]:.1f}" for p in ranked), "ok": bool(ok)})
    return pd.DataFrame(out)


def spearman_linkedin(result: SynthResult) -> float:
    """Spearman correlation of posting on LinkedIn with rating it important (retained, both answered)."""
    ctx = result.context
    post = ctx.item["post_linkedin"]
    imp = ctx.item["important_linkedin_likert"]
    both = result.retained[["post_linkedin", "important_linkedin_likert"]].dropna()
    a = [post.levels.index(v) for v in both["post_linkedin"]]
    b = [imp.levels.index(v) for v in both["important_linkedin_likert"]]
    return float(spearmanr(a, b).statistic)


def read_back(result: SynthResult) -> pd.DataFrame:
    """Parse the CSV bytes as a strict reader would and recode labels through the codebook."""
    ctx = result.context
    text = result.csv_bytes.decode("utf-8")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True))
    header, body = records[0], records[1:]
    if header != export_columns(ctx.codebook):
        raise VerificationError("the CSV header is not the codebook's column list")
    raw = pd.DataFrame(body, columns=header, dtype=object)
    out = pd.DataFrame({"response_id": raw[ctx.codebook.meta["response_id"]]})
    for spec in ctx.items:
        lookup = {normalise_label(str(k)): v for k, v in ctx.codebook.labels[spec.scale].items()}
        unknown = {cell for cell in raw[spec.column]
                   if cell.strip() and normalise_label(cell) not in lookup}
        if unknown:
            raise VerificationError(f"{spec.column}: labels not in the codebook: {sorted(unknown)}")
        out[spec.name] = pd.Series([None if cell.strip() == "" else lookup[normalise_label(cell)]
                                    for cell in raw[spec.column]], index=raw.index, dtype=object)
    out["status"] = [ctx.codebook.status_labels[s] for s in raw[ctx.codebook.meta["status"]]]
    out["items_answered"] = (raw[[s.column for s in ctx.items]].apply(lambda c: c.str.strip() != "")).sum(axis=1)
    return out


def _structure_problems(result: SynthResult) -> list[str]:
    """Segment counts, defects, employee texts, identifiers, timestamps, and the read-back."""
    ctx, frame = result.context, result.frame
    problems = count_problems(result.retained["segment"], ctx.sizes, "segment")
    if not frame["response_id"].is_unique:
        problems.append("Respons-ID not unique")
    # Employee texts: every number in the text lies in the firm's segment, whatever the parser reads.
    for row in frame[frame["role"] != ROLE_TEST].itertuples():
        lo, hi = ctx.bounds[row.segment]
        numbers = [int(x) for x in re.findall(r"\d+", row.employees_text)]
        if not numbers or any(v < lo or (hi is not None and v > hi) for v in numbers):
            problems.append(f"employee text {row.employees_text!r} leaves segment {row.segment}")
    # Exclusion rules of the project config must catch exactly the defect rows they target.
    excl = ctx.project_config["exclusions"]
    markers = [m.casefold() for m in excl["test_response_markers"]]
    threshold = float(excl["partial_min_answered_share"])
    back = read_back(result)
    total = len(ctx.items)
    for row, back_row in zip(frame.itertuples(), back.itertuples()):
        problems += marker_problems(row.response_id, row.role, row.firm,
                                         (row.firm, row.email, row.comment), markers)
        share = back_row.items_answered / total
        if row.role == ROLE_EXCLUDED_PARTIAL and not (row.status == "partial" and share < threshold):
            problems.append(f"row {row.response_id}: excluded partial answers {share:.0%}")
        if row.role == ROLE_RETAINED and row.status == "partial" and share < threshold:
            problems.append(f"row {row.response_id}: retained partial answers only {share:.0%}")
        if not (datetime(2023, 12, 4) <= row.started < row.finished <= parse_time(ctx.params["timing"]["window_end"])):
            problems.append(f"row {row.response_id}: timestamps outside the fieldwork window")
    cvr = frame.loc[frame["cvr"] != "", "cvr"]
    dup_cvr = cvr[cvr.duplicated(keep=False)]
    if len(dup_cvr) != 2 * int((frame["role"] == ROLE_DUPLICATE).sum()):
        problems.append(f"{len(dup_cvr)} rows share a CVR-nummer; expected the duplicate pairs only")
    for dup in frame[frame["role"] == ROLE_DUPLICATE].itertuples():
        first = frame[(frame["cvr"] == dup.cvr) & (frame["role"] == ROLE_RETAINED)]
        if len(first) != 1 or not (first["started"].iloc[0] < dup.started) or first["email"].iloc[0] != dup.email:
            problems.append(f"duplicate {dup.response_id}: not a later copy of a retained firm")
    # The written labels read back to the harmonised values.
    for spec in ctx.items:
        written = back[spec.name].tolist()
        internal = [None if v is NA else v for v in frame[spec.name]]
        if written != internal:
            problems.append(f"{spec.column}: read-back differs from the generated values")
    return problems


def verify(result: SynthResult) -> None:
    """Raise VerificationError listing every failed self-check."""
    problems = _structure_problems(result) + figure_problems(verify_figures(result))
    for table, key in ((rank_claim_checks(result), "claim_id"), (qualitative_checks(result), "check")):
        for row in table[~table["ok"]].to_dict("records"):
            problems.append(f"{row[key]}: {row}")
    rho = spearman_linkedin(result)
    if not rho > 0.3:
        problems.append(f"Spearman(post_linkedin, important_linkedin_likert) = {rho:.2f}, expected > 0.3")
    raise_problems(problems)


# --------------------------------------------------------------------------------------------
# Writing, README, CLI
# --------------------------------------------------------------------------------------------


def summary_lines(result: SynthResult) -> list[str]:
    figures = verify_figures(result)
    ranks = rank_claim_checks(result)
    quals = qualitative_checks(result)
    d = result.defects
    seg = result.retained["segment"].value_counts()
    worst = (figures["recomputed"] - figures["published"]).abs().max()
    return [
        f"seed {result.seed}: {d['rows']} rows x {result.export.shape[1]} columns, sha256 {result.sha256}",
        f"retained {d['retained']} (micro {seg.get('micro', 0)}, small {seg.get('small', 0)}, "
        f"medium {seg.get('medium', 0)}); {d['employees_50']} small firms with exactly 50 employees",
        f"defects: {d['duplicate']} duplicate submission, {d['test']} test response, "
        f"{d['speeder']} speeders, "
        f"{d['excluded_partial']} partials below the threshold; {d['retained_partial']} retained "
        f"partials; {d['empty_cells']} empty and {d['dont_know_cells']} 'Ved ikke' item cells among retained",
        f"published figures reproduced: {int(figures['ok'].sum())}/{len(figures)} followed "
        f"(max |recomputed - published| = {worst:.2f} pp)",
        f"rank claims: {int(ranks['ok'].sum())}/{len(ranks)}; qualitative checks: "
        f"{int(quals['ok'].sum())}/{len(quals)}; Spearman(post_linkedin, important_linkedin) = "
        f"{spearman_linkedin(result):.2f}",
    ]


def readme_text(result: SynthResult, command: str, csv_name: str) -> str:
    """The data README; its first line says what the file is not."""
    ctx, d = result.context, result.defects
    figures = verify_figures(result)
    conflicts = ctx.published.get("conflicts", [])
    import scipy  # local: only for the version line

    lines = [
        "# SYNTHETIC reconstruction from the report's published figures — NOT the survey's responses",
        "",
        f"`{csv_name}` stands in for the raw SurveyXact export of the Cphbusiness survey of Danish "
        "SMEs' use of social media (December 2023 / January 2024). The respondent-level data were "
        "never published; every row here was generated by `smesocial.synth` so that the retained "
        "respondents reproduce the report's published percentages. No row describes a real firm: "
        "firm names, e-mail addresses and CVR numbers are invented (the CVR numbers pass the "
        "modulus-11 check but are not looked up).",
        "",
        "## What the file is",
        "",
        f"- `;`-separated, UTF-8 (no byte-order mark), `\\n` line ends, {d['rows']} data rows x "
        f"{result.export.shape[1]} columns: the codebook's meta columns (Respons-ID, Status, Startet, "
        "Afsluttet as `YYYY-MM-DD HH:MM:SS`), the identifier columns (Virksomhedens navn, E-mail, "
        "CVR-nummer, Kommentarer), the typed employee count, and the 27 mapped item columns, with "
        "the Danish headers and answer labels of `config/codebook/dk_2024.yaml`.",
        f"- {d['retained']} rows are meant to be retained by the clean stage: "
        f"{ctx.sizes['micro']} micro (1-10 employees), {ctx.sizes['small']} small (11-50), "
        f"{ctx.sizes['medium']} medium (51+), the report's Metode scheme. {d['employees_50']} small "
        "firms have exactly 50 employees (the report also calls small 11-49).",
        "- Employee counts are typed as a respondent would: `12`, `ca. 40`, `8 ansatte`, ranges "
        "such as `1-10` or `100-150` (only ranges lying wholly inside the firm's segment) and "
        "`200+` (medium firms only).",
        "- Defects, as real exports carry them:",
        f"  - {d['duplicate']} duplicate submission: a second row for an existing firm (same "
        "CVR-nummer and e-mail, later timestamps, Status Gennemført, 1-2 answers differ); the "
        "first complete submission is the one to keep;",
        f"  - {d['test']} test response (firm `TEST`, e-mail `test@...`, comment `testbesvarelse`);",
        f"  - {d['speeder']} speeders: complete submissions of other firms answered in 1-2 minutes "
        "(against a median of about 11), which the clean stage's speeder rule excludes; no retained "
        "response is faster than the parameters' `timing.minutes_min_share` of the median;",
        f"  - {d['excluded_partial']} partial responses (Status `Delvist gennemført`) that broke "
        f"off after the first page and answered at most {d['excluded_partial_max_answered']} of "
        f"{d['items']} items, below the 50% threshold: the clean stage excludes them;",
        f"  - {d['retained_partial']} retained partial responses (Status `Delvist gennemført`) "
        f"that stopped on the last page after answering at least {d['retained_partial_min_answered']} "
        f"of {d['items']} items: their later items are empty;",
        f"  - scattered item non-response among the retained: {d['empty_cells']} empty item cells "
        f"(break-offs included) and {d['dont_know_cells']} `Ved ikke` cells;",
        f"  - {d['comments']} firms wrote a free-text comment ({d['comments_with_semicolon']} "
        "containing a `;`, quoted as CSV requires); the rest of Kommentarer is empty.",
        "- Rows are in a shuffled order; Respons-ID is unique and increases with the start time.",
        "",
        "## How it was made",
        "",
        "1. **Count allocation (MILP).** For each item, integer counts per segment x answer "
        "category, the no-answer cell included, are found with `scipy.optimize.milp` (HiGHS). "
        "Every published figure with `follow: true` is a pair of linear constraints "
        "(|100 k/n − v| ≤ 0.49 on the base n of those who answered; for `all` over the summed "
        "segments), the retained partials' break-offs are lower bounds on the no-answer counts, "
        "and the objective is the L1 distance to the assumed distributions and item non-response "
        "of `config/synthetic/dk_2024.yaml`. There every number is marked "
        "`source: published:<figure id>`, `derived: <how>` or `assumption: <why>`.",
        "2. **Respondent assignment (Gaussian copula).** Each firm draws latent standard-normal "
        "factors (engagement; one factor per platform, shared by posting on it and rating it "
        "important; a marketing-capacity factor correlated with firm size); within each segment "
        "the answering firms receive an item's allocated categories in rank order of its latent "
        "score, so the counts stay exact and items correlate (Spearman of LinkedIn posting "
        f"frequency with LinkedIn importance: {spearman_linkedin(result):.2f}).",
        "3. **Export.** Headers and labels are inverted from the codebook; an unanswered item is an "
        "empty cell or `Ved ikke` (split by an assumption in the parameters file); the defects above "
        "are added; rows are shuffled.",
        "4. **Self-check.** Before writing, the generator recomputes every followed figure on the "
        f"retained respondents ({int(figures['ok'].sum())}/{len(figures)} within 0.5 pp, largest "
        f"deviation {(figures['recomputed'] - figures['published']).abs().max():.2f} pp), the "
        "segment counts, the report's rank claims and qualitative claims (importance up to about "
        "twice daily/weekly use, Facebook the only platform where they are about equal), reads "
        "the CSV back through the codebook, and stops if anything is off.",
        "",
        "## The report's inconsistencies",
        "",
        "Where the report contradicts itself, the reconstruction resolves it as recorded in "
        "`conflicts` of `config/published/dk_2024.yaml`: it reproduces the figures marked "
        "`follow: true` and not those marked `follow: false` (status `report_inconsistent`), "
        "which come out as follows in this file:",
        "",
    ]
    every = verify_figures(result, include_unfollowed=True).set_index("figure_id")
    for conflict in conflicts:
        kept = [f for f in conflict["figures"] if every.loc[f, "follow"]]
        dropped = [f for f in conflict["figures"] if not every.loc[f, "follow"]]
        lines.append(f"- `{conflict['id']}`: follows " + ", ".join(f"`{f}`" for f in kept)
                     + "; not " + ", ".join(
                         f"`{f}` (published {every.loc[f, 'published']:g}%, here "
                         f"{every.loc[f, 'recomputed']:.1f}%)" for f in dropped) + ".")
    lines += [
        "- Segment boundaries: the Metode section's 1-10 / 11-50 / 51+ (the only place with counts).",
        "",
        *regeneration_lines(result, command, csv_name),
        f"Generated with numpy {np.__version__}, scipy {scipy.__version__}, pandas {pd.__version__}. "
        "A different seed gives another, equally valid reconstruction: the counts per segment and "
        "answer are the same, which firm gives which answer is not. `tests/unit/test_synth.py` "
        "checks that this file, this checksum and a fresh generation agree.",
        "",
    ]
    return "\n".join(lines)


def regeneration_lines(result: GeneratedExport, command: str, file_name: str) -> list[str]:
    """The data README's section with the file's checksum and the command that regenerates it."""
    default = result.seed == int(result.context.params["seed"]["value"])
    return [
        "## Checksum and regeneration",
        "",
        f"sha256 (`{file_name}`): `{result.sha256}`",
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
        result = generator.generate(args.params, args.seed)
    except (InputError, VerificationError) as exc:
        print(f"smesocial-generate: {exc}", file=sys.stderr)
        return 1
    command = f".venv/bin/python -m smesocial.synth --params {args.params} --out {out}"
    if args.seed is not None:
        command += f" --seed {args.seed}"
    readme = None if args.no_readme else (args.readme or Path(out).parent / "README.md")
    write_outputs(result, out, readme, command, generator.readme_text)
    for line in generator.summary_lines(result):
        print(line)
    print(f"wrote {out}" + (f" and {readme}" if readme else ""))
    return 0


def run(args: argparse.Namespace) -> int:
    """The CLI of this module's wave (dk_2024)."""
    return run_generator(args, sys.modules[__name__])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="smesocial-generate",
        description="Generate a SYNTHETIC raw export from published figures and stated "
                    "assumptions. The parameters file's `generator` names the wave's module "
                    "(absent: this one, the dk_2024 CSV).")
    parser.add_argument("--params", default=DEFAULT_PARAMS, help="parameters YAML (default: %(default)s)")
    parser.add_argument("--out", default=None,
                        help=f"export to write (default: the generator's; dk_2024: {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=None, help="overrides the parameters' seed")
    parser.add_argument("--readme", default=None, help="README path (default: README.md beside --out)")
    parser.add_argument("--no-readme", action="store_true", help="write the export only")
    args = parser.parse_args(argv)
    try:
        generator = _generator_module(args.params)
    except InputError as exc:
        print(f"smesocial-generate: {exc}", file=sys.stderr)
        return 1
    return int((generator or sys.modules[__name__]).run(args))


def _generator_module(params_path: str) -> Any:
    """The module named by the parameters' `generator` key (a `run(args)` entry point), or None
    for this module. Only smesocial's own generators are accepted."""
    params = load_yaml(params_path)
    name = params.get("generator") if isinstance(params, Mapping) else None
    if name is None or name == "smesocial.synth":
        return None
    if not re.fullmatch(r"smesocial\.synth_[a-z0-9_]+", str(name)):
        raise InputError(params_path, "`generator` must name a smesocial generator module",
                         found=name, expected="e.g. smesocial.synth_no")
    return importlib.import_module(str(name))


if __name__ == "__main__":
    sys.exit(main())
