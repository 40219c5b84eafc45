"""smesocial.notebooks and smesocial.figure_plan: the theme, byte-stable PNG/SVG with a manifest
record, the synthetic-data mark, plots that draw exactly the table's rows and intervals, the
source notebooks read with stable ids and their parameters from the configuration, a figure plan
the workflow reads without pandas or matplotlib, and executed-notebook clean-up."""

from __future__ import annotations

import copy
import hashlib
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import matplotlib as mpl
import nbformat
import numpy as np
import pandas as pd
import pytest
import seaborn as sns
from matplotlib.container import BarContainer, ErrorbarContainer

from smesocial import figure_plan
from smesocial import notebook_runs
from smesocial import notebooks as figures
from workflow_files import smk_imports
from smesocial.config import Harmonised, load_config, load_harmonised, load_yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def theme():
    with mpl.rc_context():
        figures.apply_theme()
        yield


def shares_table() -> pd.DataFrame:
    """2 platforms x 3 segments, one share missing: 5 bars."""
    rows = [
        ("facebook", "all", 0.50, 0.40, 0.60), ("facebook", "micro", 0.40, 0.25, 0.55),
        ("facebook", "medium", 0.70, 0.55, 0.82), ("linkedin", "all", 0.30, 0.22, 0.39),
        ("linkedin", "micro", float("nan"), float("nan"), float("nan")),
        ("linkedin", "medium", 0.60, 0.45, 0.73),
    ]
    return pd.DataFrame(rows, columns=["platform", "segment", "share", "ci_low", "ci_high"])


def draw_small_figure(note: str = "tiny table") -> mpl.figure.Figure:
    return figures.plot_grouped_shares(
        shares_table(), category="platform", hue="segment",
        category_order=["facebook", "linkedin"], hue_order=["all", "micro", "medium"],
        category_labels={"facebook": "Facebook", "linkedin": "LinkedIn"},
        hue_labels={"all": "All firms", "micro": "Micro", "medium": "Medium"},
        colours=figures.segment_colours(["all", "micro", "medium"]), title="Test figure",
        note=note)


# --- theme ------------------------------------------------------------------------------------

