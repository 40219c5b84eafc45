"""Figures of the workflow's results, drawn from the tidy tables the pipeline writes.

Every plot function takes tables as the pipeline wrote them (shares with their confidence
intervals, test rows with their effect intervals, the respondent flow, official trends) and
draws them; none computes a statistic, so a figure cannot disagree with the table it shows.
Shares are bars with their CI as error bars; differences are points with their CI.

One theme (seaborn's "colorblind" palette, a colour-blind-safe sequential palette for ordered
answer scales, fixed font sizes, the DejaVu Sans that matplotlib ships), a footnote inside every
figure saying what the data are, and `save_figure`, which writes PNG and SVG byte-identically
across runs and records each file (sha256, caption, the notebook and rule that made it) in a
manifest CSV; a notebook publishes its figures through one `Publisher`.

Which figures a wave gets, the formats and the labels from the configuration are in
smesocial.figure_plan (light enough for Snakemake to import while it reads the workflow).

The manifests are smesocial.figure_manifest's; running the source notebooks (stable cell ids,
one kernel for all, executed notebooks without run times) is smesocial.notebook_runs', which the
kernel never imports.
"""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import ScaledTranslation

from smesocial.clean import RULE_LABELS
# The figure plan is what the workflow reads at parse time; figures re-exports it, so callers
# draw and plan with one set of names.
from smesocial.figure_plan import (FORMATS, WAVE_FIGURES, one_line, segment_labels,  # noqa: F401
                                   wave_figures)
from smesocial.figure_manifest import (MANIFEST_COLUMNS, merge_manifests,  # noqa: F401
                                       update_manifest)

# --------------------------------------------------------------------------------------------
# Theme

PALETTE = "colorblind"
# Ordered scales (daily ... never) get a sequential palette designed to stay readable with the
# common colour-vision deficiencies.
ORDERED_PALETTE = "cividis"
# Size segments are ordered too; another sequential palette so they never read as answers.
SEGMENT_PALETTE = "crest"
FONT_FAMILY = "DejaVu Sans"  # ships with matplotlib: the same glyphs on every machine
FONT_SIZES = {"base": 10.0, "title": 12.0, "axes_title": 10.0, "ticks": 9.0, "legend": 9.0,
              "footnote": 8.0}
DPI = 150
SVG_HASHSALT = "smesocial-figures"  # SVG element ids are hashes salted with it: fixed ids
SYNTHETIC_MARK = "Synthetic data: reconstruction, not survey responses; results are not findings."
PERCENT_LABEL = "Share of firms (%)"
PRESENT_LABEL = "Share of firms present on the platform (%)"
DIFFERENCE_LABEL = "Difference (percentage points)"

THEME_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "font.size": FONT_SIZES["base"],
    "axes.titlesize": FONT_SIZES["axes_title"],
    "axes.labelsize": FONT_SIZES["base"],
    "xtick.labelsize": FONT_SIZES["ticks"],
    "ytick.labelsize": FONT_SIZES["ticks"],
    "legend.fontsize": FONT_SIZES["legend"],
    "legend.title_fontsize": FONT_SIZES["legend"],
    "figure.titlesize": FONT_SIZES["title"],
    "figure.titleweight": "bold",
    "savefig.dpi": DPI,
    "svg.fonttype": "none",  # text stays text: searchable, e.g. for the synthetic-data mark
    "svg.hashsalt": SVG_HASHSALT,
    "pdf.fonttype": 42,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# Enforced by save_figure whatever the caller's rcParams: determinism does not depend on
# apply_theme() having run.
SAVE_RC: dict[str, Any] = {"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "none",
                           # so that set_layout_engine(None) leaves a figure without an engine
                           "figure.autolayout": False, "figure.constrained_layout.use": False}
SAVE_METADATA: dict[str, dict[str, Any]] = {
    # matplotlib otherwise writes its version (PNG "Software", SVG "Creator") and the time
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
}
# PNGs at zlib level 3, not Pillow's 6: the same pixels in ~60% of the CPU (~0.25 s over a
# build's figures), files about as large (+2% in all).
SAVE_OPTIONS: dict[str, dict[str, Any]] = {"png": {"pil_kwargs": {"compress_level": 3}},
                                           "svg": {}}


