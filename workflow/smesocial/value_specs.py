"""The manuscript's value map, manuscript/values.yaml, and how a value is shown.

paper.qmd writes every inline number as a `{{< var key >}}` shortcode; values.yaml says, for
each key, which file it comes from, which row (a selector such as
`figure_id=hk4_linkedin_dw_micro`), which column(s), how it is shown and how rows aggregate,
and, in its `tables` section, which files and rows the generated tables show. This module
reads and checks that file (`load_value_map`: a bad entry is one InputError naming the file,
the key and what was expected), picks the specs the text uses (`used_specs`) and the files the
manuscript reads (`manuscript_sources`), and holds the formatting rules (FORMATS). Nothing
about the study is written here: waves, hypotheses and files are all in values.yaml.

It imports only the standard library and yaml: manuscript.smk calls it whenever Snakemake reads
the workflow, to declare those files as the rule's inputs. Reading them (pandas) is
smesocial.manuscript_values.

Formatting rules live in one place, FORMATS: percentages with one decimal, counts with a
thousands separator, p-values as "= 0.027" or "< 0.001", intervals as "[a, b]". Raw values are
read as text and rounded with Decimal (half up), so 0.05 rounds the same way on every machine
and a value shown is exactly the source cell's value rounded, never a float artefact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from smesocial.config import parse_yaml
from smesocial.errors import InputError
from smesocial.manuscript import SHORTCODE

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


def whole_number(raw: str) -> Decimal:
    value = _decimal(raw)
    if value != value.to_integral_value():
        raise ValueError(f"count {raw!r} is not a whole number")
    return value


def fmt_count(raw: Sequence[str]) -> str:
    """A count: whole number with a thousands separator (1,223)."""
    return f"{int(whole_number(raw[0])):,}"


def fmt_integer(raw: Sequence[str]) -> str:
    """A whole number shown as is (years, seeds: 2013, 20240115)."""
    return str(int(whole_number(raw[0])))


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


def fmt_times(raw: Sequence[str]) -> str:
    """How often, in words: 1 -> "once", 2 -> "twice", 3 -> "3 times" (never "1 time(s)")."""
    count = int(whole_number(raw[0]))
    return {1: "once", 2: "twice"}.get(count, f"{count:,} times")


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
    "p": fmt_p, "p_cell": fmt_p_cell, "confidence": fmt_confidence, "times": fmt_times,
    "text": fmt_text,
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
# Selectors

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


# --------------------------------------------------------------------------------------------
# Value specs, as declared in values.yaml


@dataclass(frozen=True)
class ValueSpec:
    """Where one manuscript variable comes from and how it is shown."""

    key: str  # dotted: dk.flow.raw
    source: str  # path relative to the repository root; `file.yaml#key` for a YAML node
    selector: str  # "col=value & col=value" ("" = every row)
    columns: tuple[str, ...]  # one column, two for an interval, none for a count
    fmt: str  # a key of FORMATS
    agg: str = "cell"  # cell: exactly one row; count: rows selected; sum: column summed


ENTRY_FIELDS = frozenset({"key", "source", "selector", "column", "format", "agg", "template"})
MEMBER_FIELDS = frozenset({"selector", "column", "format", "agg"})


TEXT_EXPECTED = "a string (quote values YAML would read as numbers or booleans)"
SELECTOR_EXPECTED = "column=value joined by ' & ', as one string"


def _text(node: Mapping[str, Any], field: str, where: str, file: str, required: bool = True,
          expected: str = TEXT_EXPECTED) -> str:
    """A field that must be a string when given: YAML reads `NO`, `yes` or `2013` unquoted as
    a boolean or a number, which would silently select nothing."""
    value = node.get(field)
    if not required and value in (None, ""):
        return ""
    if not isinstance(value, str) or not value.strip():
        raise InputError(file, f"{where}: '{field}' must be a non-empty text", found=value,
                         expected=expected)
    return value


def _columns(node: Mapping[str, Any], where: str, file: str) -> tuple[str, ...]:
    value = node.get("column")
    if value is None:
        return ()
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise InputError(file, f"{where}: 'column' must be a column name or a list of two",
                         found=value, expected="e.g. share, or [ci_low, ci_high]")
    return tuple(names)


def _spec(key: str, source: str, selector: str, node: Mapping[str, Any], where: str,
          file: str) -> ValueSpec:
    """One checked spec: a known format and aggregation, a parseable selector, and as many
    columns as the format and aggregation read."""
    fmt = _text(node, "format", where, file)
    if fmt not in FORMATS:
        raise InputError(file, f"{where}: unknown format", found=fmt,
                         expected=f"one of {', '.join(FORMATS)}")
    agg = node.get("agg", "cell")
    if agg not in AGGREGATIONS:
        raise InputError(file, f"{where}: unknown agg", found=agg,
                         expected=f"one of {', '.join(AGGREGATIONS)}")
    try:
        parse_selector(selector)
    except ValueError as exc:
        raise InputError(file, f"{where}: {exc}", found=selector,
                         expected=SELECTOR_EXPECTED) from exc
    columns = _columns(node, where, file)
    expected = 0 if agg == "count" else 2 if fmt in INTERVAL_FORMATS else 1
    if len(columns) != expected:
        raise InputError(file, f"{where}: format {fmt} with agg {agg} reads {expected} "
                         f"column(s), the entry names {len(columns)}", found=list(columns),
                         expected={0: "no column", 1: "one column",
                                   2: "a list of two columns [low, high]"}[expected])
    return ValueSpec(key, source, selector, columns, fmt, agg)


def _joined(*selectors: str) -> str:
    return SELECTOR_SEPARATOR.join(s for s in selectors if s)


def _mapping(node: Any, what: str, file: str) -> Mapping[str, Any]:
    if not isinstance(node, Mapping):
        raise InputError(file, f"{what} must be a mapping", found=node)
    return node


def _unknown_fields(node: Mapping[str, Any], allowed: frozenset[str], where: str,
                    file: str) -> None:
    unknown = sorted(map(str, set(node) - allowed))
    if unknown:
        raise InputError(file, f"{where}: unknown field(s)", found=unknown,
                         expected=f"fields among {', '.join(sorted(allowed))}")


def value_specs(document: Any, file: str) -> list[ValueSpec]:
    """The specs a parsed values.yaml declares, templates expanded, in declaration order.
    `file` names the file in messages."""
    document = _mapping(document, "the file", file)
    _unknown_fields(document, frozenset({"templates", "values", "tables"}), "top level",
                    file)
    templates = _mapping(document.get("templates") or {}, "'templates'", file)
    entries = document.get("values")
    if not isinstance(entries, list) or not entries:
        raise InputError(file, "'values' must be a non-empty list of entries", found=entries)
    specs: list[ValueSpec] = []
    for position, raw in enumerate(entries, start=1):
        entry = _mapping(raw, f"values entry {position}", file)
        key = _text(entry, "key", f"values entry {position}", file)
        where = f"value {key!r}"
        _unknown_fields(entry, ENTRY_FIELDS, where, file)
        source = _text(entry, "source", where, file)
        selector = _text(entry, "selector", where, file, required=False,
                         expected=SELECTOR_EXPECTED)
        if "template" not in entry:
            specs.append(_spec(key, source, selector, entry, where, file))
            continue
        name = _text(entry, "template", where, file)
        if name not in templates:
            raise InputError(file, f"{where}: unknown template", found=name,
                             expected=f"one of {', '.join(templates) or '(none declared)'}")
        shown_by_entry = sorted(set(entry) & (MEMBER_FIELDS - {"selector"}))
        if shown_by_entry:
            raise InputError(file, f"{where}: an entry with a template takes column, format "
                             "and agg from the template's members", found=shown_by_entry)
        members = _mapping(templates[name], f"template {name!r}", file)
        for member, raw_member in members.items():
            member_where = f"{where} (template {name!r}, member {member!r})"
            if not isinstance(member, str):
                # YAML 1.1 reads an unquoted no/off/yes as a boolean
                raise InputError(file, f"{member_where}: a member name must be text",
                                 found=member, expected='a string; quote it ("no", "off")')
            node = _mapping(raw_member, f"template {name!r} member {member!r}", file)
            _unknown_fields(node, MEMBER_FIELDS, member_where, file)
            extra = _text(node, "selector", member_where, file, required=False,
                          expected=SELECTOR_EXPECTED)
            specs.append(_spec(f"{key}.{member}", source, _joined(selector, extra), node,
                               member_where, file))
    twice = sorted(key for key, n in Counter(s.key for s in specs).items() if n > 1)
    if twice:
        raise InputError(file, "value key(s) declared twice", found=twice,
                         expected="each key once")
    return specs


# --------------------------------------------------------------------------------------------
# The generated tables: which files each reads and which rows it shows


@dataclass(frozen=True)
class SchemeRow:
    wave: str
    scheme: str
    label: str  # what the scheme is, shown beside its name


@dataclass(frozen=True)
class KeyTest:
    hypothesis: str
    item: str
    segment: str
    test: str
    contrast: str  # what the row compares, in words


@dataclass(frozen=True)
class TableSettings:
    """The `tables` section of values.yaml; wave -> file mappings keep the file's order."""

    flows: dict[str, str]
    segment_counts: dict[str, str]
    segment_schemes: tuple[SchemeRow, ...]
    published_segments: str  # `file.yaml#key`: the report's published segment sizes
    published_beside: tuple[str, str]  # (wave, scheme) the published sizes stand beside
    weights: str
    weights_selector: str
    reproductions: dict[str, str]
    conflicts: str  # `file.yaml#key`
    inconsistency_reproduction: str
    inconsistency_estimates: str
    tests: str
    key_tests: tuple[KeyTest, ...]
    comparison: str
    comparison_waves: tuple[str, str]
    non_comparabilities: str
    benchmarks: str

    def sources(self) -> dict[str, list[str]]:
        """The files each generated table reads (`file.yaml#key` for a YAML node), by the
        table's file name under tables/ of the build."""
        return {
            "flow.md": list(self.flows.values()),
            "segments.md": [*self.segment_counts.values(), self.published_segments],
            "weights.md": [self.weights],
            "reproduction.md": list(self.reproductions.values()),
            "inconsistencies.md": [self.conflicts, self.inconsistency_reproduction,
                                   self.inconsistency_estimates],
            "inconsistencies_reasons.md": [self.conflicts],
            "tests.md": [self.tests],
            "comparison.md": [self.comparison, self.non_comparabilities],
            "non_comparabilities.md": [self.non_comparabilities],
            "benchmarks.md": [self.benchmarks],
        }

    def files(self) -> list[str]:
        """Every file the tables read (a YAML node's file, without its `#key`)."""
        paths = [*self.flows.values(), *self.segment_counts.values(), self.published_segments,
                 self.weights, *self.reproductions.values(), self.conflicts,
                 self.inconsistency_reproduction, self.inconsistency_estimates, self.tests,
                 self.comparison, self.non_comparabilities, self.benchmarks]
        return sorted({p.partition("#")[0] for p in paths})


