"""Ingest: a wave's raw export -> the ingested table (one row per raw record, direct
identifiers dropped, labels recoded to the harmonised variables, employee counts parsed).

Reading the export in its format (csv, xlsx, sav) is smesocial.readers; this module applies the
wave's codebook and parses the counts, once, for every later stage.

Recoding is strict: every non-empty cell must match a label the codebook lists for the item's
scale (compared after `normalise_label`: Unicode form, white space, case, quote and dash styles),
otherwise the run stops and says where. A silent NA for an unforeseen label would change shares
without anyone noticing. Aliases are several labels mapped to one level (e.g. "Ved ikke",
"Vet ikke" and "Don't know" all to null), so one codebook can read exports that word an answer
differently.

Before anything is parsed the raw file is checked against the sha256 its wave declares
(`check_raw_sha256`), and every column of the export is accounted for (`raw_column_uses`): a
column the codebook neither maps nor lists as an identifier or bookkeeping is reported, or
stops the run, as the wave's `unmapped_columns` says.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from smesocial.config import Codebook, Harmonised, Scale
from smesocial.errors import InputError
from smesocial.readers import RAW_ROW, read_export  # noqa: F401 - the stage's reader
from smesocial.respondent_key import keyed_hash

log = logging.getLogger(__name__)

STATUSES = ("complete", "partial")

Kind = Literal["exact", "approximate", "range", "open_ended"]

MAX_EMPLOYEES = 1_000_000  # beyond any Danish/Norwegian firm: a typo, not a head count
EXPECTED_COUNT = ("a whole number of employees such as '12' or '1.200', an approximate one "
                  "('ca. 40'), a range ('1-10') or an open-ended one ('200+', 'over 200')")



# Typographic variants survey tools and word processors substitute for what a codebook author
# types: curly apostrophes/quotes, en/em dashes and minus signs; and invisible characters (zero
# width spaces, soft hyphens, a stray byte-order mark) that copy-paste leaves in labels.
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                         "\u2032": "'", "\u00b4": "'", "`": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'})
_DASHES = re.compile("[\u2010-\u2015\u2212]")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")


def normalise_label(value: str) -> str:
    """Label as compared: NFKC (exports differ in how they encode å/ø, and in non-breaking or
    full-width spaces), one quote and dash style, no invisible characters, single spaces,
    casefolded. "Don’t  know" == "don't know"; "2–3" == "2-3"; "Ved\u00a0ikke" == "ved ikke"."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", value))
    text = _DASHES.sub("-", text.translate(_QUOTES))
    return " ".join(text.split()).casefold()


def _normalised(series: pd.Series) -> pd.Series:
    """normalise_label of every value (NA stays NA), computed once per distinct value: an
    export repeats a few labels over every respondent."""
    distinct = series.dropna().unique()
    return series.map(dict(zip(distinct, map(normalise_label, distinct))))


# --- the raw file: its declared checksum, and what the codebook does with each column -----------


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_raw_sha256(path: str | Path, declared: str, wave: str) -> str:
    """The file's sha256, which must be the one `waves.<wave>.raw_sha256` declares: results
    are only ever computed from the export the data README describes. Raises InputError with
    both hashes, the file and the config key otherwise."""
    actual = file_sha256(path)
    key = f"waves.{wave}.raw_sha256"
    if actual != declared.strip().lower():
        raise InputError(str(path), f"the file's sha256 is {actual}, but config/config.yaml "
                         f"declares {declared.strip().lower()} ({key})",
                         expected=f"the declared file: restore it (its data README says where it "
                         f"comes from and how to regenerate it), or, if this file is meant to "
                         f"replace it, record why in that README and set {key}: {actual}")
    return actual


UNMAPPED = "unmapped"
UNMAPPED_POLICIES = ("warn", "error")


