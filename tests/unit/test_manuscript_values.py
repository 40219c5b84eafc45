"""The manuscript's values: the value map manuscript/values.yaml (smesocial.value_specs), formatting
rules, provenance rows, errors that name file and selector, the generated tables, and the staging
of a build (smesocial.manuscript_values and the staging helpers of smesocial.manuscript)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from smesocial.clean import RULE_LABELS, RULES
from smesocial.errors import InputError
from smesocial.hypotheses import TEST_KINDS
from smesocial.hypotheses import TestSpec as BatterySpec
from smesocial.manuscript import (FIGURE, add_source_notes, check_variables, figure_sources,
                                  number_cross_references, source_date_epoch, stage_build)
from smesocial.manuscript_values import (
    EFFECT_LABELS, PROVENANCE_COLUMNS, TEST_LABELS, collect, column_widths,
    comparison_table, figure_notes, flow_table, inconsistencies_reasons, inconsistencies_table,
    key_tests_table, linked, md_escape, provenance_table, read_source, relative_link,
    source_text, sources_markdown, sources_note, table_notes, to_markdown, variables, variables_yaml,
    with_producers)
from smesocial.stats import _test_name
from smesocial.value_specs import (
    FORMATS, INTERVAL_FORMATS, KeyTest, ValueSpec, format_value, keys_used, load_value_map,
    manuscript_sources, parse_selector, table_settings, used_specs, value_specs)

ROOT = Path(__file__).resolve().parents[2]
VALUES_YAML = ROOT / "manuscript/values.yaml"


# --------------------------------------------------------------------------------------------
# Formatting


@pytest.mark.parametrize(("fmt", "raw", "shown"), [
    ("count", ["1223"], "1,223"),
    ("count", ["332"], "332"),
    ("integer", ["20240115"], "20240115"),
    ("pct", ["0.548485"], "54.8%"),
    ("pct", ["0.0125"], "1.3%"),  # half up, where float formatting gives 1.2
    ("pct", ["1"], "100.0%"),
    ("percent", ["75"], "75.0%"),
    ("percent", ["98.7755"], "98.8%"),
    ("published_pct", ["56"], "56%"),
    ("published_pct", ["52.7"], "52.7%"),
    ("pp", ["0.126282"], "12.6 pp"),
    ("pp", ["-0.0488782"], "-4.9 pp"),
    ("pp", ["-0.0001"], "0.0 pp"),  # no negative zero
    ("pp_value", ["-1.15"], "-1.2 pp"),
    ("pct_ci", ["0.523539", "0.629687"], "[52.4, 63.0]"),
    ("percent_ci", ["96.4624", "99.5827"], "[96.5, 99.6]"),
    ("pp_ci", ["-0.0527987", "0.0714273"], "[-5.3, 7.1]"),
    ("decimal2_ci", ["1.44764", "2.49942"], "[1.45, 2.50]"),
    ("decimal1", ["253.235"], "253.2"),
    ("decimal2", ["2.96167"], "2.96"),
    ("decimal3", ["0.0102507"], "0.010"),
    ("p", ["5.69847e-12"], "< 0.001"),
    ("p", ["0.0270083"], "= 0.027"),
    ("p", ["0.001"], "= 0.001"),
    ("p", ["1"], "= 1.000"),
    ("p_cell", ["0.000999"], "<0.001"),
    ("p_cell", ["0.702216"], "0.702"),
    ("confidence", ["0.05"], "95%"),
    ("confidence", ["0.025"], "97.5%"),
    ("times", ["1"], "once"),
    ("times", ["2"], "twice"),
    ("times", ["1250"], "1,250 times"),
    ("text", ["Synthetic  data:\n a reconstruction"], "Synthetic data: a reconstruction"),
])
def test_each_format_shows_the_raw_value_by_its_rule(fmt: str, raw: list[str], shown: str):
    assert format_value(fmt, raw) == shown


@pytest.mark.parametrize(("fmt", "raw", "message"), [
    ("count", ["2.5"], "not a whole number"),
    ("pct", [""], "not a number"),
    ("p", ["1.2"], "outside"),
    ("pct", ["nan"], "not a finite number"),
])
def test_a_value_the_format_cannot_show_is_an_error(fmt: str, raw: list[str], message: str):
    with pytest.raises(ValueError, match=message):
        format_value(fmt, raw)


def test_interval_formats_take_two_values_and_the_others_one():
    with pytest.raises(ValueError, match="takes 2 raw value"):
        format_value("pct_ci", ["0.5"])
    with pytest.raises(ValueError, match="takes 1 raw value"):
        format_value("pct", ["0.5", "0.6"])
    with pytest.raises(KeyError, match="unknown format"):
        format_value("percentage", ["0.5"])
    assert INTERVAL_FORMATS <= set(FORMATS)


# --------------------------------------------------------------------------------------------
# Sources, selectors and provenance


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A stand-in repository: a results table with a country code NO, a YAML config."""
    (tmp_path / "results").mkdir()
    pd.DataFrame({
        "figure_id": ["a", "b", "c"], "country": ["DK", "NO", "NO"],
        "share": ["0.548485", "0.33", "0.5"], "ci_low": ["0.494542", "0.2", "0.4"],
        "ci_high": ["0.601312", "0.4", "0.6"], "n": ["330", "97", "5"],
        "status": ["match", "match", "off"],
    }).to_csv(tmp_path / "results/table.csv", index=False)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({
        "alpha": 0.05, "source": {"invited": 1223, "title": "Rapport"},
        "conflicts": [{"id": "x", "figures": ["a", "b"]}, {"id": "y", "figures": ["c"]}],
    }))
    return tmp_path


