"""Official statistics on enterprises' use of social media: checked, tabulated, and set beside
the survey waves.

`read_official` reads data/raw/official/official_social_media_enterprises.csv and checks every
cell (a violation is an InputError naming the file's line and the column). A key (country,
year, indicator, size class) may appear twice only as a disagreement between sources recorded
in config `official.disagreements`; both values are kept and flagged, never averaged.
`trends` is one row per country x indicator x size class x year. `benchmarks` places each
wave's level of a harmonised item, among respondents in the official size class, beside the
official figure of its country in the nearest year: side by side, with what differs in
design, and no difference column (the levels are not comparable in design).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from smesocial.errors import InputError
from smesocial.compare import Benchmark, HarmonisationSpec, WaveInfo, definition_masks
from smesocial.estimates import share_row

COLUMNS = ("country", "year", "indicator", "size_class", "value_pct", "quality", "source_url")
KEY = ["country", "year", "indicator", "size_class"]
QUALITIES = ("exact", "approximate")
YEAR_RANGE = (2000, 2030)  # sanity bounds: social-media statistics start in the 2010s
# National statistics offices of the two countries, and EU aggregates (EU28, EU27_2020, ...).
COUNTRY = re.compile(r"^(DK|NO|EU[0-9]{2}(_[0-9]{4})?)$")
INDICATOR = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SIZE_CLASS = re.compile(r"^[0-9]+(\+|-[0-9]+)$")
URL = re.compile(r"^https?://\S+$")
LINE = "line"  # the row's line in the file (header = line 1), where a person finds it


def read_official(path: str | Path,
                  disagreements: Sequence[Mapping[str, Any]] = ()) -> pd.DataFrame:
    """The file's rows, typed and checked, with `line` and a `disagreement` flag."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(source, "file not found", expected="the official statistics CSV") from exc
    except UnicodeDecodeError as exc:
        raise InputError(source, f"not UTF-8 text ({exc})", expected="a UTF-8 CSV") from exc
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise InputError(source, "the file is empty", expected=f"a header: {', '.join(COLUMNS)}")
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(source, "a required column is missing from the header", column=missing[0],
                         rows=[1], found=header, expected=f"the columns {', '.join(COLUMNS)}")
    extra = [c for c in header if c not in COLUMNS]
    if extra or len(set(header)) != len(header):
        raise InputError(source, "unexpected or repeated column in the header",
                         column=(extra or header)[0], rows=[1],
                         expected=f"exactly the columns {', '.join(COLUMNS)}")
    records = []
    for line, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            raise InputError(source, "wrong number of fields", rows=[line],
                             found=f"{len(fields)} fields", expected=f"{len(header)}, as the header")
        records.append({LINE: line, **{name: value.strip() for name, value in zip(header, fields)}})
    if not records:
        raise InputError(source, "the file has a header but no rows", expected="at least one figure")
    frame = pd.DataFrame(records, columns=[LINE, *COLUMNS])
    frame = validate(frame, source)
    return flag_disagreements(frame, disagreements, source)


def _bad(frame: pd.DataFrame, column: str, mask: pd.Series, source: str, problem: str,
         expected: str) -> None:
    if mask.any():
        raise InputError(source, problem, column=column,
                         rows=frame.loc[mask, LINE].astype(int).tolist(),
                         found=frame.loc[mask, column].iloc[0], expected=expected)


def validate(frame: pd.DataFrame, source: str = "official statistics") -> pd.DataFrame:
    """Check every cell of the text table (with `line`); returns it with `year` int and
    `value_pct` float. The first column with a violation stops, naming its lines."""
    _bad(frame, "country", ~frame["country"].str.fullmatch(COUNTRY.pattern), source,
         "unknown country", "DK, NO or an EU aggregate such as EU28 or EU27_2020")
    year = pd.to_numeric(frame["year"].where(frame["year"].str.fullmatch(r"[0-9]{4}")),
                         errors="coerce")
    _bad(frame, "year", year.isna() | ~year.between(*YEAR_RANGE), source,
         "year is not a plausible four-digit year",
         f"a year from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}")
    _bad(frame, "indicator", ~frame["indicator"].str.fullmatch(INDICATOR.pattern), source,
         "indicator is not an identifier", "letters, digits and underscores, e.g. any_social_media")
    _bad(frame, "size_class", ~frame["size_class"].str.fullmatch(SIZE_CLASS.pattern), source,
         "size class not understood", "employees as '10+' or '10-49'")
    value = pd.to_numeric(frame["value_pct"], errors="coerce")
    _bad(frame, "value_pct", value.isna() | ~value.between(0, 100), source,
         "value_pct is not a percentage", "a number from 0 to 100 ('.' as decimal point)")
    _bad(frame, "quality", ~frame["quality"].isin(QUALITIES), source,
         "unknown quality flag", " or ".join(QUALITIES))
    _bad(frame, "source_url", ~frame["source_url"].str.fullmatch(URL.pattern), source,
         "source_url is empty or not a web address", "the http(s) address the figure was taken from")
    out = frame.copy()
    out["year"] = year.astype("int64")
    out["value_pct"] = value.astype("float64")
    return out


