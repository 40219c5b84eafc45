"""The manuscript's numbers, read from the pipeline's outputs: none is typed by hand.

Every inline number of manuscript/paper.qmd is a `{{< var key >}}` shortcode. This module says,
for each key, which file it comes from, which row (a selector such as
`figure_id=hk4_linkedin_dw_micro`), which column(s) and how it is shown, then:

- `collect` reads every value and returns it with that provenance; a selector that matches no
  row (or several, where one is meant) is an InputError naming the file and the selector;
- `variables` nests the shown values by their dotted keys, the mapping written as
  `_variables.yml` (what Quarto's `var` shortcode reads, and what the offline renderer resolves);
- `provenance_table` is results/manuscript/values.csv: key, value as shown, source file,
  selector, column, raw value (the cell's text, as written in the source), format, aggregation;
- `write_tables` writes the paper's tables as Markdown (DataFrame.to_markdown) into the build.

Formatting rules live in one place, FORMATS: percentages with one decimal, counts with a
thousands separator, p-values as "= 0.027" or "< 0.001", intervals as "[a, b]". Raw values are
read as text and rounded with Decimal (half up), so 0.05 rounds the same way on every machine
and a value shown is exactly the source cell's value rounded, never a float artefact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from smesocial.clean import RULE_LABELS, RULES
from smesocial.errors import InputError

# --------------------------------------------------------------------------------------------
# Formatting: one rule per kind of number


def _decimal(raw: str, what: str = "value") -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise ValueError(f"{what} {raw!r} is not a number") from exc
    if not value.is_finite():
        raise ValueError(f"{what} {raw!r} is not a finite number")
    return value


def _fixed(value: Decimal, places: int, separator: bool = False) -> str:
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.0"
    return f"{rounded:,.{places}f}" if separator else f"{rounded:.{places}f}"


def _integral(raw: str) -> Decimal:
    value = _decimal(raw)
    if value != value.to_integral_value():
        raise ValueError(f"count {raw!r} is not a whole number")
    return value


def fmt_count(raw: Sequence[str]) -> str:
    """A count: whole number with a thousands separator (1,223)."""
    return f"{int(_integral(raw[0])):,}"


def fmt_integer(raw: Sequence[str]) -> str:
    """A whole number shown as is (years, seeds: 2013, 20240115)."""
    return str(int(_integral(raw[0])))


def fmt_pct(raw: Sequence[str]) -> str:
    """A share (0-1) as a percentage with one decimal (0.548485 -> 54.8%)."""
    return _fixed(_decimal(raw[0]) * 100, 1) + "%"


def fmt_percent(raw: Sequence[str]) -> str:
    """A value already in percent, one decimal (75 -> 75.0%)."""
    return _fixed(_decimal(raw[0]), 1) + "%"


def fmt_published_pct(raw: Sequence[str]) -> str:
    """A published percentage at the precision it was printed (56 -> 56%, 52.7 -> 52.7%)."""
    value = _decimal(raw[0])
    if value == value.to_integral_value():
        return f"{int(value)}%"
    return f"{value.normalize()}%"


def fmt_pp(raw: Sequence[str]) -> str:
    """A difference of two shares in percentage points, one decimal (0.126282 -> 12.6 pp)."""
    return _fixed(_decimal(raw[0]) * 100, 1) + " pp"


def fmt_pp_value(raw: Sequence[str]) -> str:
    """A difference already in percentage points, one decimal (-1.15 -> -1.2 pp)."""
    return _fixed(_decimal(raw[0]), 1) + " pp"


def _interval(low: str, high: str) -> str:
    return f"[{low}, {high}]"


def fmt_pct_ci(raw: Sequence[str]) -> str:
    """An interval of shares in percent: [52.4, 62.9]."""
    return _interval(*(_fixed(_decimal(r) * 100, 1) for r in raw[:2]))


def fmt_percent_ci(raw: Sequence[str]) -> str:
    """An interval already in percent: [96.5, 99.6]."""
    return _interval(*(_fixed(_decimal(r), 1) for r in raw[:2]))


def fmt_pp_ci(raw: Sequence[str]) -> str:
    """An interval of share differences in percentage points: [6.6, 18.3]."""
    return _interval(*(_fixed(_decimal(r) * 100, 1) for r in raw[:2]))


def fmt_decimal1(raw: Sequence[str]) -> str:
    return _fixed(_decimal(raw[0]), 1)


def fmt_decimal2(raw: Sequence[str]) -> str:
    return _fixed(_decimal(raw[0]), 2)


def fmt_decimal3(raw: Sequence[str]) -> str:
    return _fixed(_decimal(raw[0]), 3)


def fmt_decimal2_ci(raw: Sequence[str]) -> str:
    return _interval(*(_fixed(_decimal(r), 2) for r in raw[:2]))


def fmt_decimal3_ci(raw: Sequence[str]) -> str:
    return _interval(*(_fixed(_decimal(r), 3) for r in raw[:2]))


P_FLOOR = Decimal("0.001")


def fmt_p(raw: Sequence[str]) -> str:
    """A p-value with its relation, for running text: "= 0.027", "< 0.001" (3 decimals)."""
    value = _decimal(raw[0], "p-value")
    if not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"p-value {raw[0]!r} is outside [0, 1]")
    if value < P_FLOOR:
        return "< 0.001"
    return "= " + _fixed(value, 3)


def fmt_p_cell(raw: Sequence[str]) -> str:
    """A p-value in a table cell: "0.027", "<0.001"."""
    shown = fmt_p(raw)
    return "<0.001" if shown.startswith("<") else shown[2:]


def fmt_confidence(raw: Sequence[str]) -> str:
    """The confidence level of an alpha: 0.05 -> 95%."""
    level = (1 - _decimal(raw[0], "alpha")) * 100
    return (f"{int(level)}%" if level == level.to_integral_value() else f"{level.normalize()}%")


def fmt_text(raw: Sequence[str]) -> str:
    """Text as the source gives it, whitespace collapsed (YAML folds long strings)."""
    return " ".join(str(raw[0]).split())


Formatter = Callable[[Sequence[str]], str]
FORMATS: dict[str, Formatter] = {
    "count": fmt_count, "integer": fmt_integer, "pct": fmt_pct, "percent": fmt_percent,
    "published_pct": fmt_published_pct, "pp": fmt_pp, "pp_value": fmt_pp_value,
    "pct_ci": fmt_pct_ci, "percent_ci": fmt_percent_ci, "pp_ci": fmt_pp_ci,
    "decimal1": fmt_decimal1, "decimal2": fmt_decimal2, "decimal3": fmt_decimal3,
    "decimal2_ci": fmt_decimal2_ci, "decimal3_ci": fmt_decimal3_ci,
    "p": fmt_p, "p_cell": fmt_p_cell, "confidence": fmt_confidence, "text": fmt_text,
}
# Formats that take two raw values (an interval's bounds); every other takes one.
INTERVAL_FORMATS = frozenset({"pct_ci", "percent_ci", "pp_ci", "decimal2_ci", "decimal3_ci"})


def format_value(fmt: str, raw: Sequence[str]) -> str:
    if fmt not in FORMATS:
        raise KeyError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    expected = 2 if fmt in INTERVAL_FORMATS else 1
    if len(raw) != expected:
        raise ValueError(f"format {fmt!r} takes {expected} raw value(s), got {len(raw)}")
    return FORMATS[fmt](raw)


# --------------------------------------------------------------------------------------------
# Sources and selectors

SELECTOR_SEPARATOR = " & "
AGGREGATIONS = ("cell", "count", "sum")


def parse_selector(selector: str) -> list[tuple[str, str]]:
    """`col=value & col2=value` -> [(col, value), ...]; "" selects every row."""
    if not selector.strip():
        return []
    pairs = []
    for part in selector.split(SELECTOR_SEPARATOR):
        column, sep, value = part.partition("=")
        if not sep or not column.strip():
            raise ValueError(f"selector part {part!r} is not column=value")
        pairs.append((column.strip(), value.strip()))
    return pairs


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


def read_source(root: Path, source: str) -> pd.DataFrame:
    """A source as a table of text cells: `path.csv`, or `path.yaml#dotted.key` for a YAML node.
    Text, not numbers: the provenance records the cell exactly as the file has it, and country
    codes such as NO stay strings."""
    path, _, key = source.partition("#")
    file = root / path
    if not file.is_file():
        raise InputError(path, "a source file of the manuscript's values is missing",
                         expected="the pipeline output (or config file) the value is read from")
    if path.endswith((".yaml", ".yml")):
        node: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
        for part in key.split(".") if key else []:
            if not isinstance(node, Mapping) or part not in node:
                raise InputError(path, "YAML key of a manuscript value not found", found=key)
            node = node[part]
        return _frame_of(node, source)
    return pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8")


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
class ValueSpec:
    """Where one manuscript variable comes from and how it is shown."""

    key: str  # dotted: dk.flow.raw
    source: str  # path relative to the repository root; `file.yaml#key` for a YAML node
    selector: str  # "col=value & col=value" ("" = every row)
    columns: tuple[str, ...]  # one column, two for an interval, none for a count
    fmt: str  # a key of FORMATS
    agg: str = "cell"  # cell: exactly one row; count: rows selected; sum: column summed


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
        raw = [str(sum(_integral(v) for v in rows[spec.columns[0]]))]
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
# The manuscript's values

DK, NO = "dk_2024", "no_2010"
WAVES = (DK, NO)
FLOW = "results/{wave}/flow.csv"
SEGMENT_COUNTS = "results/{wave}/segment_counts.csv"
ESTIMATES = "results/{wave}/estimates.csv"
WEIGHTS = "results/{wave}/weights_summary.csv"
REPRODUCTION = "results/{wave}/reproduction.csv"
STATS_ESTIMATES = "results/stats/estimates.csv"
TESTS = "results/stats/tests.csv"
DK_NO = "results/comparisons/dk_no.csv"
NON_COMPARABILITIES = "results/comparisons/non_comparabilities.csv"
TRENDS = "results/official/trends.csv"
BENCHMARKS = "results/official/benchmarks.csv"
CONFIG = "config/config.yaml"
HYPOTHESES = "config/hypotheses.yaml"
PUBLISHED_DK = "config/published/dk_2024.yaml"


def _w(template: str, wave: str) -> str:
    return template.format(wave=wave)


def _sel(**pairs: str) -> str:
    return SELECTOR_SEPARATOR.join(f"{k}={v}" for k, v in pairs.items())


def _estimate(key: str, wave: str, indicator: str, segment: str = "all") -> list[ValueSpec]:
    """Share, interval and base of one indicator x segment of a wave's estimates.csv."""
    source, selector = _w(ESTIMATES, wave), _sel(indicator=indicator, segment=segment)
    return [ValueSpec(f"{key}.share", source, selector, ("share",), "pct"),
            ValueSpec(f"{key}.ci", source, selector, ("ci_low", "ci_high"), "pct_ci"),
            ValueSpec(f"{key}.n", source, selector, ("n",), "count")]