def test_theme_fixes_fonts_palette_and_svg_settings():
    assert mpl.rcParams["font.sans-serif"][0] == "DejaVu Sans"
    assert mpl.rcParams["font.size"] == figures.FONT_SIZES["base"] == 10.0
    assert mpl.rcParams["xtick.labelsize"] == figures.FONT_SIZES["ticks"]
    assert mpl.rcParams["svg.hashsalt"] == figures.SVG_HASHSALT
    assert mpl.rcParams["svg.fonttype"] == "none"
    # the colour cycle is seaborn's colour-blind palette
    cycle = [c for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert [mpl.colors.to_hex(c) for c in cycle] == sns.color_palette("colorblind").as_hex()
    assert figures.palette()[:3] == ["#0173b2", "#de8f05", "#029e73"]


def test_segment_colours_grey_for_all_and_distinct_ordered_colours_for_segments():
    colours = figures.segment_colours(["all", "micro", "small", "medium"])
    assert colours["all"] == figures.GREY
    assert len({colours[s] for s in ["micro", "small", "medium"]}) == 3
    # ordered: the larger the segment, the darker
    luminance = [np.mean(mpl.colors.to_rgb(colours[s])) for s in ["micro", "small", "medium"]]
    assert luminance == sorted(luminance, reverse=True)


def test_segment_labels_name_the_employee_ranges():
    scheme = {"segments": [{"name": "micro", "min": 1, "max": 10},
                           {"name": "medium_large", "min": 51, "max": None}]}
    assert figures.segment_labels(scheme) == {"all": "All firms",
                                              "micro": "Micro (1–10 employees)",
                                              "medium_large": "Medium + large (51+ employees)"}


# --- saving -----------------------------------------------------------------------------------

def test_saving_twice_gives_the_same_bytes_for_png_and_svg(tmp_path):
    first = figures.save_figure(draw_small_figure(), tmp_path / "a" / "fig", figures.FigureMeta("c"))
    second = figures.save_figure(draw_small_figure(), tmp_path / "b" / "fig", figures.FigureMeta("c"))
    for fmt in figures.FORMATS:
        a = (tmp_path / "a" / f"fig.{fmt}").read_bytes()
        b = (tmp_path / "b" / f"fig.{fmt}").read_bytes()
        assert a == b, fmt
        assert len(a) > 1000
    assert [r["sha256"] for r in first] == [r["sha256"] for r in second]


def test_saving_is_stable_whatever_the_caller_set_for_svg(tmp_path):
    figure = draw_small_figure()
    figures.save_figure(figure, tmp_path / "themed", figures.FigureMeta("c"))
    with mpl.rc_context({"svg.hashsalt": None, "svg.fonttype": "path"}):
        figures.save_figure(figure, tmp_path / "other", figures.FigureMeta("c"))
    assert (tmp_path / "themed.svg").read_bytes() == (tmp_path / "other.svg").read_bytes()


def test_saved_files_carry_no_timestamp_or_version(tmp_path):
    figures.save_figure(draw_small_figure(), tmp_path / "fig", figures.FigureMeta("c"))
    svg = (tmp_path / "fig.svg").read_text(encoding="utf-8")
    png = (tmp_path / "fig.png").read_bytes()
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    assert png.startswith(b"\x89PNG") and b"Software" not in png and b"matplotlib" not in png.lower()


def test_the_synthetic_mark_is_text_in_the_svg(tmp_path):
    figures.save_figure(draw_small_figure(), tmp_path / "fig", figures.FigureMeta("c"))
    svg = (tmp_path / "fig.svg").read_text(encoding="utf-8")
    assert figures.SYNTHETIC_MARK in svg
    assert "tiny table" in svg


def svg_axes_box(svg: str) -> tuple[float, ...]:
    """The first axes' background rectangle in an SVG: x0, y0 (bottom) and x1, y1 (top), pt."""
    path = re.search(r'<g id="axes_1">\s*<g id="patch_\d+">\s*<path d="([^"]+)"', svg)
    corners = re.findall(r"([-\d.]+) ([-\d.]+)", path.group(1))
    return tuple(float(v) for v in (*corners[0], *corners[2]))


def test_the_svg_is_drawn_from_the_pngs_layout_and_the_figure_keeps_its_engine(tmp_path):
    import io

    saved = draw_small_figure()
    engine = saved.get_layout_engine()
    figures.save_figure(saved, tmp_path / "fig", figures.FigureMeta("c"))
    assert saved.get_layout_engine() is engine
    # the layout a PNG of its own gets (the SVG renderer's text metrics would place it apart)
    png_only = draw_small_figure()
    with mpl.rc_context(figures.SAVE_RC):
        png_only.savefig(io.BytesIO(), format="png", dpi=figures.DPI)
    box = png_only.axes[0].get_position()
    height = png_only.get_size_inches()[1] * 72
    expected = (box.x0 * png_only.get_size_inches()[0] * 72, height * (1 - box.y0),
                box.x1 * png_only.get_size_inches()[0] * 72, height * (1 - box.y1))
    drawn = svg_axes_box((tmp_path / "fig.svg").read_text(encoding="utf-8"))
    assert drawn == pytest.approx(expected, abs=1e-4)


def test_save_figure_records_each_file_and_replaces_its_older_row(tmp_path):
    manifest = tmp_path / "manifest.csv"
    meta = figures.FigureMeta("first caption", sources=("results/x.csv",), notebook="nb.ipynb",
                              executed_notebook="results/notebooks/nb.ipynb", rule="notebook_x",
                              manifest=str(manifest))
    figures.save_figure(draw_small_figure(), tmp_path / "b_fig", meta)
    figures.save_figure(draw_small_figure(), tmp_path / "a_fig", meta)
    records = figures.save_figure(draw_small_figure(), tmp_path / "b_fig",
                                  figures.FigureMeta(**{**meta.__dict__, "caption": "second"}))
    table = pd.read_csv(manifest)
    assert table[["figure", "format"]].values.tolist() == [
        ["a_fig", "png"], ["a_fig", "svg"], ["b_fig", "png"], ["b_fig", "svg"]]
    assert table.set_index(["figure", "format"]).loc[("b_fig", "svg"), "caption"] == "second"
    assert set(table["rule"]) == {"notebook_x"} and set(table["notebook"]) == {"nb.ipynb"}
    svg = tmp_path / "b_fig.svg"
    assert records[1]["sha256"] == hashlib.sha256(svg.read_bytes()).hexdigest()
    assert table.set_index(["figure", "format"]).loc[("b_fig", "svg"), "bytes"] == svg.stat().st_size


def test_merge_manifests_refuses_a_figure_listed_twice(tmp_path):
    rows = pd.DataFrame([{c: "x" for c in figures.MANIFEST_COLUMNS}])
    rows.to_csv(tmp_path / "one.csv", index=False)
    rows.to_csv(tmp_path / "two.csv", index=False)
    with pytest.raises(ValueError, match="more than one manifest"):
        figures.merge_manifests([tmp_path / "one.csv", tmp_path / "two.csv"])
    assert len(figures.merge_manifests([tmp_path / "one.csv"])) == 1


def test_manifests_are_written_as_pandas_wrote_them_and_merged_without_pandas(tmp_path):
    from smesocial import figure_manifest

    rows = [{**{c: f"{c} 1" for c in figures.MANIFEST_COLUMNS}, "figure": "b", "bytes": 12},
            {**{c: "" for c in figures.MANIFEST_COLUMNS}, "figure": "a", "format": "svg",
             "caption": 'Shares, "weighted"\nover two lines – ±5 pp', "sources": "x.csv; y.csv"}]
    figure_manifest.write_manifest(rows, tmp_path / "ours.csv")
    pd.DataFrame(rows, columns=figures.MANIFEST_COLUMNS).astype(str).to_csv(
        tmp_path / "pandas.csv", index=False, lineterminator="\n", encoding="utf-8")
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    merged = figure_manifest.merge_manifests([tmp_path / "ours.csv"])
    assert [(r["figure"], r["bytes"], r["caption"]) for r in merged] == [
        ("a", "", 'Shares, "weighted"\nover two lines – ±5 pp'), ("b", "12", "caption 1")]
    # the notebooks job merges them without importing pandas
    code = ("import sys; import smesocial.figure_manifest, smesocial.notebook_runs; "
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "workflow")})
    assert out.stdout == "False\n"


