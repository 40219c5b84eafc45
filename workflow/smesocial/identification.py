"""Identification: what each row of the hypothesis battery rests on, worked out by code.

The Danish data are a synthetic reconstruction (smesocial.synthetic.dk): per item and segment the
counts of some answer categories are pinned by a published percentage, or derived from published
percentages, and the rest are assumptions (config/synthetic/dk_2024.yaml records which). The
Norwegian wave rests on three pooled published shares and assumptions (config/synthetic/no_2010.yaml).
A test's result can therefore only be as firm as the counts it uses. Each battery row gets a class:

identified
    The statistic depends only on counts that published figures pin in every segment: a binary
    indicator whose share is published (or follows from published shares) per segment. "Identified"
    means identified UP TO ROUNDING, GIVEN THE BASES: we enumerate every count vector with
    |100 k_s / m_s - v_s| <= 0.5 for each published figure (segment s, or 'all' on the summed
    counts) and report the range of the battery's own statistic and p over them. The bases m_s
    (respondents per segment who answered the item) are NOT published: the report gives segment
    sizes (97/103/132) and shares "of those who answered"; the item non-response is an assumption
    of the reconstruction, so the bases are the answered counts of the analysed (synthetic) table,
    and the assumptions column says so.
bounded
    The counts per segment are limited by published figures but not fixed by them: a paired
    comparison of two binary items (McNemar) whose margins are published for the segment
    (the joint 2x2 table is unpublished; the margins fix b - c up to rounding and the Fréchet
    bounds limit b + c), or a binary trend whose segment shares are published only in sum (the
    report gives micro and all firms; the small/medium split is the generator's assumption). The
    range over every admissible table is sharp: p_min / p_max are attained. Where the search
    would be too large (more than MAX_PAIRED_MARGINS pairs of margin vectors, as for a pooled
    McNemar whose margins are published only as micro and all-firm shares) the range is left
    NaN and the note says so.
assumed
    The result rests on generator assumptions: unpublished category splits (daily vs weekly in
    the 5-level posting items, strongly vs plainly agree, ...), the copula's dependence between
    three or more items or between items and size (Cochran's Q, gradient differences), and every
    group contrast in no_2010, whose three published figures are pooled shares. No range here;
    only an ensemble over the assumptions speaks to these rows.

The statistic and p of each admissible table are computed with the battery's own functions
(smesocial.inference); the McNemar grid is searched vectorised (the exact binomial p is
monotone in b + c for a fixed b - c, checked by brute force in tests/unit/test_identification.py)
and its extremes are recomputed with inference.mcnemar_paired.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from smesocial.config import Harmonised, Indicator
from smesocial.errors import NotEstimable
from smesocial.hypotheses import resolve_item
from smesocial.inference import association_test, mcnemar_paired, trend_in_proportions

NAN = float("nan")
ALL = "all"
TOLERANCE_PP = 0.5  # a published integer percentage v admits every k with |100 k / m - v| <= 0.5
MAX_TABLES = 50_000  # enumerations larger than this are not attempted (the note says so)
MAX_PAIRED_MARGINS = 20_000  # pairs of margin vectors a McNemar range may search
COLUMNS = ["hypothesis", "waves", "item", "segment", "test", "class", "stat_min", "stat_max",
           "p_min", "p_max", "alpha", "holds_at_worst_case", "published_figures", "assumptions",
           "note"]
# Tests whose result depends on the joint distribution of three or more items, or on how the
# within-respondent difference of two items varies with size: the generator's copula decides.
JOINT_TESTS = {"cochrans_q", "gradient_difference_ordinal_logit"}
GROUP_TESTS = {"cmh", "logit_group", "logit_group_interaction"}
ASSOCIATION_TESTS = {"pearson_chi2", "fisher_exact", "chi2_monte_carlo"}


def _norm(value: Any) -> str:
    return str(value).lower()


# --------------------------------------------------------------------------------------------
# Provenance of the synthetic parameters


@dataclass(frozen=True)
class Block:
    """A group of answer categories whose share (in one segment) has one provenance."""

    categories: frozenset[str]
    status: str  # published | derived | assumption
    figures: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figure:
    id: str
    variable: str  # the synthetic target variable (a Likert original for derived booleans)
    categories: frozenset[str]
    segment: str
    value: float


@dataclass
class Provenance:
    """Per target variable: its answer categories and, per segment, its provenance blocks."""

    segments: dict[str, int]  # segment -> published size, in scheme order
    categories: dict[str, frozenset[str]] = field(default_factory=dict)
    blocks: dict[tuple[str, str], list[Block]] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    _derived_text: dict[tuple[str, str, frozenset[str]], str] = field(default_factory=dict, repr=False)


def _status(entry: Mapping[str, Any], figure_ids: Iterable[str]) -> Block | None:
    if "source" in entry:
        source = str(entry["source"])
        return Block(frozenset(), "published", (source.split(":", 1)[1],) if ":" in source else ())
    if "derived" in entry:
        text = str(entry["derived"])
        cited = tuple(f for f in figure_ids if re.search(rf"\b{re.escape(f)}\b", text))
        return Block(frozenset(), "derived", cited)
    if "assumption" in entry:
        return Block(frozenset(), "assumption")
    return None


def load_provenance(synthetic: Mapping[str, Any], published: Mapping[str, Any],
                    harmonised: Harmonised, indicators: Mapping[str, Indicator]) -> Provenance:
    """The dk-style provenance of config/synthetic/<wave>.yaml: `segments` (sizes) and `targets`
    (per item: categories from each segment's `pct`, item-level and segment-level `provenance`
    maps whose keys name categories joined by '+'). Published figures (followed only) are mapped
    onto target variables through config/indicators.yaml and the harmonised derived booleans."""
    segments = {str(name): int(spec["n"]) for name, spec in (synthetic.get("segments") or {}).items()}
    prov = Provenance(segments)
    figure_ids = [str(f["id"]) for f in published.get("figures") or []]
    for variable, spec in (synthetic.get("targets") or {}).items():
        item_level = spec.get("provenance") or {}
        for segment in segments:
            seg_spec = spec.get(segment) or {}
            cats = frozenset(_norm(c) for c in (seg_spec.get("pct") or {}))
            prov.categories[variable] = prov.categories.get(variable, frozenset()) | cats
            blocks = []
            for source in (item_level, seg_spec.get("provenance") or {}):
                for key, entry in source.items():
                    block = _status(entry, figure_ids)
                    if block is not None:
                        members = frozenset(_norm(c) for c in str(key).split("+"))
                        if "derived" in entry:
                            prov._derived_text[(variable, segment, members)] = str(entry["derived"])
                        blocks.append(Block(members, block.status, block.figures))
            prov.blocks[(variable, segment)] = blocks
        _inherit_see(prov, variable)
    for fig in published.get("figures") or []:
        if not fig.get("follow", True):
            continue
        indicator = indicators.get(str(fig["indicator"]))
        if indicator is None:
            continue
        variable, cats = target_of(indicator.variable, indicator.values, harmonised)
        prov.figures.append(Figure(str(fig["id"]), variable, cats, str(fig["segment"]),
                                   float(fig["value"])))
    return prov


def _inherit_see(prov: Provenance, variable: str) -> None:
    """A derived block reading "see small: 26 for medium" is the other half of the derivation in
    that segment's block (a pooled share split by assumption): it cites that block's figures."""
    raw = prov._derived_text
    for segment in prov.segments:
        blocks = prov.blocks.get((variable, segment), [])
        for i, block in enumerate(blocks):
            text = raw.get((variable, segment, block.categories), "")
            match = re.match(r"\s*see (\w+)", text)
            if block.status != "derived" or block.figures or not match:
                continue
            other = prov.blocks.get((variable, match.group(1)), [])
            cited = tuple(f for b in other if b.categories == block.categories for f in b.figures)
            blocks[i] = Block(block.categories, "derived", cited)


def target_of(column: str, values: Iterable[Any], harmonised: Harmonised) -> tuple[str, frozenset[str]]:
    """(target variable, categories counted as a hit) of a share on `column`: a derived boolean
    (important_linkedin = agree/strongly_agree on important_linkedin_likert) goes back to its
    source variable, which is what the generator allocates."""
    cats = frozenset(_norm(v) for v in values)
    derived = harmonised.derived.get(column)
    if derived is not None and cats == {"true"}:
        return derived.source, frozenset(_norm(v) for v in derived.true_levels)
    if derived is not None and cats == {"false"}:
        return derived.source, frozenset({"__not__"}) | frozenset(_norm(v) for v in derived.true_levels)
    return column, cats


def grounded(block: Block) -> bool:
    """A block whose share rests on published figures: a published one, or a derived one that
    cites at least one published figure id (a derivation citing none, such as 'monthly = 100
    minus the other categories', is only as good as the categories it subtracts, which the span
    check in `determined` accounts for on its own)."""
    return block.status == "published" or (block.status == "derived" and bool(block.figures))


def determined(target: frozenset[str], universe: frozenset[str], blocks: Sequence[Block]) -> bool:
    """Whether the share of `target` follows from the published/derived blocks: its indicator
    vector lies in the span of theirs and of the all-ones vector (the shares add up to 100)."""
    order = sorted(universe)
    if not target or not target <= universe:
        return False

    def vec(cats: frozenset[str]) -> np.ndarray:
        return np.array([1.0 if c in cats else 0.0 for c in order])

    known = [vec(universe)] + [vec(b.categories) for b in blocks
                               if grounded(b) and b.categories <= universe]
    basis = np.array(known)
    stacked = np.vstack([basis, vec(target)])
    return np.linalg.matrix_rank(stacked) == np.linalg.matrix_rank(basis)


def block_figures(target: frozenset[str], universe: frozenset[str],
                  blocks: Sequence[Block]) -> list[str]:
    """The figure ids cited by the blocks that are the target (or its complement)."""
    ids: list[str] = []
    for b in blocks:
        if grounded(b) and b.categories in (target, universe - target):
            ids.extend(f for f in b.figures if f not in ids)
    return ids


# --------------------------------------------------------------------------------------------
# Admissible counts


def rounding_range(value: float, base: int) -> range:
    """Every k in 0..base with |100 k / base - value| <= 0.5."""
    if base <= 0:
        return range(0)
    low = math.ceil((value - TOLERANCE_PP) * base / 100 - 1e-9)
    high = math.floor((value + TOLERANCE_PP) * base / 100 + 1e-9)
    return range(max(low, 0), min(high, base) + 1)


def admissible_counts(bases: Mapping[str, int], figures: Mapping[str, list[float]]) -> np.ndarray:
    """Every vector of hit counts (one per segment, in `bases` order) that reproduces each figure
    (segment -> published percentages; 'all' applies to the summed counts) within rounding.
    A segment without a figure may take any count from 0 to its base."""
    segments = list(bases)
    ranges = []
    for s in segments:
        allowed = set(range(bases[s] + 1))
        for v in figures.get(s, []):
            allowed &= set(rounding_range(v, bases[s]))
        ranges.append(np.array(sorted(allowed), dtype=np.int64))
    size = int(np.prod([len(r) for r in ranges], dtype=np.float64))
    if size == 0:
        return np.zeros((0, len(segments)), dtype=np.int64)
    if size > 5_000_000:
        raise NotEstimable(f"{size} count vectors to screen: too many")
    grid = np.stack([g.ravel() for g in np.meshgrid(*ranges, indexing="ij")], axis=1)
    total = sum(bases.values())
    for v in figures.get(ALL, []):
        allowed = np.array(list(rounding_range(v, total)))
        grid = grid[np.isin(grid.sum(axis=1), allowed)]
    return grid


def pinned_segments(bases: Mapping[str, int], figures: Mapping[str, list[float]]) -> list[str]:
    """Segments whose count is fixed up to rounding: published for the segment itself, or the
    only segment without a figure when the all-firms figure is published (it is then derived)."""
    own = [s for s in bases if figures.get(s)]
    missing = [s for s in bases if not figures.get(s)]
    if len(missing) == 1 and figures.get(ALL):
        return list(bases)
    return own


# --------------------------------------------------------------------------------------------
# Ranges of the battery's statistics


@dataclass(frozen=True)
class Range:
    stat_min: float
    stat_max: float
    p_min: float
    p_max: float
    tables: int


def trend_range(successes: np.ndarray, totals: Sequence[int]) -> Range:
    """Cochran-Armitage (inference.trend_in_proportions, scores 0, 1, 2, ...) over count vectors."""
    scores = np.arange(len(totals), dtype=float)
    stats, ps = [], []
    for row in np.unique(successes, axis=0):
        try:
            result = trend_in_proportions(row, np.asarray(totals), scores)
        except NotEstimable:
            continue
        stats.append(result.statistic)
        ps.append(result.p)
    return _range(stats, ps, len(successes))


def association_range(successes: np.ndarray, totals: Sequence[int], *, alpha: float = 0.05,
                      seed: int = 0, mc_resamples: int = 9999) -> Range:
    """inference.association_test on the 2 x segments table of each count vector."""
    totals_arr = np.asarray(totals)
    stats, ps = [], []
    for row in np.unique(successes, axis=0):
        table = np.vstack([totals_arr - row, row])
        try:
            result = association_test(table, alpha=alpha, seed=seed, mc_resamples=mc_resamples)
        except NotEstimable:
            continue
        stats.append(result.statistic)
        ps.append(result.p)
    return _range(stats, ps, len(successes))


def _range(stats: list[float], ps: list[float], tables: int) -> Range:
    if not ps:
        return Range(NAN, NAN, NAN, NAN, tables)
    s = np.array(stats, dtype=float)
    return Range(float(np.nanmin(s)) if np.isfinite(s).any() else NAN,
                 float(np.nanmax(s)) if np.isfinite(s).any() else NAN,
                 float(min(ps)), float(max(ps)), tables)


def exact_mcnemar_p(diff: np.ndarray, discordant: np.ndarray) -> np.ndarray:
    """Two-sided exact McNemar p (binomial on the discordant pairs, as statsmodels' mcnemar with
    exact=True) for b - c = diff and b + c = discordant, vectorised."""
    smaller = (discordant - np.abs(diff)) // 2
    p = 2.0 * sps.binom.cdf(smaller, discordant, 0.5)
    return np.minimum(p, 1.0)


@dataclass(frozen=True)
class PairedSegment:
    """One segment of a paired comparison: the answered bases of each item, the pairs answering
    both, and the admissible hit counts of each item among its own answerers."""

    pairs: int
    base_first: int
    base_second: int
    first: Sequence[int]
    second: Sequence[int]


def _pair_options(seg: PairedSegment, k1: int, k2: int) -> dict[int, tuple[int, int]]:
    """b - c -> (smallest b + c, largest b + c) over the hits among the pairs that k1, k2 allow."""
    out: dict[int, tuple[int, int]] = {}
    slack1, slack2 = seg.base_first - seg.pairs, seg.base_second - seg.pairs
    for x in range(max(0, k1 - slack1), min(k1, seg.pairs) + 1):
        for y in range(max(0, k2 - slack2), min(k2, seg.pairs) + 1):
            d = x - y
            high = min(x + y, 2 * seg.pairs - x - y)
            low, hi = out.get(d, (abs(d), high))
            out[d] = (min(low, abs(d)), max(hi, high))
    return out


def mcnemar_range(segments: Sequence[PairedSegment],
                  first_vectors: np.ndarray, second_vectors: np.ndarray) -> tuple[Range, dict[str, tuple]]:
    """Sharp range of McNemar's exact p and X^2 over every paired table (summed over the given
    segments) whose margins reproduce the figures: first_vectors / second_vectors are the
    admissible hit-count vectors (one column per segment) of the two items. For each b - c the
    smallest and largest b + c are collected (every value between, of the same parity, is
    attainable within one margin choice); p rises and X^2 falls with b + c at fixed b - c, so
    the extremes sit at those ends. Returns the range and the extreme tables (b, c, n)."""
    n_pairs = sum(s.pairs for s in segments)
    combined: dict[int, tuple[int, int]] = {}
    for v1 in np.unique(first_vectors, axis=0):
        for v2 in np.unique(second_vectors, axis=0):
            acc: dict[int, tuple[int, int]] = {0: (0, 0)}
            for seg, k1, k2 in zip(segments, v1, v2):
                opts = _pair_options(seg, int(k1), int(k2))
                nxt: dict[int, tuple[int, int]] = {}
                for d0, (lo0, hi0) in acc.items():
                    for d1, (lo1, hi1) in opts.items():
                        lo, hi = nxt.get(d0 + d1, (lo0 + lo1, hi0 + hi1))
                        nxt[d0 + d1] = (min(lo, lo0 + lo1), max(hi, hi0 + hi1))
                acc = nxt
            for d, (lo, hi) in acc.items():
                clo, chi = combined.get(d, (lo, hi))
                combined[d] = (min(clo, lo), max(chi, hi))
    if not combined:
        return Range(NAN, NAN, NAN, NAN, 0), {}
    diffs = np.array(list(combined), dtype=np.int64)
    lows = np.array([combined[d][0] for d in diffs], dtype=np.int64)
    highs = np.array([combined[d][1] for d in diffs], dtype=np.int64)
    ends_d = np.concatenate([diffs, diffs])
    ends_D = np.concatenate([lows, highs])
    p = exact_mcnemar_p(ends_d, ends_D)
    with np.errstate(divide="ignore", invalid="ignore"):
        x2 = np.where(ends_D > 0, ends_d.astype(float) ** 2 / np.maximum(ends_D, 1), np.nan)
    extremes = {}
    for name, idx in (("p_min", int(np.argmin(p))), ("p_max", int(np.argmax(p))),
                      ("stat_min", int(np.nanargmin(x2)) if np.isfinite(x2).any() else None),
                      ("stat_max", int(np.nanargmax(x2)) if np.isfinite(x2).any() else None)):
        if idx is None:
            continue
        d, big_d = int(ends_d[idx]), int(ends_D[idx])
        b, c = (big_d + d) // 2, (big_d - d) // 2
        extremes[name] = (b, c, n_pairs)
    # the reported numbers come from the battery's own function at the extreme tables
    values = {}
    for name, (b, c, n) in extremes.items():
        result = mcnemar_paired(0, b, c, n - b - c)
        values[name] = result.p if name.startswith("p") else result.statistic
    rng = Range(values.get("stat_min", NAN), values.get("stat_max", NAN),
                values["p_min"], values["p_max"], len(diffs))
    return rng, extremes


# --------------------------------------------------------------------------------------------
# Classification of the battery's rows


@dataclass(frozen=True)
class Context:
    provenance: Mapping[str, Provenance]  # wave -> its provenance (waves without targets: empty)
    tables: Mapping[str, pd.DataFrame]  # wave -> clean table
    harmonised: Harmonised
    indicators: Mapping[str, Indicator]
    alpha: float = 0.05
    segment: str = "segment"
    seed: int = 0
    mc_resamples: int = 9999


def item_target(name: str, table: pd.DataFrame | None, ctx: Context) -> tuple[str, frozenset[str] | None]:
    """(target variable, hit categories) of a battery item; hit categories None = every
    category used separately (an ordered or nominal item)."""
    indicator = ctx.indicators.get(name)
    if indicator is not None and (table is None or name not in table.columns):
        return target_of(indicator.variable, indicator.values, ctx.harmonised)
    if name in ctx.harmonised.derived:
        return target_of(name, ["true"], ctx.harmonised)
    if table is not None and name in table.columns and pd.api.types.is_bool_dtype(table[name].dtype):
        return name, frozenset({"true"})
    return name, None


@dataclass(frozen=True)
class Binary:
    """A binary item on one wave: its hit counts' constraints and provenance per segment."""

    name: str
    variable: str
    bases: dict[str, int]  # segment -> respondents who answered (scheme order)
    figures: dict[str, list[float]]  # segment or 'all' -> published percentages of the hit
    figure_ids: list[str]
    statuses: dict[str, bool]  # segment -> share determined by published/derived blocks
    block_ids: list[str]


