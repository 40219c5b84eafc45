"""Seeded generator of a SYNTHETIC raw export for wave dk_2024, built from published figures.

The Danish survey's respondent-level data are not public. This module reconstructs a plausible
raw export (SurveyXact style) whose retained respondents reproduce every followed published
percentage of config/published/dk_2024.yaml within rounding:

1. count allocation: per item, integer counts per segment x category (NA included) from a MILP
   (`core.allocate_item`) with the published figures as linear constraints and an L1
   objective towards the assumed distributions of config/synthetic/dk_2024.yaml;
2. respondent assignment: a Gaussian copula (latent factors per firm) ranks the answering firms
   of each segment and hands out the allocated categories in rank order, so counts stay exact
   while items correlate;
3. export: Danish headers and labels inverted from the codebook, plus the defects real exports
   carry (a duplicate submission, a test response, speeders, partial responses, item
   non-response).

The count allocation does not depend on the seed; only which firm gets which answer, the
identities, timestamps and defect details do. Before anything is written, the pipeline's own
ingest and clean stages run on the bytes (`core.pipeline_retained`) and every followed figure is
checked on what they retain. What is specific here: size segments and typed employee counts,
Danish identities (CVR numbers), the CSV writer, and the report's rank and qualitative claims.
Run it through the one CLI: `python -m smesocial.synthetic --params config/synthetic/dk_2024.yaml`.

Assumption knobs (issue 10's ensemble; the parameters' `assumption_knobs` document each, with
its range): `copula_strength` multiplies the copula loadings; `daily_share_of_daily_weekly` and
`never_share_of_bottom` re-split the posting categories wherever the targets' provenance marks
the split an assumption, keeping the merged shares. `load_context(..., assumptions=...)` applies
them (shipped values touch nothing: the shipped file stays byte-identical); `write_export` is
one draw for a workflow rule, which passes the project config as a mapping (`project_config`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from smesocial.config import Codebook
from smesocial.errors import InputError
from smesocial.synthetic.core import (
    NA,
    ROLE_EXCLUDED_PARTIAL,
    ROLE_RETAINED,
    ROLE_SPEEDER,
    ROLE_TEST,
    TIME_FORMAT,
    Allocation,
    FigureTarget,
    GeneratedExport,
    ItemSpec,
    WaveInputs,
    add_duplicate_submissions,
    allocate_item,
    answer_targets,
    assign_item,
    build_items,
    check_pct,
    check_provenance_entry,
    copula_factors,
    copula_loadings,
    draw_identity,
    draw_level,
    draw_times,
    duplicate_pair_problems,
    exclusion_problems,
    figure_problems,
    followed_figures,
    item_scores,
    lift_speeder_durations,
    load_wave_inputs,
    make_test_row,
    mod11_number,
    named_rng,
    number_and_shuffle,
    parse_time,
    provenance_value,
    raise_problems,
    read_back_problems,
    regeneration_lines,
    reproduction_table,
    require_defects,
    require_provenance,
    resolve_indicator,
    row_counts,
    standardise_within,
    stratum_problems,
    stratum_share,
    wave_dimension,
    window_problems,
    write_outputs,
)

SEGMENTS: tuple[str, ...] = ("micro", "small", "medium")
DEFAULT_PARAMS = "config/synthetic/dk_2024.yaml"
DEFAULT_OUT = "data/raw/dk_2024/dk_2024_survey_export.csv"
SHIPPED = "shipped"  # a knob value: keep the parameters file's own assumption
# The assumption knobs (documented, with ranges, in the parameters' `assumption_knobs`) and the
# pair of categories whose assumed split the two posting knobs set (the first gets the share).
KNOBS: tuple[str, ...] = ("copula_strength", "daily_share_of_daily_weekly", "never_share_of_bottom")
SPLIT_KNOBS: dict[str, tuple[str, str]] = {
    "daily_share_of_daily_weekly": ("daily", "weekly"),
    "never_share_of_bottom": ("never", "almost_never"),
}
# The Spearman floor of the LinkedIn posting/importance check at copula strength 1; latent
# correlations scale with the strength squared, so the floor does too.
SPEARMAN_LINKEDIN_FLOOR = 0.3
# A varied strength (the ensemble's draws) is checked against the scaled floor less this
# sampling allowance, and at least 0: the association must stay positive. Measured over seeds
# 1-60, the Spearman has mean 0.238 and SD 0.046 at strength 0.6 (0.486 and 0.037 at 1): the
# scaled floor alone (0.108) failed 1 of 50 weak draws of 200 on sampling noise, not on a copula
# that stopped working; with the allowance the floor sits 5 SD below the mean.
SPEARMAN_VARIANT_ALLOWANCE = 0.1


@dataclass
class Context(WaveInputs):
    items: list[ItemSpec]
    figures: list[FigureTarget]
    sizes: dict[str, int]
    bounds: dict[str, tuple[int, int | None]]
    item: dict[str, ItemSpec] = field(init=False)  # items by name
    platforms: dict[str, str] = field(init=False)  # the platforms this wave asks about
    # Every knob's value in this draw (numbers, or SHIPPED for a split kept as the targets give it)
    assumptions: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.item = {spec.name: spec for spec in self.items}
        self.platforms = wave_dimension(self.harmonised, self.codebook, "platform", codebook_order=False)

    @property
    def dimensions(self) -> dict[str, dict[str, str]]:
        return {"platform": self.platforms}


def load_context(params_path: str | Path = DEFAULT_PARAMS, root: str | Path | None = None, *,
                 assumptions: Mapping[str, Any] | None = None,
                 project_config: Mapping[str, Any] | None = None) -> Context:
    """Read and validate the parameters and every project file they name, then apply the
    assumption knobs (`assumptions`: {knob: value}; absent knobs keep their shipped value).
    `project_config`, when given, stands in for the file of the parameters'
    `inputs.project_config` (a workflow passes the config sections it holds)."""
    inputs = load_wave_inputs(params_path, root, (
        "seed", "inputs", "segments", "tolerance_pp", "employees", "questionnaire", "defects",
        "item_nonresponse", "copula", "timing", "identities", "targets", "assumption_knobs"),
        project_config=project_config)
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
    # In the harmonised order: platforms another wave added (e.g. Twitter) must not change this
    # wave's items or its random draws.
    platforms = wave_dimension(harmonised, codebook, "platform", codebook_order=False)
    items = build_items(params, harmonised, codebook, {"platform": platforms}, path, _group)
    figures = followed_figures(published, inputs.indicators, harmonised, {i.name for i in items},
                               SEGMENTS, inputs.input_path("published"))
    ctx = Context(**vars(inputs), items=items, figures=figures, sizes=sizes, bounds=bounds)
    _validate_params(ctx)
    ctx.assumptions = resolve_assumptions(ctx, assumptions or {})
    apply_assumptions(ctx)
    return ctx


def resolve_assumptions(ctx: Context, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every knob's value: `given` (a number, a `named` value or "shipped"; strings as the CLI
    passes them) checked against the parameters' `assumption_knobs`, the shipped value otherwise.
    A split knob's shipped value stays SHIPPED (the targets' own per-item splits)."""
    path, knobs = ctx.params_path, ctx.params["assumption_knobs"]
    if set(knobs) != set(KNOBS):
        raise InputError(path, "assumption_knobs must describe exactly the generator's knobs",
                         found=sorted(knobs), expected=", ".join(KNOBS))
    unknown = sorted(set(given) - set(KNOBS))
    if unknown:
        raise InputError(path, f"unknown assumption knob {unknown[0]!r}", found=unknown,
                         expected="one of " + ", ".join(KNOBS))
    out: dict[str, Any] = {}
    for name in KNOBS:
        spec = knobs[name]
        require_provenance(spec, path, f"assumption_knobs.{name}")
        lo, hi = float(spec["min"]), float(spec["max"])
        named = {str(k): float(v) for k, v in (spec.get("named") or {}).items()}
        allowed = (f"a number in [{lo:g}, {hi:g}], {SHIPPED!r}"
                   + "".join(f", {k!r} ({v:g})" for k, v in named.items()))
        value = given.get(name, SHIPPED)
        if isinstance(value, str):
            text = value.strip()
            if text == SHIPPED:
                value = spec["shipped"]
            elif text in named:
                value = named[text]
            else:
                try:
                    value = float(text)
                except ValueError:
                    raise InputError(path, f"assumption knob {name!r}: not a value", found=value,
                                     expected=allowed) from None
        if value == SHIPPED:
            out[name] = SHIPPED
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= float(value) <= hi:
            raise InputError(path, f"assumption knob {name!r} out of range", found=value, expected=allowed)
        out[name] = float(value)
    # The range itself must keep the copula valid: no item's squared loadings may reach 1.
    worst = max(sum(float(v) ** 2 for v in loads.values())
                for loads in ctx.params["copula"]["loadings"].values())
    limit = 1 / math.sqrt(worst)
    if float(knobs["copula_strength"]["max"]) >= limit:
        raise InputError(path, "assumption_knobs.copula_strength.max lets an item's squared "
                         "loadings reach 1", found=knobs["copula_strength"]["max"],
                         expected=f"below {limit:.3f}")
    return out


