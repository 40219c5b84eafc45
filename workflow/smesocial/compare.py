"""Comparing waves: the harmonisation spec, the cross-country table and the same-country tables.

`config/harmonisation.yaml` says which items the Danish and Norwegian instruments let us
compare and how each measures them (`load_spec`, which checks the spec against its JSON schema
and against the configuration and the harmonised variables, every error naming the key).
`compare_cross_country` computes only those items, per wave and common size segment, with the
difference between the two waves and a note naming the non-comparabilities. `compare_waves`
needs no spec: waves of one country share the harmonised variables, so every indicator of
config/indicators.yaml two waves both measure is set side by side.

Shares are on the base of respondents who answered (as smesocial.stats.share_estimates), with
Wilson intervals; differences of two independent shares get Newcombe's hybrid score interval.

pandas and smesocial.stats (scipy, statsmodels) are imported inside the functions that compute:
the workflow imports this module while it reads the Snakefile, to check the spec before any job
runs, and those imports would add about two seconds to every Snakemake invocation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smesocial.config import (Codebook, Harmonised, Indicator, expand_template, load_yaml,
                              validate_config)
from smesocial.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

SCHEMA = Path(__file__).resolve().parents[2] / "config" / "schemas" / "harmonisation.schema.yaml"
ESTIMATE, DIFFERENCE = "estimate", "difference"
ALL_SEGMENTS = "all"  # the segment row of everyone, as smesocial.stats.ALL_SEGMENTS
COMPARISON_COLUMNS = [
    "comparison", "item", "label", "segment", "row_type", "wave", "country", "year", "definition",
    "n", "k", "share", "difference", "ci_low", "ci_high", "ci_method", "note", "disclosure",
]
NAN = float("nan")


# --------------------------------------------------------------------------------------------
# The spec


@dataclass(frozen=True)
class Instrument:
    id: str
    country: str
    description: str


@dataclass(frozen=True)
class Definition:
    """How one instrument measures an item. `variable` is a `{platform}` template when
    `combine` is "any" (taken over every platform the wave measured)."""

    instrument: str
    variable: str
    values: tuple[Any, ...]
    meaning: str
    among: tuple[Any, ...] | None = None
    combine: str | None = None


@dataclass(frozen=True)
class ComparableItem:
    id: str
    template: str  # the spec key it expands from, e.g. active_{platform}
    label: str
    platform: str
    definitions: Mapping[str, Definition]  # instrument id -> definition


@dataclass(frozen=True)
class CountrySpecific:
    instrument: str
    variables: tuple[str, ...]  # expanded harmonised variable names
    reason: str


@dataclass(frozen=True)
class NonComparability:
    id: str
    dimension: str
    description: str
    by_instrument: Mapping[str, str]
    consequence: str
    applies_to: tuple[str, ...] | None  # item templates; None = all

    def applies(self, item: ComparableItem) -> bool:
        return self.applies_to is None or item.template in self.applies_to


@dataclass(frozen=True)
class Benchmark:
    item: str
    official_indicator: str
    size_class: str

    @property
    def min_employees(self) -> int:
        return int(self.size_class.rstrip("+"))


@dataclass(frozen=True)
class HarmonisationSpec:
    path: str
    common_scheme: str
    instruments: Mapping[str, Instrument]
    first: str  # cross-country waves; differences are first - second
    second: str
    items: Mapping[str, ComparableItem]
    country_specific: tuple[CountrySpecific, ...]
    non_comparabilities: Mapping[str, NonComparability]
    benchmarks: tuple[Benchmark, ...] = field(default_factory=tuple)

    def instrument_of(self, country: str) -> Instrument | None:
        return next((i for i in self.instruments.values() if i.country == country), None)

    def cited(self, item: ComparableItem) -> list[str]:
        """The non-comparabilities an item's comparison names, in spec order."""
        return [nc.id for nc in self.non_comparabilities.values() if nc.applies(item)]


def _fail(path: str, key: str, problem: str, expected: str | None = None,
          found: object = None) -> InputError:
    return InputError(path, f"invalid harmonisation spec at key '{key}': {problem}",
                      expected=expected, found=found)