def raw_column_uses(columns: Sequence[str], codebook: Codebook) -> pd.DataFrame:
    """One row per column of the export, in its order: `position` (1 = first), `column`, `use`
    (meta, respondent_key, identifier, employees, item or unmapped) and `maps_to` (the meta
    role or harmonised variable; empty otherwise). Unmapped columns are not read at all."""
    meta = {column: role for role, column in codebook.meta.items()}
    rows = []
    for position, column in enumerate((c for c in columns if c != RAW_ROW), start=1):
        if column in meta:
            use, maps_to = "meta", meta[column]
        elif column == codebook.respondent_key:
            use, maps_to = "respondent_key", "respondent_key_hash"
        elif column in codebook.identifiers:
            use, maps_to = "identifier", ""
        elif column == codebook.employees_column:
            use, maps_to = "employees", "employees"
        elif column in codebook.columns:
            use, maps_to = "item", codebook.columns[column]
        else:
            use, maps_to = UNMAPPED, ""
        rows.append({"position": position, "column": column, "use": use, "maps_to": maps_to})
    return pd.DataFrame(rows, columns=["position", "column", "use", "maps_to"]).astype(
        {"position": "int64", "column": "str", "use": "str", "maps_to": "str"})


def check_unmapped_columns(uses: pd.DataFrame, policy: str, *, source: str, wave: str,
                           codebook: Codebook) -> list[str]:
    """The export's columns the codebook does not know. `policy` "error" stops the run on any
    (InputError naming them); "warn" logs them as a warning. Returns them."""
    if policy not in UNMAPPED_POLICIES:
        raise InputError("config/config.yaml", f"waves.{wave}.unmapped_columns is not a policy",
                         found=policy, expected=" or ".join(UNMAPPED_POLICIES))
    unmapped = uses.loc[uses["use"] == UNMAPPED, "column"].tolist()
    if not unmapped:
        log.info("%s: all %d columns of the export are in %s", source, len(uses), codebook.path)
        return unmapped
    listed = ", ".join(repr(c) for c in unmapped)
    if policy == "error":
        raise InputError(source, f"{len(unmapped)} column(s) of the export are not in the "
                         f"codebook {codebook.path}", found=unmapped,
                         expected="each column mapped under `columns`, listed under "
                         "`identifiers` (dropped at ingest) or a `meta` column; or "
                         f"waves.{wave}.unmapped_columns: warn to read the export without them")
    log.warning("%s: %d column(s) of the export are not in the codebook %s and are not read "
                "(waves.%s.unmapped_columns: warn): %s", source, len(unmapped), codebook.path,
                wave, listed)
    return unmapped


# --- validation of the codebook against the harmonised spec ------------------------------------


def validate_codebook(codebook: Codebook, harmonised: Harmonised) -> None:
    """Raise InputError (naming the codebook) if it maps onto variables or levels that don't exist."""
    for column, variable in codebook.columns.items():
        if variable not in harmonised.variables:
            raise InputError(codebook.path, "column mapped to an unknown harmonised variable",
                             column=column, found=variable,
                             expected="a variable of the harmonised spec")
    for scale_name in sorted({harmonised.variables[v].scale for v in codebook.columns.values()}):
        scale = harmonised.scales[scale_name]
        labels = codebook.labels.get(scale_name)
        if labels is None:
            raise InputError(codebook.path, f"no labels given for scale {scale_name!r}",
                             expected=f"a `labels.{scale_name}` block")
        allowed: set[Any] = {True, False} if scale.type == "boolean" else set(scale.levels)
        seen: dict[str, Any] = {}
        for label, level in labels.items():
            if isinstance(label, bool):
                # YAML 1.1 reads unquoted Yes/No/On/Off keys as booleans.
                raise InputError(codebook.path, f"scale {scale_name!r} has a label YAML read as "
                                 f"the boolean {label}", found=label,
                                 expected="labels in quotes, e.g. \"Yes\": true, \"No\": false")
            if level is not None and level not in allowed:
                raise InputError(codebook.path, f"label {label!r} of scale {scale_name!r} maps to "
                                 "a level the scale does not have", found=level,
                                 expected=f"one of {sorted(map(str, allowed))} or null")
            key = normalise_label(str(label))
            if key in seen and seen[key] != level:
                raise InputError(codebook.path, f"scale {scale_name!r} lists labels that differ "
                                 "only in case, spacing, quotes or dashes but map to different "
                                 "levels", found=label)
            seen[key] = level
    for derived in harmonised.derived.values():
        source = harmonised.variables.get(derived.source)
        if source is None:
            raise InputError("harmonised spec", f"derived {derived.name!r} comes from unknown "
                             f"variable {derived.source!r}")
        levels = harmonised.scales[source.scale].levels
        bad = [lv for lv in derived.true_levels if lv not in levels]
        if bad:
            raise InputError("harmonised spec", f"derived {derived.name!r} names levels its "
                             f"source scale does not have", found=bad, expected=f"some of {list(levels)}")