def assumed_split(provenance: Mapping[str, Any], pair: tuple[str, str]) -> bool:
    """Whether the split of the two categories `pair` is an assumption: no published or derived
    provenance key covers one of them without the other."""
    for key, entry in provenance.items():
        covered = {str(k).strip().lower() for k in str(key).split("+")}
        if "assumption" not in entry and len(covered & set(pair)) == 1:
            return False
    return True


def apply_assumptions(ctx: Context) -> None:
    """Edit the context's parameters (read afresh by load_context, so nobody else holds them)
    to the draw's knob values (nothing at shipped values, so
    the shipped draw is untouched): loadings times `copula_strength`; in the posting targets,
    each assumed split of a pair set to the knob's share of the pair's total, which is kept."""
    strength = ctx.assumptions["copula_strength"]
    if strength != SHIPPED and strength != 1.0:
        loadings = ctx.params["copula"]["loadings"]
        for template, loads in loadings.items():
            loadings[template] = {factor: float(v) * strength for factor, v in loads.items()}
    for knob, pair in SPLIT_KNOBS.items():
        share = ctx.assumptions[knob]
        if share == SHIPPED:
            continue
        for spec in ctx.items:
            if not set(pair) <= {str(lv) for lv in spec.levels}:
                continue
            block = ctx.params["targets"][spec.name]
            for seg in SEGMENTS:
                provenance = {**(block.get("provenance") or {}), **(block[seg].get("provenance") or {})}
                if not assumed_split(provenance, pair):
                    continue
                pct = block[seg]["pct"]
                total = float(pct[pair[0]]) + float(pct[pair[1]])
                pct[pair[0]], pct[pair[1]] = share * total, (1 - share) * total