def test_a_value_carries_its_source_selector_column_and_raw_cell(root: Path):
    specs = [ValueSpec("dk.li.share", "results/table.csv", "figure_id=a", ("share",), "pct"),
             ValueSpec("dk.li.ci", "results/table.csv", "figure_id=a", ("ci_low", "ci_high"),
                       "pct_ci")]
    share, ci = collect(specs, root)
    assert (share.value, share.source, share.selector, share.column, share.raw) == (
        "54.8%", "results/table.csv", "figure_id=a", "share", "0.548485")
    assert (ci.value, ci.column, ci.raw) == ("[49.5, 60.1]", "ci_low|ci_high", "0.494542|0.601312")
    table = provenance_table([share, ci])
    assert list(table.columns) == PROVENANCE_COLUMNS
    assert table.iloc[1].to_dict() == {
        "key": "dk.li.ci", "value": "[49.5, 60.1]", "source": "results/table.csv",
        "selector": "figure_id=a", "column": "ci_low|ci_high", "raw": "0.494542|0.601312",
        "format": "pct_ci", "agg": "cell", "rule": "", "script": ""}


PRODUCERS = {"results/table.csv": {"rule": "stats", "script": "workflow/scripts/stats.py"},
             "config.yaml": {"rule": None, "script": None}}


def test_each_value_names_the_rule_and_script_that_made_its_file(root: Path):
    specs = [ValueSpec("a.share", "results/table.csv", "figure_id=a", ("share",), "pct"),
             ValueSpec("alpha", "config.yaml#alpha", "", ("value",), "confidence")]
    share, alpha = with_producers(collect(specs, root), PRODUCERS)
    assert (share.rule, share.script) == ("stats", "workflow/scripts/stats.py")
    assert (alpha.rule, alpha.script) == ("", "")
    assert provenance_table([share]).iloc[0][["rule", "script"]].tolist() == [
        "stats", "workflow/scripts/stats.py"]


def test_a_shown_value_links_to_its_source_entry_with_the_source_as_tooltip(root: Path):
    specs = [ValueSpec("a.ci", "results/table.csv", "figure_id=a", ("ci_low", "ci_high"),
                       "pct_ci"),
             ValueSpec("n.match", "results/table.csv", "status=match", (), "count", agg="count"),
             ValueSpec("alpha", "config.yaml#alpha", "", ("value",), "confidence")]
    ci, count, alpha = with_producers(collect(specs, root), PRODUCERS)
    assert linked(ci) == (
        '[\\[49.5, 60.1\\]](#src-a.ci "results/table.csv \u00b7 row figure_id=a, columns '
        'ci_low, ci_high \u00b7 rule stats (workflow/scripts/stats.py)"){.value-source}')
    assert '"results/table.csv \u00b7 rows counted: status=match \u00b7 rule stats' in linked(count)
    assert '"config.yaml \u00b7 key alpha \u00b7 configuration, made by no rule"' in linked(alpha)
    published = collect([ValueSpec("x", "config.yaml#conflicts", "id=x", ("figures",), "text"),
                          ValueSpec("k", "config.yaml#conflicts", "", (), "count", agg="count"),
                          ValueSpec("i", "config.yaml#source", "", ("invited",), "count")], root)
    assert [source_text(v).split(" \u00b7 ")[1] for v in published] == [
        "key conflicts, entry id=x, column figures", "key conflicts, entries counted: all",
        "key source.invited"]
    nested = variables([ci], {"meta.renderer": "pandoc"}, link=True)
    assert nested["a"]["ci"] == linked(ci) and nested["meta"]["renderer"] == "pandoc"
    assert variables([ci])["a"]["ci"] == "[49.5, 60.1]"


def test_values_that_print_alike_have_separate_entries_naming_their_rows(root: Path):
    specs = [ValueSpec("x.n", "results/table.csv", "figure_id=a", ("n",), "count"),
             ValueSpec("y.n", "results/table.csv", "", (), "count", agg="count"),
             ValueSpec("alpha", "config.yaml#alpha", "", ("value",), "confidence")]
    values = with_producers(collect(specs, root), PRODUCERS)
    (root / "results/table2.csv").write_text("n\n330\n", encoding="utf-8")
    values[1] = collect([ValueSpec("y.n", "results/table2.csv", "", ("n",), "count")], root)[0]
    assert values[0].value == values[1].value == "330"
    text = sources_markdown(values, "results/manuscript")
    lines = text.splitlines()
    assert lines[0] == (
        "- [330]{#src-x.n} (`x.n`): [results/table.csv](../table.csv); row `figure_id=a`, "
        "column `n`; cell `330`; rule `stats` ([workflow/scripts/stats.py]"
        "(../../workflow/scripts/stats.py)).")
    assert lines[1].startswith("- [330]{#src-y.n} (`y.n`): [results/table2.csv](../table2.csv); "
                               "its one row, column `n`")
    assert lines[2] == ("- [95%]{#src-alpha} (`alpha`): [config.yaml](../../config.yaml); key "
                        "`alpha`; cell `0.05`; configuration (made by no rule).")
    assert relative_link("config/config.yaml", "results/manuscript") == "../../config/config.yaml"