# --- recoding -----------------------------------------------------------------------------------


def _typed(levels: Sequence[Any], codes: np.ndarray, scale: Scale) -> Any:
    """Values in the scale's pandas type, from the harmonised level of each distinct label
    (None = NA) and each value's label code (-1 = no answer)."""
    missing = np.array([level is None for level in levels] + [True], dtype=bool)[codes]
    if scale.type == "boolean":
        truth = np.array([bool(level) for level in levels] + [False], dtype=bool)[codes]
        return pd.arrays.BooleanArray(truth & ~missing, missing)
    position = {level: i for i, level in enumerate(scale.levels)}
    level_codes = np.array([-1 if level is None else position[level] for level in levels] + [-1],
                           dtype=np.int64)
    return pd.Categorical.from_codes(level_codes[codes], categories=list(scale.levels),
                                     ordered=scale.type == "ordered")


def empty_variable(scale: Scale, n: int) -> Any:
    """An all-NA variable of the scale's type (an item the wave did not ask)."""
    if scale.type == "boolean":
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    return pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), categories=list(scale.levels),
                                     ordered=scale.type == "ordered")


def recode(raw: pd.DataFrame, codebook: Codebook, harmonised: Harmonised, source: str) -> pd.DataFrame:
    """Map each mapped raw column onto its harmonised variable, then add the derived booleans.

    Returns a frame on `raw`'s index: every harmonised variable (in the spec's order; all-NA with
    a warning if this wave does not ask it) followed by every derived boolean. Any unknown label
    raises InputError naming `source`, the raw column, the value(s), their `raw_row`s and the
    labels allowed.
    """
    validate_codebook(codebook, harmonised)
    rows = raw[RAW_ROW] if RAW_ROW in raw else pd.Series(raw.index + 2, index=raw.index)
    column_of = {variable: column for column, variable in codebook.columns.items()}
    out: dict[str, Any] = {}
    not_asked: list[str] = []
    problems: list[tuple[str, list[str], list[int], list[str]]] = []
    for name, variable in harmonised.variables.items():
        scale = harmonised.scales[variable.scale]
        column = column_of.get(name)
        if column is None:
            not_asked.append(name)
            out[name] = empty_variable(scale, len(raw))
            continue
        labels = codebook.labels[scale.name]
        lookup = {normalise_label(str(label)): level for label, level in labels.items()}
        # Each distinct label looked up once (code -1 = empty cell).
        codes, distinct = pd.factorize(raw[column])
        keys = [normalise_label(value) for value in distinct]
        unknown_codes = [code for code, key in enumerate(keys) if key not in lookup]
        if unknown_codes:
            unknown = np.isin(codes, unknown_codes)
            values = list(dict.fromkeys(raw.loc[unknown, column].tolist()))
            problems.append((column, values, rows[unknown].astype(int).tolist(), list(labels)))
            continue
        out[name] = _typed([lookup[key] for key in keys], codes, scale)
    if problems:
        column, values, bad_rows, allowed = problems[0]
        others = ""
        if len(problems) > 1:
            others = (f" (and unknown labels in {len(problems) - 1} more column(s): "
                      + "; ".join(repr(c) for c, *_ in problems[1:4])
                      + ("; ..." if len(problems) > 4 else "") + ")")
        raise InputError(source, f"unknown answer label{'s' if len(values) > 1 else ''}; add it "
                         f"to {codebook.path} or correct the export{others}", column=column,
                         rows=bad_rows, found=values[0] if len(values) == 1 else values,
                         expected="one of " + ", ".join(repr(a) for a in allowed))
    if not_asked:
        log.warning("%s: %d harmonised variable(s) have no raw column and are NA for this wave: %s",
                    codebook.path, len(not_asked), ", ".join(not_asked))
    recoded = pd.DataFrame(out, index=raw.index)
    return add_derived(recoded, harmonised)