# The fields of each table's section (`flow` and `reproduction` are wave: file mappings).
TABLE_FIELDS: dict[str, frozenset[str]] = {
    "segments": frozenset({"counts", "schemes", "published", "published_beside"}),
    "weights": frozenset({"source", "selector"}),
    "inconsistencies": frozenset({"conflicts", "reproduction", "estimates"}),
    "tests": frozenset({"source", "rows"}),
    "comparison": frozenset({"source", "waves", "non_comparabilities"}),
    "benchmarks": frozenset({"source"}),
}


def _wave_files(node: Any, where: str, file: str) -> dict[str, str]:
    node = _mapping(node, where, file)
    if not node:
        raise InputError(file, f"{where}: no wave listed", expected="wave: file")
    names = [w for w in node if not isinstance(w, str)]
    if names:
        raise InputError(file, f"{where}: a wave name must be text", found=names,
                         expected="a string; quote names YAML reads otherwise")
    return {wave: _text(node, wave, where, file) for wave in node}


def _rows(node: Any, fields: Sequence[str], where: str, file: str) -> list[list[str]]:
    if not isinstance(node, list) or not node:
        raise InputError(file, f"{where} must be a non-empty list", found=node,
                         expected=f"mappings with {', '.join(fields)}")
    rows = []
    for position, raw in enumerate(node, start=1):
        row = _mapping(raw, f"{where} row {position}", file)
        _unknown_fields(row, frozenset(fields), f"{where} row {position}", file)
        rows.append([_text(row, f, f"{where} row {position}", file) for f in fields])
    return rows