def apply_theme() -> None:
    """The project's figure theme, for every figure drawn after it."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE, rc=THEME_RC)


def palette(n: int | None = None) -> list[str]:
    """The categorical palette as hex colours (n of them, cycling its 10)."""
    colours = list(sns.color_palette(PALETTE).as_hex())
    return colours if n is None else [colours[i % len(colours)] for i in range(n)]


def ordered_palette(n: int) -> list[str]:
    """n colours of the ordered palette, darkest first."""
    return list(sns.color_palette(ORDERED_PALETTE, n).as_hex())


GREY = palette()[7]
# One colour per country / sample in every figure.
COUNTRY_COLOURS = {"DK": palette()[3], "NO": palette()[0]}
EU_COLOURS = (GREY, palette()[5])
SAMPLE_COLOURS = {"all": GREY, "panel": palette()[2], "expert": palette()[4], "main": palette()[0]}
# Two measures set side by side (importance vs use, broadcast vs dialogue).
PAIR_COLOURS = (palette()[1], palette()[4])
SAMPLE_LABELS = {"all": "Both samples pooled", "panel": "Panel (random sample)",
                 "expert": "Expert (self-registered)", "main": "Main sample"}


def segment_colours(segments: Sequence[str]) -> dict[str, str]:
    """`all` grey; size segments are ordered, so light to dark along the sequential
    SEGMENT_PALETTE in scheme order (kept apart from the pair and country colours)."""
    own = [s for s in segments if s != "all"]
    colours = dict(zip(own, sns.color_palette(SEGMENT_PALETTE, max(len(own), 2) + 1)
                       .as_hex()[1:]))
    return {s: GREY if s == "all" else colours[s] for s in segments}


# --------------------------------------------------------------------------------------------
# Labels


def level_label(level: str) -> str:
    """`almost_never` -> "Almost never"."""
    return str(level).replace("_", " ").capitalize()


def wrap(text: str, width: int = 30) -> str:
    return textwrap.fill(str(text), width=width, break_long_words=False)


# --------------------------------------------------------------------------------------------
# The pipeline's tables in the tidy shape the plots take

SHARE_COLUMNS = ["wave", "item", "segment", "weighted", "n", "share", "ci_low", "ci_high", "source"]


def wave_estimates(wave_table: pd.DataFrame, stats_table: pd.DataFrame | None, wave: str, *,
                   weighted: bool = False, sources: tuple[str, str] = ("", "")) -> pd.DataFrame:
    """One wave's shares from results/<wave>/estimates.csv (unweighted, every indicator) and
    results/stats/estimates.csv (per level of ordered items; weighted rows where the wave has
    weights) as rows of `item, segment, share, ci_low, ci_high, ...`.

    Unweighted: the wave's estimates, plus the battery's items it lacks (e.g. each level
    `post_facebook=daily`); an item in both comes from the wave's table (the same Wilson share).
    Weighted: only the battery's weighted rows (none when the wave has no weights).
    """
    stats = pd.DataFrame(columns=SHARE_COLUMNS)
    if stats_table is not None and len(stats_table):
        stats = stats_table[(stats_table["wave"] == wave) & (stats_table["item"] != "*")].copy()
        stats["weighted"] = stats["weighted"].astype(str).str.lower().eq("true")
        stats["source"] = sources[1]
    if weighted:
        frames = [stats[stats["weighted"]]]
    else:
        own = wave_table.rename(columns={"indicator": "item"})
        own = own[own["wave"] == wave].assign(weighted=False, source=sources[0])
        frames = [own, stats[~stats["weighted"] & ~stats["item"].isin(set(own["item"]))]]
    frames = [f[SHARE_COLUMNS] for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=SHARE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["segment"] = out["segment"].astype(str)
    return out


def weighting_note(stats_table: pd.DataFrame | None, wave: str) -> str:
    """Why a wave has no weighted rows (the battery's marker row), '' when it has them."""
    if stats_table is None:
        return "no results/stats/estimates.csv"
    marker = stats_table[(stats_table["wave"] == wave) & (stats_table["item"] == "*")]
    return "" if marker.empty else str(marker["note"].iloc[0])


def template_rows(estimates: pd.DataFrame, template: str, keys: Iterable[str],
                  column: str = "platform") -> pd.DataFrame:
    """Rows whose item is `template` filled with one of `keys` (post_daily_weekly_{platform}
    over the platforms), with the key in `column`."""
    wanted = {template.format(**{column: key}): key for key in keys}
    out = estimates[estimates["item"].isin(wanted)].copy()
    out[column] = out["item"].map(wanted)
    return out.reset_index(drop=True)


def level_rows(estimates: pd.DataFrame, variable_template: str, keys: Iterable[str],
               column: str = "platform") -> pd.DataFrame:
    """Rows of per-level items `<variable>=<level>` (the battery's estimates of ordered items),
    with the key in `column` and the level in `level`."""
    variables = {variable_template.format(**{column: key}): key for key in keys}
    items = estimates["item"].astype(str)
    variable = items.str.split("=", n=1).str[0]
    mask = items.str.contains("=", regex=False) & variable.isin(variables)
    out = estimates[mask].copy()
    out[column] = variable[mask].map(variables)
    out["level"] = items[mask].str.split("=", n=1).str[1]
    return out.reset_index(drop=True)


def paired_differences(tests: pd.DataFrame, wave: str, first: str, second: str,
                       test: str = "mcnemar_exact") -> pd.DataFrame:
    """The battery's paired differences (first - second: share_difference with Newcombe's
    paired interval) of one item pair in one wave, one row per segment."""
    rows = tests[(tests["waves"] == wave) & (tests["item"] == f"{first} vs {second}")
                 & (tests["test"] == test) & (tests["effect_size_name"] == "share_difference")]
    out = rows.rename(columns={"effect_size": "difference", "effect_ci_low": "ci_low",
                               "effect_ci_high": "ci_high"})
    out = out.assign(segment=out["segment"].astype(str))
    return out[["segment", "difference", "ci_low", "ci_high", "n", "p", "p_adj_holm"]].reset_index(
        drop=True)


def measured_variables(wave_table: pd.DataFrame) -> set[str]:
    """The harmonised variables a wave's estimates.csv covers (its `variable` column)."""
    return set(wave_table["variable"].dropna().astype(str)) if "variable" in wave_table else set()


# --------------------------------------------------------------------------------------------
# Drawing blocks


def _ci_errors(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """matplotlib's (2, n) error array from the table's interval bounds."""
    return np.vstack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])


def footnote(*parts: str, synthetic: bool = True) -> str:
    """A figure's footnote: the synthetic-data mark, then the parts, one paragraph each."""
    return "\n".join([*([SYNTHETIC_MARK] if synthetic else []), *[one_line(p) for p in parts if p]])


def new_figure(width: float, height: float, *, title: str, note: str, ncols: int = 1,
               width_ratios: Sequence[float] | None = None,
               sharey: bool = False) -> tuple[Figure, list[Axes]]:
    """A figure (not registered with pyplot: nothing is shown or kept open by accident) with a
    title, `ncols` axes and the footnote `note` at the bottom; constrained layout, with the
    footnote's lines reserved so nothing overlaps it."""
    fig = Figure(figsize=(width, height), layout="constrained")
    # An Agg canvas of its own (not the bare one a Figure gets): laying it out for the PNG and
    # drawing the PNG then share one renderer, so each text is measured once (save_figure).
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, width_ratios=width_ratios, sharey=sharey, squeeze=False)[0]
    fig.suptitle(title)
    chars = int(width * 72 / (FONT_SIZES["footnote"] * 0.55))
    text = "\n".join(textwrap.fill(p, width=chars) for p in note.split("\n") if p)
    lines = text.count("\n") + 1
    reserved = (lines * FONT_SIZES["footnote"] * 1.3 / 72 + 0.15) / height
    fig.text(0.012, 0.012, text, ha="left", va="bottom", fontsize=FONT_SIZES["footnote"],
             color="#333333", gid="footnote")
    fig.get_layout_engine().set(rect=(0, reserved, 1, 1 - reserved))
    return fig, list(axes)


def _legend_below(ax: Axes, n: int, title: str | None = None, ncols: int = 2) -> None:
    """The axes' legend under its tick labels and x label (a fixed distance in points, so it
    never overlaps them whatever the axes' height); long labels wrapped, one per row."""
    handles, labels = ax.get_legend_handles_labels()
    if any(len(label) > 32 for label in labels):
        labels, ncols = [wrap(label, 48) for label in labels], 1
    label_lines = ax.get_xlabel().count("\n") + 1
    drop = (FONT_SIZES["ticks"] + FONT_SIZES["base"] * label_lines) * 1.25 + 12
    below = ax.transAxes + ScaledTranslation(0, -drop / 72, ax.get_figure().dpi_scale_trans)
    ax.legend(handles, labels, title=title, loc="upper center", bbox_to_anchor=(0.5, 0),
              bbox_transform=below, ncols=min(n, ncols), frameon=False)


def _categories(ax: Axes, labels: Sequence[str]) -> np.ndarray:
    positions = np.arange(len(labels), dtype=float)
    ax.set_yticks(positions, list(labels))
    ax.set_ylim(len(labels) - 0.5, -0.5)  # first category on top
    ax.grid(axis="y", visible=False)
    return positions