def add_derived(recoded: pd.DataFrame, harmonised: Harmonised) -> pd.DataFrame:
    """Append each derived boolean: True iff the source level is a true level, NA where it is NA."""
    derived: dict[str, Any] = {}
    for name, spec in harmonised.derived.items():
        source = recoded[spec.source]
        values = source.isin(list(spec.true_levels)).astype("boolean")
        values[source.isna()] = pd.NA
        derived[name] = values
    return pd.concat([recoded, pd.DataFrame(derived, index=recoded.index)], axis=1)


# --- the ingested table --------------------------------------------------------------------------


def hash_respondent_key(values: pd.Series, secret: bytes) -> pd.Series:
    """HMAC-SHA256 hex of each normalised key (NFKC, casefolded, no white space) under `secret`
    (smesocial.respondent_key); NA stays NA. Normalising makes '1234 5678' and '12345678' the
    same firm; the keyed hash keeps an 8-digit key from being recovered by hashing every number."""
    if not secret:
        raise ValueError("an empty secret would make the hashed keys reversible")
    return values.map(lambda value: keyed_hash(secret, value), na_action="ignore").astype("str")


def marker_pattern(markers: Iterable[str]) -> re.Pattern[str] | None:
    """Case-insensitive whole-word match of any marker ('test' matches 'test@x.dk', not 'Testrup')."""
    words = [re.escape(m.strip()) for m in markers if m.strip()]
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)


def mark_test_responses(raw: pd.DataFrame, columns: Sequence[str], markers: Iterable[str]) -> pd.Series:
    """True where any of `columns` contains a test marker, or is exactly 'TEST' (any case)."""
    pattern = marker_pattern(markers)
    marked = pd.Series(False, index=raw.index)
    for column in columns:
        if column not in raw:
            continue
        text = raw[column]
        literal = text.str.strip().str.casefold().eq("test").fillna(False)
        marked |= literal.astype(bool)
        if pattern is not None:
            marked |= text.str.contains(pattern, na=False).astype(bool)
    return marked


def parse_datetimes(values: pd.Series, rows: pd.Series, *, source: str, column: str,
                    fmt: str | None = None) -> pd.Series:
    """Parse timestamps with the codebook's `format.datetime_format`, or the first common one
    that reads every non-empty value (ISO 8601, then day-first Danish/Norwegian styles)."""
    present = values.notna()
    candidates = [fmt] if fmt else ["ISO8601", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M",
                                    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M:%S",
                                    "%d/%m/%Y %H:%M"]
    best: pd.Series | None = None
    for candidate in candidates:
        parsed = pd.to_datetime(values.str.strip(), format=candidate, errors="coerce")
        failed = present & parsed.isna()
        if not failed.any():
            return parsed.astype("datetime64[us]")
        if best is None or failed.sum() < best.sum():
            best = failed
    assert best is not None
    raise InputError(source, "timestamps that cannot be read", column=column,
                     rows=rows[best].tolist(), found=values[best].iloc[0],
                     expected=f"date-times in {fmt!r}" if fmt else
                     "date-times such as '2023-12-15 10:23:45' or '15-12-2023 10:23'; set "
                     "format.datetime_format in the codebook for another layout")


