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

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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
    codes such as NO stay strings."""
    path = source.partition("#")[0]
    if path.endswith((".yaml", ".yml")):
        return _frame_of(read_yaml_node(root, source), source)
    return pd.read_csv(_existing(root, path), dtype=str, keep_default_na=False, encoding="utf-8")


def select(frame: pd.DataFrame, selector: str, source: str) -> pd.DataFrame:
    """The rows whose cells equal the selector's values (as text)."""
    mask = pd.Series(True, index=frame.index)
    for column, value in parse_selector(selector):
        if column not in frame.columns:
            raise InputError(source, "the selector of a manuscript value names a column the "
                             "file does not have", column=column, found=selector,
                             expected=f"one of {', '.join(map(str, frame.columns))}")
        mask &= frame[column] == value
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


PROVENANCE_COLUMNS = ["key", "value", "source", "selector", "column", "raw", "format", "agg"]


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


def variables(values: Iterable[Value], extra: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The shown values nested by dotted key (dk.flow.raw -> {"dk": {"flow": {"raw": ...}}})."""
    nested: dict[str, Any] = {}
    pairs = [(v.key, v.value) for v in values] + list((extra or {}).items())
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
                          estimates_source: str = "estimates") -> pd.DataFrame:
    """One row per published figure in a conflict: where it stands, the value printed, the
    recomputed share of its indicator and segment, and whether the reconstruction follows it."""
    rows = []
    for conflict in conflicts:
        for figure_id in conflict["figures"]:
            figure = _one(reproduction, _sel(figure_id=figure_id), reproduction_source)
            estimate = _one(estimates, _sel(indicator=figure["indicator"],
                                            segment=figure["segment"]), estimates_source)
            rows.append({
                "Conflict": conflict["id"],
                "Figure (indicator, segment)": f"{figure['indicator']}, {figure['segment']}",
                "Where in the report": figure["location"],
                "Published": fmt_published_pct([figure["published"]]),
                "Recomputed": fmt_pct([estimate["share"]]),
                "Followed": "no" if figure["status"] == "report_inconsistent" else "yes",
            })
    return pd.DataFrame(rows)


def inconsistencies_reasons(conflicts: Sequence[Mapping[str, Any]]) -> str:
    """Why the reconstruction follows the figure it follows, per conflict (a Markdown list)."""
    return "".join(f"- *{md_escape(c['id'])}*: {md_escape(c['why'])}\n" for c in conflicts)


def _effect(row: pd.Series) -> str:
    name = str(row["effect_size_name"])
    if str(row["test"]).endswith("_interaction"):
        # the battery reports the main-effect model's OR beside an interaction test: not its effect
        return "likelihood-ratio test; no effect size"
    low, high = row["effect_ci_low"], row["effect_ci_high"]
    if "difference" in name:
        point, interval = fmt_pp([row["effect_size"]]), fmt_pp_ci([low, high])
    elif "odds_ratio" in name:
        point, interval = fmt_decimal2([row["effect_size"]]), fmt_decimal2_ci([low, high])
    else:
        point, interval = fmt_decimal3([row["effect_size"]]), fmt_decimal3_ci([low, high])
    label = name.replace("_", " ")
    return f"{label} {point} {interval}"


def key_tests_table(tests: pd.DataFrame, selection: Sequence[KeyTest],
                    source: str = "tests") -> pd.DataFrame:
    """The battery's rows the paper's table shows, with p, Holm and BH p and the effect."""
    rows = []
    for key in selection:
        row = _one(tests, _sel(hypothesis=key.hypothesis, item=key.item, segment=key.segment,
                               test=key.test), source)
        rows.append({"Hypothesis and contrast": f"{key.hypothesis.split('_')[0]}: {key.contrast}",
                     "Test": key.test.replace("_", " "),
                     "n": fmt_count([row["n"]]), "p": fmt_p_cell([row["p"]]),
                     "p Holm": fmt_p_cell([row["p_adj_holm"]]),
                     "p BH": fmt_p_cell([row["p_adj_bh"]]), "Effect [CI]": _effect(row)})
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
                                  settings.inconsistency_estimates),
            numeric=["Published", "Recomputed"]),
        "inconsistencies_reasons.md": inconsistencies_reasons(conflicts),
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
    written = []
    for name, text in tables.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