def flag_disagreements(frame: pd.DataFrame, recorded: Sequence[Mapping[str, Any]],
                       source: str, config_key: str = "official.disagreements") -> pd.DataFrame:
    """Mark rows whose key repeats. A repeat is allowed only where config records it as a
    disagreement and the sources give different values; anything else stops the run."""
    wanted = {(str(r["country"]), int(r["year"]), str(r["indicator"]), str(r["size_class"])): i
              for i, r in enumerate(recorded)}
    out = frame.copy()
    out["disagreement"] = False
    repeated = out[out.duplicated(KEY, keep=False)]
    found = set()
    for key, rows in repeated.groupby(KEY, sort=False):
        lines = rows[LINE].astype(int).tolist()
        label = "/".join(str(k) for k in key)
        if key not in wanted:
            raise InputError(source, f"the key {label} (country/year/indicator/size_class) "
                             "appears more than once and is not a recorded disagreement",
                             column="indicator", rows=lines, found=rows["value_pct"].tolist(),
                             expected=f"one row per key, or the key listed under {config_key} "
                             "in config/config.yaml when two sources disagree")
        if rows["value_pct"].nunique() < len(rows):
            raise InputError(source, f"the recorded disagreement {label} has rows with the same "
                             "value: a repeated row, not a disagreement", column="value_pct",
                             rows=lines, found=rows["value_pct"].tolist(),
                             expected="different values from different sources; delete the repeat")
        if rows["source_url"].nunique() < len(rows):
            raise InputError(source, f"the recorded disagreement {label} has two values from "
                             "one source", column="source_url", rows=lines,
                             expected="each value of a disagreement from its own source")
        found.add(key)
        out.loc[rows.index, "disagreement"] = True
    stale = [i for key, i in wanted.items() if key not in found]
    if stale:
        raise InputError("config/config.yaml", f"{config_key}[{stale[0]}] records a "
                         f"disagreement the file {source} does not have",
                         found=dict(recorded[stale[0]]),
                         expected="only keys that appear twice in the file")
    return out


def _number(value: float) -> str:
    return f"{value:g}"


def trends(frame: pd.DataFrame, notes: Mapping[tuple[Any, ...], str] | None = None) -> pd.DataFrame:
    """One row per country x indicator x size class x year. Where sources disagree, `value_pct`
    is empty and every value stays visible (`values_pct`, min, max, each source)."""
    notes = notes or {}
    rows = []
    for key, group in frame.groupby(KEY, sort=True):
        values = group["value_pct"].tolist()
        distinct = sorted(set(values))
        agree = len(distinct) == 1
        note = []
        if not agree:
            sides = "; ".join(f"{_number(v)} ({u})" for v, u in zip(values, group["source_url"]))
            note.append(f"sources disagree, both kept and no value chosen: {sides}")
            if notes.get(key):
                note.append(notes[key])
        if (group["quality"] == "approximate").any():
            note.append("approximate: the source gave a phrase (e.g. 'one in two'), not a number")
        rows.append({
            "country": key[0], "indicator": key[2], "size_class": key[3], "year": key[1],
            "value_pct": distinct[0] if agree else float("nan"),
            "value_min_pct": distinct[0], "value_max_pct": distinct[-1],
            "values_pct": "; ".join(_number(v) for v in values),
            "quality": "; ".join(dict.fromkeys(group["quality"])),
            "n_sources": int(group["source_url"].nunique()),
            "source_urls": "; ".join(dict.fromkeys(group["source_url"])),
            "disagreement": not agree, "note": " ".join(f"{n}." for n in note),
        })
    out = pd.DataFrame(rows)
    return out.sort_values(["country", "indicator", "size_class", "year"], kind="stable",
                           ignore_index=True)


def nearest_year(years: Iterable[int], year: int) -> int | None:
    """The available year closest to `year`; on a tie the earlier (a fixed, stated rule)."""
    candidates = sorted(set(int(y) for y in years))
    if not candidates:
        return None
    return min(candidates, key=lambda y: (abs(y - year), y))


def size_class_membership(clean: pd.DataFrame, min_employees: int) -> tuple[pd.Series, pd.Series]:
    """(inside, undetermined): inside = the whole employee range is at `min_employees` or more;
    undetermined = the range straddles it (e.g. "1-10" against 10+) or no count is known."""
    low = clean["employees_low"].astype("Float64")
    high = clean["employees_high"].astype("Float64")
    inside = (low >= min_employees).fillna(False).astype(bool)
    below = (high < min_employees).fillna(False).astype(bool)
    return inside, ~inside & ~below


BENCHMARK_COLUMNS = [
    "wave", "country", "year", "sample", "item", "survey_definition", "size_class", "n_respondents",
    "n_in_size_class", "n_size_undetermined", "n", "k", "share_pct", "ci_low_pct", "ci_high_pct",
    "official_indicator", "official_year", "year_gap", "official_value_pct",
    "official_values_pct", "official_quality", "official_source_url", "note", "disclosure",
]