# --- drawing ----------------------------------------------------------------------------------

def test_grouped_bars_draw_one_bar_and_one_error_bar_per_share():
    fig = mpl.figure.Figure()
    ax = fig.add_subplot()
    drawn = figures.grouped_bars(
        ax, shares_table(), category="platform", hue="segment",
        category_order=["facebook", "linkedin"], hue_order=["all", "micro", "medium"],
        category_labels={}, hue_labels={}, colours=figures.segment_colours(["all", "micro", "medium"]))
    bars = [bar for c in ax.containers if isinstance(c, BarContainer) for bar in c]
    errorbars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    segments = [s for c in errorbars for s in c.lines[2][0].get_segments()]
    assert drawn == len(bars) == len(segments) == 5
    # widths are the shares in %, error bars span the table's CI
    assert sorted(round(b.get_width(), 6) for b in bars) == [30.0, 40.0, 50.0, 60.0, 70.0]
    spans = sorted((round(s[0][0], 6), round(s[1][0], 6)) for s in segments)
    assert spans == [(22.0, 39.0), (25.0, 55.0), (40.0, 60.0), (45.0, 73.0), (55.0, 82.0)]
    assert ax.get_xlabel() == "Share of firms (%)"


def test_difference_points_draw_one_point_with_its_interval_per_row():
    differences = pd.DataFrame({"segment": ["all", "micro", "small"],
                                "difference": [0.1, -0.05, 0.2], "ci_low": [0.02, -0.2, 0.1],
                                "ci_high": [0.18, 0.1, 0.3]})
    fig = mpl.figure.Figure()
    ax = fig.add_subplot()
    drawn = figures.difference_points(ax, differences, category="segment",
                                      category_order=["all", "micro", "small"])
    lines = [c.lines[2][0] for c in ax.containers if isinstance(c, ErrorbarContainer)]
    segments = [s for line in lines for s in line.get_segments()]
    assert drawn == len(segments) == 3
    assert [tuple(np.round([s[0][0], s[1][0]], 6)) for s in segments] == [(2.0, 18.0), (-20.0, 10.0),
                                                                           (10.0, 30.0)]
    assert any(line.get_xdata()[0] == 0 for line in ax.lines)  # the zero line