EFFECT_FORMATS = {"pp": ("pp", "pp_ci"), "ratio": ("decimal2", "decimal2_ci"),
                  "index": ("decimal3", "decimal3_ci")}


def _test(key: str, hypothesis: str, item: str, test: str, effect: str,
          segment: str = "all", secondary: bool = False) -> list[ValueSpec]:
    """Effect, interval, p, Holm- and BH-adjusted p of one row of the battery."""
    selector = _sel(hypothesis=hypothesis, item=item, segment=segment, test=test)
    point, interval = EFFECT_FORMATS[effect]
    specs = [ValueSpec(f"{key}.effect", TESTS, selector, ("effect_size",), point),
             ValueSpec(f"{key}.ci", TESTS, selector, ("effect_ci_low", "effect_ci_high"), interval),
             ValueSpec(f"{key}.p", TESTS, selector, ("p",), "p"),
             ValueSpec(f"{key}.p_holm", TESTS, selector, ("p_adj_holm",), "p"),
             ValueSpec(f"{key}.p_bh", TESTS, selector, ("p_adj_bh",), "p"),
             ValueSpec(f"{key}.n", TESTS, selector, ("n",), "count")]
    if secondary:
        specs.append(ValueSpec(f"{key}.h", TESTS, selector, ("secondary_effect",), "decimal2"))
    return specs