def grouped_bars(ax: Axes, shares: pd.DataFrame, *, category: str, hue: str,
                 category_order: Sequence[str], hue_order: Sequence[str],
                 category_labels: Mapping[str, str], hue_labels: Mapping[str, str],
                 colours: Mapping[str, str], xlabel: str = PERCENT_LABEL,
                 legend_title: str | None = None, label_width: int = 26) -> int:
    """Horizontal bars: a group per category (top to bottom in `category_order`), a bar per hue
    level with the row's CI as error bar; shares 0-1 drawn as %. Rows without a share are left
    out. Returns the number of bars drawn."""
    height = 0.8 / max(len(hue_order), 1)
    positions = _categories(ax, [wrap(category_labels.get(c, c), label_width)
                                 for c in category_order])
    drawn = 0
    for j, level in enumerate(hue_order):
        rows = shares[shares[hue] == level].drop_duplicates(category).set_index(category)
        rows = rows.reindex([c for c in category_order if c in rows.index])
        rows = rows[rows["share"].notna()]
        if rows.empty:
            continue
        rank = [list(category_order).index(c) for c in rows.index]
        y = positions[rank] - 0.4 + height * (j + 0.5)
        values = 100 * rows["share"].to_numpy(float)
        errors = _ci_errors(values, 100 * rows["ci_low"].to_numpy(float),
                            100 * rows["ci_high"].to_numpy(float))
        ax.barh(y, values, height=height * 0.9, color=colours[level],
                label=hue_labels.get(level, level), xerr=errors,
                error_kw={"ecolor": "#222222", "elinewidth": 0.9, "capsize": 1.8})
        drawn += len(rows)
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel)
    if len(hue_order) > 1:
        _legend_below(ax, len(hue_order), legend_title)
    return drawn


def difference_points(ax: Axes, differences: pd.DataFrame, *, category: str,
                      category_order: Sequence[str], hue: str | None = None,
                      hue_order: Sequence[str] = (), hue_labels: Mapping[str, str] | None = None,
                      colours: Mapping[str, str] | None = None,
                      xlabel: str = DIFFERENCE_LABEL, legend_title: str | None = None) -> int:
    """Differences (-1..1, drawn in percentage points) as points with their CI as error bars
    and a line at zero; a point per category (and hue level), on the category positions of a
    neighbouring grouped_bars panel. Returns the number of points drawn."""
    levels: list[str | None] = list(hue_order) if hue else [None]
    step = 0.8 / len(levels)
    positions = np.arange(len(category_order), dtype=float)
    drawn = 0
    for j, level in enumerate(levels):
        rows = differences if level is None else differences[differences[hue] == level]
        rows = rows.drop_duplicates(category).set_index(category)
        rows = rows.reindex([c for c in category_order if c in rows.index])
        rows = rows[rows["difference"].notna()]
        if rows.empty:
            continue
        offset = 0.0 if len(levels) == 1 else -0.4 + step * (j + 0.5)
        y = positions[[list(category_order).index(c) for c in rows.index]] + offset
        values = 100 * rows["difference"].to_numpy(float)
        errors = _ci_errors(values, 100 * rows["ci_low"].to_numpy(float),
                            100 * rows["ci_high"].to_numpy(float))
        colour = "#222222" if level is None else (colours or {}).get(level, "#222222")
        ax.errorbar(values, y, xerr=errors, fmt="o", color=colour, ecolor=colour,
                    markersize=4.5, elinewidth=1.1, capsize=1.8,
                    label=None if level is None else (hue_labels or {}).get(level, level))
        drawn += len(rows)
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_ylim(len(category_order) - 0.5, -0.5)
    ax.set_xlabel(wrap(xlabel, 30))  # the differences panel is the narrow one
    ax.grid(axis="y", visible=False)
    if hue and len(levels) > 1:
        _legend_below(ax, len(levels), legend_title, ncols=1)
    return drawn


def _height(n_categories: int, n_hue: int, extra: float = 2.8) -> float:
    return max(4.0, n_categories * (0.15 * n_hue + 0.25) + extra)


def plot_grouped_shares(shares: pd.DataFrame, *, category: str, hue: str,
                        category_order: Sequence[str], hue_order: Sequence[str],
                        category_labels: Mapping[str, str], hue_labels: Mapping[str, str],
                        colours: Mapping[str, str], title: str, note: str,
                        xlabel: str = PERCENT_LABEL, legend_title: str | None = None,
                        shares_title: str = "", differences: pd.DataFrame | None = None,
                        difference_hue: str | None = None,
                        difference_hue_order: Sequence[str] = (),
                        difference_hue_labels: Mapping[str, str] | None = None,
                        difference_colours: Mapping[str, str] | None = None,
                        difference_label: str = DIFFERENCE_LABEL, difference_title: str = "",
                        difference_legend_title: str | None = None, width: float = 9.5,
                        synthetic: bool = True) -> Figure:
    """Shares with CIs as grouped horizontal bars; with `differences` (same `category` column),
    a second panel of differences with CIs on the same rows, e.g. a paired gap per segment."""
    two = differences is not None and not differences.empty
    n_hue = max(len(hue_order), len(difference_hue_order) if two else 1)
    fig, axes = new_figure(width, _height(len(category_order), n_hue), title=title,
                           note=footnote(note, synthetic=synthetic), ncols=2 if two else 1,
                           width_ratios=[1.6, 1] if two else None, sharey=two)
    grouped_bars(axes[0], shares, category=category, hue=hue, category_order=category_order,
                 hue_order=hue_order, category_labels=category_labels, hue_labels=hue_labels,
                 colours=colours, xlabel=xlabel, legend_title=legend_title)
    axes[0].set_title(shares_title, loc="left")
    if two:
        assert differences is not None
        difference_points(axes[1], differences, category=category, category_order=category_order,
                          hue=difference_hue, hue_order=difference_hue_order,
                          hue_labels=difference_hue_labels, colours=difference_colours,
                          xlabel=difference_label, legend_title=difference_legend_title)
        axes[1].tick_params(axis="y", labelleft=False, length=0)
        axes[1].set_title(difference_title, loc="left")
    return fig