def test_plot_grouped_shares_with_differences_has_two_panels_and_the_footnote():
    differences = pd.DataFrame({"platform": ["facebook", "linkedin"], "segment": ["all", "all"],
                                "difference": [0.1, 0.2], "ci_low": [0.0, 0.1], "ci_high": [0.2, 0.3]})
    fig = figures.plot_grouped_shares(
        shares_table(), category="platform", hue="segment", category_order=["facebook", "linkedin"],
        hue_order=["all", "micro"], category_labels={}, hue_labels={},
        colours=figures.segment_colours(["all", "micro"]), title="T", note="N",
        differences=differences, difference_hue="segment", difference_hue_order=["all"])
    assert len(fig.axes) == 2
    texts = [t.get_text() for t in fig.texts]
    assert any(t.startswith(figures.SYNTHETIC_MARK) for t in texts)


def test_respondent_flow_draws_kept_and_excluded_per_step_with_counts():
    flow = pd.DataFrame({"step": ["raw", "test_response", "analysed"], "n_in": [10, 10, 9],
                         "n_excluded": [0, 1, 0], "n_out": [10, 9, 9]})
    fig = figures.plot_respondent_flow(flow, title="Flow", note="n")
    ax = fig.axes[0]
    bars = [bar for c in ax.containers if isinstance(c, BarContainer) for bar in c]
    assert len(bars) == 6
    assert [t.get_text() for t in ax.texts] == ["10", "9 (−1)", "9"]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Rows in the raw export", "Test responses", "Analysed respondents"]


def test_official_trends_draw_a_line_per_series_and_every_disagreeing_value():
    trends = pd.DataFrame({
        "country": ["DK", "DK", "NO", "NO", "EU28"], "indicator": ["any_social_media"] * 5,
        "size_class": ["10+"] * 5, "year": [2013, 2016, 2013, 2014, 2013],
        "value_pct": [40.0, 64.0, float("nan"), 52.7, 30.0],
        "values_pct": ["40", "64", "45; 44", "52.7", "30"]})
    fig = figures.plot_official_trends(trends, indicators={"any_social_media": "Any"},
                                       size_class="10+", countries=["DK", "NO"], title="T",
                                       note="official")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Share of enterprises with 10+ employees (%)"
    drawn = {tuple(line.get_ydata()) for line in ax.lines}
    assert (40.0, 64.0) in drawn and (52.7,) in drawn and (30.0,) in drawn
    assert (45.0, 44.0) in drawn  # both published values of the disagreement
    assert figures.SYNTHETIC_MARK not in " ".join(t.get_text() for t in fig.texts)


# --- from the pipeline's tables -----------------------------------------------------------------

def test_wave_figures_follow_the_measured_variables():
    danish = {"post_facebook", "important_facebook", "professionalism", "effective_communication",
              "learn_about_customers"}
    norwegian = {"post_facebook", "present_facebook", "purpose_recruitment_facebook", "sample"}
    assert figures.wave_figures(danish) == ["posting_frequency", "importance_use_gap",
                                            "professionalism", "broadcast_dialogue",
                                            "respondent_flow"]
    assert figures.wave_figures(norwegian) == ["posting_frequency", "presence_by_sample",
                                               "purposes", "respondent_flow"]
    assert figures.wave_figures(norwegian - {"sample"}) == ["posting_frequency", "purposes",
                                                            "respondent_flow"]