def build_ingested(raw: pd.DataFrame, codebook: Codebook, harmonised: Harmonised, *,
                   source: str, secret: bytes, test_markers: Iterable[str]) -> pd.DataFrame:
    """One row per raw data row: bookkeeping, hashed key (keyed with `secret`), test mark, item
    counts, recoded variables. Identifier columns are read here (test marks, key hash) and never
    returned."""
    rows = raw[RAW_ROW]
    meta = codebook.meta
    out = pd.DataFrame({RAW_ROW: rows.astype("int64")}, index=raw.index)

    response_id = raw[meta["response_id"]].str.strip()
    missing = response_id.isna()
    if missing.any():
        raise InputError(source, "responses without a response id", column=meta["response_id"],
                         rows=rows[missing].tolist(), expected="every row to have one")
    repeated = response_id.duplicated(keep=False)
    if repeated.any():
        raise InputError(source, "response ids are not unique", column=meta["response_id"],
                         rows=rows[repeated].tolist(), found=sorted(set(response_id[repeated])),
                         expected="one row per response id")
    out["response_id"] = response_id.astype("str")

    status_lookup = {normalise_label(k): v for k, v in codebook.status_labels.items()}
    bad_targets = sorted(set(status_lookup.values()) - set(STATUSES))
    if bad_targets:
        raise InputError(codebook.path, "status_labels map to unknown statuses", found=bad_targets,
                         expected=f"one of {list(STATUSES)}")
    status_key = _normalised(raw[meta["status"]])
    unknown = ~status_key.isin(list(status_lookup))
    if unknown.any():
        raise InputError(source, "unknown completion status", column=meta["status"],
                         rows=rows[unknown].tolist(),
                         found=sorted(set(raw.loc[unknown, meta["status"]].fillna("(empty)"))),
                         expected="one of " + ", ".join(repr(k) for k in codebook.status_labels))
    out["status"] = status_key.map(status_lookup).astype("str")

    datetime_format = codebook.format.get("datetime_format")
    for role in ("started", "finished"):
        if role in meta:
            out[role] = parse_datetimes(raw[meta[role]], rows, source=source, column=meta[role],
                                        fmt=datetime_format)
        else:
            out[role] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")

    if codebook.respondent_key:
        out["respondent_key_hash"] = hash_respondent_key(raw[codebook.respondent_key], secret)
    else:
        out["respondent_key_hash"] = pd.Series(np.nan, index=raw.index, dtype="str")
    out["employees_raw"] = raw[codebook.employees_column].str.strip().astype("str")
    out["is_test_marked"] = mark_test_responses(raw, codebook.identifiers, test_markers).astype(bool)

    items = list(codebook.columns)
    # Any non-empty cell counts as answered, "don't know" included: the respondent saw the item.
    out["items_answered"] = raw[items].notna().sum(axis=1).astype("int64")
    out["items_total"] = np.int64(len(items))

    recoded = recode(raw, codebook, harmonised, source)
    ingested = pd.concat([out, recoded], axis=1).reset_index(drop=True)
    leaked = set(codebook.identifiers) & set(ingested.columns)
    assert not leaked, f"identifier columns would be written: {leaked}"
    return ingested


# --- employee counts ------------------------------------------------------------------------



@dataclass(frozen=True)
class EmployeeCount:
    """A parsed head count. `value` is what analyses use: the count itself; for a range the
    midpoint rounded down; for an open-ended answer its lower bound. [low, high] is what the
    respondent actually said (high None = no upper bound); segmentation uses it."""

    value: int
    low: int
    high: int | None
    kind: Kind


# A count: plain digits, or digits grouped in threes by '.' (Danish thousands) or a space.
_NUM = r"\d{1,3}(?:[. ]\d{3})+|\d+"
_APPROX = re.compile(r"^(?:ca\.?|cirka|circa|omkring|approx\.?|~)\s*(?P<rest>.+)$")
_UNIT = re.compile(r"\s*(?:ansatte|ansat|medarbejdere|medarbejder|personer|pers\.?|"
                   r"tilsette|employees)\.?$")
_EXACT = re.compile(rf"^(?P<n>{_NUM})$")
_RANGE = re.compile(rf"^(?P<a>{_NUM})\s*-\s*(?P<b>{_NUM})$")
_PLUS = re.compile(rf"^(?:(?P<n>{_NUM})\s*\+|(?:mindst|min\.?|>=)\s*(?P<m>{_NUM}))$")
_OVER = re.compile(rf"^(?:over|mere end|flere end|mer enn|fler enn|>)\s*(?P<n>{_NUM})$")
_DECIMAL = re.compile(r"^\d+[.,]\d+$")


def _int(text: str) -> int:
    return int(text.replace(".", "").replace(" ", ""))


def _checked(count: EmployeeCount, text: str) -> EmployeeCount:
    top = count.high if count.high is not None else count.low
    if top > MAX_EMPLOYEES:
        raise ValueError(f"{text!r} is implausibly large (more than {MAX_EMPLOYEES:,} employees); "
                         f"expected {EXPECTED_COUNT}")
    return count