def plot_posting_frequency(levels: pd.DataFrame, daily_weekly: pd.DataFrame, *,
                           platform_labels: Mapping[str, str], level_order: Sequence[str],
                           segment_order: Sequence[str], segment_names: Mapping[str, str],
                           title: str, note: str, base_label: str = PERCENT_LABEL) -> Figure:
    """Left: every answer's share per platform, stacked (all firms; `levels` rows with platform,
    level, segment, share); right: the share posting daily or weekly by size segment with CIs
    (`daily_weekly` rows with platform, segment, share, ci_low, ci_high). Platforms ordered by
    the all-firm daily-or-weekly share. Without level rows only the right panel is drawn."""
    overall = daily_weekly[daily_weekly["segment"] == "all"].set_index("platform")["share"]
    platforms = list(overall.sort_values(ascending=False, kind="stable").index)
    stacked = levels[levels["segment"] == "all"] if len(levels) else levels
    two = len(stacked) > 0
    fig, axes = new_figure(10.5 if two else 8.0,
                           _height(len(platforms), len(segment_order), extra=3.2), title=title,
                           note=footnote(note), ncols=2 if two else 1,
                           width_ratios=[1, 1.3] if two else None, sharey=two)
    labels = {p: platform_labels.get(p, p) for p in platforms}
    if two:
        ax = axes[0]
        positions = _categories(ax, [labels[p] for p in platforms])
        colours = dict(zip(level_order, ordered_palette(len(level_order))))
        shares = stacked.drop_duplicates(["platform", "level"]).set_index(["platform", "level"])
        left = np.zeros(len(platforms))
        for level in level_order:
            values = np.array([100 * float(shares["share"].get((p, level), 0.0))
                               for p in platforms])
            ax.barh(positions, values, left=left, height=0.7, color=colours[level],
                    label=level_label(level))
            left += values
        ax.set_xlim(0, 100)
        ax.set_xlabel(base_label)
        ax.set_title("How often, all firm sizes", loc="left")
        _legend_below(ax, len(level_order), "Posts", ncols=3)
    ax = axes[-1]
    grouped_bars(ax, daily_weekly[daily_weekly["segment"].isin(segment_order)],
                 category="platform", hue="segment", category_order=platforms,
                 hue_order=list(segment_order), category_labels=labels, hue_labels=segment_names,
                 colours=segment_colours(list(segment_order)), xlabel=base_label,
                 legend_title="Firm size")
    ax.set_title("Daily or weekly, by firm size (95% CI)", loc="left")
    if two:
        ax.tick_params(axis="y", labelleft=False, length=0)
    return fig


def plot_respondent_flow(flow: pd.DataFrame, *, title: str, note: str) -> Figure:
    """The respondent flow (results/<wave>/flow.csv): a bar per step with the respondents kept
    after it and, stacked on it, those the step excluded, labelled with the counts."""
    steps = flow["step"].astype(str).tolist()
    fig, axes = new_figure(8.0, max(3.8, 0.42 * len(steps) + 2.4), title=title, note=footnote(note))
    ax = axes[0]
    positions = _categories(ax, [RULE_LABELS.get(s, level_label(s)) for s in steps])
    kept, excluded = flow["n_out"].to_numpy(int), flow["n_excluded"].to_numpy(int)
    ax.barh(positions, kept, height=0.65, color=palette()[0], label="Kept")
    ax.barh(positions, excluded, left=kept, height=0.65, color=palette()[1],
            label="Excluded at this step")
    top = int(flow["n_in"].max())
    for y, k, x in zip(positions, kept, excluded):
        ax.text(k + x + top * 0.01, y, f"{k:,}" + (f" (−{x:,})" if x else ""), va="center",
                fontsize=FONT_SIZES["ticks"])
    ax.set_xlim(0, top * 1.2)
    ax.set_xlabel("Respondents (count)")
    _legend_below(ax, 2, ncols=2)
    return fig


SERIES_LABELS = {"DK": "Denmark", "NO": "Norway", "EU28": "EU28",
                 "EU27_2020": "EU27 (2020 composition)"}


def plot_official_trends(trends: pd.DataFrame, *, indicators: Mapping[str, str],
                         size_class: str, countries: Sequence[str], title: str,
                         note: str) -> Figure:
    """Official shares over the years (results/official/trends.csv), a panel per indicator, a
    line per country and per EU aggregate (dashed). Where sources disagree (no single value),
    each published value is an open marker on a vertical line. No CIs: the official figures
    come without sample sizes."""
    wanted = trends["country"].isin(countries) | trends["country"].str.startswith("EU")
    table = trends[wanted & (trends["size_class"] == size_class)
                   & trends["indicator"].isin(list(indicators))]
    series = sorted(table["country"].unique(), key=lambda c: (c.startswith("EU"), c))
    eu = [c for c in series if c.startswith("EU")]
    colours = {**COUNTRY_COLOURS, **{c: EU_COLOURS[i % len(EU_COLOURS)] for i, c in enumerate(eu)}}
    markers = dict(zip(series, ["o", "s", "^", "D", "v", "P", "X"]))
    fig, axes = new_figure(9.5, 5.4, title=title, note=footnote(note, synthetic=False),
                           ncols=len(indicators), sharey=True)
    low, high = int(table["year"].min()), int(table["year"].max())
    disagreement = False
    for ax, (indicator, label) in zip(axes, indicators.items()):
        for country in series:
            rows = table[(table["indicator"] == indicator) & (table["country"] == country)]
            rows = rows.sort_values("year")
            style = {"color": colours.get(country, GREY), "marker": markers[country],
                     "markersize": 5}
            agreed = rows[rows["value_pct"].notna()]
            if len(agreed):
                ax.plot(agreed["year"], agreed["value_pct"], linewidth=1.6,
                        linestyle="--" if country.startswith("EU") else "-", **style)
            for _, row in rows[rows["value_pct"].isna()].iterrows():
                values = [float(v) for v in str(row["values_pct"]).split(";")]
                ax.vlines(row["year"], min(values), max(values), color=style["color"],
                          linewidth=1.6)
                ax.plot([row["year"]] * len(values), values, linestyle="none",
                        markerfacecolor="white", **style)
                disagreement = True
        ax.set_title(label, loc="left")
        ax.set_xlim(low - 0.5, high + 0.5)
        ax.set_xticks(range(low, high + 1))
        ax.set_ylim(0, 100)
        ax.set_xlabel("Year")
    axes[0].set_ylabel(f"Share of enterprises with {size_class} employees (%)")
    handles = [Line2D([], [], color=colours.get(c, GREY), marker=markers[c],
                      linestyle="--" if c.startswith("EU") else "-",
                      label=SERIES_LABELS.get(c, c)) for c in series]
    if disagreement:
        handles.append(Line2D([], [], color="#444444", marker="o", markerfacecolor="white",
                              linestyle="-", label="Sources disagree: each published value"))
    # Inside the last panel, bottom right: the shares rise over the years, so it is empty there.
    axes[-1].legend(handles=handles, loc="lower right", frameon=True, framealpha=0.9)
    return fig


# --------------------------------------------------------------------------------------------
# The figures of the notebooks: each returns the figure, its caption and the tables it read,
# or raises NotDrawable with the reason (the notebook prints it and goes on).


class NotDrawable(ValueError):
    """A figure the wave's tables cannot draw (items not asked, no weighted rows ...)."""