def load_spec(path: str | Path, config: Mapping[str, Any], harmonised: Harmonised) -> HarmonisationSpec:
    """Read and check config/harmonisation.yaml: its schema, then everything it refers to
    (waves and schemes in `config`, variables, levels and platforms in `harmonised`)."""
    where = str(path)
    raw = load_yaml(path)
    validate_config(raw, load_yaml(SCHEMA), where)
    waves = config["waves"]

    scheme = raw["common_scheme"]
    if scheme not in config.get("segmentation", {}):
        raise _fail(where, "common_scheme", f"no segmentation scheme {scheme!r} in the config",
                    expected=f"one of {', '.join(config.get('segmentation', {}))}")

    instruments = {k: Instrument(k, str(v["country"]), _text(v["description"]))
                   for k, v in raw["instruments"].items()}
    seen: dict[str, str] = {}
    for instrument in instruments.values():
        if instrument.country in seen:
            raise _fail(where, f"instruments.{instrument.id}.country",
                        f"country {instrument.country} already has instrument "
                        f"{seen[instrument.country]!r}",
                        expected="one instrument per country (a wave uses its country's)")
        seen[instrument.country] = instrument.id

    pair = {}
    for side in ("first", "second"):
        wave = raw["cross_country"][side]
        if wave not in waves:
            raise _fail(where, f"cross_country.{side}", f"wave {wave!r} is not configured",
                        expected=f"one of {', '.join(waves)}")
        country = str(waves[wave]["country"])
        if country not in seen:
            raise _fail(where, f"cross_country.{side}", f"no instrument for country {country} "
                        f"of wave {wave!r}", expected="an entry under `instruments` for it")
        pair[side] = seen[country]
    if pair["first"] == pair["second"]:
        raise _fail(where, "cross_country", "both waves use the same instrument",
                    expected="waves of two countries (waves of one country are compared in "
                    "<country>_waves.csv without this spec)")

    items = _load_items(where, raw["comparable"], instruments, harmonised, set(pair.values()))
    specific = _load_specific(where, raw["country_specific"], instruments, harmonised, items)

    non_comparabilities: dict[str, NonComparability] = {}
    templates = list(raw["comparable"])
    for key, entry in raw["non_comparabilities"].items():
        for instrument in entry["by_instrument"]:
            if instrument not in instruments:
                raise _fail(where, f"non_comparabilities.{key}.by_instrument.{instrument}",
                            "unknown instrument", expected=f"one of {', '.join(instruments)}")
        applies = entry["applies_to"]
        if applies != "all":
            for template in applies:
                if template not in templates:
                    raise _fail(where, f"non_comparabilities.{key}.applies_to",
                                f"{template!r} is not a comparable item",
                                expected=f"`all` or items of {', '.join(templates)}")
        non_comparabilities[key] = NonComparability(
            key, entry["dimension"], _text(entry["description"]),
            {k: _text(v) for k, v in entry["by_instrument"].items()}, _text(entry["consequence"]),
            None if applies == "all" else tuple(applies))

    benchmarks = []
    for i, entry in enumerate(raw.get("official_benchmarks") or []):
        if entry["item"] not in items or items[entry["item"]].platform:
            raise _fail(where, f"official_benchmarks[{i}].item",
                        f"{entry['item']!r} is not a comparable item without a platform",
                        expected=f"one of {', '.join(k for k, v in items.items() if not v.platform)}")
        benchmarks.append(Benchmark(entry["item"], entry["official_indicator"], entry["size_class"]))

    return HarmonisationSpec(where, scheme, instruments, raw["cross_country"]["first"],
                             raw["cross_country"]["second"], items, tuple(specific),
                             non_comparabilities, tuple(benchmarks))


def _text(value: str) -> str:
    return " ".join(str(value).split())


def _load_items(where: str, raw: Mapping[str, Any], instruments: Mapping[str, Instrument],
                harmonised: Harmonised, required: set[str]) -> dict[str, ComparableItem]:
    items: dict[str, ComparableItem] = {}
    for template, entry in raw.items():
        key = f"comparable.{template}"
        platforms = list(entry.get("platforms") or [])
        unknown = [p for p in platforms if p not in harmonised.platforms]
        if unknown:
            raise _fail(where, f"{key}.platforms", f"unknown platform(s) {unknown}",
                        expected=f"harmonised platforms: {', '.join(harmonised.platforms)}")
        if ("{platform}" in template) != bool(platforms):
            raise _fail(where, key, "an item id with {platform} needs `platforms`, and only it",
                        expected="both or neither")
        missing = sorted(required - set(entry["definitions"]))
        if missing:
            raise _fail(where, f"{key}.definitions", f"no definition for instrument(s) {missing}",
                        expected="a definition for each instrument of cross_country's waves")
        for instrument, spec in entry["definitions"].items():
            if instrument not in instruments:
                raise _fail(where, f"{key}.definitions.{instrument}", "unknown instrument",
                            expected=f"one of {', '.join(instruments)}")
            _check_definition(where, f"{key}.definitions.{instrument}", spec, platforms, harmonised)
        chosen = {p: harmonised.platforms[p] for p in platforms}
        expansions = expand_template(template, {"platform": chosen}, where) if platforms else {template: {}}
        for item_id, assignment in expansions.items():
            platform, label = assignment.get("platform", ("", ""))
            definitions = {}
            for instrument, spec in entry["definitions"].items():
                variable = spec["variable"]
                if platform and spec.get("combine") != "any":
                    variable = variable.format(platform=platform)
                definitions[instrument] = Definition(
                    instrument, variable, tuple(spec["values"]), _text(spec["meaning"]),
                    tuple(spec["among"]) if "among" in spec else None, spec.get("combine"))
            items[item_id] = ComparableItem(item_id, template,
                                            entry["label"].format(platform_label=label),
                                            platform, definitions)
    return items


