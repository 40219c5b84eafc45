"""The study's hypotheses as declared in config/hypotheses.yaml: `load_hypotheses` reads and
checks them; `expand_items` and `resolve_item` turn a declaration's item names into a wave's
columns. The estimates stage (the shares behind the tests) and the stats stage (the tests) both
read the declarations through this module.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smesocial.config import PLATFORM_KEY, Indicator, load_yaml
from smesocial.errors import InputError, NotEstimable

TEST_KINDS: dict[str, str] = {
    # kind -> how many items it takes ("one", "two", "many")
    "association": "one",
    "kruskal_wallis": "one",
    "ordinal_logit_trend": "one",
    "cochran_armitage": "one",
    "mcnemar": "two",
    "cochrans_q": "many",
    "gradient_difference": "two",
    "cmh": "one",
    "logit_group": "one",
}
GROUP_KINDS = {"cmh", "logit_group"}
DIRECTIONS = {"increasing", "decreasing", "first_greater", "two_sided"}

# --------------------------------------------------------------------------------------------
# Declarations


@dataclass(frozen=True)
class TestSpec:
    kind: str
    items: tuple[str, ...]  # templates, `{platform}` not yet expanded
    direction: str
    segments: str | tuple[str, ...] = "all"  # "all" (pooled), "each" (all + every segment), list
    group: str | None = None
    groups: tuple[Any, Any] | None = None
    interaction: bool = False


@dataclass(frozen=True)
class Hypothesis:
    id: str
    statement: str
    family: str
    waves: tuple[str, ...]
    direction: str
    platforms: tuple[str, ...]
    items: tuple[str, ...]
    tests: tuple[TestSpec, ...]
    pool_waves: bool = False
    source: str = ""
    notes: str = ""
    all_platforms: bool = False  # `platforms: all`: a platform a wave did not ask is left out


@dataclass(frozen=True)
class Settings:
    segment: str = "segment"
    monte_carlo_resamples: int = 9999
    bootstrap_resamples: int = 2000


@dataclass(frozen=True)
class Declarations:
    settings: Settings
    families: dict[str, str]
    hypotheses: tuple[Hypothesis, ...]


def load_hypotheses(path: str | Path, platforms: Mapping[str, str]) -> Declarations:
    """Read config/hypotheses.yaml; a malformed declaration is an InputError naming it."""
    raw = load_yaml(path)
    source = str(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("hypotheses"), list):
        raise InputError(source, "no list under 'hypotheses'", expected="a list of hypotheses")
    settings_raw = raw.get("settings") or {}
    if settings_raw.get("segment_scores", "rank") != "rank":
        raise InputError(source, "unsupported settings.segment_scores",
                         found=settings_raw.get("segment_scores"), expected="'rank'")
    settings = Settings(
        segment=str(settings_raw.get("segment", "segment")),
        monte_carlo_resamples=int(settings_raw.get("monte_carlo_resamples", 9999)),
        bootstrap_resamples=int(settings_raw.get("bootstrap_resamples", 2000)),
    )
    families = {str(k): str(v) for k, v in (raw.get("families") or {}).items()}
    hypotheses: list[Hypothesis] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw["hypotheses"]):
        where = f"hypotheses[{index}]"
        hypothesis = _hypothesis(entry, where, source, families, platforms)
        if hypothesis.id in seen:
            raise InputError(source, f"duplicate hypothesis id at {where}", found=hypothesis.id)
        seen.add(hypothesis.id)
        hypotheses.append(hypothesis)
    return Declarations(settings, families, tuple(hypotheses))


def _hypothesis(entry: Any, where: str, source: str, families: Mapping[str, str],
                platforms: Mapping[str, str]) -> Hypothesis:
    if not isinstance(entry, dict):
        raise InputError(source, f"{where} is not a mapping")
    missing = [k for k in ("id", "statement", "family", "waves", "direction", "items", "tests")
               if k not in entry]
    if missing:
        raise InputError(source, f"{where} lacks {', '.join(missing)}",
                         expected="id, statement, family, waves, direction, items, tests")
    hid = str(entry["id"])
    where = f"hypothesis {hid}"
    if entry["family"] not in families:
        raise InputError(source, f"{where}: family not declared under 'families'",
                         found=entry["family"], expected=", ".join(families))
    direction = _direction(entry["direction"], where, source)
    declared_platforms = entry.get("platforms", [])
    if declared_platforms == "all":
        chosen = tuple(platforms)
    else:
        chosen = tuple(str(p) for p in declared_platforms)
        unknown = [p for p in chosen if p not in platforms]
        if unknown:
            raise InputError(source, f"{where}: unknown platform(s)", found=unknown,
                             expected=", ".join(platforms))
    items = tuple(str(i) for i in entry["items"])
    if any(PLATFORM_KEY in i for i in items) and not chosen:
        raise InputError(source, f"{where}: items use {PLATFORM_KEY} but no platforms are named")
    tests = tuple(_test(t, f"{where}, test {i + 1}", source, items, direction)
                  for i, t in enumerate(entry["tests"]))
    waves = tuple(str(w) for w in entry["waves"])
    if not waves:
        raise InputError(source, f"{where}: no waves", expected="at least one wave id")
    return Hypothesis(hid, " ".join(str(entry["statement"]).split()), str(entry["family"]), waves,
                      direction, chosen, items, tests, bool(entry.get("pool_waves", False)),
                      " ".join(str(entry.get("source", "")).split()),
                      " ".join(str(entry.get("notes", "")).split()), declared_platforms == "all")


def _direction(value: Any, where: str, source: str) -> str:
    if value not in DIRECTIONS:
        raise InputError(source, f"{where}: unknown direction", found=value,
                         expected=", ".join(sorted(DIRECTIONS)))
    return str(value)


def _test(entry: Any, where: str, source: str, items: tuple[str, ...], direction: str) -> TestSpec:
    if not isinstance(entry, dict) or entry.get("test") not in TEST_KINDS:
        found = entry.get("test") if isinstance(entry, dict) else entry
        raise InputError(source, f"{where}: unknown test", found=found,
                         expected=", ".join(TEST_KINDS))
    kind = str(entry["test"])
    named = entry.get("items", [entry["item"]] if "item" in entry else [])
    test_items = tuple(str(i) for i in named)
    arity = TEST_KINDS[kind]
    if (arity == "one" and len(test_items) != 1) or (arity == "two" and len(test_items) != 2) \
            or (arity == "many" and len(test_items) < 2):
        raise InputError(source, f"{where}: {kind} takes {arity} item(s)", found=list(test_items))
    undeclared = [i for i in test_items if i not in items]
    if undeclared:
        raise InputError(source, f"{where}: item(s) not among the hypothesis' items",
                         found=undeclared, expected=", ".join(items))
    segments_raw = entry.get("segments", "all")
    segments: str | tuple[str, ...]
    if segments_raw in ("all", "each"):
        segments = str(segments_raw)
    elif isinstance(segments_raw, list) and segments_raw:
        segments = tuple(str(s) for s in segments_raw)
    else:
        raise InputError(source, f"{where}: segments", found=segments_raw,
                         expected="'all', 'each' or a list of segment names")
    group, groups = entry.get("group"), entry.get("groups")
    if kind in GROUP_KINDS and (not group or not isinstance(groups, list) or len(groups) != 2):
        raise InputError(source, f"{where}: {kind} needs `group` and two `groups`")
    return TestSpec(kind, test_items, _direction(entry.get("direction", direction), where, source),
                    segments, str(group) if group else None,
                    (groups[0], groups[1]) if groups else None, bool(entry.get("interaction", False)))


def expand_items(templates: Sequence[str], platforms: Sequence[str]) -> list[tuple[str, ...]]:
    """One tuple of concrete items per platform if any template names {platform}, else one."""
    if not any(PLATFORM_KEY in t for t in templates):
        return [tuple(templates)]
    return [tuple(t.replace(PLATFORM_KEY, p) for t in templates) for p in platforms]


# --------------------------------------------------------------------------------------------
# Items


@dataclass(frozen=True)
class Item:
    name: str
    values: pd.Series  # boolean (nullable) for binary items, categorical otherwise
    kind: str  # binary | ordered | nominal


def resolve_item(table: pd.DataFrame, name: str, indicators: Mapping[str, Indicator]) -> Item:
    """A harmonised variable (a column) or an indicator id (a share definition on a column).

    A name that is neither is an item the wave did not ask."""
    if name in table.columns:
        column = table[name]
        if pd.api.types.is_bool_dtype(column.dtype):
            return Item(name, column.astype("boolean"), "binary")
        if isinstance(column.dtype, pd.CategoricalDtype):
            return Item(name, column, "ordered" if column.cat.ordered else "nominal")
        return Item(name, column.astype("category"), "nominal")
    indicator = indicators.get(name)
    if indicator is not None and indicator.variable in table.columns:
        return Item(name, in_values(table[indicator.variable], set(indicator.values)), "binary")
    raise NotEstimable(f"item {name} not in this wave")


def asked(table: pd.DataFrame, name: str, indicators: Mapping[str, Indicator]) -> bool:
    """Whether the table has at least one answer to the item (a column, or an indicator's)."""
    indicator = indicators.get(name)
    column = name if name in table.columns else indicator.variable if indicator else None
    return column is not None and column in table.columns and bool(table[column].notna().any())


def in_values(column: pd.Series, values: Collection[Any]) -> pd.Series:
    """Whether each value is one of `values` (Python's `in`), as a nullable boolean Series on
    the column's index: NA where the value is missing. Decided once per distinct value, not
    once per respondent."""
    codes, distinct = pd.factorize(column)  # code -1 = missing
    found = np.array([value in values for value in distinct] + [False], dtype=bool)[codes]
    return pd.Series(pd.arrays.BooleanArray(found, codes < 0), index=column.index,
                     name=column.name)


