"""The manuscript's numbers, read from the pipeline's outputs: none is typed by hand.

Every inline number of manuscript/paper.qmd is a `{{< var key >}}` shortcode, and
manuscript/values.yaml says where each comes from (smesocial.value_specs reads and checks it).
This module reads those sources:

- `collect` reads every value and returns it with that provenance; a selector that matches no
  row (or several, where one is meant) is an InputError naming the file and the selector;
- `variables` nests the shown values by their dotted keys, the mapping written as
  `_variables.yml` (what Quarto's `var` shortcode reads, and what the offline renderer resolves);
- `provenance_table` is results/manuscript/values.csv: key, value as shown, source file,
  selector, column, raw value (the cell's text, as written in the source), format, aggregation;
- `write_tables` writes the paper's tables as Markdown (DataFrame.to_markdown) into the build,
  from the files and rows the `tables` section of values.yaml names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from smesocial.config import parse_yaml
from smesocial.clean import RULE_LABELS
from smesocial.errors import InputError
from smesocial.value_specs import (AGGREGATIONS, SELECTOR_SEPARATOR, KeyTest, SchemeRow,
                                   TableSettings, ValueSpec, fmt_count, fmt_decimal2,
                                   fmt_decimal2_ci, fmt_decimal3, fmt_decimal3_ci, fmt_p_cell,
                                   fmt_pct, fmt_pct_ci, fmt_percent, fmt_percent_ci, fmt_pp,
                                   fmt_pp_ci, fmt_published_pct, format_value, parse_selector,
                                   whole_number)

# --------------------------------------------------------------------------------------------
# Sources and selectors


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_cell_text(v) for v in value)
    return str(value)


def _frame_of(value: Any, source: str) -> pd.DataFrame:
    """A YAML node as a text table: a list of mappings -> rows; a mapping -> one row; a
    scalar -> one row with column `value`."""
    if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        rows = [{k: _cell_text(v) for k, v in item.items()} for item in value]
        return pd.DataFrame(rows).fillna("").astype(str)
    if isinstance(value, Mapping):
        return pd.DataFrame([{k: _cell_text(v) for k, v in value.items()}]).astype(str)
    if isinstance(value, (list, tuple)):
        raise InputError(source, "a YAML list of scalars is not a table", found=value)
    return pd.DataFrame([{"value": _cell_text(value)}])


def _existing(root: Path, path: str) -> Path:
    file = root / path
    if not file.is_file():
        raise InputError(path, "a source file of the manuscript's values is missing",
                         expected="the pipeline output (or config file) the value is read from")
    return file


def read_yaml_node(root: Path, source: str) -> Any:
    """The node `dotted.key` of `path.yaml#dotted.key` (the whole document without a key)."""
    path, _, key = source.partition("#")
    node: Any = parse_yaml(_existing(root, path).read_text(encoding="utf-8"))
    for part in key.split(".") if key else []:
        if not isinstance(node, Mapping) or part not in node:
            raise InputError(path, "YAML key of a manuscript value not found", found=key)
        node = node[part]
    return node


def read_source(root: Path, source: str) -> pd.DataFrame:
    """A source as a table of text cells: `path.csv`, or `path.yaml#dotted.key` for a YAML node.
    Text, not numbers: the provenance records the cell exactly as the file has it, and country
    codes such as NO stay strings. Python strings (object columns), not Arrow ones: the paper's
    few hundred selections each compare whole columns, which is several times faster so."""
    path = source.partition("#")[0]
    if path.endswith((".yaml", ".yml")):
        return _frame_of(read_yaml_node(root, source), source)
    return pd.read_csv(_existing(root, path), dtype=object, keep_default_na=False,
                       encoding="utf-8")


def select(frame: pd.DataFrame, selector: str, source: str) -> pd.DataFrame:
    """The rows whose cells equal the selector's values (as text)."""
    mask = np.ones(len(frame), dtype=bool)
    for column, value in parse_selector(selector):
        if column not in frame.columns:
            raise InputError(source, "the selector of a manuscript value names a column the "
                             "file does not have", column=column, found=selector,
                             expected=f"one of {', '.join(map(str, frame.columns))}")
        mask &= frame[column].to_numpy() == value
    return frame[mask]


# --------------------------------------------------------------------------------------------
# Value specs and their provenance