def table_settings(node: Any, file: str) -> TableSettings:
    """The `tables` section checked: every file and field a table needs, as text."""
    tables = _mapping(node, "'tables'", file)
    _unknown_fields(tables, frozenset(TABLE_FIELDS) | {"flow", "reproduction"}, "'tables'",
                    file)

    def section(name: str) -> Mapping[str, Any]:
        found = _mapping(tables.get(name), f"tables.{name}", file)
        _unknown_fields(found, TABLE_FIELDS[name], f"tables.{name}", file)
        return found

    segments, weights = section("segments"), section("weights")
    inconsistencies, tests = section("inconsistencies"), section("tests")
    comparison, benchmarks = section("comparison"), section("benchmarks")
    beside = _mapping(segments.get("published_beside"), "tables.segments.published_beside", file)
    waves = comparison.get("waves")
    if not (isinstance(waves, list) and len(waves) == 2
            and all(isinstance(w, str) and w for w in waves)):
        raise InputError(file, "tables.comparison.waves must name the two waves compared",
                         found=waves, expected="[first, second]")
    where = "tables.segments"
    counts = _wave_files(segments.get("counts"), f"{where}.counts", file)
    schemes = tuple(SchemeRow(*row) for row in _rows(
        segments.get("schemes"), ("wave", "scheme", "label"), f"{where}.schemes", file))
    uncounted = sorted({s.wave for s in schemes} - set(counts))
    if uncounted:
        raise InputError(file, f"{where}.schemes names a wave {where}.counts has no file for",
                         found=uncounted, expected=f"one of {', '.join(counts)}")
    return TableSettings(
        flows=_wave_files(tables.get("flow"), "tables.flow", file),
        segment_counts=counts,
        segment_schemes=schemes,
        published_segments=_text(segments, "published", where, file),
        published_beside=(_text(beside, "wave", f"{where}.published_beside", file),
                          _text(beside, "scheme", f"{where}.published_beside", file)),
        weights=_text(weights, "source", "tables.weights", file),
        weights_selector=_text(weights, "selector", "tables.weights", file, required=False,
                               expected=SELECTOR_EXPECTED),
        reproductions=_wave_files(tables.get("reproduction"), "tables.reproduction", file),
        conflicts=_text(inconsistencies, "conflicts", "tables.inconsistencies", file),
        inconsistency_reproduction=_text(inconsistencies, "reproduction",
                                         "tables.inconsistencies", file),
        inconsistency_estimates=_text(inconsistencies, "estimates", "tables.inconsistencies",
                                      file),
        tests=_text(tests, "source", "tables.tests", file),
        key_tests=tuple(KeyTest(*row) for row in _rows(
            tests.get("rows"), ("hypothesis", "item", "segment", "test", "contrast"),
            "tables.tests.rows", file)),
        comparison=_text(comparison, "source", "tables.comparison", file),
        comparison_waves=(waves[0], waves[1]),
        non_comparabilities=_text(comparison, "non_comparabilities", "tables.comparison", file),
        benchmarks=_text(benchmarks, "source", "tables.benchmarks", file),
    )