@dataclass(frozen=True)
class Drawn:
    figure: Figure
    caption: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class WaveView:
    """What the wave-profile figures read: the wave's shares (wave_estimates), test rows, flow,
    shares by sample, with the labels and orders of the configuration."""

    wave: str
    estimates: pd.DataFrame
    variables: frozenset[str]
    platforms: Mapping[str, str]  # harmonised platform -> label, in harmonised order
    purposes: Mapping[str, str]
    segments: tuple[str, ...]  # "all", then the scheme's segments in order
    segment_names: Mapping[str, str]
    frequency_levels: tuple[str, ...]  # most frequent first
    sources: Mapping[str, str]  # table role -> path: wave, stats, tests, flow, by_sample
    tests: pd.DataFrame | None = None
    flow: pd.DataFrame | None = None
    by_sample: pd.DataFrame | None = None
    weighted: bool = False
    basis: str = field(default="Unweighted shares with Wilson 95% confidence intervals.")
    disclosure: str = ""  # the wave's disclosure (config), ending every caption

    def asked(self, template: str) -> list[str]:
        """The platforms whose variable `template` the wave measured, in harmonised order."""
        return [p for p in self.platforms if template.format(platform=p) in self.variables]

    def routed(self) -> bool:
        """Frequency and purposes asked only of firms present on the platform (presence asked)."""
        return any(v.startswith("present_") for v in self.variables)

    def rows(self, template: str, keys: Sequence[str], column: str = "platform") -> pd.DataFrame:
        rows = template_rows(self.estimates, template, keys, column)
        if rows.empty:
            kind = "weighted " if self.weighted else ""
            raise NotDrawable(f"no {kind}estimates of {template} for {self.wave}")
        return rows

    def source(self, *roles: str) -> tuple[str, ...]:
        return tuple(self.sources[r] for r in roles if r in self.sources)


def drawn_from(*frames: pd.DataFrame, also: Sequence[str] = ()) -> tuple[str, ...]:
    """The files the drawn rows came from (their `source` column), then `also`."""
    files = [str(f) for frame in frames if "source" in frame for f in frame["source"]]
    return tuple(dict.fromkeys(f for f in [*files, *also] if f))


def draw_posting_frequency(view: WaveView) -> Drawn:
    platforms = view.asked("post_{platform}")
    if not platforms:
        raise NotDrawable(f"{view.wave} did not ask how often firms post")
    daily_weekly = view.rows("post_daily_weekly_{platform}", platforms)
    levels = level_rows(view.estimates, "post_{platform}", platforms)
    base = PRESENT_LABEL if view.routed() else PERCENT_LABEL
    among = (" Asked only of firms present on the platform, so the shares are of those firms."
             if view.routed() else "")
    sources = drawn_from(daily_weekly, levels)
    fig = plot_posting_frequency(
        levels, daily_weekly, platform_labels=view.platforms, level_order=view.frequency_levels,
        segment_order=view.segments, segment_names=view.segment_names,
        title=f"How often firms post on each platform ({view.wave})",
        note=f"{view.basis}{among} Source: {', '.join(sources)}.", base_label=base)
    left = ("Left: the share giving each answer, all firm sizes; right: " if len(levels)
            else "No per-answer estimates, so only ")
    caption = (f"How often the firms of {view.wave} post on each platform. {left}the share "
               "posting daily or weekly by firm size, with 95% confidence intervals as error "
               f"bars. Base: firms that answered the item.{among} {view.basis}")
    return Drawn(fig, caption, sources)


def draw_importance_use_gap(view: WaveView) -> Drawn:
    platforms = [p for p in view.asked("post_{platform}") if f"important_{p}" in view.variables]
    if not platforms:
        raise NotDrawable(f"{view.wave} did not ask both importance and use of a platform")
    shares = pd.concat([view.rows("important_{platform}", platforms).assign(measure="important"),
                        view.rows("post_daily_weekly_{platform}", platforms).assign(measure="use")])
    shares = shares[shares["segment"] == "all"]
    gaps = None
    if view.tests is not None and not view.weighted:
        gaps = pd.concat([paired_differences(view.tests, view.wave, f"important_{p}",
                                             f"post_daily_weekly_{p}").assign(platform=p)
                          for p in platforms])
    if gaps is not None and not gaps.empty:
        overall = gaps[gaps["segment"] == "all"].set_index("platform")["difference"]
    else:
        overall = shares[shares["measure"] == "important"].set_index("platform")["share"]
    order = [p for p in overall.sort_values(ascending=False, kind="stable").index]
    order += [p for p in platforms if p not in order]
    labels = {"important": "Agrees the platform will be important for growth",
              "use": "Posts on it daily or weekly"}
    has_gaps = gaps is not None and not gaps.empty
    sources = drawn_from(shares, also=view.source("tests") if has_gaps else ())
    fig = plot_grouped_shares(
        shares, category="platform", hue="measure", category_order=order,
        hue_order=["important", "use"], category_labels=view.platforms, hue_labels=labels,
        colours=dict(zip(["important", "use"], PAIR_COLOURS)),
        title=f"Importance for growth versus use, per platform ({view.wave})",
        shares_title="All firms (95% CI)", note=(
            f"{view.basis}" + (" Gap: importance minus use within respondents, with Newcombe's "
                               "paired 95% CI (hypothesis H2)." if has_gaps else "")
            + " Source: " + ", ".join(sources) + "."),
        differences=gaps if has_gaps else None, difference_hue="segment",
        difference_hue_order=view.segments, difference_hue_labels=view.segment_names,
        difference_colours=segment_colours(view.segments),
        difference_label="Importance minus use (percentage points)",
        difference_title="Gap by firm size (paired 95% CI)", difference_legend_title="Firm size")
    caption = (f"The importance-use gap of {view.wave}: per platform, the share of firms agreeing "
               "it will be important for their growth beside the share posting on it daily or "
               "weekly (all firms, 95% confidence intervals as error bars)"
               + ("; right, the gap within respondents (importance minus use) by firm size with "
                  "Newcombe's paired 95% CI, from the hypothesis battery's H2 rows."
                  if has_gaps else ".") + f" {view.basis}")
    return Drawn(fig, caption, sources)


PROFESSIONALISM_ITEMS = {"professional": "Professionally or very professionally",
                         "professionalism_neutral": "Neither professionally nor randomly",
                         "professionalism_random": "Randomly or very randomly"}