def varied_assumptions(ctx: Context) -> dict[str, Any]:
    """The knobs this draw sets away from their shipped values."""
    shipped = {name: ctx.params["assumption_knobs"][name]["shipped"] for name in KNOBS}
    return {k: v for k, v in ctx.assumptions.items() if v != SHIPPED and v != shipped[k]}


def _group(variable: str) -> str:
    """An item's group: which `item_nonresponse` and `defects.dont_know` share applies."""
    for prefix, group in (("post_", "post"), ("important_", "important")):
        if variable.startswith(prefix):
            return group
    return {"professionalism": "professionalism", "handling": "handling",
            "marketing_fulltime": "marketing", "marketing_team_size": "marketing"}.get(
        variable, "statements")


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


def _cvr(rng: np.random.Generator, used: set[str]) -> str:
    """An 8-digit CVR number passing the modulus-11 check (weights 2,7,6,5,4,3,2,1)."""
    return mod11_number(rng, used, (2, 7, 6, 5, 4, 3, 2), (1, 5))


def make_identity(segment: str, ctx: Context, rng: np.random.Generator,
                  used_names: set[str], used_cvr: set[str]) -> dict[str, str]:
    ids = ctx.params["identities"]
    return draw_identity(ids, ids["forms"][segment], rng, used_names, "cvr",
                         lambda r: _cvr(r, used_cvr), "dk")