def _check_definition(where: str, key: str, spec: Mapping[str, Any], platforms: list[str],
                      harmonised: Harmonised) -> None:
    template = spec["variable"]
    combine = spec.get("combine") == "any"
    if combine and "{platform}" not in template:
        raise _fail(where, f"{key}.variable", "combine: any needs a {platform} template",
                    found=template)
    if "{platform}" in template and not combine and not platforms:
        raise _fail(where, f"{key}.variable", "a {platform} variable in an item without "
                    "`platforms` (and without combine: any)", found=template)
    over = list(harmonised.platforms) if combine else (platforms or [""])
    for platform in over:
        variable = template.format(platform=platform) if "{platform}" in template else template
        levels = _levels(harmonised, variable)
        if levels is None:
            raise _fail(where, f"{key}.variable", f"{variable!r} is not a harmonised variable",
                        expected="a variable or derived variable of the harmonised spec")
        for option in ("values", "among"):
            for value in spec.get(option) or []:
                if value not in levels or type(value) is not type(next(iter(levels))):
                    raise _fail(where, f"{key}.{option}", f"{value!r} is not a level of "
                                f"{variable}", expected=f"levels of its scale: {sorted(levels, key=str)}")


def _levels(harmonised: Harmonised, variable: str) -> set[Any] | None:
    """The values a harmonised variable takes (booleans for yes/no and derived ones)."""
    if variable in harmonised.derived:
        return {True, False}
    spec = harmonised.variables.get(variable)
    if spec is None:
        return None
    scale = harmonised.scales[spec.scale]
    return {True, False} if scale.type == "boolean" else set(scale.levels)


def _load_specific(where: str, raw: Sequence[Mapping[str, Any]], instruments: Mapping[str, Instrument],
                   harmonised: Harmonised, items: Mapping[str, ComparableItem]) -> list[CountrySpecific]:
    # A variable compared on its own (not merely one of an "any platform" set) cannot also be
    # declared country-specific for the same instrument.
    compared = {(d.instrument, d.variable) for item in items.values()
                for d in item.definitions.values() if d.combine is None}
    out = []
    for i, entry in enumerate(raw):
        key = f"country_specific[{i}]"
        if entry["instrument"] not in instruments:
            raise _fail(where, f"{key}.instrument", f"unknown instrument {entry['instrument']!r}",
                        expected=f"one of {', '.join(instruments)}")
        platforms = list(entry.get("platforms") or harmonised.platforms)
        unknown = [p for p in platforms if p not in harmonised.platforms]
        if unknown:
            raise _fail(where, f"{key}.platforms", f"unknown platform(s) {unknown}",
                        expected=f"harmonised platforms: {', '.join(harmonised.platforms)}")
        dimensions = {"platform": {p: harmonised.platforms[p] for p in platforms},
                      "purpose": harmonised.purposes}
        variables: list[str] = []
        for template in entry["variables"]:
            for variable in expand_template(template, dimensions, where):
                if _levels(harmonised, variable) is None:
                    raise _fail(where, f"{key}.variables", f"{variable!r} is not a harmonised "
                                "variable", expected="harmonised variable names (templates allowed)")
                if (entry["instrument"], variable) in compared:
                    raise _fail(where, f"{key}.variables", f"{variable!r} is declared "
                                f"country-specific but compared in `comparable`",
                                expected="an item either comparable or country-specific")
                variables.append(variable)
        out.append(CountrySpecific(entry["instrument"], tuple(variables), _text(entry["reason"])))
    return out