def wave_and_stats() -> tuple[pd.DataFrame, pd.DataFrame]:
    wave = pd.DataFrame({
        "wave": ["w"] * 2, "indicator": ["post_daily_weekly_facebook", "important_facebook"],
        "variable": ["post_facebook", "important_facebook"], "segment": ["all", "all"],
        "weighted": [False, False], "n": [10, 10], "k": [5, 7], "share": [0.5, 0.7],
        "ci_low": [0.2, 0.4], "ci_high": [0.8, 0.9], "ci_method": ["wilson"] * 2, "note": [""] * 2})
    stats = pd.DataFrame({
        "wave": ["w", "w", "w", "w", "other"],
        "item": ["post_daily_weekly_facebook", "post_facebook=daily", "post_facebook=daily", "*",
                 "post_facebook=daily"],
        "segment": ["all"] * 5, "weighted": [False, False, True, True, False],
        "n": [10, 10, 10, 10, 3], "k": [6, 2, 3, 0, 1], "n_eff": [10, 10, 8, None, 3],
        "share": [0.6, 0.2, 0.3, None, 0.33], "ci_low": [0.3, 0.05, 0.1, None, 0.1],
        "ci_high": [0.85, 0.5, 0.6, None, 0.7], "method": ["wilson"] * 5, "note": [""] * 5})
    return wave, stats


def test_wave_estimates_take_the_wave_table_first_and_add_the_battery_levels():
    wave, stats = wave_and_stats()
    merged = figures.wave_estimates(wave, stats, "w", sources=("wave.csv", "stats.csv"))
    by_item = merged.set_index("item")
    assert sorted(by_item.index) == ["important_facebook", "post_daily_weekly_facebook",
                                     "post_facebook=daily"]
    assert by_item.loc["post_daily_weekly_facebook", "share"] == 0.5  # the wave's row
    assert by_item.loc["post_facebook=daily", "share"] == 0.2  # unweighted level row
    assert by_item.loc["post_facebook=daily", "source"] == "stats.csv"
    weighted = figures.wave_estimates(wave, stats, "w", weighted=True)
    assert weighted["item"].tolist() == ["post_facebook=daily"] and weighted["share"].tolist() == [0.3]


def test_template_and_level_rows_name_the_platform_and_level():
    wave, stats = wave_and_stats()
    merged = figures.wave_estimates(wave, stats, "w")
    rows = figures.template_rows(merged, "post_daily_weekly_{platform}", ["facebook", "linkedin"])
    assert rows["platform"].tolist() == ["facebook"]
    levels = figures.level_rows(merged, "post_{platform}", ["facebook"])
    assert levels[["platform", "level", "share"]].values.tolist() == [["facebook", "daily", 0.2]]


def test_paired_differences_read_the_battery_rows_of_one_pair():
    tests = pd.DataFrame({
        "waves": ["w", "w", "w"], "item": ["a vs b", "a vs b", "a vs c"],
        "segment": ["all", "micro", "all"], "test": ["mcnemar_exact"] * 3,
        "effect_size_name": ["share_difference"] * 3, "effect_size": [0.1, 0.2, 0.3],
        "effect_ci_low": [0.0, 0.1, 0.2], "effect_ci_high": [0.2, 0.3, 0.4], "n": [9, 4, 9],
        "p": [0.5, 0.4, 0.3], "p_adj_holm": [1.0, 1.0, 0.9]})
    gaps = figures.paired_differences(tests, "w", "a", "b")
    assert gaps[["segment", "difference", "ci_low", "ci_high"]].values.tolist() == [
        ["all", 0.1, 0.0, 0.2], ["micro", 0.2, 0.1, 0.3]]


def test_a_figure_without_its_items_is_not_drawable():
    wave, stats = wave_and_stats()
    view = figures.WaveView(
        wave="w", estimates=figures.wave_estimates(wave, stats, "w",
                                                   sources=("wave.csv", "stats.csv")),
        variables=frozenset({"post_facebook"}), platforms={"facebook": "Facebook"}, purposes={},
        segments=("all",), segment_names={"all": "All firms"},
        frequency_levels=("daily", "weekly", "monthly", "almost_never", "never"),
        sources={"wave": "wave.csv", "stats": "stats.csv"}, disclosure="Synthetic data: w is made up.")
    with pytest.raises(figures.NotDrawable, match="did not ask"):
        figures.draw_professionalism(view)
    drawn = figures.draw_posting_frequency(view)
    # the files the drawn rows came from: daily/weekly from the wave's table, levels from stats
    assert drawn.sources == ("wave.csv", "stats.csv")
    assert "95% confidence intervals" in drawn.caption
    assert len(drawn.figure.axes) == 2  # the per-answer panel and the by-size panel
    assert figures.draw_wave_figure("posting_frequency", view).caption.endswith(
        "Synthetic data: w is made up.")