@dataclass(frozen=True)
class Value:
    key: str
    value: str  # as shown in the manuscript
    source: str
    selector: str
    column: str  # "ci_low|ci_high" for an interval; "" for a count
    raw: str  # the cell text(s) read, "|"-joined; the count for agg=count
    format: str
    agg: str
    rule: str = ""  # the workflow rule that made the source file ("" for configuration)
    script: str = ""  # that rule's entry script, relative to the repository root


PROVENANCE_COLUMNS = ["key", "value", "source", "selector", "column", "raw", "format", "agg",
                      "rule", "script"]


def resolve_value(spec: ValueSpec, frame: pd.DataFrame) -> Value:
    """One spec against its source table; an InputError names file and selector when the rows
    are not what the spec needs."""
    if spec.agg not in AGGREGATIONS:
        raise ValueError(f"{spec.key}: unknown aggregation {spec.agg!r}")
    rows = select(frame, spec.selector, spec.source)
    selector_text = spec.selector or "(every row)"
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        raise InputError(spec.source, f"manuscript value {spec.key!r} reads a column the file "
                         "does not have", column=missing[0], found=selector_text)
    if spec.agg == "count":
        raw = [str(len(rows))]
    elif rows.empty:
        raise InputError(spec.source, f"no row matches the selector of manuscript value "
                         f"{spec.key!r}", found=selector_text,
                         expected="exactly one row with these values")
    elif spec.agg == "sum":
        raw = [str(sum(whole_number(v) for v in rows[spec.columns[0]]))]
    elif len(rows) > 1:
        raise InputError(spec.source, f"the selector of manuscript value {spec.key!r} matches "
                         f"{len(rows)} rows", found=selector_text, expected="exactly one row")
    else:
        raw = [str(rows.iloc[0][c]) for c in spec.columns]
    try:
        shown = format_value(spec.fmt, raw)
    except ValueError as exc:
        raise InputError(spec.source, f"manuscript value {spec.key!r} cannot be shown as "
                         f"{spec.fmt}: {exc}", found=selector_text) from exc
    return Value(spec.key, shown, spec.source, spec.selector, "|".join(spec.columns),
                 "|".join(raw), spec.fmt, spec.agg)


def collect(specs: Iterable[ValueSpec], root: Path = Path(".")) -> list[Value]:
    """Every spec resolved, each source read once; keys must be unique."""
    cache: dict[str, pd.DataFrame] = {}
    values: list[Value] = []
    seen: set[str] = set()
    for spec in specs:
        if spec.key in seen:
            raise ValueError(f"manuscript value {spec.key!r} is declared twice")
        seen.add(spec.key)
        if spec.source not in cache:
            cache[spec.source] = read_source(root, spec.source)
        values.append(resolve_value(spec, cache[spec.source]))
    return values


def with_producers(values: Iterable[Value], producers: Mapping[str, Mapping[str, Any]]
                   ) -> list[Value]:
    """Each value with the rule and script that made its source file (`producers`: file ->
    {rule, script}, as the manuscript rule's params give it; a file no rule makes, such as the
    configuration, has rule None)."""
    attributed = []
    for value in values:
        made_by = producers.get(value.source.partition("#")[0]) or {}
        attributed.append(replace(value, rule=made_by.get("rule") or "",
                                  script=made_by.get("script") or ""))
    return attributed


# --------------------------------------------------------------------------------------------
# Each number linked to its source: the inline link (its tooltip names file, row, column,
# rule and script) and the list it points to, "Where each number comes from"

SOURCES_HEADING = "Where each number comes from"


def source_anchor(key: str) -> str:
    """The id of a value's entry in the list of sources (src-dk.flow.raw)."""
    return f"src-{key}"


def relative_link(path: str, out_dir: str) -> str:
    """A repository path as a link from the rendered paper's folder (`out_dir`, relative to the
    repository root): results/stats/tests.csv from results/manuscript -> ../stats/tests.csv."""
    return Path(os.path.relpath(path, out_dir)).as_posix()