# --------------------------------------------------------------------------------------------
# Waves and tables


@dataclass(frozen=True)
class WaveInfo:
    id: str
    country: str
    year: int
    disclosure: str
    sample: str = ""


def wave_info(config: Mapping[str, Any], wave: str) -> WaveInfo:
    entry = config["waves"][wave]
    return WaveInfo(wave, str(entry["country"]), int(entry["year"]), _text(entry["disclosure"]),
                    str(entry.get("sample", "")))


def country_waves(config: Mapping[str, Any], minimum: int = 2) -> dict[str, list[str]]:
    """Country -> its waves in time order (year, then id), for countries with >= `minimum`."""
    by_country: dict[str, list[str]] = {}
    for wave in sorted(config["waves"], key=lambda w: (int(config["waves"][w]["year"]), w)):
        by_country.setdefault(str(config["waves"][wave]["country"]), []).append(wave)
    return {c: ws for c, ws in sorted(by_country.items()) if len(ws) >= minimum}


def with_segment(clean: pd.DataFrame, scheme: str, source: str = "clean.parquet") -> pd.DataFrame:
    """The analysis table with `segment` set to the respondent's segment under `scheme` (its
    `segment_<scheme>` column; NA where the scheme holds none of the range)."""
    column = f"segment_{scheme}"
    if column not in clean.columns:
        raise InputError(source, f"no column {column!r}",
                         expected="a segment_<scheme> column per configured scheme (re-run clean)")
    return clean.assign(segment=clean[column])


def measured(table: pd.DataFrame, variable: str) -> bool:
    """The wave asked the item: the column exists and someone answered it (a variable a wave's
    codebook does not map is all NA in its clean table)."""
    return variable in table.columns and bool(table[variable].notna().any())


@dataclass(frozen=True)
class Masks:
    answered: pd.Series
    hit: pd.Series
    definition: str  # what was computed, for the table's `definition` column


def definition_masks(table: pd.DataFrame, definition: Definition,
                     platforms: Iterable[str]) -> Masks | None:
    """Who is in the base and who in the share under `definition`; None if the wave measured
    none of its variables. `combine: any`: the share holds a respondent with any variable in
    `values`, the base one who answered at least one (a firm that answered "never" on one
    platform and skipped the others is counted as not active: that answer is all we have)."""
    import pandas as pd

    from smesocial.estimates import indicator_hits

    values = ", ".join(str(v) for v in definition.values)
    if definition.combine == "any":
        variables = [definition.variable.format(platform=p) for p in platforms]
        variables = [v for v in variables if measured(table, v)]
        if not variables:
            return None
        answered = pd.Series(False, index=table.index)
        hit = pd.Series(False, index=table.index)
        for variable in variables:
            a, h = indicator_hits(table[variable], Indicator(variable, variable, definition.values, ""))
            answered, hit = answered | a, hit | h
        return Masks(answered, hit & answered,
                     f"any of {', '.join(variables)} in {{{values}}}")
    if not measured(table, definition.variable):
        return None
    answered, hit = indicator_hits(table[definition.variable],
                                   Indicator(definition.variable, definition.variable,
                                             definition.values, ""))
    text = f"{definition.variable} in {{{values}}}"
    if definition.among is not None:
        _, base = indicator_hits(table[definition.variable],
                                 Indicator(definition.variable, definition.variable,
                                           definition.among, ""))
        answered = answered & base
        text += f" among {definition.variable} in {{{', '.join(str(v) for v in definition.among)}}}"
    return Masks(answered, hit & answered, text)


def newcombe_difference(k1: int, n1: int, k2: int, n2: int,
                        alpha: float = 0.05) -> tuple[float, float, float]:
    """smesocial.estimates.newcombe_difference (imported lazily, see the module docstring)."""
    from smesocial import estimates

    return estimates.newcombe_difference(k1, n1, k2, n2, alpha)


def _groups(table: pd.DataFrame, segments: Sequence[str]) -> list[tuple[str, pd.Series]]:
    import pandas as pd

    column = table["segment"].astype("object")
    return [(ALL_SEGMENTS, pd.Series(True, index=table.index)),
            *((s, column == s) for s in segments)]


def _estimate_row(k: int, n: int, alpha: float) -> dict[str, Any]:
    from smesocial.estimates import share_row

    return {"n": n, "k": k, **share_row(k, n, alpha)}