def test_a_table_caption_names_its_files_and_the_rules_that_made_them():
    producers = {"results/dk/flow.csv": {"rule": "clean", "script": "workflow/scripts/clean.py"},
                 "results/no/flow.csv": {"rule": "clean", "script": "workflow/scripts/clean.py"},
                 "config/p.yaml": {"rule": None, "script": None}}
    note = sources_note(["results/dk/flow.csv", "results/no/flow.csv", "config/p.yaml#conflicts"],
                        producers, "results/manuscript")
    assert note == (
        "Source: [results/dk/flow.csv](../dk/flow.csv), [results/no/flow.csv](../no/flow.csv) "
        "(rule `clean`, [workflow/scripts/clean.py](../../workflow/scripts/clean.py)); "
        "[config/p.yaml](../../config/p.yaml) key `conflicts` (configuration).")
    notes = table_notes(load_value_map(VALUES_YAML).tables, {}, "results/manuscript")
    paper = (ROOT / "manuscript/paper.qmd").read_text(encoding="utf-8")
    included = set(re.findall(r"\{\{< include (tables/[\w.]+) >\}\}", paper))
    assert included - {"tables/sources.md"} <= set(notes)


def test_a_figure_caption_names_its_file_notebook_and_rule():
    manifest = pd.DataFrame([{
        "figure": "dk_flow", "format": "png", "path": "results/figures/dk_flow.png",
        "notebook": "notebooks/wave_profile.py",
        "executed_notebook": "results/notebooks/wave_profile_dk.ipynb",
        "rule": "notebook_wave_profile_dk"}])
    producers = {"results/figures/dk_flow.png": {"rule": "notebook_wave_profile_dk",
                                                 "script": "workflow/scripts/notebooks.py"}}
    notes = figure_notes(manifest, {"figures/dk_flow.png": "results/figures/dk_flow.png"},
                         producers, "results/manuscript")
    assert notes == {"figures/dk_flow.png": (
        "File [results/figures/dk\\_flow.png](../figures/dk_flow.png), drawn by the notebook "
        "[notebooks/wave\\_profile.py](../../notebooks/wave_profile.py) (executed: "
        "[results/notebooks/wave\\_profile\\_dk.ipynb](../notebooks/wave_profile_dk.ipynb)) in "
        "rule `notebook_wave_profile_dk`, [workflow/scripts/notebooks.py]"
        "(../../workflow/scripts/notebooks.py).")}
    with pytest.raises(InputError, match="not in the figures' manifest"):
        figure_notes(manifest, {"figures/x.png": "results/figures/x.png"}, producers, "out")


def test_cells_are_read_as_text_so_country_codes_and_digits_survive(root: Path):
    frame = read_source(root, "results/table.csv")
    assert frame["country"].tolist() == ["DK", "NO", "NO"]  # not NaN/False
    (value,) = collect([ValueSpec("n.no", "results/table.csv", "country=NO & status=off", ("n",),
                                  "count")], root)
    assert (value.value, value.raw, value.selector) == ("5", "5", "country=NO & status=off")


def test_counts_and_sums_aggregate_the_selected_rows(root: Path):
    specs = [ValueSpec("match", "results/table.csv", "status=match", (), "count", agg="count"),
             ValueSpec("all", "results/table.csv", "", (), "count", agg="count"),
             ValueSpec("none", "results/table.csv", "status=report_inconsistent", (), "count",
                       agg="count"),
             ValueSpec("n_total", "results/table.csv", "", ("n",), "count", agg="sum")]
    assert [(v.value, v.column) for v in collect(specs, root)] == [
        ("2", ""), ("3", ""), ("0", ""), ("432", "n")]


def test_yaml_nodes_are_tables(root: Path):
    specs = [ValueSpec("alpha", "config.yaml#alpha", "", ("value",), "confidence"),
             ValueSpec("invited", "config.yaml#source", "", ("invited",), "count"),
             ValueSpec("conflicts", "config.yaml#conflicts", "", (), "count", agg="count"),
             ValueSpec("x_figures", "config.yaml#conflicts", "id=x", ("figures",), "text")]
    assert [v.value for v in collect(specs, root)] == ["95%", "1,223", "2", "a; b"]


def test_a_selector_matching_no_row_names_file_and_selector(root: Path):
    spec = ValueSpec("dk.gone", "results/table.csv", "figure_id=hk4_linkedin_dw_micro",
                     ("share",), "pct")
    with pytest.raises(InputError) as caught:
        collect([spec], root)
    message = caught.value.message()
    assert "results/table.csv" in message
    assert "figure_id=hk4_linkedin_dw_micro" in message and "dk.gone" in message