def parse_employee_count(text: str | None) -> EmployeeCount:
    """Parse a typed employee count ("12", "ca. 40", "1-10", "100–150", "200+", "1.200").

    Raises ValueError, saying what was expected, for anything else: empty, words ("mange"),
    negative, decimals ("1,5"), reversed ranges ("10-5"), more than a million.
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        raise ValueError(f"no employee count given; expected {EXPECTED_COUNT}")
    # The labels' normalisation: NFKC, one dash style, no invisible characters, casefolded.
    t = normalise_label(str(text))
    if not t:
        raise ValueError(f"empty employee count; expected {EXPECTED_COUNT}")
    t = _UNIT.sub("", t).strip()
    approximate = False
    if m := _APPROX.match(t):
        approximate, t = True, m["rest"].strip()
    if re.match(r"^-\s*\d", t):
        raise ValueError(f"{text!r} is negative; expected {EXPECTED_COUNT}")
    if m := _EXACT.match(t):
        n = _int(m["n"])
        return _checked(EmployeeCount(n, n, n, "approximate" if approximate else "exact"), text)
    if m := _RANGE.match(t):
        a, b = _int(m["a"]), _int(m["b"])
        if a > b:
            raise ValueError(f"{text!r} is a range whose lower bound exceeds its upper bound; "
                             f"expected {EXPECTED_COUNT}")
        return _checked(EmployeeCount((a + b) // 2, a, b, "range"), text)
    if m := _PLUS.match(t):
        n = _int(m["n"] or m["m"])
        return _checked(EmployeeCount(n, n, None, "open_ended"), text)
    if m := _OVER.match(t):
        n = _int(m["n"]) + 1  # "over 200" is strictly more than 200
        return _checked(EmployeeCount(n, n, None, "open_ended"), text)
    if _DECIMAL.match(t):
        raise ValueError(f"{text!r} is a decimal number, but a head count is whole; "
                         f"expected {EXPECTED_COUNT}")
    raise ValueError(f"{text!r} is not an employee count; expected {EXPECTED_COUNT}")


def parse_employee_column(texts: pd.Series, rows: pd.Series, *, source: str,
                          column: str) -> pd.DataFrame:
    """Parse every non-empty count; NA stays NA. All unreadable rows are reported in one
    InputError (file `source`, the raw `column`, their `raw_row`s and values). Each distinct
    text is parsed once: respondents type the same few counts."""
    codes, distinct = pd.factorize(texts)  # code -1 = NA
    parsed: list[EmployeeCount | None] = []
    problems: dict[int, str] = {}
    for code, text in enumerate(distinct):
        try:
            parsed.append(parse_employee_count(text))
        except ValueError as exc:
            parsed.append(None)
            # The shared "expected ..." goes once into the error, not once per value.
            problems[code] = str(exc).split("; expected")[0]
    if problems:
        unreadable = np.isin(codes, list(problems))
        bad = sorted((int(row), str(distinct[code]), problems[code]) for row, code in
                     zip(rows[texts.index[unreadable]], codes[unreadable]))
        raise InputError(source, f"{len(bad)} employee count(s) cannot be read "
                         f"(first: {bad[0][2]})", column=column, rows=[r for r, _t, _m in bad],
                         found=[t for _r, t, _m in bad], expected=EXPECTED_COUNT)

    def pick(attr: str) -> np.ndarray:
        # one value per distinct text, and None for NA (code -1, the last)
        values = np.array([getattr(count, attr) for count in parsed] + [None], dtype=object)
        return values[codes]

    return pd.DataFrame({
        "employees": pd.array(pick("value"), dtype="Int64"),
        "employees_low": pd.array(pick("low"), dtype="Int64"),
        "employees_high": pd.array(pick("high"), dtype="Int64"),
        "employees_kind": pd.array(pick("kind"), dtype="str"),
    }, index=texts.index)


def with_employee_counts(ingested: pd.DataFrame, *, source: str, column: str) -> pd.DataFrame:
    """The ingested table with its counts parsed (employees, employees_low/high/kind).

    Every count is checked except those of rows marked as test responses (junk typed there is
    excluded anyway; their counts stay NA), so a bad export stops at ingest, naming `source`,
    the raw `column` and every unreadable raw row."""
    real = ~ingested["is_test_marked"].astype(bool)
    counts = parse_employee_column(ingested.loc[real, "employees_raw"], ingested[RAW_ROW],
                                   source=source, column=column)
    return ingested.join(counts.reindex(ingested.index))