def _difference_row(first: Mapping[str, Any], second: Mapping[str, Any],
                    alpha: float) -> dict[str, Any]:
    if not first["n"] or not second["n"]:
        return {"difference": NAN, "ci_low": NAN, "ci_high": NAN,
                "note": "no difference: a side has nobody in the base"}
    diff, low, high = newcombe_difference(first["k"], first["n"], second["k"], second["n"], alpha)
    return {"difference": diff, "ci_low": low, "ci_high": high, "note": ""}


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _unassigned_note(table: pd.DataFrame, scheme: str) -> str:
    missing = int(table["segment"].isna().sum())
    return (f"{missing} respondent(s) without a {scheme} segment (employee range straddles its "
            "boundary or no count) are counted in `all` only") if missing else ""


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    return frame.astype({"n": "Int64", "k": "Int64", "year": "Int64",
                         "share": "float64", "difference": "float64",
                         "ci_low": "float64", "ci_high": "float64"})


def compare_cross_country(tables: Mapping[str, pd.DataFrame], waves: Mapping[str, WaveInfo],
                          spec: HarmonisationSpec, segments: Sequence[str],
                          platforms: Iterable[str], *, alpha: float = 0.05,
                          comparison: str = "dk_no") -> pd.DataFrame:
    """Every comparable item (and only those) x segment (all + `segments`) x the two waves, and
    the first - second difference with a Newcombe interval. `tables`: wave -> clean table with
    a `segment` column (with_segment). The note names the item's non-comparabilities."""
    import pandas as pd

    first, second = waves[spec.first], waves[spec.second]
    platforms = list(platforms)
    unassigned = {w: _unassigned_note(tables[w], spec.common_scheme) for w in (first.id, second.id)}
    rows: list[dict[str, Any]] = []
    for item in spec.items.values():
        cited = spec.cited(item)
        design = f"not comparable in design: {', '.join(cited)} (see non_comparabilities.csv)"
        per_wave: dict[str, dict[str, dict[str, Any]]] = {}
        for info in (first, second):
            instrument = spec.instrument_of(info.country)
            definition = item.definitions.get(instrument.id) if instrument else None
            masks = (definition_masks(tables[info.id], definition, platforms)
                     if definition else None)
            per_wave[info.id] = {}
            for segment, members in _groups(tables[info.id], segments):
                base = {"comparison": comparison, "item": item.id, "label": item.label,
                        "segment": segment, "row_type": ESTIMATE, "wave": info.id,
                        "country": info.country, "year": info.year, "ci_method": "wilson",
                        "disclosure": info.disclosure}
                if masks is None:
                    stats = {"n": 0, "k": 0, "share": NAN, "ci_low": NAN, "ci_high": NAN,
                             "note": f"wave {info.id} did not ask the item's question(s)"}
                    base["definition"] = definition.variable if definition else ""
                else:
                    n = int((masks.answered & members).sum())
                    stats = _estimate_row(int((masks.hit & members).sum()), n, alpha)
                    base["definition"] = masks.definition
                extra = unassigned[info.id] if segment == ALL_SEGMENTS else ""
                stats["note"] = _join(stats["note"], extra, design)
                per_wave[info.id][segment] = {**base, **stats}
                rows.append(per_wave[info.id][segment])
        for segment, _ in _groups(tables[first.id], segments):
            a, b = per_wave[first.id][segment], per_wave[second.id][segment]
            diff = _difference_row(a, b, alpha)
            rows.append({
                "comparison": comparison, "item": item.id, "label": item.label, "segment": segment,
                "row_type": DIFFERENCE, "wave": f"{first.id} - {second.id}",
                "country": f"{first.country} - {second.country}", "year": pd.NA,
                "definition": f"share({first.id}) - share({second.id})", "n": pd.NA, "k": pd.NA,
                "share": NAN, "ci_method": "newcombe_hybrid_score",
                **diff, "note": _join(diff["note"], design),
                "disclosure": f"{first.disclosure} {second.disclosure}",
            })
    return _frame(rows)


def non_comparabilities_table(spec: HarmonisationSpec) -> pd.DataFrame:
    """One row per non-comparability: its side in each instrument, consequence, scope."""
    import pandas as pd

    rows = []
    for nc in spec.non_comparabilities.values():
        cited_by = [item.id for item in spec.items.values() if nc.applies(item)]
        rows.append({"id": nc.id, "dimension": nc.dimension, "description": nc.description,
                     **{i: nc.by_instrument.get(i, "") for i in spec.instruments},
                     "consequence": nc.consequence,
                     "applies_to": "all" if nc.applies_to is None else "; ".join(nc.applies_to),
                     "items": "; ".join(cited_by)})
    return pd.DataFrame(rows, columns=["id", "dimension", "description", *spec.instruments,
                                       "consequence", "applies_to", "items"])