def item_loadings(ctx: Context) -> dict[str, dict[str, float]]:
    """Loadings per item; the factor 'platform' is resolved to the item's own platform factor."""
    return copula_loadings(ctx.params["copula"]["loadings"], ctx.dimensions,
                           [spec.name for spec in ctx.items], ctx.params_path)


def latent_scores(ctx: Context, segments: np.ndarray, employees: np.ndarray,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    z_emp = standardise_within(np.log(employees.astype(float)), segments, SEGMENTS)
    r = float(provenance_value(ctx.params["copula"]["capacity_from_employees"], ctx.params_path,
                               "copula.capacity_from_employees"))
    factors = copula_factors(z_emp, r, "capacity", ctx.platforms, rng)
    return item_scores(item_loadings(ctx), factors, rng, ctx.params_path)


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


@dataclass
class SynthResult(GeneratedExport):
    context: Context
    # frame: role, ids, segment, employees, harmonised items; export: the raw export, strings

    @property
    def csv_bytes(self) -> bytes:
        return self.data


def _draw_answer(spec: ItemSpec, segment: str, ctx: Context, rng: np.random.Generator) -> Any:
    return draw_level(spec.levels, ctx.params["targets"][spec.name][segment]["pct"], rng)


def generate(params_path: str | Path = DEFAULT_PARAMS, seed: int | None = None,
             root: str | Path | None = None, *, context: Context | None = None,
             allocation: Allocation | None = None, assumptions: Mapping[str, Any] | None = None,
             project_config: Mapping[str, Any] | None = None) -> SynthResult:
    """Build the synthetic export in memory and verify it (raises VerificationError on a miss).

    `assumptions` ({knob: value}, see `resolve_assumptions`) and `project_config` (in place of
    the parameters' `inputs.project_config` file) go to `load_context`; with a ready `context`
    they must be left out, as the context already carries them."""
    if context is not None and (assumptions or project_config is not None):
        raise InputError(str(params_path), "give assumptions and project_config to load_context, "
                         "not with a ready context", expected="generate(context=load_context("
                         "params, assumptions=..., project_config=...))")
    ctx = context or load_context(params_path, root, assumptions=assumptions,
                                  project_config=project_config)
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
        row = {**make_test_row(test, ctx, rng_def, "cvr"), "segment": "micro", "employees": None,
               "employees_text": str(test["employees"])}
        for spec in ctx.items:
            row[spec.name] = _draw_answer(spec, "micro", ctx, rng_def)
            row[f"dk:{spec.name}"] = False
        rows.append(row)

    sizes = np.asarray([ctx.sizes[s] for s in SEGMENTS], dtype=float)

    def other_firm(role: str, status: str, rng: np.random.Generator,
                   times: Callable[[], tuple[datetime, datetime]], last_page: int | None) -> dict[str, Any]:
        """A firm the clean stage excludes: a segment drawn by size, a head count in it, times
        from `times`, identifiers, answers drawn up to `last_page` (None: every page)."""
        seg = SEGMENTS[int(rng.choice(len(SEGMENTS), p=sizes / sizes.sum()))]
        count = int(draw_employees(ctx, seg, 1, rng)[0]) if seg != "small" else int(rng.integers(11, 50))
        start, finish = times()
        row = {"role": role, "status": status, "segment": seg, "employees": count,
               "employees_text": employee_text(count, seg, ctx, rng), "started": start,
               "finished": finish, **make_identity(seg, ctx, rng, used_names, used_cvr)}
        for spec in ctx.items:
            reached = last_page is None or spec.page <= last_page
            row[spec.name] = _draw_answer(spec, seg, ctx, rng) if reached else NA
            row[f"dk:{spec.name}"] = False
        return row

    for _ in range(int(defects["excluded_partials"]["value"])):  # broke off after page 1
        rows.append(other_firm(ROLE_EXCLUDED_PARTIAL, "partial", rng_def,
                               lambda: draw_times("breakoff", ctx, rng_def), 0))

    # Speeders: complete submissions clicked through in a minute or two; the clean stage's
    # speeder rule excludes them. Their own random stream leaves every other row unchanged.
    speeders = defects.get("speeders")
    if speeders:
        rng_fast = named_rng(seed, "speeders")
        lo_min, hi_min = (float(m) for m in speeders["minutes"])

        def fast() -> tuple[datetime, datetime]:
            start, _ = draw_times("complete", ctx, rng_fast)
            return start, start + timedelta(seconds=int(round(60 * rng_fast.uniform(lo_min, hi_min))))

        for _ in range(int(speeders["value"])):
            rows.append(other_firm(ROLE_SPEEDER, "complete", rng_fast, fast, None))

    # Durations were drawn per kind of response; the clean stage judges them against the median
    # of all complete ones. Lengthen the few retained ones it would call speeders.
    lifted = lift_speeder_durations(rows, ctx.project_config["exclusions"],
                                    parse_time(p["timing"]["window_end"]))

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
        "lifted_durations": lifted,
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


def write_export(out: str | Path, params_path: str | Path = DEFAULT_PARAMS, seed: int | None = None,
                 root: str | Path | None = None, *, assumptions: Mapping[str, Any] | None = None,
                 project_config: Mapping[str, Any] | None = None) -> SynthResult:
    """One draw of an ensemble: generate (self-check included) and write only the export to
    `out`, no README. Returns the result (its context's `assumptions` hold every knob's value)."""
    result = generate(params_path, seed, root, assumptions=assumptions, project_config=project_config)
    write_outputs(result, out, None, "", readme_text)
    return result


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


def verify_figures(result: SynthResult, include_unfollowed: bool = False) -> pd.DataFrame:
    """Every followed published figure (optionally also the unfollowed ones) as the pipeline's
    reproduction check finds it on what its clean stage retained: figure_id, indicator, segment,
    published, recomputed, n, status, follow, ok."""
    return reproduction_table(result, include_unfollowed)


def _platform_shares(result: SynthResult, measure: str, segment: str,
                     retained: pd.DataFrame) -> dict[str, float]:
    """Each platform's `measure` share (%) among the `retained` rows of `segment`."""
    shares = {}
    rows = retained if segment == "all" else retained[retained["segment"] == segment]  # once
    for platform in result.context.platforms:
        indicator = result.context.indicators[f"{measure}_{platform}"]
        item, cats = resolve_indicator(indicator, result.context.harmonised)
        k, n = stratum_share(rows, item, cats)
        shares[platform] = 100 * k / n
    return shares


def rank_claim_checks(result: SynthResult) -> pd.DataFrame:
    """The report's ordinal claims: `order` = the named platforms lead, in that order, strictly;
    `least` = the named platforms are below every other platform."""
    out = []
    retained = result.retained  # a row filter: once, not per claim
    for claim in result.context.published.get("rank_claims", []):
        shares = _platform_shares(result, claim["measure"], claim["segment"], retained)
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
    retained = result.retained  # a row filter: once, not per check
    use = _platform_shares(result, "post_daily_weekly", "all", retained)
    important = _platform_shares(result, "important", "all", retained)
    for platform in use:
        ratio = important[platform] / use[platform]
        if platform == "facebook":
            ok, claim = abs(ratio - 1) <= 0.1, "about equal (ratio 0.9-1.1)"
        else:
            ok, claim = 1.1 < ratio <= 2.3, "importance above use, up to about twice (1.1-2.3)"
        out.append({"check": f"use_vs_importance_{platform}", "expected": claim,
                    "value": f"{important[platform]:.1f}/{use[platform]:.1f} = {ratio:.2f}", "ok": bool(ok)})
    for check, measure, segment, order in _PROFILE_ORDERS:
        shares = _platform_shares(result, measure, segment, retained)
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


def spearman_floor(ctx: Context) -> float:
    """The floor of the LinkedIn posting/importance Spearman check at this draw's copula
    strength: latent correlations scale with its square (less SPEARMAN_VARIANT_ALLOWANCE for a
    varied strength)."""
    shipped = float(ctx.params["assumption_knobs"]["copula_strength"]["shipped"])
    strength = ctx.assumptions.get("copula_strength", SHIPPED)
    strength = shipped if strength == SHIPPED else float(strength)
    floor = SPEARMAN_LINKEDIN_FLOOR * strength**2
    return floor if strength == shipped else max(0.0, floor - SPEARMAN_VARIANT_ALLOWANCE)


def _structure_problems(result: SynthResult) -> list[str]:
    """What the pipeline's ingest and clean stages make of the file: who is excluded by which
    rule, the read-back, the segments; and the identifiers and timestamps of the rows."""
    ctx = result.context
    return (exclusion_problems(result) + read_back_problems(result, ctx.items, "employees_text")
            + stratum_problems(result, "segment", ctx.sizes)
            + duplicate_pair_problems(result.frame, "cvr")
            + window_problems(result.frame, ctx.params["timing"]))


def verify(result: SynthResult) -> None:
    """Raise VerificationError listing every failed self-check."""
    problems = _structure_problems(result) + figure_problems(verify_figures(result))
    for table, key in ((rank_claim_checks(result), "claim_id"), (qualitative_checks(result), "check")):
        for row in table[~table["ok"]].to_dict("records"):
            problems.append(f"{row[key]}: {row}")
    rho, floor = spearman_linkedin(result), spearman_floor(result.context)
    if not rho > floor:
        problems.append(f"Spearman(post_linkedin, important_linkedin_likert) = {rho:.2f}, "
                        f"expected > {floor:.3g}")
    raise_problems(problems)


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
        f"{d['speeder']} speeders ({d['lifted_durations']} retained durations lengthened above the "
        "speeder cut-off), "
        f"{d['excluded_partial']} partials below the threshold; {d['retained_partial']} retained "
        f"partials; {d['empty_cells']} empty and {d['dont_know_cells']} 'Ved ikke' item cells among retained",
        f"published figures reproduced: {int(figures['ok'].sum())}/{len(figures)} followed "
        f"(max |recomputed - published| = {worst:.2f} pp)",
        f"rank claims: {int(ranks['ok'].sum())}/{len(ranks)}; qualitative checks: "
        f"{int(quals['ok'].sum())}/{len(quals)}; Spearman(post_linkedin, important_linkedin) = "
        f"{spearman_linkedin(result):.2f}",
        *(["assumptions varied: " + ", ".join(f"{k}={v:g}" for k, v in varied.items())]
          if (varied := varied_assumptions(result.context)) else []),
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
        "never published; every row here was generated by `smesocial.synthetic.dk` so that the retained "
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
        "(against a median of about 11), which the clean stage's speeder rule excludes; every "
        "retained response, partial ones included, took longer than the rule's cut-off "
        "(`exclusions.speeder_min_share_of_median` of `config/config.yaml` times the median of the "
        f"complete responses it judges; {d['lifted_durations']} drawn durations were lengthened to "
        "just above it);",
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
        *(["   This draw varies the assumption knobs (`assumption_knobs` of the parameters): "
           + ", ".join(f"`{k}` = {v:g}" for k, v in varied.items()) + "."]
          if (varied := varied_assumptions(ctx)) else []),
        "4. **Self-check.** Before writing, the generator runs the pipeline's own ingest and "
        "clean stages on the CSV (`smesocial.synthetic.core.pipeline_retained`): the clean stage "
        "must exclude exactly the defect rows above, each by its rule, and the read-back must give "
        "the generated answers. On the respondents it retains, the pipeline's reproduction check "
        f"matches every followed figure ({int(figures['ok'].sum())}/{len(figures)} within 0.5 pp, "
        f"largest deviation {(figures['recomputed'] - figures['published']).abs().max():.2f} pp) "
        "and the segment counts; the report's rank claims and qualitative claims (importance up to "
        "about twice daily/weekly use, Facebook the only platform where they are about equal) must "
        "hold too. The generator stops if anything is off.",
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
                         f"{every.loc[f, 'recomputed']:.2f}%)" for f in dropped) + ".")
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