# --- executed notebooks ---------------------------------------------------------------------------

def executed(start: str, random_id: str) -> dict:
    times = {"start_time": start, "end_time": start, "duration": 1.5}
    return {
        "metadata": {"papermill": {**times, "parameters": {"wave": "w"}, "exception": None}},
        "cells": [
            {"id": random_id, "cell_type": "code", "source": "wave = 'w'",
             "metadata": {"tags": ["injected-parameters"], "papermill": {**times, "status": "completed"}},
             "outputs": []},
            {"id": "setup", "cell_type": "code", "source": "print(1)",
             "metadata": {"papermill": dict(times)},
             "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}]},
        ],
    }


def test_normalising_an_executed_notebook_removes_times_and_fixes_ids():
    one = notebook_runs.normalise_executed_notebook(executed("2026-01-01T10:00:00", "a1b2c3"))
    two = notebook_runs.normalise_executed_notebook(executed("2027-05-05T12:34:56", "ffee99"))
    assert one == two
    assert one["metadata"]["papermill"] == {"parameters": {"wave": "w"}, "exception": None}
    injected, setup = one["cells"]
    assert injected["id"] == "injected-parameters"
    assert injected["metadata"] == {"tags": ["injected-parameters"], "papermill": {"status": "completed"}}
    assert setup["metadata"] == {"papermill": {}}
    assert setup["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    assert notebook_runs.normalise_executed_notebook(copy.deepcopy(one)) == one  # idempotent


def test_without_test_rows_the_gap_figure_has_one_panel_and_says_nothing_of_a_gap():
    wave, stats = wave_and_stats()
    view = figures.WaveView(
        wave="w", estimates=figures.wave_estimates(wave, stats, "w", sources=("wave.csv", "")),
        variables=frozenset({"post_facebook", "important_facebook"}),
        platforms={"facebook": "Facebook"}, purposes={}, segments=("all",),
        segment_names={"all": "All firms"}, frequency_levels=("daily",),
        sources={"wave": "wave.csv", "tests": "tests.csv"}, tests=pd.DataFrame(
            columns=["waves", "item", "segment", "test", "effect_size_name", "effect_size",
                     "effect_ci_low", "effect_ci_high", "n", "p", "p_adj_holm"]))
    drawn = figures.draw_importance_use_gap(view)
    footnote = " ".join(t.get_text() for t in drawn.figure.texts)
    assert len(drawn.figure.axes) == 1 and "Gap:" not in footnote
    assert drawn.sources == ("wave.csv",)
    bars = [b for c in drawn.figure.axes[0].containers if isinstance(c, BarContainer) for b in c]
    assert sorted(round(b.get_width(), 6) for b in bars) == [50.0, 70.0]


def test_notebook_errors_lists_error_outputs():
    nb = {"cells": [{"outputs": [{"output_type": "error", "ename": "KeyError", "evalue": "'x'"}]},
                    {"outputs": [{"output_type": "stream", "name": "stdout", "text": "ok"}]}]}
    assert notebook_runs.notebook_errors(nb) == ["KeyError: 'x'"]


# --- source notebooks (jupytext percent scripts) ------------------------------------------------

SOURCE_NOTEBOOKS = ["wave_profile", "country_comparison", "official_trends"]


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    [cell] = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    return cell


def default_parameters(name: str) -> dict:
    """The values a notebook's `parameters` cell defines when it runs on its own."""
    namespace: dict = {}
    source = notebook_runs.notebook_from_script(ROOT / f"notebooks/{name}.py")
    exec(parameters_cell(source).source, namespace)
    return {k: v for k, v in namespace.items() if not k.startswith("__")}


@pytest.mark.parametrize("name", SOURCE_NOTEBOOKS)
def test_a_source_notebook_reads_with_its_parameters_cell_stable_ids_and_the_kernel(name):
    path = ROOT / f"notebooks/{name}.py"
    nb = notebook_runs.notebook_from_script(path)
    assert nbformat.writes(nb) == nbformat.writes(notebook_runs.notebook_from_script(path))
    ids = [cell.id for cell in nb.cells]
    assert len(set(ids)) == len(ids) == len(nb.cells) > 3
    assert nb.metadata == {"kernelspec": notebook_runs.KERNELSPEC,
                           "language_info": {"name": "python"}}
    parameters = nb.cells.index(parameters_cell(nb))
    # imports come first (linters want them at the top), everything that reads data after
    assert [c.cell_type for c in nb.cells[:parameters]] == ["markdown", "code"]
    assert nb.cells[parameters - 1].source.startswith("from pathlib import Path")
    # jupytext writes back the file as it is: opening and saving it in Jupyter changes nothing
    rewritten = jupytext.writes(jupytext.read(path), fmt="py:percent")
    assert rewritten == path.read_text(encoding="utf-8")


def test_a_cell_keeps_its_id_when_cells_are_added_around_it(tmp_path):
    source = (ROOT / "notebooks/official_trends.py").read_text(encoding="utf-8")
    before = notebook_runs.notebook_from_script(ROOT / "notebooks/official_trends.py")
    edited = tmp_path / "official_trends.py"
    edited.write_text(source.replace("# %% tags=[\"parameters\"]",
                                     "# %% [markdown]\n# A new note\n\n# %% tags=[\"parameters\"]")
                      + "\n# %% [markdown]\n# ## Trends\n", encoding="utf-8")
    after = notebook_runs.notebook_from_script(edited)
    assert len(after.cells) == len(before.cells) + 2
    ids_after = {c.id for c in after.cells}
    assert {c.id for c in before.cells} <= ids_after
    # the repeated heading's cell is told apart from the first
    heading = next(c.id for c in before.cells if c.source == "## Trends")
    assert f"{heading}-2" in ids_after


@pytest.mark.parametrize("name", SOURCE_NOTEBOOKS)
def test_a_notebook_opens_no_configuration_file(name):
    nb = notebook_runs.notebook_from_script(ROOT / f"notebooks/{name}.py")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for reading_config in ["config/", "config.yaml", "smesocial.config", "load_config", "load_yaml",
                           "load_harmonised"]:
        assert reading_config not in code


def shipped_config() -> tuple[dict, Harmonised]:
    config = load_config(ROOT / "config/config.yaml")
    return config, load_harmonised(ROOT / config["harmonised"])


def test_wave_profile_defaults_are_what_the_workflow_passes_for_its_default_wave(monkeypatch):
    monkeypatch.chdir(ROOT)
    config, harmonised = shipped_config()
    defaults = default_parameters("wave_profile")
    passed = figure_plan.wave_profile_parameters(config, defaults["wave"], harmonised)
    assert {k: defaults[k] for k in passed} == passed
    assert list(defaults["segment_labels"]) == list(passed["segment_labels"])  # the order too
    assert defaults["notebook"] == "notebooks/wave_profile.py"


def test_country_comparison_defaults_are_what_the_workflow_passes(monkeypatch):
    monkeypatch.chdir(ROOT)
    config, _ = shipped_config()
    defaults = default_parameters("country_comparison")
    scheme = load_yaml(ROOT / config["harmonisation"])["common_scheme"]
    passed = figure_plan.country_comparison_parameters(config, defaults["waves"], scheme)
    assert {k: defaults[k] for k in passed} == passed
    assert list(defaults["segment_labels"]) == ["all", "micro_small", "medium_large"]


def test_the_parameters_give_each_wave_its_own_labels_and_disclosure(monkeypatch):
    monkeypatch.chdir(ROOT)
    config, harmonised = shipped_config()
    norwegian = figure_plan.wave_profile_parameters(config, "no_2010", harmonised)
    assert norwegian["segment_labels"] == {
        "all": "All firms", "micro": "Micro (1–9 employees)", "small": "Small (10–49 employees)",
        "medium": "Medium (50–249 employees)", "large": "Large (250+ employees)"}
    assert norwegian["disclosure"].startswith("Synthetic data: no_2010 is an illustrative")
    assert "\n" not in norwegian["disclosure"] and "  " not in norwegian["disclosure"]
    assert norwegian["frequency_levels"][0] == "daily"


def test_the_figures_a_wave_gets_follow_from_its_codebook(monkeypatch):
    monkeypatch.chdir(ROOT)
    config, harmonised = shipped_config()
    danish = figure_plan.codebook_variables(config["waves"]["dk_2024"]["codebook"], harmonised)
    norwegian = figure_plan.codebook_variables(config["waves"]["no_2010"]["codebook"], harmonised)
    assert {"important_facebook_likert", "important_facebook"} <= danish  # mapped, and derived
    assert figure_plan.wave_figures(danish) == [
        "posting_frequency", "importance_use_gap", "professionalism", "broadcast_dialogue",
        "respondent_flow"]
    assert figure_plan.wave_figures(norwegian) == [
        "posting_frequency", "presence_by_sample", "purposes", "respondent_flow"]


def test_reading_the_notebook_rules_imports_no_table_or_plotting_library():
    imports = smk_imports(ROOT / "workflow/rules/common.smk") + smk_imports(
        ROOT / "workflow/rules/notebooks.smk")
    assert any("smesocial.figure_plan" in statement for statement in imports)
    # What the rules do with them while Snakemake reads the workflow, in a fresh interpreter.
    script = "\n".join([*imports, textwrap.dedent("""\
        import sys
        from smesocial.config import load_config, load_yaml
        from smesocial import figure_plan
        config = load_config("config/config.yaml")
        harmonised = _load_harmonised_nb(config["harmonised"])
        for wave in config["waves"]:
            figure_plan.wave_figures(figure_plan.codebook_variables(
                config["waves"][wave]["codebook"], harmonised))
            figure_plan.wave_profile_parameters(config, wave, harmonised)
        figure_plan.country_comparison_parameters(config, list(config["waves"]), load_yaml(
            config["harmonisation"])["common_scheme"])
        print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
        """)])
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "workflow")}, check=True)
    loaded = set(done.stdout.split())
    assert "smesocial" in loaded and "yaml" in loaded
    assert loaded.isdisjoint({"pandas", "numpy", "matplotlib", "seaborn", "IPython"})