def _row_words(value: Value, code: str = "") -> str:
    """Where in its source file a value is read, in words; `code` quotes the names (a
    backtick for Markdown). A CSV has rows and columns; in a YAML file the value is a key, or
    a field of the entries of a list."""
    def quoted(text: str) -> str:
        return f"{code}{text}{code}"

    node = value.source.partition("#")[2]
    columns = value.column.split("|") if value.column else []
    if node and not value.selector and value.agg == "cell":
        keys = [node if column == "value" else f"{node}.{column}" for column in columns]
        return f"key {', '.join(map(quoted, keys))}"
    prefix = f"key {quoted(node)}, " if node else ""
    row, rows = ("entry", "entries") if node else ("row", "rows")
    if value.agg == "count":
        return f"{prefix}{rows} counted: {quoted(value.selector) if value.selector else 'all'}"
    named = (f"columns {', '.join(map(quoted, columns))}" if len(columns) > 1
             else f"column {quoted(columns[0])}")
    if value.agg == "sum":
        chosen = f"{rows} {quoted(value.selector)}" if value.selector else f"all {rows}"
        return f"{prefix}{named} summed over {chosen}"
    chosen = f"{row} {quoted(value.selector)}" if value.selector else f"its one {row}"
    return f"{prefix}{chosen}, {named}"


def source_text(value: Value) -> str:
    """Where a value comes from, in one line: file (and YAML key), row, column, and the rule
    and script that made the file."""
    made = (f"rule {value.rule} ({value.script})" if value.rule
            else "configuration, made by no rule")
    return f"{value.source.partition('#')[0]} \u00b7 {_row_words(value)} \u00b7 {made}"


def _title(text: str) -> str:
    """Text as a Markdown link title: one line, double quotes and backslashes escaped."""
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')


def linked(value: Value) -> str:
    """The value as the paper shows it: a link to its entry in the list of sources, with the
    source in the tooltip (Markdown both Quarto's `var` shortcode and pandoc read)."""
    return (f"[{md_escape(value.value)}](#{source_anchor(value.key)} "
            f"\"{_title(source_text(value))}\"){{.value-source}}")


def sources_markdown(values: Sequence[Value], out_dir: str) -> str:
    """The list "Where each number comes from": per value, in the paper's order, the value
    (the anchor its links point to), its key, the source file as a link, the row and column,
    the raw cell and the rule and script. Two values that print the same differ here."""
    lines = []
    for value in values:
        path = value.source.partition("#")[0]
        where = f"[{md_escape(path)}]({relative_link(path, out_dir)})"
        made = (f"rule `{value.rule}` ([{md_escape(value.script)}]"
                f"({relative_link(value.script, out_dir)}))" if value.rule
                else "configuration (made by no rule)")
        cells = value.raw.split("|")
        raw = ("" if value.agg != "cell" or value.format == "text" else
               f"; cell `{cells[0]}`" if len(cells) == 1 else
               f"; cells {', '.join(f'`{c}`' for c in cells)}")
        lines.append(f"- [{md_escape(value.value)}]{{#{source_anchor(value.key)}}} "
                     f"(`{value.key}`): {where}; {_row_words(value, '`')}{raw}; {made}.")
    return "\n".join(lines) + "\n"


def _made_by(path: str, producers: Mapping[str, Mapping[str, Any]], out_dir: str) -> str:
    made = producers.get(path.partition("#")[0]) or {}
    if not made.get("rule"):
        return "configuration"
    script = str(made.get("script") or "")
    return f"rule `{made['rule']}`, [{md_escape(script)}]({relative_link(script, out_dir)})"


def _file_link(source: str, out_dir: str) -> str:
    path, _, node = source.partition("#")
    link = f"[{md_escape(path)}]({relative_link(path, out_dir)})"
    return link + (f" key `{node}`" if node else "")


def sources_note(sources: Sequence[str], producers: Mapping[str, Mapping[str, Any]],
                 out_dir: str) -> str:
    """A table's caption note: "Source: <file> (rule <rule>, <script>); <file> ...", each file
    linked from the paper's folder, files made by one rule together."""
    groups: list[tuple[str, list[str]]] = []
    for source in dict.fromkeys(sources):
        made = _made_by(source, producers, out_dir)
        if groups and groups[-1][0] == made:
            groups[-1][1].append(source)
        else:
            groups.append((made, [source]))
    parts = [f"{', '.join(_file_link(s, out_dir) for s in files)} ({made})"
             for made, files in groups]
    return f"Source: {'; '.join(parts)}."


def figure_note(row: Mapping[str, Any], producers: Mapping[str, Mapping[str, Any]],
                out_dir: str) -> str:
    """A figure's caption note, from its row of results/figures/figures.csv: the file, the
    notebook that draws it, the executed notebook and the rule (with its script)."""
    notebook, executed = str(row["notebook"]), str(row["executed_notebook"])
    script = str((producers.get(str(row["path"])) or {}).get("script") or "")
    return (f"File {_file_link(str(row['path']), out_dir)}, drawn by the notebook "
            f"{_file_link(notebook, out_dir)} (executed: {_file_link(executed, out_dir)}) in "
            f"rule `{row['rule']}`" + (f", [{md_escape(script)}]({relative_link(script, out_dir)})"
                                       if script else "") + ".")