def test_a_selector_matching_several_rows_is_an_error(root: Path):
    spec = ValueSpec("no.n", "results/table.csv", "country=NO", ("n",), "count")
    with pytest.raises(InputError, match="matches 2 rows"):
        collect([spec], root)


def test_a_selector_on_a_missing_column_names_the_column(root: Path):
    spec = ValueSpec("x", "results/table.csv", "wave=dk_2024", ("n",), "count")
    with pytest.raises(InputError) as caught:
        collect([spec], root)
    assert caught.value.column == "wave" and "wave=dk_2024" in caught.value.message()


def test_a_missing_source_file_or_yaml_key_is_named(root: Path):
    with pytest.raises(InputError, match="results/official/trends.csv"):
        collect([ValueSpec("x", "results/official/trends.csv", "", (), "count", agg="count")], root)
    with pytest.raises(InputError, match="nowhere"):
        collect([ValueSpec("x", "config.yaml#nowhere", "", ("value",), "count")], root)


def test_a_cell_the_format_cannot_show_names_the_value_and_selector(root: Path):
    spec = ValueSpec("dk.bad", "results/table.csv", "figure_id=a", ("figure_id",), "pct")
    with pytest.raises(InputError, match="dk.bad.*cannot be shown as pct"):
        collect([spec], root)


def test_a_key_declared_twice_is_an_error(root: Path):
    spec = ValueSpec("a", "results/table.csv", "figure_id=a", ("n",), "count")
    with pytest.raises(ValueError, match="declared twice"):
        collect([spec, spec], root)


def test_selectors_parse_into_column_value_pairs():
    assert parse_selector("") == []
    assert parse_selector("item=active_any & wave=dk_2024 - no_2010") == [
        ("item", "active_any"), ("wave", "dk_2024 - no_2010")]
    with pytest.raises(ValueError, match="not column=value"):
        parse_selector("item")


def test_variables_nest_by_dotted_key_and_round_trip_through_yaml(root: Path):
    values = collect([ValueSpec("dk.flow.raw", "results/table.csv", "figure_id=a", ("n",), "count"),
                      ValueSpec("dk.flow.n", "results/table.csv", "figure_id=b", ("n",), "count")],
                     root)
    nested = variables(values, {"meta.renderer": "pandoc 3.9"})
    assert nested == {"dk": {"flow": {"raw": "330", "n": "97"}},
                      "meta": {"renderer": "pandoc 3.9"}}
    assert yaml.safe_load(variables_yaml(nested)) == nested
    with pytest.raises(ValueError, match="nests under the value"):
        variables(values, {"dk.flow.raw.more": "x"})


# --------------------------------------------------------------------------------------------
# The value map: manuscript/values.yaml

MAP = """
templates:
  estimate:
    share: {column: share, format: pct}
    ci: {column: [ci_low, ci_high], format: pct_ci}
    n: {column: n, format: count}
  comparison:
    "no": {selector: wave=no_2010, column: share, format: pct}
    diff: {selector: row_type=difference, column: difference, format: pp}
values:
  - {key: config.alpha, source: "config.yaml#alpha", column: value, format: confidence}
  - {key: dk.est.li, template: estimate, source: results/est.csv,
     selector: indicator=li & segment=all}
  - {key: cmp.li, template: comparison, source: results/cmp.csv, selector: item=li}
  - {key: repro.off, source: results/repro.csv, selector: status=off, format: count, agg: count}
"""


def _map(text: str = MAP) -> list[ValueSpec]:
    return value_specs(yaml.safe_load(text), "manuscript/values.yaml")


def test_entries_and_templates_expand_to_specs_in_declaration_order():
    specs = _map()
    assert [s.key for s in specs] == [
        "config.alpha", "dk.est.li.share", "dk.est.li.ci", "dk.est.li.n", "cmp.li.no",
        "cmp.li.diff", "repro.off"]
    assert specs[2] == ValueSpec("dk.est.li.ci", "results/est.csv", "indicator=li & segment=all",
                                 ("ci_low", "ci_high"), "pct_ci")
    # a member's selector is appended to the entry's
    assert specs[4].selector == "item=li & wave=no_2010"
    assert specs[6] == ValueSpec("repro.off", "results/repro.csv", "status=off", (), "count",
                                 agg="count")