def draw_professionalism(view: WaveView) -> Drawn:
    if "professionalism" not in view.variables:
        raise NotDrawable(f"{view.wave} did not ask how professionally firms work")
    items = list(PROFESSIONALISM_ITEMS)
    shares = view.rows("{item}", items, column="item")
    fig = plot_grouped_shares(
        shares, category="item", hue="segment", category_order=items,
        hue_order=view.segments, category_labels=PROFESSIONALISM_ITEMS,
        hue_labels=view.segment_names, colours=segment_colours(view.segments),
        title=f"How professionally firms work with social media ({view.wave})",
        shares_title="Firms that say they work ... (95% CI)", legend_title="Firm size",
        note=f"{view.basis} Source: {', '.join(drawn_from(shares))}.", width=8.5)
    caption = (f"How professionally the firms of {view.wave} say they work with social media, by "
               "firm size: the shares answering (very) professionally, neutral and (very) "
               f"randomly, with 95% confidence intervals as error bars. {view.basis}")
    return Drawn(fig, caption, drawn_from(shares))


BROADCAST_DIALOGUE = {"effective_communication": "Social media is an effective way to "
                                                 "communicate with customers (broadcast)",
                      "learn_about_customers": "Learns a great deal about customers from "
                                               "social media (dialogue)"}


def draw_broadcast_dialogue(view: WaveView) -> Drawn:
    if not set(BROADCAST_DIALOGUE) <= view.variables:
        raise NotDrawable(f"{view.wave} did not ask both the broadcast and the dialogue item")
    shares = view.rows("{item}", list(BROADCAST_DIALOGUE), column="item")
    gaps = None
    if view.tests is not None and not view.weighted:
        gaps = paired_differences(view.tests, view.wave, *BROADCAST_DIALOGUE)
    has_gaps = gaps is not None and not gaps.empty
    sources = drawn_from(shares, also=view.source("tests") if has_gaps else ())
    fig = plot_grouped_shares(
        shares, category="segment", hue="item", category_order=view.segments,
        hue_order=list(BROADCAST_DIALOGUE), category_labels=view.segment_names,
        hue_labels=BROADCAST_DIALOGUE, colours=dict(zip(BROADCAST_DIALOGUE, PAIR_COLOURS)),
        title=f"Broadcast or dialogue: what firms get from social media ({view.wave})",
        shares_title="Firms agreeing (95% CI)",
        note=(f"{view.basis}" + (" Difference: broadcast minus dialogue within respondents, "
                                 "with Newcombe's paired 95% CI (hypothesis H3)." if has_gaps
                                 else "") + " Source: " + ", ".join(sources) + "."),
        differences=gaps if has_gaps else None,
        difference_label="Broadcast minus dialogue (percentage points)",
        difference_title="Difference (paired 95% CI)", width=9.5)
    caption = (f"Broadcast versus dialogue in {view.wave}, by firm size: the share of firms "
               "agreeing that social media is an effective way to communicate with customers "
               "beside the share agreeing they learn a great deal about customers from it, with "
               "95% confidence intervals as error bars" + (
                   "; right, the difference within respondents with Newcombe's paired 95% CI "
                   "(hypothesis battery, H3)." if has_gaps else ".") + f" {view.basis}")
    return Drawn(fig, caption, sources)


def draw_presence_by_sample(view: WaveView) -> Drawn:
    if view.by_sample is None:
        raise NotDrawable(f"{view.wave} has no estimates by sample")
    samples = [s for s in ["all", *sorted(set(view.by_sample["sample"].astype(str)) - {"all"})]]
    if len(samples) < 3:
        raise NotDrawable(f"{view.wave} was drawn in one sample")
    platforms = view.asked("present_{platform}")
    table = view.by_sample.rename(columns={"indicator": "item"})
    shares = template_rows(table, "present_{platform}", platforms)
    if shares.empty or view.weighted:
        raise NotDrawable(f"no {'weighted ' if view.weighted else ''}presence estimates by "
                          f"sample for {view.wave}")
    overall = shares[shares["sample"] == "all"].set_index("platform")["share"]
    order = list(overall.sort_values(ascending=False, kind="stable").index)
    fig = plot_grouped_shares(
        shares, category="platform", hue="sample", category_order=order, hue_order=samples,
        category_labels=view.platforms, hue_labels=SAMPLE_LABELS,
        colours={s: SAMPLE_COLOURS.get(s, GREY) for s in samples},
        title=f"Active presence per platform, by sample ({view.wave})",
        shares_title="Firms actively present (95% CI)", legend_title="Sample",
        note=("Unweighted shares with Wilson 95% confidence intervals. Expert versus panel "
              "within size segments: Mantel-Haenszel odds ratios in results/stats/tests.csv "
              f"(H7). Source: {', '.join(view.source('by_sample'))}."), width=8.5)
    caption = (f"Share of firms actively present on each platform in {view.wave}, for the pooled "
               "respondents and each sample (the random panel and the self-registered expert "
               "sample), with Wilson 95% confidence intervals as error bars. The samples are "
               "contrasted, within size segments, by the battery's H7 tests "
               "(results/stats/tests.csv). Unweighted.")
    return Drawn(fig, caption, view.source("by_sample"))


def draw_purposes(view: WaveView) -> Drawn:
    platforms = [p for p in view.platforms
                 if any(f"purpose_{u}_{p}" in view.variables for u in view.purposes)]
    purposes = [u for u in view.purposes
                if any(f"purpose_{u}_{p}" in view.variables for p in platforms)]
    if not platforms:
        raise NotDrawable(f"{view.wave} did not ask what firms use each platform for")
    rows = []
    for purpose in purposes:
        part = template_rows(view.estimates, f"purpose_{purpose}_{{platform}}", platforms)
        rows.append(part.assign(purpose=purpose))
    shares = pd.concat(rows)
    shares = shares[shares["segment"] == "all"]
    if shares.empty:
        raise NotDrawable(f"no {'weighted ' if view.weighted else ''}estimates of purposes for "
                          f"{view.wave}")
    fig = plot_grouped_shares(
        shares, category="platform", hue="purpose", category_order=platforms,
        hue_order=purposes, category_labels=view.platforms,
        hue_labels={u: level_label(view.purposes[u]) for u in purposes},
        colours=dict(zip(purposes, palette(len(purposes)))),
        title=f"What firms use each platform for ({view.wave})",
        shares_title="Firms present on the platform (95% CI)", xlabel=PRESENT_LABEL,
        legend_title="Used for",
        note=(f"{view.basis} Asked only of firms present on the platform. "
              f"Source: {', '.join(drawn_from(shares))}."),
        width=8.5)
    caption = (f"What the firms of {view.wave} use each platform for: per platform, the share of "
               "firms present on it that use it for each purpose (several purposes allowed), "
               f"with 95% confidence intervals as error bars. {view.basis}")
    return Drawn(fig, caption, drawn_from(shares))