# --------------------------------------------------------------------------------------------
# The whole file


@dataclass(frozen=True)
class ValueMap:
    """manuscript/values.yaml: every value spec (templates expanded) and the tables' settings."""

    specs: list[ValueSpec]
    tables: TableSettings


def load_value_map(path: Path | str) -> ValueMap:
    """values.yaml read and checked; any problem is one InputError naming the file and entry."""
    path = Path(path)
    try:
        document = parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(str(path), "the manuscript's value map is missing",
                         expected="a YAML file with 'templates', 'values' and 'tables'") from exc
    except yaml.YAMLError as exc:
        raise InputError(str(path), f"not valid YAML: {exc}") from exc
    document = _mapping(document, "the file", str(path))
    return ValueMap(value_specs(document, str(path)),
                    table_settings(document.get("tables"), str(path)))


# --------------------------------------------------------------------------------------------
# The specs a manuscript text uses


def keys_used(text: str) -> list[str]:
    """The variable keys a manuscript source uses, in order of first use."""
    return list(dict.fromkeys(m.group(2) for m in SHORTCODE.finditer(text)
                              if m.group(1) == "var"))


def used_specs(specs: Iterable[ValueSpec], text: str, source: str = "manuscript",
               values_file: str = "the value map") -> list[ValueSpec]:
    """The specs of the keys the manuscript uses, in declaration order: values.csv lists exactly
    the numbers the reader sees. A key the text uses but no spec declares is an error (keys
    under `meta.` are added by the render step)."""
    specs = list(specs)
    used = set(keys_used(text))
    declared = {s.key for s in specs}
    unknown = sorted(k for k in used - declared if not k.startswith("meta."))
    if unknown:
        raise InputError(source, "the manuscript uses variables no value spec declares",
                         found=unknown, expected=f"keys declared in {values_file}")
    return [s for s in specs if s.key in used]


def manuscript_sources(value_map: ValueMap, text: str, source: str = "manuscript",
                       values_file: str = "the value map") -> list[str]:
    """Every file the manuscript's values and tables read: the rule's inputs. Only the values
    the text uses count, so a results file no number is read from is no dependency."""
    used = used_specs(value_map.specs, text, source, values_file)
    return sorted({s.source.partition("#")[0] for s in used} | set(value_map.tables.files()))