def _comparison(key: str, item: str, segment: str = "all") -> list[ValueSpec]:
    rows = {DK: _sel(item=item, segment=segment, row_type="estimate", wave=DK),
            NO: _sel(item=item, segment=segment, row_type="estimate", wave=NO)}
    specs = []
    for wave, selector in rows.items():
        short = wave.split("_")[0]
        specs += [ValueSpec(f"{key}.{short}", DK_NO, selector, ("share",), "pct"),
                  ValueSpec(f"{key}.{short}_ci", DK_NO, selector, ("ci_low", "ci_high"), "pct_ci")]
    difference = _sel(item=item, segment=segment, row_type="difference")
    specs += [ValueSpec(f"{key}.diff", DK_NO, difference, ("difference",), "pp"),
              ValueSpec(f"{key}.diff_ci", DK_NO, difference, ("ci_low", "ci_high"), "pp_ci")]
    return specs


def _official(key: str, country: str, year: str, indicator: str = "any_social_media",
              size_class: str = "10+") -> list[ValueSpec]:
    """An official figure and its year (the text names the year from the row, too)."""
    selector = _sel(country=country, indicator=indicator, size_class=size_class, year=year)
    return [ValueSpec(f"{key}.value", TRENDS, selector, ("value_pct",), "percent"),
            ValueSpec(f"{key}.year", TRENDS, selector, ("year",), "integer")]


def _benchmark(key: str, wave: str, sample: str = "all") -> list[ValueSpec]:
    selector = _sel(wave=wave, sample=sample, item="active_any")
    return [ValueSpec(f"{key}.share", BENCHMARKS, selector, ("share_pct",), "percent"),
            ValueSpec(f"{key}.ci", BENCHMARKS, selector, ("ci_low_pct", "ci_high_pct"),
                      "percent_ci"),
            ValueSpec(f"{key}.n", BENCHMARKS, selector, ("n",), "count"),
            ValueSpec(f"{key}.official", BENCHMARKS, selector, ("official_value_pct",), "percent"),
            ValueSpec(f"{key}.official_year", BENCHMARKS, selector, ("official_year",), "integer"),
            ValueSpec(f"{key}.n_undetermined", BENCHMARKS, selector, ("n_size_undetermined",),
                      "count")]


def _flow(wave: str) -> list[ValueSpec]:
    source, short = _w(FLOW, wave), wave.split("_")[0]
    specs = [ValueSpec(f"{short}.flow.raw", source, _sel(step="raw"), ("n_in",), "count"),
             ValueSpec(f"{short}.flow.excluded", source, "", ("n_excluded",), "count", agg="sum"),
             ValueSpec(f"{short}.flow.analysed", source, _sel(step="analysed"), ("n_out",),
                       "count")]
    for step in RULES:
        specs.append(ValueSpec(f"{short}.flow.{step}", source, _sel(step=step), ("n_excluded",),
                               "count"))
    return specs