def benchmarks(tables: Mapping[str, pd.DataFrame], waves: Sequence[WaveInfo],
               spec: HarmonisationSpec, trend: pd.DataFrame, platforms: Iterable[str], *,
               alpha: float = 0.05) -> pd.DataFrame:
    """Per benchmark x wave x sample (all, and each sample of a wave with several): the wave's
    share of the item among respondents in the official size class, with a Wilson interval, next
    to the official figure of the wave's country and indicator in the nearest year."""
    platforms = list(platforms)
    rows = []
    for bench in spec.benchmarks:
        item = spec.items[bench.item]
        for info in waves:
            table = tables[info.id]
            instrument = spec.instrument_of(info.country)
            definition = item.definitions.get(instrument.id) if instrument else None
            masks = definition_masks(table, definition, platforms) if definition else None
            inside, undetermined = size_class_membership(table, bench.min_employees)
            official = _official(trend, info, bench)
            samples = [str(s) for s in pd.unique(table["sample"].astype("object").dropna())]
            groups = [("all", pd.Series(True, index=table.index))]
            if len(samples) > 1:
                groups += [(s, table["sample"].astype("object") == s) for s in sorted(samples)]
            for sample, members in groups:
                row: dict[str, Any] = {
                    "wave": info.id, "country": info.country, "year": info.year,
                    "sample": sample, "item": item.id, "size_class": bench.size_class,
                    "n_respondents": int(members.sum()),
                    "n_in_size_class": int((inside & members).sum()),
                    "n_size_undetermined": int((undetermined & members).sum()),
                    **official, "disclosure": info.disclosure,
                }
                notes = []
                if masks is None:
                    reason = (f"no instrument for {info.country} in the harmonisation spec"
                              if instrument is None else
                              f"no definition of {item.id} for instrument {instrument.id}"
                              if definition is None else f"wave {info.id} did not ask it")
                    row.update(survey_definition="", n=0, k=0, share_pct=float("nan"),
                               ci_low_pct=float("nan"), ci_high_pct=float("nan"))
                    notes.append(f"no survey level: {reason}")
                else:
                    n = int((masks.answered & inside & members).sum())
                    k = int((masks.hit & inside & members).sum())
                    row.update(survey_definition=f"{masks.definition}; employees {bench.size_class}",
                               n=n, k=k)
                    level = share_row(k, n, alpha)
                    row.update(share_pct=100 * level["share"], ci_low_pct=100 * level["ci_low"],
                               ci_high_pct=100 * level["ci_high"])
                    if level["note"]:
                        notes.append(level["note"])
                if row["n_size_undetermined"]:
                    notes.append(f"{row['n_size_undetermined']} respondent(s) left out whose "
                                 f"employee range straddles {bench.min_employees} (e.g. '1-10') "
                                 "or is unknown")
                notes.append(_design_note(info, bench, official, definition.meaning
                                          if definition else ""))
                row["note"] = "; ".join(notes)
                rows.append(row)
    frame = pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)
    return frame.astype({"official_year": "Int64", "year_gap": "Int64"})


def _official(trend: pd.DataFrame, info: WaveInfo, bench: Benchmark) -> dict[str, Any]:
    chosen = trend[(trend["country"] == info.country)
                   & (trend["indicator"] == bench.official_indicator)
                   & (trend["size_class"] == bench.size_class)]
    year = nearest_year(chosen["year"], info.year)
    if year is None:
        return {"official_indicator": bench.official_indicator, "official_year": pd.NA,
                "year_gap": pd.NA, "official_value_pct": float("nan"), "official_values_pct": "",
                "official_quality": "", "official_source_url": ""}
    row = chosen[chosen["year"] == year].iloc[0]
    return {"official_indicator": bench.official_indicator, "official_year": year,
            "year_gap": info.year - year, "official_value_pct": row["value_pct"],
            "official_values_pct": row["values_pct"], "official_quality": row["quality"],
            "official_source_url": row["source_urls"]}


def _design_note(info: WaveInfo, bench: Benchmark, official: Mapping[str, Any],
                 meaning: str) -> str:
    if official["official_year"] is pd.NA:
        when = (f"no official {bench.official_indicator} figure for {info.country} "
                f"({bench.size_class})")
    else:
        gap = int(official["year_gap"])
        when = f"official figure from {official['official_year']}"
        when += (f", {abs(gap)} year(s) {'before' if gap > 0 else 'after'} the wave" if gap
                 else ", the wave's year")
    return ("levels not comparable in design: the wave's data are synthetic; the survey item "
            f"({meaning or 'not measured'}) is not the official question (enterprises using any "
            "social media, Eurostat ICT usage survey); the wave's respondents are not a "
            f"probability sample of the official population (enterprises with {bench.size_class} "
            f"employees); {when}")