def figure_notes(manifest: pd.DataFrame, figures: Mapping[str, str],
                 producers: Mapping[str, Mapping[str, Any]], out_dir: str,
                 source: str = "figures.csv") -> dict[str, str]:
    """The paper's figure path -> its caption note (`figures`: the paper's path -> the
    pipeline's file, as staged). A figure the manifest does not list is an error."""
    rows = {str(row["path"]): row for _, row in manifest.iterrows()}
    notes = {}
    for paper_path, made in figures.items():
        if made not in rows:
            raise InputError(source, "a figure the paper shows is not in the figures' manifest",
                             found=made, expected="a row per figure file, made by its notebook")
        notes[paper_path] = figure_note(rows[made], producers, out_dir)
    return notes


def variables(values: Iterable[Value], extra: Mapping[str, str] | None = None, *,
              link: bool = False) -> dict[str, Any]:
    """The shown values nested by dotted key (dk.flow.raw -> {"dk": {"flow": {"raw": ...}}});
    with `link`, each value as its link to its source (`linked`). `extra` stays as given."""
    nested: dict[str, Any] = {}
    pairs = ([(v.key, linked(v) if link else v.value) for v in values]
             + list((extra or {}).items()))
    for key, shown in pairs:
        *groups, leaf = key.split(".")
        node = nested
        for group in groups:
            child = node.setdefault(group, {})
            if not isinstance(child, dict):
                raise ValueError(f"manuscript value {key!r} nests under the value {group!r}")
            node = child
        if leaf in node:
            raise ValueError(f"manuscript value {key!r} is declared twice or is a group")
        node[leaf] = shown
    return nested


def variables_yaml(nested: Mapping[str, Any]) -> str:
    """`_variables.yml`: every value a quoted string, keys in declaration order."""
    return yaml.safe_dump(dict(nested), allow_unicode=True, sort_keys=False, width=1000,
                          default_style=None)


def provenance_table(values: Iterable[Value]) -> pd.DataFrame:
    return pd.DataFrame([asdict(v) for v in values], columns=PROVENANCE_COLUMNS)


# --------------------------------------------------------------------------------------------
# Tables: pure builders over the source tables, then Markdown via DataFrame.to_markdown


def _sel(**pairs: str) -> str:
    return SELECTOR_SEPARATOR.join(f"{k}={v}" for k, v in pairs.items())


def _one(frame: pd.DataFrame, selector: str, source: str) -> pd.Series:
    rows = select(frame, selector, source)
    if len(rows) != 1:
        raise InputError(source, f"a manuscript table needs exactly one row for the selector, "
                         f"found {len(rows)}", found=selector)
    return rows.iloc[0]