def _segment(key: str, wave: str, scheme: str, segment: str,
             bounds: Sequence[str] = (), count_type: str = "segment") -> list[ValueSpec]:
    """A segment's count and, where the paper states them, its bounds (`min`, `max`)."""
    source = _w(SEGMENT_COUNTS, wave)
    selector = _sel(count_type=count_type, scheme=scheme, segment=segment)
    return [ValueSpec(f"{key}.n", source, selector, ("n",), "count"),
            *(ValueSpec(f"{key}.{bound}", source, selector, (bound,), "integer")
              for bound in bounds)]


def _published(key: str, figure_id: str) -> ValueSpec:
    return ValueSpec(key, _w(REPRODUCTION, DK), _sel(figure_id=figure_id), ("published",),
                     "published_pct")


def manuscript_specs() -> list[ValueSpec]:
    """Every variable paper.qmd uses, in the order the paper first needs them."""
    weights_no = _w(WEIGHTS, NO)
    micro_cell = _sel(wave=NO, cell="micro")
    specs: list[ValueSpec] = [
        # configuration the methods section states
        ValueSpec("config.confidence", f"{CONFIG}#alpha", "", ("value",), "confidence"),
        ValueSpec("config.alpha", f"{CONFIG}#alpha", "", ("value",), "decimal2"),
        ValueSpec("config.tolerance", f"{CONFIG}#reproduction", "", ("tolerance_pp",), "pp_value"),
        ValueSpec("config.partial_share", f"{CONFIG}#exclusions", "",
                  ("partial_min_answered_share",), "pct"),
        ValueSpec("config.duplicate_window", f"{CONFIG}#exclusions", "",
                  ("duplicate_window_minutes",), "count"),
        ValueSpec("config.speeder_share", f"{CONFIG}#exclusions", "",
                  ("speeder_min_share_of_median",), "pct"),
        ValueSpec("config.seed", f"{CONFIG}#random_seed", "", ("value",), "integer"),
        ValueSpec("config.mc_resamples", f"{HYPOTHESES}#settings", "",
                  ("monte_carlo_resamples",), "count"),
        ValueSpec("config.hypotheses", f"{HYPOTHESES}#hypotheses", "", (), "count", agg="count"),
        ValueSpec("dk.disclosure", f"{CONFIG}#waves.{DK}", "", ("disclosure",), "text"),
        ValueSpec("no.disclosure", f"{CONFIG}#waves.{NO}", "", ("disclosure",), "text"),
        # the Danish report's design as published
        ValueSpec("dk.invited", f"{PUBLISHED_DK}#source", "", ("invited",), "count"),
        ValueSpec("dk.responded", f"{PUBLISHED_DK}#source", "", ("responded",), "count"),
        ValueSpec("dk.response_rate", f"{PUBLISHED_DK}#source", "", ("response_rate_pct",),
                  "published_pct"),
    ]
    for segment in ("micro", "small", "medium"):
        specs.append(ValueSpec(f"dk.published_n.{segment}", f"{PUBLISHED_DK}#segments_published",
                               _sel(segment=segment), ("n",), "count"))
    specs += _flow(DK) + _flow(NO)
    # segmentation, incl. the report's inconsistent bounds
    for segment, bounds in (("micro", ("min", "max")), ("small", ("min", "max")),
                            ("medium", ("min",))):
        specs += _segment(f"dk.seg.{segment}", DK, "report_dk_2024", segment, bounds)
        specs += _segment(f"dk.seg_profiles.{segment}", DK, "report_dk_2024_profiles", segment,
                          bounds)
    specs += _segment("dk.seg.at_50", DK, "report_dk_2024", "boundary_50_employees",
                      count_type="boundary_check")
    specs += _segment("dk.seg.eu_unassigned", DK, "eu_sme", "unassigned", count_type="unassigned")
    for segment, bounds in (("micro_small", ()), ("medium_large", ("min",))):
        specs += _segment(f"dk.seg_common.{segment}", DK, "common_size", segment, bounds)
        specs += _segment(f"no.seg_common.{segment}", NO, "common_size", segment)
    for segment in ("micro", "small", "medium", "large"):
        specs += _segment(f"no.seg.{segment}", NO, "eu_sme_employers", segment)
    specs += [
        ValueSpec("no.sample.panel", BENCHMARKS, _sel(wave=NO, sample="panel", item="active_any"),
                  ("n_respondents",), "count"),
        ValueSpec("no.sample.expert", BENCHMARKS, _sel(wave=NO, sample="expert", item="active_any"),
                  ("n_respondents",), "count"),
        # weights
        ValueSpec("no.w.deff", weights_no, micro_cell, ("deff",), "decimal2"),
        ValueSpec("no.w.efficiency", weights_no, micro_cell, ("efficiency",), "pct"),
        ValueSpec("no.w.effective_n", weights_no, micro_cell, ("effective_n",), "decimal1"),
        ValueSpec("no.w.population_total", weights_no, micro_cell, ("population_total",), "count"),
        ValueSpec("no.w.micro_sample_share", weights_no, micro_cell, ("sample_share",), "pct"),
        ValueSpec("no.w.micro_population_share", weights_no, micro_cell, ("population_share",),
                  "pct"),
        ValueSpec("no.w.micro_weight", weights_no, micro_cell, ("weight",), "decimal2"),
        ValueSpec("no.w.large_weight", weights_no, _sel(wave=NO, cell="large"), ("weight",),
                  "decimal3"),
        ValueSpec("dk.w.deff", _w(WEIGHTS, DK), _sel(wave=DK, cell="all"), ("deff",), "decimal2"),
    ]
    weighted = _sel(wave=NO, item="present_facebook", segment="all", weighted="True")
    specs += [ValueSpec("no.w.facebook_share", STATS_ESTIMATES, weighted, ("share",), "pct"),
              ValueSpec("no.w.facebook_ci", STATS_ESTIMATES, weighted, ("ci_low", "ci_high"),
                        "pct_ci"),
              ValueSpec("no.w.facebook_n_eff", STATS_ESTIMATES, weighted, ("n_eff",), "decimal1")]
    # the Danish profile
    for key, indicator, segment in [
        ("fb_dw", "post_daily_weekly_facebook", "all"),
        ("li_dw", "post_daily_weekly_linkedin", "all"),
        ("ig_dw", "post_daily_weekly_instagram", "all"),
        ("tt_dw", "post_daily_weekly_tiktok", "all"),
        ("li_dw_micro", "post_daily_weekly_linkedin", "micro"),
        ("li_dw_small", "post_daily_weekly_linkedin", "small"),
        ("li_dw_medium", "post_daily_weekly_linkedin", "medium"),
        ("li_daily_micro", "post_daily_linkedin", "micro"),
        ("professional", "professional", "all"), ("professional_micro", "professional", "micro"),
        ("random", "professionalism_random", "all"),
        ("random_micro", "professionalism_random", "micro"),
        ("in_house", "handling_in_house", "all"), ("agency", "handling_agency", "all"),
        ("want_more", "want_more_with_resources", "all"),
        ("want_more_micro", "want_more_with_resources", "micro"),
        ("li_important", "important_linkedin", "all"),
        ("li_important_micro", "important_linkedin", "micro"),
        ("fb_important", "important_facebook", "all"), ("tt_important", "important_tiktok", "all"),
        ("effective", "effective_communication", "all"), ("learn", "learn_about_customers", "all"),
        ("effective_micro", "effective_communication", "micro"),
        ("learn_micro", "learn_about_customers", "micro"),
    ]:
        specs += _estimate(f"dk.est.{key}", DK, indicator, segment)
    for platform in ("facebook", "twitter", "linkedin", "youtube", "blog"):
        specs += _estimate(f"no.est.{platform}", NO, f"present_{platform}")
    # the battery
    specs += [ValueSpec("tests.n", TESTS, "", (), "count", agg="count")]
    specs += _test("t.h1_li", "H1_size_gradient", "post_daily_weekly_linkedin",
                   "cochran_armitage", "pp")
    specs += _test("t.h1_ig", "H1_size_gradient", "post_daily_weekly_instagram",
                   "cochran_armitage", "pp")
    specs += _test("t.h1_li_fb", "H1_size_gradient",
                   "post_daily_weekly_linkedin vs post_daily_weekly_facebook",
                   "gradient_difference_ordinal_logit", "ratio")
    specs += _test("t.h1b_li_fb", "H1b_linkedin_leads_medium",
                   "post_daily_weekly_linkedin vs post_daily_weekly_facebook", "mcnemar_exact",
                   "pp", segment="medium")
    specs += _test("t.h2_li", "H2_importance_use_gap",
                   "important_linkedin vs post_daily_weekly_linkedin", "mcnemar_exact", "pp",
                   secondary=True)
    specs += _test("t.h2_fb", "H2_importance_use_gap",
                   "important_facebook vs post_daily_weekly_facebook", "mcnemar_exact", "pp")
    specs += _test("t.h2b_li", "H2b_gap_largest_in_micro",
                   "important_linkedin vs post_daily_weekly_linkedin",
                   "gradient_difference_ordinal_logit", "ratio")
    specs += _test("t.h3", "H3_broadcast_over_dialogue",
                   "effective_communication vs learn_about_customers", "mcnemar_exact", "pp",
                   secondary=True)
    specs += _test("t.h3_micro", "H3_broadcast_over_dialogue",
                   "effective_communication vs learn_about_customers", "mcnemar_exact", "pp",
                   segment="micro")
    specs += _test("t.h3_gradient", "H3_broadcast_over_dialogue",
                   "effective_communication vs learn_about_customers",
                   "gradient_difference_ordinal_logit", "ratio")
    specs += _test("t.h3b_fb", "H3b_broadcast_over_dialogue_norway",
                   "purpose_profiling_marketing_facebook vs purpose_customer_dialogue_facebook",
                   "mcnemar_exact", "pp")
    specs += _test("t.h3c_li", "H3c_linkedin_for_recruitment_norway",
                   "purpose_recruitment_linkedin vs purpose_profiling_marketing_linkedin",
                   "mcnemar_exact", "pp")
    specs += _test("t.h4", "H4_professionalism_by_size", "professionalism", "ordinal_logit_trend",
                   "ratio")
    specs += _test("t.h5", "H5_resources_by_size", "want_more_with_resources",
                   "cochran_armitage", "pp")
    specs += _test("t.h7_fb", "H7_norway_panel_vs_expert", "present_facebook", "cmh", "ratio")
    specs += _test("t.h7_tw", "H7_norway_panel_vs_expert", "present_twitter", "cmh", "ratio")
    specs += _test("t.h8_li", "H8_denmark_vs_norway", "post_daily_weekly_linkedin", "cmh", "ratio")
    specs += _test("t.h8_li_int", "H8_denmark_vs_norway", "post_daily_weekly_linkedin",
                   "logit_group_interaction", "ratio")
    specs += _test("t.h8_fb", "H8_denmark_vs_norway", "post_daily_weekly_facebook", "cmh", "ratio")
    # reproduction of the published figures
    for short, wave in (("dk", DK), ("no", NO)):
        source = _w(REPRODUCTION, wave)
        specs += [ValueSpec(f"repro.{short}.total", source, "", (), "count", agg="count")]
        for status in ("match", "off", "report_inconsistent"):
            specs.append(ValueSpec(f"repro.{short}.{status}", source, _sel(status=status), (),
                                   "count", agg="count"))
    specs += [
        ValueSpec("repro.dk.conflicts", f"{PUBLISHED_DK}#conflicts", "", (), "count", agg="count"),
        _published("repro.pub.li_dw_all_hk2", "hk2_linkedin_dw_all"),
        _published("repro.pub.li_dw_all_hk4", "hk4_linkedin_dw_all"),
        _published("repro.pub.li_daily_micro", "hk2_linkedin_daily_micro"),
        _published("repro.pub.li_daily_medium", "hk2_linkedin_daily_medium"),
        _published("repro.pub.professional_micro_text", "hk1_professional_micro_text"),
        _published("repro.pub.professional_micro_chart", "hk1_professional_micro_chart"),
        _published("repro.pub.li_important_small_text", "hk5_linkedin_important_small_text"),
        _published("repro.pub.li_important_small", "ur_linkedin_important_small"),
        ValueSpec("repro.no.facebook_published", _w(REPRODUCTION, NO),
                  _sel(figure_id="abelia_facebook_all"), ("published",), "published_pct"),
    ]
    # Denmark 2024 vs Norway 2010
    specs += _comparison("cmp.li", "active_linkedin")
    specs += _comparison("cmp.fb", "active_facebook")
    specs += _comparison("cmp.li_ms", "active_linkedin", "micro_small")
    specs += _comparison("cmp.li_ml", "active_linkedin", "medium_large")
    specs += _comparison("cmp.any", "active_any")
    specs += [ValueSpec("cmp.non_comparabilities", NON_COMPARABILITIES, "", (), "count",
                        agg="count")]
    # official statistics
    for key, country, year in (("dk_first", "DK", "2013"), ("dk_last", "DK", "2019"),
                               ("no_first", "NO", "2013"), ("no_last", "NO", "2019"),
                               ("eu_first", "EU28", "2013"), ("eu_last", "EU27_2020", "2021")):
        specs += _official(f"off.{key}", country, year)
    specs += [
        ValueSpec("off.no_sn_2013_low", TRENDS, _sel(country="NO", indicator="social_networks",
                                                     size_class="10+", year="2013"),
                  ("value_min_pct",), "percent"),
        ValueSpec("off.no_sn_2013_high", TRENDS, _sel(country="NO", indicator="social_networks",
                                                      size_class="10+", year="2013"),
                  ("value_max_pct",), "percent"),
        ValueSpec("off.disagreements", TRENDS, _sel(disagreement="True"), (), "count", agg="count"),
    ]
    specs += [ValueSpec("bench.size_class", BENCHMARKS,
                        _sel(wave=DK, sample="all", item="active_any"), ("size_class",), "text")]
    specs += _benchmark("bench.dk", DK) + _benchmark("bench.no", NO)
    specs += _benchmark("bench.no_panel", NO, "panel") + _benchmark("bench.no_expert", NO, "expert")
    return specs


