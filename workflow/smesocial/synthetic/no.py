"""Seeded generator of an ILLUSTRATIVE SYNTHETIC raw export for wave no_2010.

Dataforeningen's survey "Norske virksomheters bruk av sosiale medier" (autumn 2010) has no
public tables; three percentages were quoted (Abelia, 2010: 62% have a Facebook page, 59% are
on Twitter, about 30% on YouTube). This module builds a stand-in QuestBack-style SPSS export in
the survey's own shape (two samples, five platforms, presence, frequency, purposes, personal
use, plans) whose retained respondents reproduce those three figures, pooled over both samples,
and whose every other level is a stated assumption of config/synthetic/no_2010.yaml. Its
results illustrate the pipeline; they are not findings.

It uses the generators' shared machinery (smesocial.synthetic.core): loading and checking the
parameters, the MILP count allocation (`allocate_item`, with the two samples as strata), the
Gaussian-copula rank assignment (`copula_factors`, `item_scores`, `assign_item`), named random
streams, timing, identities, the duplicate submission, response ids, the self-check through
the pipeline's own ingest and clean stages (`pipeline_retained`) and the CLI. What is specific
here: routing (frequency and purposes only for firms present on the platform), employee bands,
Norwegian identities, and the .sav writer with a fixed creation stamp.

Run it through the one CLI: `python -m smesocial.synthetic --params config/synthetic/no_2010.yaml`.
"""

from __future__ import annotations

import math
import re
import tempfile
import textwrap
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from smesocial.config import expand_template, fill_template
from smesocial.errors import InputError
from smesocial.synthetic.core import (
    NA,
    PROVENANCE_KINDS,
    ROLE_EXCLUDED_PARTIAL,
    ROLE_RETAINED,
    ROLE_TEST,
    Allocation,
    FigureTarget,
    GeneratedExport,
    ItemSpec,
    VerificationError,
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
    mod11_check_digit,
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
    row_counts,
    standardise_within,
    stratum_problems,
    stratum_share,
    wave_dimension,
    window_problems,
)