def question_texts(codebook: Codebook, harmonised: Harmonised) -> dict[str, str]:
    """Harmonised variable -> the raw question (column) text a wave's codebook maps onto it;
    a derived variable gets its source's text."""
    texts = {variable: column for column, variable in codebook.columns.items()}
    for name, derived in harmonised.derived.items():
        if derived.source in texts:
            texts[name] = texts[derived.source]
    return texts


def compare_waves(tables: Mapping[str, pd.DataFrame], waves: Sequence[WaveInfo],
                  indicators: Mapping[str, Indicator], segments: Sequence[str], *,
                  texts: Mapping[str, Mapping[str, str]] | None = None, scheme: str = "",
                  alpha: float = 0.05) -> pd.DataFrame:
    """Waves of one country, in the order given (time order), on every indicator: a row per
    indicator x segment x wave that measured it, and the difference between consecutive waves
    measuring it (later - earlier) with a Newcombe interval. An indicator is the same harmonised
    variable in every wave, so no spec is needed; where the question text differs between the
    two waves (a reworded item mapped to the same variable), the difference row says so."""
    import pandas as pd

    from smesocial.estimates import indicator_hits

    texts = texts or {}
    country = waves[0].country
    comparison = f"{country}_waves"
    unassigned = {w.id: _unassigned_note(tables[w.id], scheme) for w in waves}
    rows: list[dict[str, Any]] = []
    for indicator in indicators.values():
        asked = [w for w in waves if measured(tables[w.id], indicator.variable)]
        if not asked:
            continue
        definition = f"{indicator.variable} in {{{', '.join(str(v) for v in indicator.values)}}}"
        only = (f"asked only in {asked[0].id}: nothing to compare it with"
                if len(asked) == 1 else "")
        estimates: dict[str, dict[str, dict[str, Any]]] = {}
        for info in asked:
            answered, hit = indicator_hits(tables[info.id][indicator.variable], indicator)
            estimates[info.id] = {}
            for segment, members in _groups(tables[info.id], segments):
                stats = _estimate_row(int((hit & members).sum()), int((answered & members).sum()),
                                      alpha)
                extra = unassigned[info.id] if segment == ALL_SEGMENTS else ""
                stats["note"] = _join(stats["note"], extra, only)
                estimates[info.id][segment] = stats
                rows.append({"comparison": comparison, "item": indicator.id,
                             "label": indicator.label, "segment": segment, "row_type": ESTIMATE,
                             "wave": info.id, "country": info.country, "year": info.year,
                             "definition": definition, "ci_method": "wilson", **stats,
                             "difference": NAN, "disclosure": info.disclosure})
        for earlier, later in zip(asked, asked[1:]):
            skipped = [w.id for w in waves if earlier.year <= w.year <= later.year
                       and w not in (earlier, later) and w not in asked]
            notes = [_wording_note(indicator.variable, earlier.id, later.id, texts)]
            if earlier.sample != later.sample:
                notes.append(f"samples differ ({earlier.id}: {earlier.sample}; "
                             f"{later.id}: {later.sample})")
            if skipped:
                notes.append(f"not asked in {', '.join(skipped)}")
            for segment, _ in _groups(tables[later.id], segments):
                diff = _difference_row(estimates[later.id][segment], estimates[earlier.id][segment],
                                       alpha)
                rows.append({"comparison": comparison, "item": indicator.id,
                             "label": indicator.label, "segment": segment,
                             "row_type": DIFFERENCE, "wave": f"{later.id} - {earlier.id}",
                             "country": country, "year": pd.NA, "definition": definition,
                             "n": pd.NA, "k": pd.NA, "share": NAN,
                             "ci_method": "newcombe_hybrid_score", **diff,
                             "note": _join(diff["note"], *notes),
                             "disclosure": f"{earlier.disclosure} {later.disclosure}"})
    return _frame(rows)


def _wording_note(variable: str, earlier: str, later: str,
                  texts: Mapping[str, Mapping[str, str]]) -> str:
    a, b = texts.get(earlier, {}).get(variable), texts.get(later, {}).get(variable)
    if a and b and a != b:
        return f"question text differs ({earlier}: {a!r}; {later}: {b!r})"
    return ""