def draw_respondent_flow(view: WaveView) -> Drawn:
    if view.flow is None or view.flow.empty:
        raise NotDrawable(f"no respondent flow for {view.wave}")
    first, last = view.flow.iloc[0], view.flow.iloc[-1]
    fig = plot_respondent_flow(
        view.flow, title=f"Respondent flow: raw export to analysed ({view.wave})",
        note=f"Each exclusion rule in the order applied. Source: {view.sources['flow']}.")
    caption = (f"Respondent flow of {view.wave}: {int(first['n_in']):,} rows in the raw export, "
               "each exclusion rule in the order applied with the rows it removed, "
               f"{int(last['n_out']):,} respondents analysed. The counts add up "
               "(results/<wave>/exclusions.csv lists every excluded row with its reason).")
    return Drawn(fig, caption, view.source("flow"))


def draw_wave_figure(name: str, view: WaveView) -> Drawn:
    """One of WAVE_FIGURES for the wave, its caption ending with the wave's disclosure."""
    drawn = WAVE_DRAWERS[name](view)
    return Drawn(drawn.figure, one_line(f"{drawn.caption} {view.disclosure}"), drawn.sources)


WAVE_DRAWERS = {
    "posting_frequency": draw_posting_frequency,
    "importance_use_gap": draw_importance_use_gap,
    "professionalism": draw_professionalism,
    "broadcast_dialogue": draw_broadcast_dialogue,
    "presence_by_sample": draw_presence_by_sample,
    "purposes": draw_purposes,
    "respondent_flow": draw_respondent_flow,
}


def draw_country_comparison(comparison: pd.DataFrame, non_comparabilities: pd.DataFrame, *,
                            waves: Sequence[str], segments: Sequence[str],
                            segment_names: Mapping[str, str],
                            sources: Sequence[str]) -> Drawn:
    """The cross-country table (results/comparisons/dk_no.csv): each comparable item's share per
    wave (all firms) and the first - second difference per common size segment, with CIs; the
    non-comparabilities the items cite in the footnote and the caption."""
    estimates = comparison[(comparison["row_type"] == "estimate")
                           & comparison["wave"].isin(waves) & (comparison["segment"] == "all")]
    differences = comparison[comparison["row_type"] == "difference"]
    if estimates.empty:
        raise NotDrawable(f"no estimates of waves {list(waves)} in the comparison table")
    items = list(dict.fromkeys(estimates["item"]))
    labels = dict(zip(estimates["item"], estimates["label"]))
    info = estimates.drop_duplicates("wave").set_index("wave")
    country_names = {"DK": "Denmark", "NO": "Norway"}
    wave_labels = {w: f"{country_names.get(info.loc[w, 'country'], info.loc[w, 'country'])} "
                      f"{int(info.loc[w, 'year'])} ({w})" for w in waves if w in info.index}
    colours = {w: COUNTRY_COLOURS.get(str(info.loc[w, "country"]), GREY) for w in wave_labels}
    cited = [i for i in non_comparabilities["id"]
             if any(i in str(n) for n in comparison["note"].dropna())]
    described = non_comparabilities.set_index("id").loc[cited]
    short = "; ".join(f"{i} ({described.loc[i, 'description']})" for i in cited)
    first, second = waves[0], waves[1]
    fig = plot_grouped_shares(
        estimates, category="item", hue="wave", category_order=items,
        hue_order=list(wave_labels), category_labels=labels, hue_labels=wave_labels,
        colours=colours, title="Denmark and Norway on the harmonised items",
        shares_title="All firms (95% CI)", legend_title="Wave",
        note=(f"Wilson 95% CIs; differences {first} minus {second} with Newcombe's 95% CI. "
              f"Not comparable in design: {short}. Details: results/comparisons/"
              "non_comparabilities.csv."),
        differences=differences, difference_hue="segment", difference_hue_order=list(segments),
        difference_hue_labels=segment_names, difference_colours=segment_colours(list(segments)),
        difference_label=f"{first} minus {second} (percentage points)",
        difference_title="Difference by firm size", difference_legend_title="Firm size",
        width=10.5)
    consequences = " ".join(f"{i}: {described.loc[i, 'description']}: "
                            f"{described.loc[i, 'consequence']}." for i in cited)
    caption = ("Denmark and Norway on the items the harmonisation declares comparable: each "
               "wave's share (all firms, Wilson 95% confidence intervals as error bars) and the "
               f"difference {first} minus {second} per common size segment (Newcombe's 95% CI). "
               f"The comparisons are not comparable in design. {consequences} "
               + " ".join(dict.fromkeys(one_line(d) for d in estimates["disclosure"])))
    return Drawn(fig, caption, tuple(sources))


OFFICIAL_INDICATORS = {"any_social_media": "Use any social media",
                       "social_networks": "Use social networks"}


def draw_official_trends(trends: pd.DataFrame, *, countries: Sequence[str], size_class: str,
                         sources: Sequence[str],
                         indicators: Mapping[str, str] | None = None) -> Drawn:
    """Official shares of enterprises using social media (results/official/trends.csv) for the
    countries and the EU aggregates, over the published years."""
    indicators = dict(indicators or OFFICIAL_INDICATORS)
    table = trends[(trends["size_class"] == size_class) & trends["indicator"].isin(indicators)]
    if table.empty:
        raise NotDrawable(f"no official figures for size class {size_class}")
    years = f"{int(table['year'].min())}–{int(table['year'].max())}"
    names = ", ".join(SERIES_LABELS.get(c, c) for c in countries)
    fig = plot_official_trends(
        trends, indicators=indicators, size_class=size_class, countries=countries,
        title=f"Enterprises using social media: official statistics, {years}",
        note=("Official published figures (Eurostat's ICT usage survey, as Danmarks Statistik, "
              "Statistics Norway and Eurostat report it), not the synthetic survey waves. They "
              f"cover enterprises with {size_class} employees; the survey waves include firms "
              "with 1-9. Published without sample sizes, so without confidence intervals. Lines "
              f"join published years only. Source: {', '.join(sources)}."))
    caption = (f"Share of enterprises with {size_class} employees using any social media and "
               f"social networks, {names} and the EU aggregates, {years}, as published (EU "
               "dashed; where two sources disagree both values are drawn). Official statistics "
               f"cover enterprises with {size_class} employees only, unlike the survey waves "
               "(firms from 1 employee), and come without sample sizes, hence no confidence "
               "intervals. These are published figures, not the synthetic survey data.")
    return Drawn(fig, caption, tuple(sources))


# --------------------------------------------------------------------------------------------
# What the published figures support (results/ensemble/robustness.csv)

SUPPORT_KEY = ("hypothesis", "item", "segment", "test")
CLASS_COLOURS = {"identified": palette()[2], "bounded": palette()[0], "assumed": palette()[3],
                 "observed": GREY}
P_FLOOR = 1e-16  # p-values below are drawn at this floor (a log axis has no zero)