DEFAULT_PARAMS = "config/synthetic/no_2010.yaml"
DEFAULT_OUT = "data/raw/no_2010/no_2010_survey_export.sav"
EMPLOYEES = "employees"  # the allocation key of the employee bands
# Item groups: how an item's targets, non-response and export codes are found in the parameters.
GROUP_OF_PREFIX = (("present_", "presence"), ("post_", "frequency"), ("purpose_", "purposes"))
GROUPS = ("sample", "personal_use", "presence", "frequency", "purposes", "future_plans")
# Items a duplicate submission may change: never presence (it steers the routing) nor the sample.
CHANGEABLE_GROUPS = ("personal_use", "frequency", "purposes", "future_plans")
RARE_PURPOSES = ("customer_service", "product_testing")
RARE_BELOW_PCT = 15.0
ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)  # Enhetsregisteret's modulus-11 weights
SPSS_NAME = re.compile(r"^[A-Za-z@][A-Za-z0-9_.@#$]{0,63}$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# The .sav header (after "$FL2", the 60-byte product name, five 4-byte ints and an 8-byte
# bias) holds the creation date "dd Mmm yy" and time "hh:mm:ss" at these bytes.
_STAMP = slice(92, 109)
_STAMP_PATTERN = re.compile(rb"^\d\d [A-Z][a-z]{2} \d\d\d\d:\d\d:\d\d$")


# --------------------------------------------------------------------------------------------
# Parameters and project configuration
# --------------------------------------------------------------------------------------------


@dataclass
class Context(WaveInputs):
    platforms: dict[str, str]  # wave platforms (harmonised key -> questionnaire label), codebook order
    purposes: dict[str, str]  # wave purposes, likewise
    samples: dict[str, int]  # retained respondents per sample (the strata)
    bands: list[str]  # employee bands, smallest first
    items: list[ItemSpec]
    figures: list[FigureTarget]
    routing: dict[str, str]  # routed item -> the presence item that opens it
    group: dict[str, str]  # item -> its group
    platform_of: dict[str, str]  # item -> platform key ('' if none)
    purpose_of: dict[str, str]  # item -> purpose key ('' if none)
    item: dict[str, ItemSpec] = field(init=False)

    def __post_init__(self) -> None:
        self.item = {spec.name: spec for spec in self.items}

    @property
    def dimensions(self) -> dict[str, dict[str, str]]:
        return {"platform": self.platforms, "purpose": self.purposes}


def load_context(params_path: str | Path = DEFAULT_PARAMS, root: str | Path | None = None) -> Context:
    """Read and validate the parameters and every project file they name."""
    inputs = load_wave_inputs(params_path, root, (
        "seed", "inputs", "tolerance_pp", "samples", "employees", "questionnaire", "presence",
        "frequency", "purposes", "personal_use", "future_plans", "item_nonresponse", "copula",
        "defects", "timing", "identities", "export"))
    path, params, harmonised, codebook = (inputs.params_path, inputs.params, inputs.harmonised,
                                          inputs.codebook)
    samples: dict[str, int] = {}
    for name, spec in params["samples"].items():
        require_provenance(spec, path, f"samples.{name}")
        samples[str(name)] = int(spec["n"])
    sample_levels = harmonised.scales["sample"].levels
    unknown = [s for s in samples if s not in sample_levels]
    if unknown:
        raise InputError(path, "samples are not levels of the harmonised `sample` scale",
                         found=unknown, expected=str(list(sample_levels)))

    # In the codebook's column order: the export's variable numbers (q3_1 ...) follow it.
    platforms = wave_dimension(harmonised, codebook, "platform", codebook_order=True)
    purposes = wave_dimension(harmonised, codebook, "purpose", codebook_order=True)
    dimensions = {"platform": platforms, "purpose": purposes}
    items = build_items(params, harmonised, codebook, dimensions, path, _group,
                        hidden_groups=("sample",))
    group = {s.name: s.group for s in items}
    platform_of = {s.name: harmonised.variables[s.name].platform for s in items}
    purpose_of = {s.name: harmonised.variables[s.name].purpose for s in items}
    routing = _routing(params, dimensions, items, path)
    figures = followed_figures(inputs.published, inputs.indicators, harmonised,
                               {i.name for i in items}, samples, inputs.input_path("published"))
    ctx = Context(**vars(inputs), platforms=platforms, purposes=purposes, samples=samples,
                  bands=[str(b) for b in params["employees"]["bands"]], items=items,
                  figures=figures, routing=routing, group=group, platform_of=platform_of,
                  purpose_of=purpose_of)
    _validate_params(ctx)
    return ctx


def _group(variable: str) -> str:
    for prefix, group in GROUP_OF_PREFIX:
        if variable.startswith(prefix):
            return group
    if variable in GROUPS:
        return variable
    raise InputError("no_2010 generator", f"no item group for harmonised variable {variable!r}",
                     expected=f"one of {list(GROUPS)} or a present_/post_/purpose_ variable")


def _routing(params: dict[str, Any], dims: Mapping[str, Mapping[str, str]], items: list[ItemSpec],
             path: str) -> dict[str, str]:
    names = {spec.name: spec for spec in items}
    routing: dict[str, str] = {}
    for template, opener_template in params["questionnaire"].get("routing", {}).items():
        for name, assignment in expand_template(template, dims, path).items():
            opener = fill_template(opener_template, assignment, path)
            if name not in names or opener not in names:
                raise InputError(path, f"questionnaire.routing: {name!r} or {opener!r} is not an item")
            if names[opener].scale_type != "boolean" or names[opener].position >= names[name].position:
                raise InputError(path, f"questionnaire.routing: {name!r} must be opened by an "
                                 f"earlier yes/no item", found=opener)
            routing[name] = opener
    return routing


def _provenance(block: Mapping[str, Any], path: str, where: str, figure_ids: set[str]) -> None:
    """A block must say where its numbers come from; a `source` must name a published figure."""
    require_provenance(block, path, where)
    for kind in PROVENANCE_KINDS:
        if kind in block:
            check_provenance_entry({kind: block[kind]}, path, f"{where}.{kind}", figure_ids)


def _given_block(p: Mapping[str, Any], section: str, key: str, path: str,
                 figure_ids: set[str]) -> Mapping[str, Any]:
    """The parameters' `<section>.<key>`, which must be given, with its provenance."""
    block = p[section].get(key)
    if block is None:
        raise InputError(path, f"{section}.{key} missing")
    _provenance(block, path, f"{section}.{key}", figure_ids)
    return block


def _check_share(value: Any, path: str, where: str) -> None:
    if not 0 <= float(value) <= 100:
        raise InputError(path, f"{where} must be a percentage (0-100)", found=value)


def _validate_params(ctx: Context) -> None:
    """Every number carries provenance; shares are percentages; counts and names fit."""
    p, path = ctx.params, ctx.params_path
    ids = {f["id"] for f in ctx.published["figures"]}
    provenance_value(p["seed"], path, "seed")
    provenance_value(p["tolerance_pp"], path, "tolerance_pp")
    for key in ("questionnaire", "copula", "timing", "identities", "export"):
        require_provenance(p[key], path, key)
    emp = p["employees"]
    if "bands_derived" not in emp:
        raise InputError(path, "employees.bands_derived: say where the bands come from")
    for sample in ctx.samples:
        block = emp.get(sample)
        if not isinstance(block, Mapping) or len(block.get("pct", [])) != len(ctx.bands):
            raise InputError(path, f"employees.{sample}.pct must give one share per band",
                             expected=str(ctx.bands))
        _provenance(block, path, f"employees.{sample}", ids)
        check_pct(dict(zip(ctx.bands, block["pct"])), ctx.bands, path, f"employees.{sample}.pct")
    for platform in ctx.platforms:
        block = _given_block(p, "presence", platform, path, ids)
        for sample in ctx.samples:
            _check_share(block[sample], path, f"presence.{platform}.{sample}")
        block = _given_block(p, "frequency", platform, path, ids)
        levels = ctx.item[f"post_{platform}"].levels
        for sample in ctx.samples:
            check_pct(block[sample], levels, path, f"frequency.{platform}.{sample}")
        block = _given_block(p, "purposes", platform, path, ids)
        for purpose in ctx.purposes:
            for sample in ctx.samples:
                _check_share(block[purpose][sample], path, f"purposes.{platform}.{purpose}.{sample}")
    for group in ("personal_use", "future_plans"):
        block = p[group]
        _provenance(block, path, group, ids)
        spec = next(s for s in ctx.items if s.group == group)
        for sample in ctx.samples:
            check_pct(block[sample], spec.levels, path, f"{group}.{sample}")
    for group in GROUPS[1:]:
        block = _given_block(p, "item_nonresponse", group, path, ids)
        for sample in ctx.samples:
            _check_share(block[sample], path, f"item_nonresponse.{group}.{sample}")
        if not 0 <= float(block["dont_know"]) <= 1:
            raise InputError(path, f"item_nonresponse.{group}.dont_know must be a share (0-1)")
    require_defects(p["defects"], path, ("duplicate_submissions", "test_responses",
                                          "excluded_partials", "retained_partials"))
    provenance_value(p["copula"]["size_from_band"], path, "copula.size_from_band")
    loadings(ctx)  # raises on a missing item or squared loadings above 1
    # A break-off after the presence page must fall below the partial threshold.
    threshold = float(ctx.project_config["exclusions"]["partial_min_answered_share"])
    presence_page = max(s.page for s in ctx.items if s.group == "presence")
    early = sum(1 for s in ctx.items if s.page <= presence_page)
    if early / len(ctx.items) >= threshold:
        raise InputError(path, "a break-off after the presence page would not fall below the "
                         "partial threshold", found=f"{early} of {len(ctx.items)} items")
    names = [v.name for v in export_variables(ctx)]
    bad = [n for n in names if not SPSS_NAME.match(n)]
    if bad or len(set(names)) != len(names):
        raise InputError(path, "export.names: SPSS variable names must be unique, start with a "
                         "letter and have at most 64 characters", found=bad or names)


# --------------------------------------------------------------------------------------------
# Count allocation (MILP over the two samples)
# --------------------------------------------------------------------------------------------


def item_pct(ctx: Context, spec: ItemSpec, sample: str) -> dict[Any, float]:
    """The assumed shares (%) of an item's levels among those who answer, in one sample."""
    p, g = ctx.params, spec.group
    platform, purpose = ctx.platform_of[spec.name], ctx.purpose_of[spec.name]
    if g == "presence":
        yes = float(p["presence"][platform][sample])
        return {True: yes, False: 100 - yes}
    if g == "purposes":
        yes = float(p["purposes"][platform][purpose][sample])
        return {True: yes, False: 100 - yes}
    if g == "frequency":
        return {lv: float(v) for lv, v in p["frequency"][platform][sample].items()}
    if g in ("personal_use", "future_plans"):
        return {lv: float(v) for lv, v in p[g][sample].items()}
    return {lv: (100.0 if lv == sample else 0.0) for lv in spec.levels}  # the sample itself


def retained_partials(ctx: Context) -> dict[str, int]:
    block = ctx.params["defects"]["retained_partials"]
    return {s: int(block.get(s, 0)) for s in ctx.samples}


def allocate_all(ctx: Context) -> Allocation:
    """Integer counts per sample x category (NA included) for the employee bands and every item.

    Routed items are allocated over the firms their presence item counts as present, so this
    does not depend on the seed either.
    """
    tolerance = float(ctx.params["tolerance_pp"]["value"])
    path = ctx.params_path
    zero = {s: 0 for s in ctx.samples}
    bands: dict[str, dict[Any, float]] = {}
    for sample, n in ctx.samples.items():
        pct = ctx.params["employees"][sample]["pct"]
        bands[sample] = {b: n * float(v) / 100 for b, v in zip(ctx.bands, pct)}
        bands[sample][NA] = 0.0
    allocation: Allocation = {EMPLOYEES: allocate_item(EMPLOYEES, ctx.bands, ctx.samples, bands,
                                                       [], zero, tolerance, path)}
    partials = retained_partials(ctx)
    for spec in ctx.items:
        if spec.group == "sample":
            allocation[spec.name] = {s: {**{lv: (n if lv == s else 0) for lv in spec.levels}, NA: 0}
                                     for s, n in ctx.samples.items()}
            continue
        opener = ctx.routing.get(spec.name)
        base = (dict(ctx.samples) if opener is None
                else {s: allocation[opener][s][True] for s in ctx.samples})
        na_min = dict(partials) if spec.group == "future_plans" else dict(zero)
        nr = ctx.params["item_nonresponse"][spec.group]
        targets = {sample: answer_targets(n, na_min[sample], float(nr[sample]),
                                          item_pct(ctx, spec, sample), spec.levels)
                   for sample, n in base.items()}
        figures = [f for f in ctx.figures if f.item == spec.name]
        allocation[spec.name] = allocate_item(spec.name, spec.levels, base, targets, figures,
                                              na_min, tolerance, path)
    return allocation


# --------------------------------------------------------------------------------------------
# Respondents
# --------------------------------------------------------------------------------------------


def loadings(ctx: Context) -> dict[str, dict[str, float]]:
    """Copula loadings per item (the hidden sample has none); the factor 'platform' becomes the
    item's own platform factor."""
    return copula_loadings(ctx.params["copula"]["loadings"], ctx.dimensions,
                           [s.name for s in ctx.items if s.group != "sample"], ctx.params_path)


def _orgnr(rng: np.random.Generator, used: set[str]) -> str:
    """A 9-digit organisation number starting with 8 or 9 that passes Enhetsregisteret's
    modulus-11 check (weights 3,2,7,6,5,4,3,2 on the first eight digits)."""
    return mod11_number(rng, used, ORGNR_WEIGHTS, (8, 10))


def orgnr_valid(number: str) -> bool:
    """Enhetsregisteret's modulus-11 check of a 9-digit organisation number."""
    if not re.fullmatch(r"\d{9}", number):
        return False
    digits = [int(c) for c in number]
    check = mod11_check_digit(digits[:8], ORGNR_WEIGHTS)
    return check != 10 and check == digits[8]


def make_identity(band: str, ctx: Context, rng: np.random.Generator, used_names: set[str],
                  used_orgnr: set[str]) -> dict[str, str]:
    ids = ctx.params["identities"]
    return draw_identity(ids, ids["forms"][band], rng, used_names, "orgnr",
                         lambda r: _orgnr(r, used_orgnr), "no")


def _draw(spec: ItemSpec, sample: str, ctx: Context, rng: np.random.Generator) -> Any:
    """One answer drawn from the assumed shares (for defect rows, which no figure counts)."""
    return draw_level(spec.levels, item_pct(ctx, spec, sample), rng)


def _answers_drawn(ctx: Context, sample: str, rng: np.random.Generator,
                   last_page: int | None = None) -> dict[str, Any]:
    """A consistent set of drawn answers (routing respected) up to `last_page` (None = all)."""
    row: dict[str, Any] = {}
    for spec in ctx.items:
        opener = ctx.routing.get(spec.name)
        reached = last_page is None or spec.page <= last_page
        if not reached or (opener is not None and row.get(opener) is not True):
            row[spec.name] = NA
        elif spec.group == "sample":
            row[spec.name] = sample
        else:
            row[spec.name] = _draw(spec, sample, ctx, rng)
        row[f"dk:{spec.name}"] = False
    return row


@dataclass
class SynthResult(GeneratedExport):
    context: Context
    # frame: role, ids, sample, band, items, dk flags; export: the SPSS data (variable names, codes)

    @property
    def sav_bytes(self) -> bytes:
        return self.data


def answered_cells(row: Mapping[str, Any], items: Sequence[ItemSpec]) -> int:
    """Item cells the export shows as answered (a 'Vet ikke' counts), as the ingest stage counts."""
    return sum(1 for s in items if row[s.name] is not NA or row[f"dk:{s.name}"])


def generate(params_path: str | Path = DEFAULT_PARAMS, seed: int | None = None,
             root: str | Path | None = None, *, context: Context | None = None,
             allocation: Allocation | None = None) -> SynthResult:
    """Build the synthetic export in memory and verify it (raises VerificationError on a miss)."""
    ctx = context or load_context(params_path, root)
    p = ctx.params
    seed = int(p["seed"]["value"]) if seed is None else int(seed)
    alloc = allocation or allocate_all(ctx)
    samples = list(ctx.samples)
    strata = np.concatenate([np.full(n, s, dtype=object) for s, n in ctx.samples.items()])
    n = len(strata)

    # --- employee bands: the allocated counts per sample, in random order ------------------
    rng_emp = named_rng(seed, "employees")
    band = np.empty(n, dtype=object)
    for sample in samples:
        idx = np.flatnonzero(strata == sample)
        pool = np.concatenate([np.full(alloc[EMPLOYEES][sample][b], b, dtype=object)
                               for b in ctx.bands])
        band[idx] = rng_emp.permutation(pool)

    # --- latent scores (Gaussian copula) -----------------------------------------------------
    rng_cop = named_rng(seed, "copula")
    rank = np.asarray([ctx.bands.index(b) for b in band], dtype=float)
    z_band = standardise_within(rank, strata, samples)
    r = float(p["copula"]["size_from_band"]["value"])
    factors = copula_factors(z_band, r, "size", ctx.platforms, rng_cop)
    scores = item_scores(loadings(ctx), factors, rng_cop, ctx.params_path)

    # --- answers: allocated counts handed out in score order; routing forces NA -------------
    rng_nr = named_rng(seed, "nonresponse")
    rng_dk = named_rng(seed, "dont_know")
    values: dict[str, np.ndarray] = {}
    dont_know: dict[str, np.ndarray] = {}
    partial = np.zeros(n, dtype=bool)
    total = len(ctx.items)
    threshold = float(ctx.project_config["exclusions"]["partial_min_answered_share"])
    for spec in ctx.items:
        if spec.group == "sample":
            values[spec.name], dont_know[spec.name] = strata.copy(), np.zeros(n, dtype=bool)
            continue
        if spec.group == "future_plans":
            # Retained partials left on this last page: chosen among respondents who answered
            # at least the threshold share of the items before it, so the clean stage keeps them.
            # The hidden sample column is left out of both counts, so they stay above the
            # threshold whether or not the ingest stage counts it as an item.
            answered = np.asarray([
                sum(1 for s in ctx.items if s.position < spec.position and s.group != "sample"
                    and (values[s.name][i] is not NA or dont_know[s.name][i]))
                for i in range(n)])
            visible = sum(1 for s in ctx.items if s.group != "sample")
            rng_part = named_rng(seed, "retained_partials")
            for sample, k in retained_partials(ctx).items():
                eligible = np.flatnonzero((strata == sample) & (answered >= threshold * visible))
                if len(eligible) < k:
                    raise VerificationError(f"too few {sample} respondents answer enough items to "
                                            f"be {k} retained partials")
                partial[rng_part.choice(eligible, size=k, replace=False)] = True
        forced = partial.copy() if spec.group == "future_plans" else np.zeros(n, dtype=bool)
        counts = alloc[spec.name]
        opener = ctx.routing.get(spec.name)
        if opener is not None:
            present = np.asarray([v is True for v in values[opener]])
            forced |= ~present
            counts = {s: {**c, NA: c[NA] + int((~present[strata == s]).sum())}
                      for s, c in counts.items()}
        values[spec.name], skipped = assign_item(spec.name, list(spec.levels), counts, strata,
                                                 forced, scores[spec.name], rng_nr)
        share = float(p["item_nonresponse"][spec.group]["dont_know"])
        dont_know[spec.name] = skipped & (rng_dk.random(n) < share)

    rng_time = named_rng(seed, "times")
    rng_id = named_rng(seed, "identities")
    used_names: set[str] = set()
    used_orgnr: set[str] = set()
    rows: list[dict[str, Any]] = []
    for i in range(n):
        start, finish = draw_times("partial" if partial[i] else "complete", ctx, rng_time)
        row: dict[str, Any] = {
            "role": ROLE_RETAINED, "status": "partial" if partial[i] else "complete",
            "sample": strata[i], "band": band[i], "started": start, "finished": finish,
            **make_identity(band[i], ctx, rng_id, used_names, used_orgnr)}
        for spec in ctx.items:
            row[spec.name] = values[spec.name][i]
            row[f"dk:{spec.name}"] = bool(dont_know[spec.name][i])
        rows.append(row)

    # --- defects ---------------------------------------------------------------------------------
    defects = p["defects"]
    rng_def = named_rng(seed, "defects")
    add_duplicate_submissions(rows, ctx, rng_def,
                              [s for s in ctx.items if s.group in CHANGEABLE_GROUPS])

    test = defects["test_responses"]
    for _ in range(int(test["value"])):
        rows.append({**make_test_row(test, ctx, rng_def, "orgnr"), "sample": test["sample"],
                     "band": str(test["employees"]),
                     **_answers_drawn(ctx, str(test["sample"]), rng_def)})

    sizes = np.asarray([ctx.samples[s] for s in samples], dtype=float)
    presence_page = max(s.page for s in ctx.items if s.group == "presence")
    for _ in range(int(defects["excluded_partials"]["value"])):
        sample = samples[int(rng_def.choice(len(samples), p=sizes / sizes.sum()))]
        weights = np.asarray(p["employees"][sample]["pct"], dtype=float)
        band_text = ctx.bands[int(rng_def.choice(len(ctx.bands), p=weights / weights.sum()))]
        start, finish = draw_times("breakoff", ctx, rng_def)
        rows.append({"role": ROLE_EXCLUDED_PARTIAL, "status": "partial", "sample": sample,
                     "band": band_text, "started": start, "finished": finish,
                     **make_identity(band_text, ctx, rng_def, used_names, used_orgnr),
                     **_answers_drawn(ctx, sample, rng_def, last_page=presence_page)})

    # Before the look-alikes are moved apart: a lengthened response may end later.
    lifted = lift_speeder_durations(rows, ctx.project_config["exclusions"],
                                    parse_time(p["timing"]["window_end"]))
    moved = _separate_lookalikes(rows, ctx, named_rng(seed, "lookalikes"))

    # --- response ids in start order, then a shuffled file order ------------------------------
    rows = number_and_shuffle(rows, p["timing"], seed)

    frame = pd.DataFrame(rows, dtype=object)
    export = build_export(ctx, frame)
    sav_bytes = write_sav_bytes(ctx, export)
    role = frame["role"].to_numpy()
    answered = np.asarray([answered_cells(r, ctx.items) for r in rows])
    retained_rows = [r for r in rows if r["role"] == ROLE_RETAINED]
    counts = {
        **row_counts(role, frame["status"].to_numpy(), answered, total),
        "columns": export.shape[1],
        "dont_know_cells": sum(int(r[f"dk:{s.name}"]) for r in retained_rows for s in ctx.items),
        "skipped_cells": sum(int(r[s.name] is NA and not r[f"dk:{s.name}"]
                                 and not _routed_away(r, s, ctx)) for r in retained_rows
                             for s in ctx.items),
        "routed_cells": sum(int(_routed_away(r, s, ctx)) for r in retained_rows for s in ctx.items),
        "comments": int((frame.loc[role != ROLE_TEST, "comment"] != "").sum()),
        "lookalikes_moved": moved,
        "lifted_durations": lifted,
    }
    result = SynthResult(seed, ctx, alloc, frame, export, sav_bytes, counts)
    verify(result)
    return result


def _routed_away(row: Mapping[str, Any], spec: ItemSpec, ctx: Context) -> bool:
    opener = ctx.routing.get(spec.name)
    return opener is not None and row[opener] is not True


def signature(row: Mapping[str, Any], items: Sequence[ItemSpec]) -> tuple[Any, ...]:
    """What the clean stage compares to find resubmissions: every harmonised answer ('Vet
    ikke' and empty are both NA) and the employee count as typed."""
    return (*(row[s.name] for s in items), row["band"])


def _separate_lookalikes(rows: list[dict[str, Any]], ctx: Context, rng: np.random.Generator) -> int:
    """Move apart in time any two respondents with identical answers and band who started
    within the clean stage's duplicate window, so only the intended duplicate is one.

    Many routed-away cells make identical answer sets common among passive firms; real exports
    rarely start them minutes apart. Returns how many start times were moved.
    """
    minutes = ctx.project_config["exclusions"].get("duplicate_window_minutes")
    if minutes is None:
        return 0
    window = timedelta(minutes=float(minutes))
    end = parse_time(ctx.params["timing"]["window_end"])
    moved = 0
    for _round in range(100):
        collisions = _lookalike_pairs(rows, ctx.items, window)
        if not collisions:
            return moved
        for _earlier, later in collisions:
            shift = window + timedelta(minutes=int(rng.integers(10, 240)))
            row = rows[later]
            if row["finished"] + shift > end:
                shift = -2 * shift
            row["started"] += shift
            row["finished"] += shift
            moved += 1
    raise RuntimeError("could not separate respondents with identical answers in time")


def _lookalike_pairs(rows: Sequence[Mapping[str, Any]], items: Sequence[ItemSpec],
                     window: timedelta) -> list[tuple[int, int]]:
    """Consecutive starts (non-test rows) with one signature within `window`: (earlier, later)."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, row in enumerate(rows):
        if row["role"] != ROLE_TEST:
            groups.setdefault(signature(row, items), []).append(i)
    pairs = []
    for members in groups.values():
        members.sort(key=lambda i: (rows[i]["started"], i))
        for a, b in zip(members, members[1:]):
            if rows[b]["started"] - rows[a]["started"] <= window:
                pairs.append((a, b))
    return pairs


# --------------------------------------------------------------------------------------------
# The SPSS export
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportVariable:
    name: str  # SPSS variable name
    label: str  # SPSS variable label = the codebook's column
    role: str  # meta:<role> | identifier:<field> | employees | item:<harmonised name>
    kind: str  # numeric | string | datetime
    codes: Mapping[Any, int] = field(default_factory=dict)  # value -> code (None = don't know)
    value_labels: Mapping[float, str] = field(default_factory=dict)
    measure: str = "nominal"
    format: str = ""


def _item_codes(ctx: Context, spec: ItemSpec) -> dict[Any, int]:
    codes = ctx.params["export"]["codes"]
    chosen = spec.scale
    for template, code_set in ctx.params["export"].get("item_codes", {}).items():
        if spec.name in expand_template(template, ctx.dimensions, ctx.params_path):
            chosen = code_set
    if chosen not in codes:
        raise InputError(ctx.params_path, f"export.codes has no code set {chosen!r} for {spec.name!r}")
    return {k: int(v) for k, v in codes[chosen].items()}


def export_variables(ctx: Context) -> list[ExportVariable]:
    """Every variable of the .sav in file order: meta, identifiers, employees, items."""
    names = ctx.params["export"]["names"]
    cb = ctx.codebook
    out: list[ExportVariable] = []
    status_label = {v: k for k, v in cb.status_labels.items()}
    status_codes = ctx.params["export"]["codes"]["status"]
    for role, label in cb.meta.items():
        if role == "status":
            out.append(ExportVariable(names["meta"][role], label, f"meta:{role}", "numeric",
                                      {s: int(c) for s, c in status_codes.items()},
                                      {float(c): status_label[s] for s, c in status_codes.items()},
                                      "nominal", "F1.0"))
        elif role in ("started", "finished"):
            out.append(ExportVariable(names["meta"][role], label, f"meta:{role}", "datetime",
                                      measure="scale", format="DATETIME20"))
        else:
            out.append(ExportVariable(names["meta"][role], label, f"meta:{role}", "numeric",
                                      measure="scale", format="F8.0"))
    fields = dict(zip(cb.identifiers, ("firm", "email", "orgnr", "comment")))
    for label in cb.identifiers:
        out.append(ExportVariable(names["identifiers"][label], label, f"identifier:{fields[label]}",
                                  "string"))
    band_codes = {b: i + 1 for i, b in enumerate(ctx.bands)}
    out.append(ExportVariable(names["employees"], cb.employees_column, "employees", "numeric",
                              band_codes, {float(c): b for b, c in band_codes.items()},
                              "ordinal", "F1.0"))
    platform_no = {k: i + 1 for i, k in enumerate(ctx.platforms)}
    purpose_no = {k: i + 1 for i, k in enumerate(ctx.purposes)}
    for spec in ctx.items:
        template = next((t for t in names["items"]
                         if spec.name in expand_template(t, ctx.dimensions, ctx.params_path)), None)
        if template is None:
            raise InputError(ctx.params_path, f"export.names.items has no name for {spec.name!r}")
        name = str(names["items"][template]).format(
            platform_no=platform_no.get(ctx.platform_of[spec.name], 0),
            purpose_no=purpose_no.get(ctx.purpose_of[spec.name], 0))
        codes = _item_codes(ctx, spec)
        missing = [lv for lv in spec.levels if lv not in codes]
        if missing:
            raise InputError(ctx.params_path, f"export codes for {spec.name!r} lack levels",
                             found=[str(m) for m in missing])
        value_labels = {float(codes[lv]): spec.label_of[lv] for lv in spec.levels}
        if None in codes:
            value_labels[float(codes[None])] = spec.dont_know_label
        measure = "ordinal" if spec.scale_type == "ordered" else "nominal"
        width = max(len(str(c)) for c in codes.values())
        out.append(ExportVariable(name, spec.column, f"item:{spec.name}", "numeric", codes,
                                  dict(sorted(value_labels.items())), measure, f"F{width}.0"))
    return out


def build_export(ctx: Context, frame: pd.DataFrame) -> pd.DataFrame:
    """The SPSS data: variable names as columns, numeric codes (NaN = system-missing)."""
    data: dict[str, Any] = {}
    for var in export_variables(ctx):
        kind, _, what = var.role.partition(":")
        if var.role == "meta:response_id":
            data[var.name] = frame["response_id"].astype(float).to_numpy()
        elif var.role == "meta:status":
            data[var.name] = np.asarray([var.codes[s] for s in frame["status"]], dtype=float)
        elif kind == "meta":
            data[var.name] = pd.to_datetime(list(frame[what])).astype("datetime64[us]")
        elif kind == "identifier":
            data[var.name] = pd.Series([str(v) for v in frame[what]], dtype=object).to_numpy()
        elif kind == "employees":
            data[var.name] = np.asarray([var.codes[b] for b in frame["band"]], dtype=float)
        else:
            cells = []
            for value, dk in zip(frame[what], frame[f"dk:{what}"]):
                if value is not NA:
                    cells.append(float(var.codes[value]))
                elif dk:
                    if None not in var.codes:
                        raise RuntimeError(f"{what}: a 'don't know' cell without a code for it")
                    cells.append(float(var.codes[None]))
                else:
                    cells.append(math.nan)
            data[var.name] = np.asarray(cells, dtype=float)
    return pd.DataFrame(data)


def _stamp(text: str) -> bytes:
    """SPSS's creation stamp 'dd Mmm yyhh:mm:ss' (English month, whatever the locale)."""
    when = parse_time(text)
    return (f"{when.day:02d} {_MONTHS[when.month - 1]} {when.year % 100:02d}"
            f"{when:%H:%M:%S}").encode("ascii")


def write_sav_bytes(ctx: Context, export: pd.DataFrame) -> bytes:
    """The .sav bytes (pyreadstat), with the writer's creation time replaced by the fixed
    `export.created` stamp: pyreadstat has no option for it, and it is the only part of the
    file that changes between two writes of the same data."""
    import pyreadstat

    variables = export_variables(ctx)
    spec = ctx.params["export"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.sav"
        pyreadstat.write_sav(
            export, str(path), file_label=str(spec["file_label"]),
            column_labels=[v.label for v in variables],
            note=textwrap.wrap(" ".join(str(spec["note"]).split()), 80),  # SPSS note lines: <= 80
            variable_value_labels={v.name: dict(v.value_labels) for v in variables if v.value_labels},
            variable_measure={v.name: v.measure for v in variables},
            variable_format={v.name: v.format for v in variables if v.format})
        data = bytearray(path.read_bytes())
    if data[:4] != b"$FL2" or not _STAMP_PATTERN.match(bytes(data[_STAMP])):
        raise RuntimeError("unexpected .sav header layout: cannot set the creation stamp")
    data[_STAMP] = _stamp(str(spec["created"]))
    return bytes(data)


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


def share(frame: pd.DataFrame, item: str, categories: Collection[Any],
          sample: str = "all") -> tuple[int, int]:
    """(hits, answered) of `item` among `frame`'s rows, in one sample or all."""
    return stratum_share(frame, item, categories, sample, column="sample")


def pct(frame: pd.DataFrame, item: str, categories: Collection[Any],
        sample: str = "all") -> float:
    k, n = share(frame, item, categories, sample)
    return 100 * k / n if n else math.nan


def verify_figures(result: SynthResult) -> pd.DataFrame:
    """Every followed published figure as the pipeline's reproduction check finds it on what its
    clean stage retained (pooled: the figures' segment is `all`)."""
    return reproduction_table(result)


def business_use_score(frame: pd.DataFrame, ctx: Context) -> np.ndarray:
    """Use of social media on the firm's behalf: per platform, 0 if not present, else 1 plus
    the posting frequency's rank (never 0 ... daily 4; unknown 0), summed over platforms."""
    total = np.zeros(len(frame))
    for platform in ctx.platforms:
        levels = ctx.item[f"post_{platform}"].levels
        present = np.asarray([v is True for v in frame[f"present_{platform}"]])
        post = np.asarray([levels.index(v) if v is not NA else 0 for v in frame[f"post_{platform}"]])
        total += present * (1 + post)
    return total


def spearman_personal_business(result: SynthResult) -> float:
    """Spearman correlation of the respondent's personal use with the firm's use (retained,
    personal use answered): 'business use mirrors personal use'."""
    ctx = result.context
    rows = result.retained[[v is not NA for v in result.retained["personal_use"]]]
    levels = ctx.item["personal_use"].levels
    personal = [levels.index(v) for v in rows["personal_use"]]
    return float(spearmanr(personal, business_use_score(rows, ctx)).statistic)


def qualitative_checks(result: SynthResult) -> pd.DataFrame:
    """The seed's qualitative statements, on the retained respondents."""
    ctx, retained = result.context, result.retained
    samples = list(ctx.samples)
    low, high = samples[0], samples[-1]  # panel, expert
    out: list[dict[str, Any]] = []

    def add(check: str, expected: str, value: str, ok: bool) -> None:
        out.append({"check": check, "expected": expected, "value": value, "ok": bool(ok)})

    for platform in ctx.platforms:
        a = pct(retained, f"present_{platform}", {True}, low)
        b = pct(retained, f"present_{platform}", {True}, high)
        add(f"experts_ahead_{platform}", f"present: {high} > {low}", f"{b:.1f} vs {a:.1f}", b > a)
        shares = {u: pct(retained[[v is True for v in retained[f"present_{platform}"]]],
                         f"purpose_{u}_{platform}", {True}) for u in ctx.purposes}
        ranked = sorted(shares, key=lambda u: -shares[u])
        top = "recruitment" if platform == "linkedin" else "profiling_marketing"
        add(f"top_purpose_{platform}", f"{top} leads", ", ".join(f"{u}={shares[u]:.1f}" for u in ranked),
            ranked[0] == top and shares[ranked[0]] > shares[ranked[1]])
        for purpose in RARE_PURPOSES:
            if purpose not in ctx.purposes:
                continue
            values = [pct(retained, f"purpose_{purpose}_{platform}", {True}, s) for s in [*samples, "all"]]
            add(f"rare_{purpose}_{platform}", f"< {RARE_BELOW_PCT:g}% in every sample and pooled",
                ", ".join(f"{s}={v:.1f}" for s, v in zip([*samples, "all"], values)),
                all(v < RARE_BELOW_PCT for v in values))
    heavy = {s: pct(retained, "personal_use", {"daily"}, s) for s in samples}
    add("heavy_personal_use", f"daily personal use: {low} < {high}",
        ", ".join(f"{s}={v:.1f}" for s, v in heavy.items()), heavy[low] < heavy[high])
    daily = {}
    for s in samples:
        rows = retained[retained["sample"] == s]
        daily[s] = 100 * float(np.mean([any(r[f"post_{p}"] == "daily" for p in ctx.platforms)
                                        for _i, r in rows.iterrows()]))
    add("heavy_business_use", f"posts daily on some platform: {low} < {high}",
        ", ".join(f"{s}={v:.1f}" for s, v in daily.items()), daily[low] < daily[high])
    more = pct(retained, "future_plans", {"more"})
    add("many_want_more", "a majority wants to be more active (pooled)", f"{more:.1f}", more > 50)
    rho = spearman_personal_business(result)
    add("personal_mirrors_business", "Spearman(personal use, business use) > 0.3", f"{rho:.2f}", rho > 0.3)
    return pd.DataFrame(out)


def _structure_problems(result: SynthResult) -> list[str]:
    """What the pipeline's ingest and clean stages make of the file (who is excluded by which
    rule, the read-back, the samples), the identifiers, timestamps and routing."""
    ctx, frame = result.context, result.frame
    problems = (exclusion_problems(result) + read_back_problems(result, ctx.items, "band")
                + stratum_problems(result, "sample", ctx.samples)
                + duplicate_pair_problems(frame, "orgnr")
                + window_problems(frame, ctx.params["timing"]))
    if not all(orgnr_valid(o) for o in frame.loc[frame["orgnr"] != "", "orgnr"]):
        problems.append("an organisation number fails the modulus-11 check")
    for spec in ctx.items:
        if spec.name not in ctx.routing:
            continue
        routed = frame[ctx.routing[spec.name]].map(lambda v: v is not True)
        answered = frame[spec.name].map(lambda v: v is not NA) | frame[f"dk:{spec.name}"].astype(bool)
        for rid in frame.loc[routed & answered, "response_id"]:
            problems.append(f"row {rid}: {spec.name} answered though routed away")
    return problems


def verify(result: SynthResult) -> None:
    """Raise VerificationError listing every failed self-check."""
    problems = _structure_problems(result) + figure_problems(verify_figures(result))
    checks = qualitative_checks(result)
    for row in checks[~checks["ok"]].to_dict("records"):
        problems.append(f"{row['check']}: expected {row['expected']}, got {row['value']}")
    raise_problems(problems)


# --------------------------------------------------------------------------------------------
# Summary, README, CLI
# --------------------------------------------------------------------------------------------


def summary_lines(result: SynthResult) -> list[str]:
    figures = verify_figures(result)
    checks = qualitative_checks(result)
    d = result.defects
    by_sample = result.retained["sample"].value_counts()
    return [
        f"seed {result.seed}: {d['rows']} rows x {d['columns']} variables, sha256 {result.sha256}",
        "retained " + str(d["retained"]) + " ("
        + ", ".join(f"{s} {by_sample.get(s, 0)}" for s in result.context.samples) + ")",
        f"defects: {d['duplicate']} duplicate submission, {d['test']} test response, "
        f"{d['excluded_partial']} partials below the threshold; {d['retained_partial']} retained "
        f"partials; {d['skipped_cells']} skipped and {d['dont_know_cells']} 'Vet ikke' item cells "
        "among retained",
        f"published figures reproduced (pooled): {int(figures['ok'].sum())}/{len(figures)} "
        "(" + ", ".join(f"{r.figure_id} {r.recomputed:.2f}" for r in figures.itertuples()) + ")",
        f"qualitative checks: {int(checks['ok'].sum())}/{len(checks)}; Spearman(personal use, "
        f"business use) = {spearman_personal_business(result):.2f}",
    ]


def _table(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False, floatfmt=".1f")


def readme_text(result: SynthResult, command: str, sav_name: str) -> str:
    """The data README; its first line says what the file is and is not."""
    ctx, d = result.context, result.defects
    figures = verify_figures(result)
    retained = result.retained
    samples = list(ctx.samples)
    label_of_sample = ctx.item["sample"].label_of
    import pyreadstat
    import scipy  # local: only for the version line

    presence = pd.DataFrame([{
        "platform": ctx.platforms[pl],
        **{label_of_sample[s]: pct(retained, f"present_{pl}", {True}, s) for s in samples},
        "pooled": pct(retained, f"present_{pl}", {True}),
        "published": next((f"{f['value']:g}" for f in ctx.published["figures"]
                           if f["indicator"] == f"present_{pl}"), "—"),
    } for pl in ctx.platforms])
    lines = [
        "# ILLUSTRATIVE SYNTHETIC reconstruction: its levels rest on three published figures and "
        "stated assumptions, NOT on the survey's responses",
        "",
        f"`{sav_name}` stands in for the SPSS export of Dataforeningen's survey \"Norske "
        "virksomheters bruk av sosiale medier\" (autumn 2010, released at SosialeMedierDagen on "
        "26 October 2010). The survey's tables were never published and its responses are not "
        "available. Three figures were quoted (Abelia, 2010; sample not stated): 62% of firms "
        "have a Facebook page, 59% are on Twitter, about 30% on YouTube. This file reproduces those "
        "three on all respondents pooled (our reading); every other level in it is an assumption "
        "of `config/synthetic/no_2010.yaml`, shaped by the survey's qualitative description "
        "(`../shared/seeds/004_3b39299e100d9e57.txt`). It shows the pipeline working on a wave in "
        "this survey's shape; nothing computed from it is a finding about Norwegian firms. No row "
        "describes a real firm or person: names, e-mail addresses and organisation numbers are "
        "invented (the numbers pass the modulus-11 check but are not looked up).",
        "",
        "## What the file holds",
        "",
        f"- SPSS .sav (uncompressed, UTF-8), {d['rows']} cases x {d['columns']} variables, as "
        "QuestBack would export it: short variable names (`respid`, `q1`, `q3_1`, ...), the "
        "Norwegian question texts as variable labels (the columns of "
        "`config/codebook/no_2010.yaml`, which reads the file with `columns_by: label`), answers "
        "as numeric codes with Norwegian value labels (`Daglig`, `Ukentlig`, `Månedlig`, "
        "`Sjeldnere`, `Aldri`, `Vet ikke` = 9, `Ja`, `Nei`, `Panelutvalg`, `Ekspertutvalg`, "
        "`Fullført`, `Ikke fullført`), tick lists coded 1 = ticked / 0 = not ticked, "
        "system-missing where a question was skipped or routed away, `starttid`/`sluttid` as "
        "SPSS DATETIME.",
        "- Variables: meta (`respid` Respondent-ID, `status`, `starttid`, `sluttid`); identifiers "
        "(`firma` Virksomhetens navn, `epost` E-postadresse, `orgnr` Organisasjonsnummer, 9 "
        "digits, `kommentar` Kommentar), dropped at ingest; `q2` the employee band "
        f"({', '.join(ctx.bands)}: Statistics Norway's size classes); `utvalg` the sample; `q1` "
        "personal use of social media; `q3_*` presence on Facebook, Twitter, LinkedIn, YouTube "
        "and a blog; `q4_*` how often the firm updates each (asked only where present); "
        "`q5_<platform>_<purpose>` what it uses each for (profiling and marketing, recruitment, "
        "dialogue with customers, customer service, product testing; asked only where present); "
        "`q6` whether it wants to be more, equally or less active in future.",
        f"- {d['retained']} cases are meant to be retained by the clean stage: "
        + ", ".join(f"{n} {label_of_sample[s]} ({s})" for s, n in ctx.samples.items())
        + " (assumed sizes).",
        "- Defects, as real exports carry them:",
        f"  - {d['duplicate']} duplicate submission: the same organisation number and e-mail again, "
        "later, Fullført, 1-2 answers changed; the first complete submission is the one to keep;",
        f"  - {d['test']} test response (firm `TEST`, e-mail `test@...`, comment `test av skjema ...`);",
        f"  - {d['excluded_partial']} partial responses (`Ikke fullført`) that broke off after the "
        f"presence question, at most {d['excluded_partial_max_answered']} of {d['items']} item "
        "columns answered, below the 50% threshold: the clean stage excludes them;",
        f"  - {d['retained_partial']} retained partial responses (`Ikke fullført`) that left on the "
        f"last page, with at least {d['retained_partial_min_answered']} of {d['items']} item "
        "columns answered;",
        f"  - item non-response among the retained: {d['skipped_cells']} skipped cells and "
        f"{d['dont_know_cells']} `Vet ikke` cells ({d['routed_cells']} further cells are empty by "
        "routing);",
        f"  - {d['comments']} respondents wrote a comment.",
        "- Cases are in shuffled order; `respid` is unique and increases with the start time. "
        "No two respondents with identical answers and band started within the clean stage's "
        f"duplicate window ({d['lookalikes_moved']} start time(s) had to be moved apart for that).",
        "",
        "## Presence by sample (retained respondents, % of those answering)",
        "",
        _table(presence),
        "",
        "## How it was made",
        "",
        "1. **Count allocation (MILP).** Per item, integer counts per sample x answer (no answer "
        "included) from `scipy.optimize.milp` (HiGHS) via `smesocial.synthetic.core.allocate_item`, "
        "the allocator the Danish generator uses with the two samples as strata. The three published figures "
        "are constraints on the pooled sample (|100 k/n − v| ≤ 0.49 on those who answered); the "
        "objective is the L1 distance to the assumed shares and item non-response of "
        "`config/synthetic/no_2010.yaml`, where every number is marked `source: published:<id>` "
        "or `assumption: <why>`. Frequency and purposes are allocated among the firms present on "
        "the platform, so the counts do not depend on the seed.",
        "2. **Respondent assignment (Gaussian copula).** Latent standard-normal factors per "
        "respondent (engagement, firm size from the band, one per platform); within each sample "
        "the answering respondents receive an item's allocated answers in rank order of its "
        "latent score (`smesocial.synthetic.core.assign_item`), so counts stay exact while items "
        "correlate: personal use mirrors the firm's use (Spearman "
        f"{spearman_personal_business(result):.2f}, personal use against a business-use score "
        "summing presence and posting frequency over the five platforms).",
        "3. **Export.** Labels are inverted from the codebook; the defects above are added; cases "
        "are shuffled; `pyreadstat.write_sav` writes the file.",
        "4. **Self-check.** Before writing, the generator runs the pipeline's own ingest and clean "
        "stages on the .sav (`smesocial.synthetic.core.pipeline_retained`): the clean stage must "
        "exclude exactly the defect rows above, each by its rule, and the read-back must give the "
        "generated answers. On the respondents it retains, the pipeline's reproduction check "
        f"matches the published figures ({int(figures['ok'].sum())}/{len(figures)} within 0.5 pp: "
        + ", ".join(f"{r.figure_id} {r.recomputed:.2f}% vs {r.published:g}%" for r in figures.itertuples())
        + "), the seed's qualitative statements (experts ahead of the panel on every platform; "
        "LinkedIn used first for recruitment, the others for profiling and marketing; customer "
        "service and product testing under 15% everywhere; the panel less often heavy users, "
        "personally and for the firm; a majority wanting to be more active) must hold too. The "
        "generator stops if anything is off.",
        "",
        "## Determinism",
        "",
        "An SPSS file records when it was written (17 bytes of its header: date `dd Mmm yy` and "
        "time `hh:mm:ss`). `pyreadstat.write_sav` has no option to set them, so the generator "
        "overwrites them with the fixed stamp `export.created` of the parameters "
        f"(`{ctx.params['export']['created']}`); nothing else in the file depends on the time, "
        "so two runs with the same seed give the same bytes.",
        "",
        *regeneration_lines(result, command, sav_name),
        f"Generated with numpy {np.__version__}, scipy {scipy.__version__}, pandas {pd.__version__}, "
        f"pyreadstat {pyreadstat.__version__}. A different seed gives another, equally valid "
        "reconstruction with the same counts per sample and answer. `tests/unit/test_synth_no.py` "
        "checks that this file, this checksum and a fresh generation agree.",
        "",
    ]
    return "\n".join(lines)