@pytest.mark.parametrize(("entry", "message"), [
    ("{key: a.b, source: t.csv, column: share, format: percentage}",
     "value 'a.b': unknown format; found 'percentage'; expected one of count, integer"),
    ("{key: a.b, source: t.csv, column: share, format: pct_ci}",
     "value 'a.b': format pct_ci with agg cell reads 2 column(s), the entry names 1"),
    ("{key: a.b, source: t.csv, format: count, agg: total}",
     "value 'a.b': unknown agg; found 'total'; expected one of cell, count, sum"),
    ("{key: a.b, source: t.csv, selector: wave, column: n, format: count}",
     "value 'a.b': selector part 'wave' is not column=value"),
    ("{key: a.b, source: t.csv, colum: n, format: count}",
     "value 'a.b': unknown field(s); found ['colum']"),
    ("{key: a.b, source: t.csv, selector: {country: NO}, column: n, format: count}",
     "value 'a.b': 'selector' must be a non-empty text; found {'country': False}; expected "
     "column=value joined by ' & ', as one string"),
    ("{key: a.b, template: estimates, source: t.csv}",
     "value 'a.b': unknown template; found 'estimates'; expected one of estimate, comparison"),
    ("{key: a.b, template: estimate, source: t.csv, format: pct}",
     "value 'a.b': an entry with a template takes column, format and agg from the template's"),
    ("{key: dk.est.li.n, source: t.csv, column: n, format: count}",
     "value key(s) declared twice; found ['dk.est.li.n']"),
])
def test_a_malformed_entry_names_the_file_the_key_and_what_was_expected(entry: str, message: str):
    with pytest.raises(InputError) as caught:
        _map(MAP + f"  - {entry}\n")
    assert caught.value.message().startswith(f"manuscript/values.yaml: {message}")


def test_an_unquoted_no_as_a_template_member_is_caught_not_turned_into_false():
    text = MAP.replace('"no": {selector', 'no: {selector')
    with pytest.raises(InputError, match=r"member False\): a member name must be text"):
        _map(text)


def test_the_map_is_read_from_its_file_and_a_broken_file_is_named(tmp_path: Path):
    path = tmp_path / "values.yaml"
    path.write_text("values: [{key: x, source: t.csv, format: count, agg: count}\n")
    with pytest.raises(InputError, match=r"values.yaml: not valid YAML"):
        load_value_map(path)
    path.write_text(MAP)  # no tables section
    with pytest.raises(InputError, match=r"values.yaml: 'tables' must be a mapping"):
        load_value_map(path)


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t["segments"]["schemes"][0].update(wave="se_2020"),
     r"tables.segments.schemes names a wave tables.segments.counts has no file for; "
     r"found \['se_2020'\]"),
    (lambda t: t["benchmarks"].update(soruce=t["benchmarks"].pop("source")),
     r"tables.benchmarks: unknown field\(s\); found \['soruce'\]"),
    (lambda t: t["comparison"].update(waves=["dk_2024"]),
     r"tables.comparison.waves must name the two waves compared"),
])
def test_a_malformed_tables_section_names_the_table_and_field(change, message: str):
    tables = yaml.safe_load(VALUES_YAML.read_text(encoding="utf-8"))["tables"]
    assert table_settings(tables, "values.yaml").comparison_waves == ("dk_2024", "no_2010")
    change(tables)
    with pytest.raises(InputError, match=f"^values.yaml: {message}"):
        table_settings(tables, "values.yaml")


def test_the_value_map_module_stays_light_enough_for_the_workflow_to_import():
    # manuscript.smk imports it when Snakemake reads the workflow: no pandas there
    done = subprocess.run(
        [sys.executable, "-c", "import sys, smesocial.value_specs, smesocial.manuscript; "
         "print(sorted(m for m in ('pandas', 'matplotlib', 'numpy') if m in sys.modules))"],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "workflow")})
    assert done.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------------
# The manuscript's own value map against its text


def test_the_paper_uses_only_declared_values_and_values_csv_lists_exactly_those():
    paper = (ROOT / "manuscript/paper.qmd").read_text(encoding="utf-8")
    declared = load_value_map(VALUES_YAML).specs
    used = keys_used(paper)
    specs = used_specs(declared, paper)
    assert [s.key for s in specs] == [s.key for s in declared if s.key in used]
    assert set(used) - {s.key for s in specs} == {"meta.renderer"}  # added by the render step
    with pytest.raises(InputError, match="dk.nowhere.*keys declared in manuscript/values.yaml"):
        used_specs(declared, paper + "{{< var dk.nowhere >}}", values_file="manuscript/values.yaml")


def test_the_papers_value_map_expands_its_templates_into_full_specs():
    specs = {s.key: s for s in load_value_map(VALUES_YAML).specs}
    assert specs["dk.est.li_dw_micro.ci"] == ValueSpec(
        "dk.est.li_dw_micro.ci", "results/dk_2024/estimates.csv",
        "indicator=post_daily_weekly_linkedin & segment=micro", ("ci_low", "ci_high"), "pct_ci")
    assert specs["cmp.li_ms.no_ci"].selector == (
        "item=active_linkedin & segment=micro_small & row_type=estimate & wave=no_2010")
    assert specs["repro.no.off"] == ValueSpec("repro.no.off", "results/no_2010/reproduction.csv",
                                              "status=off", (), "count", agg="count")
    assert specs["t.h2_li.h"].columns == ("secondary_effect",)
    assert "t.h2_fb.h" not in specs  # Cohen's h only where the template says so


def test_the_manuscript_sources_are_the_used_values_files_and_the_tables_files():
    paper = (ROOT / "manuscript/paper.qmd").read_text(encoding="utf-8")
    value_map = load_value_map(VALUES_YAML)
    files = manuscript_sources(value_map, paper)
    assert {"results/official/trends.csv", "results/stats/tests.csv",
            "config/published/dk_2024.yaml", "results/no_2010/weights_summary.csv"} <= set(files)
    assert all("#" not in f for f in files)
    assert set(value_map.tables.files()) <= set(files)
    # a values file the text does not use is no dependency
    assert "results/dk_2024/weights_summary.csv" not in manuscript_sources(
        value_map, "{{< var no.w.deff >}}")
    assert [t.contrast for t in value_map.tables.key_tests][:1] == [
        "LinkedIn daily/weekly, trend over segments"]