def draw_support(robustness: pd.DataFrame, rows: Sequence[Mapping[str, str]], *, alpha: float,
                 n_draws: int, sources: Sequence[str]) -> Drawn:
    """Per chosen battery row, on one p-value axis: the range the published figures allow
    (identified or bounded rows), the reconstructions' median and 2.5-97.5% range, and the
    shipped draw; a line at alpha. Rows are drawn top to bottom in the order given."""
    index = robustness.set_index(list(SUPPORT_KEY))
    missing = [r["label"] for r in rows if tuple(r[k] for k in SUPPORT_KEY) not in index.index]
    if missing:
        raise NotDrawable(f"rows not in the battery: {', '.join(missing)}")
    chosen = [index.loc[tuple(r[k] for k in SUPPORT_KEY)] for r in rows]
    fig, (ax,) = new_figure(
        7.2, 1.2 + 0.42 * len(rows), title="What the published figures support",
        note=footnote(
            "Bars: the range of p over every table consistent with the report's rounded figures "
            "(identified) or every joint distribution its margins allow (bounded); none where "
            "the result rests on the reconstruction's assumptions. Lines: the 2.5-97.5% range of "
            f"p over {n_draws} reconstructions, dot their median; diamond: the shipped "
            f"reconstruction. Unadjusted p, log scale, floored at {P_FLOOR:g}; dashed line at "
            f"{alpha:g}. Source: {', '.join(sources)}."))
    positions = _categories(ax, [wrap(r["label"], 34) for r in rows])
    for y, row in zip(positions, chosen):
        colour = CLASS_COLOURS.get(str(row["class"]), GREY)
        if not (pd.isna(row["p_min"]) or pd.isna(row["p_max"])):
            low, high = max(float(row["p_min"]), P_FLOOR), max(float(row["p_max"]), P_FLOOR)
            ax.plot([low, high * 1.0001], [y, y], color=colour, linewidth=7, alpha=0.45,
                    solid_capstyle="butt")
        if int(row["n_draws"]) > 0:
            ax.plot([max(float(row["p_low"]), P_FLOOR), max(float(row["p_high"]), P_FLOOR)],
                    [y, y], color="#222222", linewidth=1.1)
            ax.plot(max(float(row["p_median"]), P_FLOOR), y, "o", color="#222222",
                    markersize=3.5)
        if not pd.isna(row["shipped_p"]):
            ax.plot(max(float(row["shipped_p"]), P_FLOOR), y, "D", color=colour,
                    markeredgecolor="#222222", markersize=5.5)
    ax.set_xscale("log")
    ax.set_xlim(P_FLOOR / 3, 3)
    ax.axvline(alpha, color="#555555", linestyle="--", linewidth=0.9)
    ax.set_xlabel("p (unadjusted, log scale)")
    for cls in ("identified", "bounded", "assumed"):
        ax.plot([], [], "D", color=CLASS_COLOURS[cls], markeredgecolor="#222222",
                label=f"{cls}")
    _legend_below(ax, 3, "What the result rests on (diamond: shipped draw)", ncols=3)
    caption = ("For the paper's key tests: what the report's published figures allow (bars, "
               "for identified and bounded results), the spread over the reconstructions "
               f"(lines, {n_draws} draws) and the shipped reconstruction (diamonds), on one "
               "unadjusted p-value axis. Synthetic data: this shows what the reconstruction can "
               "and cannot tell, not findings.")
    return Drawn(fig, caption, tuple(sources))


# --------------------------------------------------------------------------------------------
# Saving, with a manifest record per file

@dataclass(frozen=True)
class FigureMeta:
    """What the manifest records about a figure beside its files."""

    caption: str
    sources: tuple[str, ...] = ()
    notebook: str = ""
    executed_notebook: str = ""
    rule: str = ""
    manifest: str | None = None  # the manifest CSV to append to / update (None: no record)


def lay_out_for_png(fig: Figure) -> None:
    """Run the figure's layout engine (if any) as saving it as a PNG would: with the Agg
    renderer at DPI, whose text metrics the layout is made of."""
    engine = fig.get_layout_engine()
    if engine is None or not fig.axes:
        return
    dpi = fig.dpi
    fig.set_dpi(DPI)
    try:
        engine.execute(fig)
    finally:
        fig.set_dpi(dpi)


def save_figure(fig: Figure, stem: str | Path, meta: FigureMeta) -> list[dict[str, Any]]:
    """Write `<stem>.png` and `<stem>.svg` byte-identically across runs (no time or version in
    their metadata, fixed SVG ids), both from one layout (the PNG's: lay_out_for_png), and record
    both in `meta.manifest`, a row per file replacing any older row of the same figure and
    format. Returns the records. The figure keeps its layout engine."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = {fmt: stem.with_name(f"{stem.name}.{fmt}") for fmt in FORMATS}
    engine = fig.get_layout_engine()
    with mpl.rc_context(SAVE_RC):
        lay_out_for_png(fig)
        # Drawn from that layout without an engine: savefig would otherwise lay the figure out
        # again for each format (the SVG renderer measuring every text through text paths),
        # in a draw of its own before the one it saves.
        fig.set_layout_engine(None)
        try:
            for fmt, path in paths.items():
                fig.savefig(path, format=fmt, dpi=DPI, metadata=SAVE_METADATA[fmt],
                            **SAVE_OPTIONS[fmt])
        finally:
            fig.set_layout_engine(engine)
    records = []
    for fmt, path in paths.items():
        data = path.read_bytes()
        records.append({
            "figure": stem.name, "format": fmt, "path": path.as_posix(),
            "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
            "caption": one_line(meta.caption), "sources": "; ".join(meta.sources),
            "notebook": meta.notebook, "executed_notebook": meta.executed_notebook,
            "rule": meta.rule,
        })
    if meta.manifest:
        update_manifest(meta.manifest, records)
    return records


@dataclass(frozen=True)
class Publisher:
    """Publishes a notebook run's figures: saves each (save_figure), records it in the run's
    manifest with the notebook, executed copy and rule that made it, and shows it below the
    cell. One per notebook run, made in its setup cell from its parameters."""

    notebook: str  # the source notebook, e.g. notebooks/wave_profile.py
    executed_notebook: str  # its executed copy ('' when run by hand)
    rule: str  # the Snakemake rule that ran it ('interactive' when run by hand)
    manifest: str  # this run's manifest CSV

    def publish(self, drawn: Drawn, stem: str | Path) -> None:
        """Save `<stem>.png` and `<stem>.svg`, record both, show the SVG with its caption."""
        # IPython only where a kernel shows the figure; the package imports without it.
        from IPython.display import SVG, Markdown, display

        meta = FigureMeta(caption=drawn.caption, sources=drawn.sources, notebook=self.notebook,
                          executed_notebook=self.executed_notebook, rule=self.rule,
                          manifest=self.manifest)
        save_figure(drawn.figure, stem, meta)
        display(SVG(filename=f"{stem}.svg"), Markdown(f"**{Path(stem).name}**: {meta.caption}"))