# --------------------------------------------------------------------------------------------
# Tables: pure builders over the source tables, then Markdown via DataFrame.to_markdown


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


SEGMENT_ROWS = [  # (wave, scheme, what the scheme is)
    (DK, "report_dk_2024", "report's Metode section, followed"),
    (DK, "report_dk_2024_profiles", "report's segment profiles"),
    (DK, "common_size", "comparison"),
    (NO, "eu_sme_employers", "EU SME classes"),
    (NO, "common_size", "comparison"),
]


def _range(low: str, high: str) -> str:
    return f"{low}+" if high == "" else f"{low}-{high}"


def segments_table(counts: Mapping[str, pd.DataFrame],
                   published: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Respondents per segment under each scheme the paper discusses, with the report's own
    published segment sizes beside its Metode scheme."""
    published_n = {str(p["segment"]): str(p["n"]) for p in published}
    rows = []
    for wave, scheme, label in SEGMENT_ROWS:
        table = counts[wave]
        segments = table[(table["count_type"] == "segment") & (table["scheme"] == scheme)]
        for _, seg in segments.iterrows():
            rows.append({
                "Wave": wave, "Scheme": f"{scheme} ({label})", "Segment": seg["segment"],
                "Employees": _range(seg["min"], seg["max"]), "n": fmt_count([seg["n"]]),
                "Published n": (fmt_count([published_n[seg["segment"]]])
                                if wave == DK and scheme == "report_dk_2024"
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
                          estimates: pd.DataFrame, source: str = REPRODUCTION) -> pd.DataFrame:
    """One row per published figure in a conflict: where it stands, the value printed, the
    recomputed share of its indicator and segment, and whether the reconstruction follows it."""
    rows = []
    for conflict in conflicts:
        for figure_id in conflict["figures"]:
            figure = _one(reproduction, _sel(figure_id=figure_id), source)
            estimate = _one(estimates, _sel(indicator=figure["indicator"],
                                            segment=figure["segment"]), ESTIMATES)
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


# The battery's rows the paper's table shows: (hypothesis, item, segment, test, contrast).
KEY_TESTS: list[tuple[str, str, str, str, str]] = [
    ("H1_size_gradient", "post_daily_weekly_linkedin", "all", "cochran_armitage",
     "LinkedIn daily/weekly, trend over segments"),
    ("H1_size_gradient", "post_daily_weekly_linkedin vs post_daily_weekly_facebook", "all",
     "gradient_difference_ordinal_logit", "LinkedIn minus Facebook, trend over segments"),
    ("H1b_linkedin_leads_medium", "post_daily_weekly_linkedin vs post_daily_weekly_facebook",
     "medium", "mcnemar_exact", "LinkedIn vs Facebook daily/weekly, medium firms"),
    ("H2_importance_use_gap", "important_linkedin vs post_daily_weekly_linkedin", "all",
     "mcnemar_exact", "LinkedIn: important vs daily/weekly use"),
    ("H2_importance_use_gap", "important_facebook vs post_daily_weekly_facebook", "all",
     "mcnemar_exact", "Facebook: important vs daily/weekly use"),
    ("H2b_gap_largest_in_micro", "important_linkedin vs post_daily_weekly_linkedin", "all",
     "gradient_difference_ordinal_logit", "LinkedIn gap, trend over segments"),
    ("H3_broadcast_over_dialogue", "effective_communication vs learn_about_customers", "all",
     "mcnemar_exact", "Effective communication vs learning about customers"),
    ("H3_broadcast_over_dialogue", "effective_communication vs learn_about_customers", "all",
     "gradient_difference_ordinal_logit", "The same difference, trend over segments"),
    ("H3b_broadcast_over_dialogue_norway",
     "purpose_profiling_marketing_facebook vs purpose_customer_dialogue_facebook", "all",
     "mcnemar_exact", "Facebook: profiling/marketing vs customer dialogue"),
    ("H3c_linkedin_for_recruitment_norway",
     "purpose_recruitment_linkedin vs purpose_profiling_marketing_linkedin", "all",
     "mcnemar_exact", "LinkedIn: recruitment vs profiling/marketing"),
    ("H4_professionalism_by_size", "professionalism", "all", "ordinal_logit_trend",
     "Professionalism, trend over segments"),
    ("H5_resources_by_size", "want_more_with_resources", "all", "cochran_armitage",
     "Would do more with more resources, trend"),
    ("H7_norway_panel_vs_expert", "present_facebook", "all", "cmh",
     "Facebook presence, expert vs panel"),
    ("H8_denmark_vs_norway", "post_daily_weekly_linkedin", "all", "cmh",
     "LinkedIn daily/weekly, DK vs NO"),
    ("H8_denmark_vs_norway", "post_daily_weekly_linkedin", "all", "logit_group_interaction",
     "LinkedIn daily/weekly, country x segment"),
]


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


def key_tests_table(tests: pd.DataFrame,
                    selection: Sequence[tuple[str, str, str, str, str]] = tuple(KEY_TESTS),
                    ) -> pd.DataFrame:
    """The battery's rows the paper's table shows, with p, Holm and BH p and the effect."""
    rows = []
    for hypothesis, item, segment, test, contrast in selection:
        row = _one(tests, _sel(hypothesis=hypothesis, item=item, segment=segment, test=test), TESTS)
        rows.append({"Hypothesis and contrast": f"{hypothesis.split('_')[0]}: {contrast}",
                     "Test": test.replace("_", " "),
                     "n": fmt_count([row["n"]]), "p": fmt_p_cell([row["p"]]),
                     "p Holm": fmt_p_cell([row["p_adj_holm"]]),
                     "p BH": fmt_p_cell([row["p_adj_bh"]]), "Effect [CI]": _effect(row)})
    return pd.DataFrame(rows)


def _share_ci(row: pd.Series) -> str:
    if row["share"] == "":
        return "no base"
    return f"{fmt_pct([row['share']])} {fmt_pct_ci([row['ci_low'], row['ci_high']])}"


def comparison_table(dk_no: pd.DataFrame, non_comparabilities: pd.DataFrame,
                     first: str = DK, second: str = NO) -> pd.DataFrame:
    """Per comparable item and common segment: both waves' shares and the difference, with
    the non-comparabilities specific to the item (those applying to all are in the caption)."""
    specific: dict[str, list[str]] = {}
    for _, nc in non_comparabilities.iterrows():
        if nc["applies_to"] != "all":
            for item in filter(None, (i.strip() for i in nc["items"].split(";"))):
                specific.setdefault(item, []).append(nc["id"])
    rows = []
    keys = dk_no[["item", "segment"]].drop_duplicates()
    for _, key in keys.iterrows():
        sel = {"item": key["item"], "segment": key["segment"]}
        a = _one(dk_no, _sel(**sel, row_type="estimate", wave=first), DK_NO)
        b = _one(dk_no, _sel(**sel, row_type="estimate", wave=second), DK_NO)
        d = _one(dk_no, _sel(**sel, row_type="difference"), DK_NO)

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


def table_sources() -> list[str]:
    """Every file the tables read (paths relative to the repository root)."""
    return sorted({
        *(_w(t, w) for t in (FLOW, SEGMENT_COUNTS, REPRODUCTION) for w in WAVES),
        _w(ESTIMATES, DK), _w(WEIGHTS, NO), TESTS, DK_NO, NON_COMPARABILITIES, BENCHMARKS,
        PUBLISHED_DK,
    })


def source_files(specs: Iterable[ValueSpec]) -> list[str]:
    """Every file the values and tables read: the rule's inputs."""
    return sorted({s.source.partition("#")[0] for s in specs} | set(table_sources()))


def write_tables(root: Path, out_dir: Path) -> list[Path]:
    """The paper's tables as Markdown files in out_dir (tables/ of the build)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    read = {path: read_source(root, path) for path in table_sources() if path.endswith(".csv")}
    published = yaml.safe_load((root / PUBLISHED_DK).read_text(encoding="utf-8"))
    tables: dict[str, str] = {
        "flow.md": to_markdown(flow_table({w: read[_w(FLOW, w)] for w in WAVES}),
                               numeric=[f"{w}: {k}" for w in WAVES
                                        for k in ("excluded", "remaining")]),
        "segments.md": to_markdown(
            segments_table({w: read[_w(SEGMENT_COUNTS, w)] for w in WAVES},
                           published["segments_published"]), numeric=["n", "Published n"]),
        "weights.md": to_markdown(
            weights_table(select(read[_w(WEIGHTS, NO)], _sel(wave=NO), _w(WEIGHTS, NO))),
            numeric=["Sample n", "Sample share", "Population", "Population share", "Weight"]),
        "reproduction.md": to_markdown(
            reproduction_table({w: read[_w(REPRODUCTION, w)] for w in WAVES}),
            numeric=["Published figures", "Match", "Off", "Report inconsistent"]),
        "inconsistencies.md": to_markdown(
            inconsistencies_table(published["conflicts"], read[_w(REPRODUCTION, DK)],
                                  read[_w(ESTIMATES, DK)]), numeric=["Published", "Recomputed"]),
        "inconsistencies_reasons.md": inconsistencies_reasons(published["conflicts"]),
        "tests.md": to_markdown(key_tests_table(read[TESTS]), numeric=["n", "p", "p Holm", "p BH"]),
        "comparison.md": to_markdown(comparison_table(read[DK_NO], read[NON_COMPARABILITIES])),
        "non_comparabilities.md": to_markdown(non_comparabilities_frame(read[NON_COMPARABILITIES])),
        "benchmarks.md": to_markdown(benchmarks_table(read[BENCHMARKS]),
                                     numeric=["n", "Official year", "Official value"]),
    }
    written = []
    for name, text in tables.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


PLACEHOLDER = re.compile(r"\{\{<\s*var\s+([^\s>]+)\s*>\}\}")


def keys_used(text: str) -> list[str]:
    """The variable keys a manuscript source uses, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def used_specs(specs: Iterable[ValueSpec], text: str,
               source: str = "manuscript") -> list[ValueSpec]:
    """The specs of the keys the manuscript uses, in declaration order: values.csv lists exactly
    the numbers the reader sees. A key the text uses but no spec declares is an error (keys
    under `meta.` are added by the render step)."""
    specs = list(specs)
    used = set(keys_used(text))
    declared = {s.key for s in specs}
    unknown = sorted(k for k in used - declared if not k.startswith("meta."))
    if unknown:
        raise InputError(source, "the manuscript uses variables no value spec declares",
                         found=unknown,
                         expected="keys of smesocial.manuscript_values.manuscript_specs")
    return [s for s in specs if s.key in used]