# --------------------------------------------------------------------------------------------
# Tables


def test_markdown_escaping_keeps_generated_text_literal():
    assert md_escape("0.33*97 + 0.46*103") == "0.33\\*97 + 0.46\\*103"
    assert md_escape("<0.001 | [a]") == "\\<0.001 \\| \\[a\\]"


def test_to_markdown_keeps_formatted_strings_and_aligns_numbers_right():
    frame = pd.DataFrame({"Step": ["Rows in the raw export", "Test responses"],
                          "n": ["337", "0.050"]})
    text = to_markdown(frame, numeric=["n"])
    lines = text.splitlines()
    assert "0.050" in text and "337" in text  # no numparse: "0.050" is not turned into 0.05
    assert lines[1].startswith("|:") and lines[1].endswith(":|")


def test_column_widths_give_every_column_its_longest_word():
    frame = pd.DataFrame({"Conflict": ["linkedin_daily_vs_daily_weekly"],
                          "n": ["330"], "Why": ["word " * 80]})
    widths = column_widths(frame, budget=60, padding=3)
    assert widths[1] >= len("330") + 3
    assert widths[0] >= len("linkedin_daily_vs_daily_weekly") + 3
    assert widths[2] > widths[1]


def test_inconsistencies_table_shows_both_values_and_which_is_followed():
    conflicts = [{"id": "agency_all", "figures": ["hk7_text", "hk7_chart"], "followed": "hk7_chart",
                  "title": "Firms using an agency: 4% in the chart, 3% in the text",
                  "why": "The chart's 69% / 27% / 4% adds up to 100%; the text's 3% does not."}]
    reproduction = pd.DataFrame({
        "figure_id": ["hk7_text", "hk7_chart"], "indicator": ["handling_agency"] * 2,
        "segment": ["all"] * 2, "published": ["3", "4"], "location": ["HK 7, text", "HK 7, chart"],
        "status": ["report_inconsistent", "match"]})
    estimates = pd.DataFrame({"indicator": ["handling_agency"], "segment": ["all"],
                              "share": ["0.0363636"]})
    table = inconsistencies_table(conflicts, reproduction, estimates)
    assert table[["Published", "Recomputed", "Followed"]].values.tolist() == [
        ["3%", "3.6%", "no"], ["4%", "3.6%", "yes"]]
    # conflicts in words, not by id
    assert table["Conflict"].tolist() == ["Firms using an agency: 4% in the chart, 3% in the text"] * 2
    assert inconsistencies_reasons(conflicts) == (
        "- *Firms using an agency: 4% in the chart, 3% in the text*: The chart's 69% / 27% / 4% "
        "adds up to 100%; the text's 3% does not.\n")
    untitled = [{key: value for key, value in conflicts[0].items() if key != "title"}]
    with pytest.raises(InputError, match="conflict 'agency_all' has no title"):
        inconsistencies_reasons(untitled, "config/published/dk_2024.yaml")


def test_every_conflict_of_the_published_report_has_a_title_in_words():
    published = yaml.safe_load((ROOT / "config/published/dk_2024.yaml").read_text(encoding="utf-8"))
    titles = [c.get("title", "") for c in published["conflicts"]]
    assert len(titles) == 5 and all(" " in t and "_" not in t for t in titles)


def test_tests_table_formats_p_values_and_effects_by_kind():
    tests = pd.DataFrame({
        "hypothesis": ["H2_gap", "H8_dk_no"], "item": ["a vs b", "x"], "segment": ["all", "all"],
        "test": ["mcnemar_exact", "logit_group_interaction"], "n": ["319", "761"],
        "p": ["4.39403e-10", "0.0195524"], "p_adj_holm": ["1.93337e-08", "0.117314"],
        "p_adj_bh": ["2.24771e-09", "0.0394011"],
        "effect_size_name": ["share_difference", "odds_ratio_adjusted"],
        "effect_size": ["0.191223", "1.48999"], "effect_ci_low": ["0.132701", "0.892917"],
        "effect_ci_high": ["0.247751", "2.4863"]})
    table = key_tests_table(tests, [
        KeyTest("H2_gap", "a vs b", "all", "mcnemar_exact", "LinkedIn gap"),
        KeyTest("H8_dk_no", "x", "all", "logit_group_interaction", "interaction")])
    assert table.iloc[0][["p", "p Holm", "p BH", "Effect [CI]"]].tolist() == [
        "<0.001", "<0.001", "<0.001", "difference in shares 19.1 pp [13.3, 24.8]"]
    assert table["Test"].tolist() == ["exact McNemar",
                                      "logistic regression, group x segment interaction"]
    assert table["p unweighted"].tolist() == ["", ""]  # no `method` column: unweighted rows
    assert table.iloc[1][["p", "p Holm", "p BH"]].tolist() == ["0.020", "0.117", "0.039"]
    assert table.iloc[1]["Effect [CI]"] == "likelihood-ratio test; no effect size"
    assert table.iloc[0]["Hypothesis and contrast"] == "H2: LinkedIn gap"