def binary_item(wave: str, name: str, ctx: Context) -> Binary | None:
    prov = ctx.provenance.get(wave)
    table = ctx.tables.get(wave)
    if prov is None or table is None or not prov.segments:
        return None
    variable, hits = item_target(name, table, ctx)
    if hits is None or variable not in prov.categories:
        return None
    universe = prov.categories[variable]
    if "__not__" in hits:  # a 'false' share of a derived boolean
        hits = universe - hits
    if not hits <= universe:
        return None
    complement = universe - hits
    values = resolve_item(table, name, ctx.indicators).values
    seg = table[ctx.segment].astype("object").astype(str)
    bases = {s: int((values.notna() & (seg == s)).sum()) for s in prov.segments}
    figures: dict[str, list[float]] = {}
    ids: list[str] = []
    for fig in prov.figures:
        if fig.variable != variable:
            continue
        cats = universe - (fig.categories - {"__not__"}) if "__not__" in fig.categories else fig.categories
        if cats == hits:
            value = fig.value
        elif cats == complement:
            value = 100 - fig.value
        else:
            continue
        if fig.segment in bases or fig.segment == ALL:
            figures.setdefault(fig.segment, []).append(value)
            ids.append(fig.id)
    statuses, block_ids = {}, []
    for s in prov.segments:
        blocks = prov.blocks.get((variable, s), [])
        statuses[s] = determined(hits, universe, blocks)
        if statuses[s]:
            block_ids.extend(f for f in block_figures(hits, universe, blocks) if f not in block_ids)
    return Binary(name, variable, bases, figures, sorted(set(ids)), statuses, block_ids)