def test_the_notebook_rules_file_holds_rules_only():
    text = (ROOT / "workflow/rules/notebooks.smk").read_text(encoding="utf-8")
    assert smk_imports(ROOT / "workflow/rules/notebooks.smk") == []
    assert not re.search(r"^def |^[A-Z_]+ = ", text, flags=re.MULTILINE)
    common = (ROOT / "workflow/rules/common.smk").read_text(encoding="utf-8")
    section = common[common.index("# --- notebooks ---"):]
    for function in ["wave_variables", "waves_with_samples", "wave_figure_files",
                     "notebook_targets", "notebook_manifests"]:
        assert f"def {function}(" in section


def test_publishing_saves_records_and_shows_the_figure(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objects: shown.extend(objects))
    publisher = figures.Publisher(notebook="notebooks/nb.py", executed_notebook="results/nb.ipynb",
                                  rule="notebook_nb", manifest=str(tmp_path / "manifest.csv"))
    drawn = figures.Drawn(draw_small_figure(), "A caption.", ("results/x.csv",))
    assert publisher.publish(drawn, tmp_path / "fig") is None  # nothing echoed below the cell
    table = pd.read_csv(tmp_path / "manifest.csv", keep_default_na=False)
    assert list(table["format"]) == ["png", "svg"]
    assert set(table["notebook"]) == {"notebooks/nb.py"} and set(table["rule"]) == {"notebook_nb"}
    assert set(table["executed_notebook"]) == {"results/nb.ipynb"}
    assert set(table["sources"]) == {"results/x.csv"} and set(table["caption"]) == {"A caption."}
    svg, caption = shown
    assert svg.filename == f"{tmp_path / 'fig'}.svg" and svg.data.startswith("<svg")
    assert caption.data == "**fig**: A caption."