def test_test_names_in_tables_are_words_and_an_unnamed_test_is_an_error():
    tests = pd.DataFrame({
        "hypothesis": ["H7"], "item": ["x"], "segment": ["all"], "test": ["cmh"], "n": ["737"],
        "p": ["0.0001"], "p_adj_holm": ["0.001"], "p_adj_bh": ["0.001"],
        "effect_size_name": ["odds_ratio_mh"], "effect_size": ["2.59"],
        "effect_ci_low": ["1.83"], "effect_ci_high": ["3.65"]})
    table = key_tests_table(tests, [KeyTest("H7", "x", "all", "cmh", "expert vs panel")])
    assert table.iloc[0][["Test", "Effect [CI]"]].tolist() == [
        "Cochran-Mantel-Haenszel", "Mantel-Haenszel odds ratio 2.59 [1.83, 3.65]"]
    tests["test"] = "new_test"
    with pytest.raises(InputError, match="no words for the test 'new_test'"):
        key_tests_table(tests, [KeyTest("H7", "x", "all", "new_test", "c")], "results/stats/tests.csv")


def test_every_test_and_effect_the_battery_can_report_has_words():
    kinds = {_test_name(BatterySpec(kind, ("a", "b"), "two_sided", interaction=interaction))
             for kind in TEST_KINDS for interaction in (False, True)}
    # the association test reports which p it took
    reported = kinds | {"pearson_chi2", "fisher_exact", "chi2_monte_carlo"}
    assert reported <= set(TEST_LABELS)
    # every effect-size name a TestResult of the battery's code is made with (5th argument)
    effects = set()
    for module in ("inference", "stats", "weighted_tests"):
        tree = ast.parse((ROOT / f"workflow/smesocial/{module}.py").read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "TestResult"
                    and len(call.args) > 4 and isinstance(call.args[4], ast.Constant)):
                effects.add(call.args[4].value)
    assert {"odds_ratio_mh", "share_difference", "cramers_v"} <= effects
    assert effects <= set(EFFECT_LABELS)
    assert all("_" not in label for label in [*TEST_LABELS.values(), *EFFECT_LABELS.values()])


def test_every_design_based_method_the_battery_can_report_has_words():
    """A weighted wave's rows name their design-based method (stats' `method` column)."""
    from smesocial.design import Design
    from smesocial.stats import _test_name
    from smesocial.weighted_tests import Inputs, design_result
    rng = np.random.default_rng(2)
    n = 200
    inputs = Inputs(Design(rng.uniform(0.5, 2, n), np.zeros(n)), np.ones(n, bool),
                    np.array(["a", "b", "c"])[rng.integers(0, 3, n)], ["a", "b", "c"], 0.05)
    binary = [rng.integers(0, 2, n).astype(float) for _ in range(3)]
    methods, effects = set(), set()
    for kind in TEST_KINDS:
        for interaction in ((False, True) if kind == "logit_group" else (False,)):
            spec = BatterySpec(kind, ("a", "b"), "two_sided", interaction=interaction)
            result = design_result(kind, binary if TEST_KINDS[kind] == "many" else binary[:2],
                                   inputs, group=binary[2], interaction=interaction,
                                   test_name=_test_name(spec))
            methods.add(result.test)
            effects.add(result.effect_size_name)
    assert len(methods) == 10 and methods <= set(TEST_LABELS)
    assert effects - {""} <= set(EFFECT_LABELS)


def test_comparison_table_names_item_specific_non_comparabilities():
    rows = []
    for wave, share, low, high in (("dk_2024", "0.79697", "0.750268", "0.836837"),
                                   ("no_2010", "0.594301", "0.558451", "0.629174")):
        rows.append({"item": "active_linkedin", "label": "Active on LinkedIn", "segment": "all",
                     "row_type": "estimate", "wave": wave, "share": share, "ci_low": low,
                     "ci_high": high, "difference": ""})
    rows.append({"item": "active_linkedin", "label": "Active on LinkedIn", "segment": "all",
                 "row_type": "difference", "wave": "dk_2024 - no_2010", "share": "",
                 "ci_low": "0.144383", "ci_high": "0.256285", "difference": "0.202668"})
    non_comparabilities = pd.DataFrame({
        "id": ["year", "instrument_activity"], "applies_to": ["all", "active_{platform}"],
        "items": ["active_linkedin", "active_linkedin"]})
    table = comparison_table(pd.DataFrame(rows), non_comparabilities, ("dk_2024", "no_2010"))
    assert table.iloc[0].to_dict() == {
        "Item": "Active on LinkedIn", "Segment": "all", "dk_2024": "79.7% [75.0, 83.7]",
        "no_2010": "59.4% [55.8, 62.9]", "Difference": "20.3 pp [14.4, 25.6]",
        "Item-specific non-comparabilities": "instrument_activity"}


# --------------------------------------------------------------------------------------------
# Staging a build (smesocial.manuscript)