def _assumed_categories(variable: str, prov: Provenance, segments: Iterable[str]) -> str:
    """Which categories of `variable` are not determined by published figures (for the text)."""
    universe = prov.categories.get(variable, frozenset())
    loose = []
    for cat in sorted(universe):
        if not all(determined(frozenset({cat}), universe, prov.blocks.get((variable, s), []))
                   for s in segments):
            loose.append(cat)
    return ", ".join(loose)


def classify_row(row: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """The identification row for one battery row (see the module docstring)."""
    out = {k: row[k] for k in ("hypothesis", "waves", "item", "segment", "test")}
    out.update(stat_min=NAN, stat_max=NAN, p_min=NAN, p_max=NAN, alpha=ctx.alpha,
               holds_at_worst_case=pd.NA, published_figures="", assumptions="", note="")
    waves = str(row["waves"]).split("+")
    items = [s.strip() for s in str(row["item"]).split(" vs ")]
    test = str(row["test"])
    segment = str(row["segment"])
    if pd.isna(row.get("p")):
        return {**out, "class": "assumed", "note": "no p in the battery: nothing to identify"}
    if not any(w in ctx.provenance for w in waves):
        # No config/synthetic/<wave>.yaml: the wave is not a reconstruction, its result rests on
        # its responses and there is nothing for the published figures to identify.
        return {**out, "class": "observed",
                "note": f"{'+'.join(waves)}: not a synthetic reconstruction (no parameters in "
                        "config/synthetic/); the result rests on the responses"}
    unsupported = [w for w in waves if not (ctx.provenance.get(w) and ctx.provenance[w].segments)]
    if unsupported:
        ids = _wave_figure_ids(waves, items, ctx)
        return {**out, "class": "assumed", "published_figures": ";".join(ids),
                "assumptions": (f"{'+'.join(unsupported)}: shares by segment and group are "
                                "generator assumptions (its published figures are pooled shares)"),
                "note": "no per-segment or per-group published figure for this contrast"}
    wave = waves[0]
    prov = ctx.provenance[wave]
    segments = list(prov.segments) if segment == ALL else [segment]
    if test in JOINT_TESTS or test in GROUP_TESTS:
        return {**out, "class": "assumed",
                "assumptions": "the joint distribution of the items within respondents and how "
                               "it varies with size (the generator's copula)",
                "note": "margins may be published; the statistic is not a function of them"}
    if test == "mcnemar_exact":
        return _paired_row(out, wave, items, segments, ctx)
    binary = binary_item(wave, items[0], ctx)
    if binary is None:
        variable, _ = item_target(items[0], ctx.tables.get(wave), ctx)
        loose = _assumed_categories(variable, prov, segments)
        return {**out, "class": "assumed",
                "assumptions": f"{variable}: shares of {loose or 'its categories'} (generator assumption)",
                "note": "uses every answer category; their split is not published"}
    return _marginal_row(out, binary, test, ctx)


def _wave_figure_ids(waves: Sequence[str], items: Sequence[str], ctx: Context) -> list[str]:
    ids: list[str] = []
    for w in waves:
        prov = ctx.provenance.get(w)
        if prov is None:
            continue
        for name in items:
            variable, hits = item_target(name, ctx.tables.get(w), ctx)
            ids.extend(f.id for f in prov.figures if f.variable == variable and f.id not in ids
                       and (hits is None or f.categories == hits))
    return ids


def _base_note(binary: Binary) -> str:
    sizes = ", ".join(f"{s} {m}" for s, m in binary.bases.items())
    return f"bases = answered counts of the analysed table ({sizes})"


def _marginal_row(out: dict[str, Any], binary: Binary, test: str, ctx: Context) -> dict[str, Any]:
    loose = [s for s, ok in binary.statuses.items() if not ok]
    ids = sorted(set(binary.figure_ids) | set(binary.block_ids))
    if loose:
        return {**out, "class": "assumed", "published_figures": ";".join(ids),
                "assumptions": f"{binary.name}: share in {', '.join(loose)} (generator assumption)",
                "note": "a segment's share is not published nor derived from published figures"}
    pinned = pinned_segments(binary.bases, binary.figures)
    split = [s for s in binary.bases if s not in pinned]
    counts = admissible_counts(binary.bases, binary.figures)
    totals = list(binary.bases.values())
    assumptions = ("item non-response: " + _base_note(binary)
                   + (f"; split of {'+'.join(split)} (only their sum is published)" if split else ""))
    if len(counts) == 0:
        return {**out, "class": "bounded" if split else "identified", "published_figures": ";".join(ids),
                "assumptions": assumptions,
                "note": "no count vector reproduces the figures on these bases"}
    if len(counts) > MAX_TABLES:
        return {**out, "class": "bounded" if split else "identified", "published_figures": ";".join(ids),
                "assumptions": assumptions, "note": f"{len(counts)} admissible tables: not enumerated"}
    if test == "cochran_armitage":
        rng = trend_range(counts, totals)
    elif test in ASSOCIATION_TESTS:
        rng = association_range(counts, totals, alpha=ctx.alpha, seed=ctx.seed,
                                mc_resamples=ctx.mc_resamples)
    else:
        return {**out, "class": "assumed", "published_figures": ";".join(ids),
                "assumptions": assumptions, "note": f"no range computed for {test}"}
    klass = "bounded" if split else "identified"
    note = (f"{rng.tables} admissible count vectors (|100k/m - published| <= 0.5 per figure)"
            + (f"; {', '.join(split)} not pinned separately" if split else ""))
    return {**out, "class": klass, "stat_min": rng.stat_min, "stat_max": rng.stat_max,
            "p_min": rng.p_min, "p_max": rng.p_max, "holds_at_worst_case": bool(rng.p_max < ctx.alpha),
            "published_figures": ";".join(ids), "assumptions": assumptions, "note": note}


def _paired_row(out: dict[str, Any], wave: str, items: Sequence[str], segments: Sequence[str],
                ctx: Context) -> dict[str, Any]:
    pair = [binary_item(wave, name, ctx) for name in items]
    if any(b is None for b in pair) or len(pair) != 2:
        return {**out, "class": "assumed",
                "assumptions": "an item's share is not tied to published figures",
                "note": "paired comparison of items without published margins"}
    first, second = pair
    loose = [f"{b.name} in {s}" for b in pair for s in segments if not b.statuses[s]]
    ids = sorted(set(first.figure_ids) | set(first.block_ids) | set(second.figure_ids)
                 | set(second.block_ids))
    if loose:
        return {**out, "class": "assumed", "published_figures": ";".join(ids),
                "assumptions": "share of " + "; ".join(loose) + " (generator assumption)",
                "note": "a margin is not published nor derived from published figures"}
    table = ctx.tables[wave]
    seg = table[ctx.segment].astype("object").astype(str)
    v1 = resolve_item(table, items[0], ctx.indicators).values
    v2 = resolve_item(table, items[1], ctx.indicators).values
    c1, c2 = admissible_counts(first.bases, first.figures), admissible_counts(second.bases, second.figures)
    order = list(first.bases)
    idx = [order.index(s) for s in segments]
    paired = [PairedSegment(int((v1.notna() & v2.notna() & (seg == s)).sum()), first.bases[s],
                            second.bases[s], (), ()) for s in segments]
    c1, c2 = np.unique(c1[:, idx], axis=0), np.unique(c2[:, idx], axis=0)
    if len(c1) == 0 or len(c2) == 0:
        return {**out, "class": "bounded", "published_figures": ";".join(ids),
                "note": "no margins reproduce the figures on these bases"}
    if len(c1) * len(c2) > MAX_PAIRED_MARGINS:
        return {**out, "class": "bounded", "published_figures": ";".join(ids),
                "assumptions": "the joint 2x2 table and the split of a pooled published share",
                "note": (f"{len(c1)} x {len(c2)} admissible margin vectors: not enumerated "
                         "(range left open)")}
    rng, extremes = mcnemar_range(paired, c1, c2)
    split = [f"{b.name} in {s}" for b in pair for s in segments
             if s not in pinned_segments(b.bases, b.figures)]
    pairs_note = ", ".join(f"{s} {p.pairs}" for s, p in zip(segments, paired))
    assumptions = ("the joint 2x2 table (only its margins are published); item non-response: "
                   f"pairs answering both ({pairs_note}) and each item's answered counts of the "
                   "analysed table" + (f"; split of {'; '.join(split)}" if split else ""))
    b, c, n = extremes["p_max"]
    note = (f"b - c fixed by the margins up to rounding, b + c by the Fréchet bounds; worst case "
            f"b={b}, c={c} of {n} pairs; holds_at_worst_case: p_max < alpha, unadjusted")
    return {**out, "class": "bounded", "stat_min": rng.stat_min, "stat_max": rng.stat_max,
            "p_min": rng.p_min, "p_max": rng.p_max, "holds_at_worst_case": bool(rng.p_max < ctx.alpha),
            "published_figures": ";".join(ids), "assumptions": assumptions, "note": note}


def identification_table(tests: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """One row per battery row, same key columns and order."""
    rows = [classify_row(row, ctx) for row in tests.to_dict("records")]
    frame = pd.DataFrame(rows)
    frame = frame[["hypothesis", "waves", "item", "segment", "test", "class"]
                  + [c for c in COLUMNS if c not in ("hypothesis", "waves", "item", "segment",
                                                        "test", "class")]]
    frame["holds_at_worst_case"] = frame["holds_at_worst_case"].astype("boolean")
    return frame