def flow_table(flows: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Steps down the rows, per wave the rows excluded at the step and those remaining."""
    waves = list(flows)
    steps = list(dict.fromkeys(s for flow in flows.values() for s in flow["step"]))
    rows = []
    for step in steps:
        row = {"Step": RULE_LABELS.get(step, step)}
        for wave in waves:
            match = flows[wave][flows[wave]["step"] == step]
            excluded = match["n_excluded"].iloc[0] if len(match) else ""
            remaining = match["n_out"].iloc[0] if len(match) else ""
            shown = excluded != "" and step != "raw"  # the raw row excludes nothing by definition
            row[f"{wave}: excluded"] = fmt_count([excluded]) if shown else ""
            row[f"{wave}: remaining"] = fmt_count([remaining]) if remaining != "" else ""
        rows.append(row)
    return pd.DataFrame(rows)


def _range(low: str, high: str) -> str:
    return f"{low}+" if high == "" else f"{low}-{high}"


def segments_table(counts: Mapping[str, pd.DataFrame], schemes: Sequence[SchemeRow],
                   published: Sequence[Mapping[str, Any]],
                   published_beside: tuple[str, str]) -> pd.DataFrame:
    """Respondents per segment under each scheme the paper discusses, with the report's own
    published segment sizes beside the (wave, scheme) they were published for."""
    published_n = {str(p["segment"]): str(p["n"]) for p in published}
    rows = []
    for wave, scheme, label in ((s.wave, s.scheme, s.label) for s in schemes):
        table = counts[wave]
        segments = table[(table["count_type"] == "segment") & (table["scheme"] == scheme)]
        for _, seg in segments.iterrows():
            rows.append({
                "Wave": wave, "Scheme": f"{scheme} ({label})", "Segment": seg["segment"],
                "Employees": _range(seg["min"], seg["max"]), "n": fmt_count([seg["n"]]),
                "Published n": (fmt_count([published_n[seg["segment"]]])
                                if (wave, scheme) == published_beside
                                and seg["segment"] in published_n else ""),
            })
        unassigned = table[(table["count_type"] == "unassigned") & (table["scheme"] == scheme)]
        for _, seg in unassigned.iterrows():
            rows.append({"Wave": wave, "Scheme": f"{scheme} ({label})", "Segment": "unassigned",
                         "Employees": "range straddles a bound", "n": fmt_count([seg["n"]]),
                         "Published n": ""})
    return pd.DataFrame(rows)


def weights_table(summary: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, cell in summary.iterrows():
        if str(cell["population"]).strip() in ("", "nan", "<NA>"):
            # a sample left unweighted (weighting.<wave>.weighted_samples): no population cell
            rows.append({"Cell": cell["cell"], "Sample n": fmt_count([cell["n_sample"]]),
                         "Sample share": "", "Population": "not weighted",
                         "Population share": "", "Weight": fmt_decimal3([cell["weight"]])})
            continue
        rows.append({"Cell": cell["cell"], "Sample n": fmt_count([cell["n_sample"]]),
                     "Sample share": fmt_pct([cell["sample_share"]]),
                     "Population": fmt_count([cell["population"]]),
                     "Population share": fmt_pct([cell["population_share"]]),
                     "Weight": fmt_decimal3([cell["weight"]])})
    return pd.DataFrame(rows)


def reproduction_table(reproductions: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for wave, table in reproductions.items():
        status = table["status"].value_counts()
        rows.append({"Wave": wave, "Published figures": fmt_count([str(len(table))]),
                     **{label: fmt_count([str(int(status.get(s, 0)))]) for s, label in
                        (("match", "Match"), ("off", "Off"),
                         ("report_inconsistent", "Report inconsistent"))}})
    return pd.DataFrame(rows)


def inconsistencies_table(conflicts: Sequence[Mapping[str, Any]], reproduction: pd.DataFrame,
                          estimates: pd.DataFrame, reproduction_source: str = "reproduction",
                          estimates_source: str = "estimates",
                          conflicts_source: str = "the published figures") -> pd.DataFrame:
    """One row per published figure in a conflict: where it stands, the value printed, the
    recomputed share of its indicator and segment, and whether the reconstruction follows it."""
    rows = []
    for conflict in conflicts:
        title = conflict_title(conflict, conflicts_source)
        for figure_id in conflict["figures"]:
            figure = _one(reproduction, _sel(figure_id=figure_id), reproduction_source)
            estimate = _one(estimates, _sel(indicator=figure["indicator"],
                                            segment=figure["segment"]), estimates_source)
            rows.append({
                "Conflict": title,
                "Figure (indicator, segment)": f"{figure['indicator']}, {figure['segment']}",
                "Where in the report": figure["location"],
                "Published": fmt_published_pct([figure["published"]]),
                "Recomputed": fmt_pct([estimate["share"]]),
                "Followed": "no" if figure["status"] == "report_inconsistent" else "yes",
            })
    return pd.DataFrame(rows)


def conflict_title(conflict: Mapping[str, Any], source: str = "the published figures") -> str:
    """A conflict of the report in words (its `title`), for the paper; its `id` is for files."""
    title = conflict.get("title")
    if not isinstance(title, str) or not title.strip():
        raise InputError(source, f"conflict {conflict.get('id')!r} has no title",
                         expected="a `title` saying in words what contradicts what")
    return " ".join(title.split())


def inconsistencies_reasons(conflicts: Sequence[Mapping[str, Any]],
                            source: str = "the published figures") -> str:
    """Why the reconstruction follows the figure it follows, per conflict (a Markdown list)."""
    return "".join(f"- *{md_escape(conflict_title(c, source))}*: {md_escape(c['why'])}\n"
                   for c in conflicts)


# The battery's test and effect-size ids (smesocial.inference, smesocial.stats) in words, for
# the paper's tables.
TEST_LABELS = {
    "association": "chi-square association",
    "pearson_chi2": "Pearson's chi-square",
    "fisher_exact": "Fisher's exact test",
    "chi2_monte_carlo": "chi-square, Monte Carlo p",
    "kruskal_wallis": "Kruskal-Wallis",
    "ordinal_logit_trend": "proportional-odds trend",
    "cochran_armitage": "Cochran-Armitage trend",
    "mcnemar": "McNemar",
    "mcnemar_exact": "exact McNemar",
    "cochrans_q": "Cochran's Q",
    "gradient_difference": "proportional-odds trend of the within-firm difference",
    "gradient_difference_ordinal_logit": "proportional-odds trend of the within-firm difference",
    "cmh": "Cochran-Mantel-Haenszel",
    "logit_group": "logistic regression, group and segment",
    "logit_group_interaction": "logistic regression, group x segment interaction",
    # design-based methods on a weighted wave (smesocial.weighted_tests)
    "rao_scott_f": "design-based: Rao-Scott F",
    "design_logit_trend": "design-based: weighted logistic trend, Wald F",
    "design_t_paired": "design-based: t test of the weighted paired difference",
    "design_wald_equal_shares": "design-based: Wald F of equal weighted shares",
    "design_cmh": "design-based: weighted logistic regression, group and segment, Wald F",
    "design_logit_group": "design-based: weighted logistic regression, group and segment, Wald F",
    "design_logit_group_interaction": "design-based: weighted logistic regression, group x "
                                      "segment, working likelihood-ratio test",
    "design_rank_kruskal_wallis": "design-based: weighted rank test",
    "design_ordinal_logit_trend": "design-based: weighted proportional-odds trend",
    "design_gradient_difference_ordinal_logit": "design-based: weighted proportional-odds trend "
                                                "of the within-firm difference",
}
EFFECT_LABELS = {
    "cramers_v_weighted": "Cramér's V of the weighted table",
    "cramers_v": "Cramér's V",
    "epsilon_squared": "epsilon squared",
    "eta_squared_q": "eta squared",
    "odds_ratio_adjusted": "adjusted odds ratio",
    "odds_ratio_mh": "Mantel-Haenszel odds ratio",
    "odds_ratio_per_step": "odds ratio per segment step",
    "risk_difference_last_vs_first": "risk difference, largest vs smallest segment",
    "share_difference": "difference in shares",
}


def _label(labels: Mapping[str, str], name: str, what: str, source: str) -> str:
    if name not in labels:
        raise InputError(source, f"the paper's tables have no words for the {what} {name!r}",
                         expected=f"one of {', '.join(labels)} (add it to smesocial."
                         f"manuscript_values.{'TEST' if what == 'test' else 'EFFECT'}_LABELS)")
    return labels[name]


def _effect(row: pd.Series, source: str = "tests") -> str:
    name = str(row["effect_size_name"])
    if str(row["test"]).endswith("_interaction"):
        # the battery reports the main-effect model's OR beside an interaction test: not its effect
        return "likelihood-ratio test; no effect size"
    if not name:
        return "no effect size"
    low, high = row["effect_ci_low"], row["effect_ci_high"]
    if "difference" in name:
        point, interval = fmt_pp([row["effect_size"]]), fmt_pp_ci([low, high])
    elif "odds_ratio" in name:
        point, interval = fmt_decimal2([row["effect_size"]]), fmt_decimal2_ci([low, high])
    else:
        point, interval = fmt_decimal3([row["effect_size"]]), fmt_decimal3_ci([low, high])
    return f"{_label(EFFECT_LABELS, name, 'effect size', source)} {point} {interval}"


def key_tests_table(tests: pd.DataFrame, selection: Sequence[KeyTest],
                    source: str = "tests") -> pd.DataFrame:
    """The battery's rows the paper's table shows, with p, Holm and BH p and the effect."""
    rows = []
    for key in selection:
        row = _one(tests, _sel(hypothesis=key.hypothesis, item=key.item, segment=key.segment,
                               test=key.test), source)
        design_based = str(row.get("method", key.test)) != key.test
        # a design-based row names its method and keeps the declared test's unweighted p beside
        test = (f"{_label(TEST_LABELS, str(row['method']), 'test', source)} (unweighted: "
                f"{_label(TEST_LABELS, key.test, 'test', source)})" if design_based
                else _label(TEST_LABELS, key.test, "test", source))
        rows.append({"Hypothesis and contrast": f"{key.hypothesis.split('_')[0]}: {key.contrast}",
                     "Test": test,
                     "n": fmt_count([row["n"]]), "p": fmt_p_cell([row["p"]]),
                     "p Holm": fmt_p_cell([row["p_adj_holm"]]),
                     "p BH": fmt_p_cell([row["p_adj_bh"]]),
                     "p unweighted": fmt_p_cell([row["p_unweighted"]]) if design_based else "",
                     "Effect [CI]": _effect(row, source)})
    return pd.DataFrame(rows)


def _share_ci(row: pd.Series) -> str:
    if row["share"] == "":
        return "no base"
    return f"{fmt_pct([row['share']])} {fmt_pct_ci([row['ci_low'], row['ci_high']])}"


def comparison_table(comparison: pd.DataFrame, non_comparabilities: pd.DataFrame,
                     waves: tuple[str, str], source: str = "comparison") -> pd.DataFrame:
    """Per comparable item and common segment: both waves' shares and the difference, with
    the non-comparabilities specific to the item (those applying to all are in the caption)."""
    specific: dict[str, list[str]] = {}
    for _, nc in non_comparabilities.iterrows():
        if nc["applies_to"] != "all":
            for item in filter(None, (i.strip() for i in nc["items"].split(";"))):
                specific.setdefault(item, []).append(nc["id"])
    rows = []
    first, second = waves
    keys = comparison[["item", "segment"]].drop_duplicates()
    for _, key in keys.iterrows():
        sel = {"item": key["item"], "segment": key["segment"]}
        a = _one(comparison, _sel(**sel, row_type="estimate", wave=first), source)
        b = _one(comparison, _sel(**sel, row_type="estimate", wave=second), source)
        d = _one(comparison, _sel(**sel, row_type="difference"), source)

        diff = ("" if d["difference"] == "" else
                f"{fmt_pp([d['difference']])} {fmt_pp_ci([d['ci_low'], d['ci_high']])}")
        rows.append({"Item": a["label"], "Segment": key["segment"], first: _share_ci(a),
                     second: _share_ci(b), "Difference": diff,
                     "Item-specific non-comparabilities": ", ".join(specific.get(key["item"], []))})
    return pd.DataFrame(rows)


def non_comparabilities_frame(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"Non-comparability": table["id"], "Dimension": table["dimension"],
                         "What differs": table["description"],
                         "Consequence": table["consequence"],
                         "Applies to": table["applies_to"].str.replace("; ", ", ")})


def benchmarks_table(benchmarks: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, row in benchmarks.iterrows():
        rows.append({
            "Wave": row["wave"], "Sample": row["sample"], "Size class": row["size_class"],
            "n": fmt_count([row["n"]]),
            "Survey: active on any platform [CI]":
                f"{fmt_percent([row['share_pct']])} "
                f"{fmt_percent_ci([row['ci_low_pct'], row['ci_high_pct']])}",
            "Official indicator": row["official_indicator"],
            "Official year": row["official_year"],
            "Official value": fmt_percent([row["official_value_pct"]]),
        })
    return pd.DataFrame(rows)


MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#$~^])")
ZERO_WIDTH_SPACE = "\u200b"
# Table layout, in characters of the tables' type: what fits the text width, and what a cell's
# padding takes. Pandoc reads relative column widths from the separator line's dashes.
TABLE_BUDGET, CELL_PADDING = 118, 3


def md_escape(text: str) -> str:
    """Generated text as literal Markdown: `0.33*97` must not start emphasis, `<0.001` no tag."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _cell(text: str) -> str:
    # A break opportunity after each underscore, so long ids (post_daily_weekly_linkedin)
    # wrap in a narrow column instead of running into the next one.
    return re.sub(r"\\_(?=\w)", "\\_" + ZERO_WIDTH_SPACE, md_escape(text))


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[\s" + ZERO_WIDTH_SPACE + "]+", text) if t]


def column_widths(frame: pd.DataFrame, budget: int = TABLE_BUDGET,
                  padding: int = CELL_PADDING) -> list[int]:
    """Relative widths: every column gets at least its longest unbreakable word, the rest of
    the budget goes to the columns whose text is longer than that, in proportion."""
    natural, minimal = [], []
    for column in frame.columns:
        texts = [str(column), *map(str, frame[column])]
        natural.append(max(len(t.replace("\\", "").replace(ZERO_WIDTH_SPACE, "")) for t in texts))
        minimal.append(max(len(w.replace("\\", "")) for t in texts for w in _tokens(t) or [""]))
    if sum(natural) + padding * len(natural) <= budget:
        return [n + padding for n in natural]
    spare = max(budget - sum(m + padding for m in minimal), 0)
    stretch = [n - m for n, m in zip(natural, minimal)]
    total = sum(stretch) or 1
    return [m + padding + round(spare * s / total) for m, s in zip(minimal, stretch)]


def to_markdown(frame: pd.DataFrame, numeric: Iterable[str] = ()) -> str:
    """A pipe table of literal text cells via DataFrame.to_markdown; `numeric` columns
    right-aligned; the separator line rewritten to the widths of `column_widths`. numparse is
    off so that tabulate shows the formatted strings exactly ("0.050" stays "0.050")."""
    numeric = set(numeric)
    clean = frame.astype(str).apply(lambda col: col.map(_cell))
    clean.columns = [md_escape(c) for c in frame.columns]
    right = [c in numeric for c in frame.columns]
    text = clean.to_markdown(index=False, disable_numparse=True,
                             colalign=["right" if r else "left" for r in right])
    lines = text.split("\n")
    separator = ["-" * (w - 1) + ":" if r else ":" + "-" * (w - 1)
                 for w, r in zip(column_widths(clean), right)]
    lines[1] = "|" + "|".join(separator) + "|"
    return "\n".join(lines) + "\n"


def table_notes(settings: TableSettings, producers: Mapping[str, Mapping[str, Any]],
                out_dir: str, folder: str = "tables") -> dict[str, str]:
    """Each generated table's caption note (its path as the paper includes it -> Markdown)."""
    return {f"{folder}/{name}": sources_note(files, producers, out_dir)
            for name, files in settings.sources().items()}


def write_tables(root: Path, out_dir: Path, settings: TableSettings) -> list[Path]:
    """The paper's tables as Markdown files in out_dir (tables/ of the build), from the files
    and rows of values.yaml's `tables` section."""
    out_dir.mkdir(parents=True, exist_ok=True)
    read = {path: read_source(root, path) for path in settings.files() if path.endswith(".csv")}
    conflicts = read_yaml_node(root, settings.conflicts)
    flows = {wave: read[path] for wave, path in settings.flows.items()}
    tables: dict[str, str] = {
        "flow.md": to_markdown(flow_table(flows),
                               numeric=[f"{w}: {k}" for w in flows
                                        for k in ("excluded", "remaining")]),
        "segments.md": to_markdown(
            segments_table({w: read[p] for w, p in settings.segment_counts.items()},
                           settings.segment_schemes,
                           read_yaml_node(root, settings.published_segments),
                           settings.published_beside), numeric=["n", "Published n"]),
        "weights.md": to_markdown(
            weights_table(select(read[settings.weights], settings.weights_selector,
                                 settings.weights)),
            numeric=["Sample n", "Sample share", "Population", "Population share", "Weight"]),
        "reproduction.md": to_markdown(
            reproduction_table({w: read[p] for w, p in settings.reproductions.items()}),
            numeric=["Published figures", "Match", "Off", "Report inconsistent"]),
        "inconsistencies.md": to_markdown(
            inconsistencies_table(conflicts, read[settings.inconsistency_reproduction],
                                  read[settings.inconsistency_estimates],
                                  settings.inconsistency_reproduction,
                                  settings.inconsistency_estimates, settings.conflicts),
            numeric=["Published", "Recomputed"]),
        "inconsistencies_reasons.md": inconsistencies_reasons(conflicts, settings.conflicts),
        "tests.md": to_markdown(key_tests_table(read[settings.tests], settings.key_tests,
                                                settings.tests),
                                numeric=["n", "p", "p Holm", "p BH"]),
        "comparison.md": to_markdown(comparison_table(
            read[settings.comparison], read[settings.non_comparabilities],
            settings.comparison_waves, settings.comparison)),
        "non_comparabilities.md": to_markdown(
            non_comparabilities_frame(read[settings.non_comparabilities])),
        "benchmarks.md": to_markdown(benchmarks_table(read[settings.benchmarks]),
                                     numeric=["n", "Official year", "Official value"]),
    }
    if set(tables) != set(settings.sources()):  # every table says what it reads
        raise ValueError(f"tables written {sorted(tables)} != sources {sorted(settings.sources())}")
    written = []
    for name, text in tables.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