PAPER = """---
title: "T"
---

See @fig-a and {{< var dk.n >}}.

![A](figures/dk_2024_flow.png){#fig-a width=80%}
"""


def test_figure_sources_map_the_papers_figures_to_pipeline_outputs():
    assert figure_sources(PAPER, "paper.qmd") == {
        "figures/dk_2024_flow.png": "results/figures/dk_2024_flow.png"}
    with pytest.raises(InputError, match="figures/<stem>.png"):
        figure_sources("![A](plots/x.png){#fig-a}", "paper.qmd")


def test_stage_build_copies_sources_and_figures_and_writes_variables(tmp_path: Path):
    paper = tmp_path / "paper.qmd"
    paper.write_text(PAPER)
    figure = tmp_path / "flow.png"
    figure.write_bytes(b"\x89PNG fake")
    build = tmp_path / "_build"
    (build / "stale").mkdir(parents=True)
    stage_build(build, [paper], {"figures/dk_2024_flow.png": figure}, "dk:\n  n: '332'\n")
    assert sorted(p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file()) == [
        "_variables.yml", "figures/dk_2024_flow.png", "paper.qmd"]
    assert (build / "figures/dk_2024_flow.png").read_bytes() == b"\x89PNG fake"
    assert yaml.safe_load((build / "_variables.yml").read_text()) == {"dk": {"n": "332"}}
    with pytest.raises(InputError, match="missing"):
        stage_build(build, [paper], {"figures/x.png": tmp_path / "none.png"}, "")


def test_source_notes_end_every_figure_and_table_caption_and_survive_numbering():
    paper = ("See @fig-a, @tbl-t.\n\n"
             "![Share with [10+](#src-x \"t\"){.value-source} employees.](figures/a.png)"
             "{#fig-a width=80%}\n\n"
             "{{< include tables/t.md >}}\n\n: Counts per wave {#tbl-t}\n")
    noted = add_source_notes(paper, {"figures/a.png": "File [a](../figures/a.png)."},
                             {"tables/t.md": "Source: [t](../t.csv)."}, "paper.qmd")
    assert ("![Share with [10+](#src-x \"t\"){.value-source} employees. File "
            "[a](../figures/a.png).](figures/a.png){#fig-a width=80%}") in noted
    assert ": Counts per wave. Source: [t](../t.csv). {#tbl-t}" in noted
    numbered = number_cross_references(noted, "paper.qmd")
    assert "![Figure 1: Share with [10+]" in numbered and "[Figure\u00a01](#fig-a)" in numbered
    assert ": Table 1: Counts per wave. Source:" in numbered
    with pytest.raises(InputError, match="no source note for a figure"):
        add_source_notes(paper, {}, {"tables/t.md": "x"}, "paper.qmd")
    with pytest.raises(InputError, match="no source note for a table"):
        add_source_notes(paper, {"figures/a.png": "x"}, {}, "paper.qmd")
    # a caption holding an escaped interval inside a link is still one figure
    assert FIGURE.search("![A [\\[1, 2\\]](#src-y) b](figures/b.png){#fig-b}").group("id") == "b"


def test_check_variables_names_a_missing_key():
    check_variables(PAPER, {"dk": {"n": "332"}}, "paper.qmd")
    with pytest.raises(InputError, match="dk.n"):
        check_variables(PAPER, {"dk": {}}, "paper.qmd")


def test_the_build_timestamp_is_never_the_clock(tmp_path: Path):
    assert source_date_epoch(tmp_path, {"SOURCE_DATE_EPOCH": "1700000000"}) == 1700000000
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH"):
        source_date_epoch(tmp_path, {"SOURCE_DATE_EPOCH": "yesterday"})
    assert source_date_epoch(tmp_path, {}) == 0  # not a git checkout
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
           "GIT_COMMITTER_DATE": "1600000000 +0000", "GIT_AUTHOR_DATE": "1600000000 +0000"}
    for command in (["git", "init", "-q"], ["git", "commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(command, cwd=tmp_path, env=env, check=True, capture_output=True)
    assert source_date_epoch(tmp_path, {}) == 1600000000


def test_every_figure_and_table_of_the_paper_is_cross_referenced_in_its_text():
    paper = (ROOT / "manuscript/paper.qmd").read_text(encoding="utf-8")
    labels = re.findall(r"\{#((?:fig|tbl)-[\w-]+)", paper)
    assert sum(label.startswith("fig-") for label in labels) == 11
    assert sum(label.startswith("tbl-") for label in labels) == 9
    unreferenced = [label for label in labels if f"@{label}" not in paper]
    assert unreferenced == []


def test_the_flow_table_and_flow_values_follow_the_cleaning_rules():
    steps = ["raw", *RULES, "analysed"]
    flow = pd.DataFrame({"step": steps, "n_in": 10, "n_excluded": 0, "n_out": 10})
    assert flow_table({"dk": flow})["Step"].tolist() == [RULE_LABELS[s] for s in steps]
    keys = {spec.key for spec in load_value_map(VALUES_YAML).specs}
    assert {f"dk.flow.{rule}" for rule in RULES} <= keys
