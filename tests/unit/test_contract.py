"""The clean table's data contract: a valid table passes; every kind of violation is named, with
its column and value, in one readable paragraph; a violation in the clean step writes nothing."""

from __future__ import annotations

import dataclasses
import logging
import runpy
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pytest
import yaml

from smesocial.clean import apply_exclusions
from smesocial.ingest import with_employee_counts
from smesocial.ingest import build_ingested
from smesocial.config import Scale, Variable
from smesocial.contract import MAX_LISTED, ContractError, clean_schema, validate_clean
from smesocial.errors import InputError
from smesocial.readers import read_export
from smesocial.tables import write_parquet
from smesocial.segment import load_schemes, segment_table

ROOT = Path(__file__).resolve().parents[2]
FREQUENCY = ["never", "almost_never", "monthly", "weekly", "daily"]


@pytest.fixture
def ingested(tmp_path, codebook, harmonised, answer_row, write_export, config) -> pd.DataFrame:
    """A small export in the Danish layout, through the real ingest."""
    rows = [answer_row(n, employees=count) for n, count in
            enumerate(["3", "12", "ca. 40", "60", "1-10", "200+"], start=1)]
    path = write_export(tmp_path / "export.csv", rows)
    raw = read_export(path, codebook)
    return build_ingested(raw, codebook, harmonised, source=str(path), secret=b"contract-secret",
                          test_markers=config["exclusions"]["test_response_markers"])


@pytest.fixture
def clean(ingested, config, harmonised) -> pd.DataFrame:
    counted = with_employee_counts(ingested, source="export.csv", column="employees")
    table, _exclusions, _flow = apply_exclusions(
        counted, segment_table(counted, load_schemes(config)), config, "dk_2024",
        answer_columns=list(harmonised.variables))
    assert len(table) == 6
    return table


@pytest.fixture
def schema(config, harmonised) -> pa.DataFrameSchema:
    scheme = load_schemes(config)[config["waves"]["dk_2024"]["segmentation"]]
    return clean_schema(harmonised, wave="dk_2024", wave_cfg=config["waves"]["dk_2024"],
                        scheme=scheme, schemes=load_schemes(config))


def violation(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> str:
    with pytest.raises(ContractError) as err:
        validate_clean(frame, schema, source="data/raw/dk_2024/export.csv")
    message = err.value.message()
    assert "\n" not in message and "Traceback" not in message  # one paragraph
    assert message.startswith("data/raw/dk_2024/export.csv: the clean table breaks its data contract")
    return message


def test_a_valid_clean_table_passes(clean, schema):
    validate_clean(clean, schema, source="x")


def test_the_schema_follows_the_harmonised_spec(schema, harmonised):
    expected = set(harmonised.variables) | set(harmonised.derived)
    assert expected <= set(schema.columns)
    post = schema.columns["post_facebook"].dtype
    assert list(post.categories) == FREQUENCY and post.ordered
    assert not schema.columns["handling"].dtype.ordered  # a nominal scale
    assert str(schema.columns["marketing_fulltime"].dtype) == "boolean"
    assert schema.strict is True


def test_a_new_harmonised_variable_is_covered_without_code_changes(clean, config, harmonised):
    spec = dataclasses.replace(
        harmonised,
        scales={**harmonised.scales, "stars": Scale("stars", "ordered", ("one", "two", "three"))},
        variables={**harmonised.variables, "satisfaction": Variable("satisfaction", "stars", "x")})
    scheme = load_schemes(config)["report_dk_2024"]
    schema = clean_schema(spec, wave="dk_2024", wave_cfg=config["waves"]["dk_2024"], scheme=scheme,
                          schemes=load_schemes(config))
    assert "column 'satisfaction' is missing" in violation(clean, schema)
    with_it = clean.assign(satisfaction=pd.Categorical(["two"] * 6, categories=["one", "two", "three"],
                                                       ordered=True))
    validate_clean(with_it, schema, source="x")


def test_wrong_category_names_column_value_and_raw_row(clean, schema):
    bad = clean.copy()
    bad["post_facebook"] = bad["post_facebook"].astype("object")
    bad.loc[2, "post_facebook"] = "sometimes"
    message = violation(bad, schema)
    assert ("column 'post_facebook' fails isin(['never', 'almost_never', 'monthly', 'weekly', "
            "'daily']): 'sometimes' at raw row 4") in message
    assert "column 'post_facebook' has type object, expected ordered category" in message


def test_levels_in_another_order_or_unordered_break_the_type(clean, schema):
    bad = clean.copy()
    bad["post_facebook"] = bad["post_facebook"].cat.reorder_categories(FREQUENCY[::-1])
    bad["post_instagram"] = bad["post_instagram"].cat.as_unordered()
    message = violation(bad, schema)
    assert ("column 'post_facebook' has type ordered category ['daily', 'weekly', 'monthly', "
            "'almost_never', 'never'], expected ordered category ['never', 'almost_never', "
            "'monthly', 'weekly', 'daily']") in message
    assert "column 'post_instagram' has type unordered category" in message


def test_out_of_range_employees_are_named(clean, schema):
    bad = clean.copy()
    bad.loc[0, "employees"] = 2_000_000
    bad.loc[1, "employees_low"] = -3
    message = violation(bad, schema)
    assert "column 'employees' fails in_range(0, 1000000): 2000000 at raw row 2" in message
    assert "column 'employees_low' fails in_range(0, 1000000): -3 at raw row 3" in message
    # the analysed count must also lie in the range the respondent gave
    assert "table check failed at raw row 2: employees_low <= employees <= employees_high" in message


def test_duplicate_respondent_id_is_named(clean, schema):
    bad = clean.copy()
    bad.loc[1, "respondent_id"] = bad.loc[0, "respondent_id"]
    message = violation(bad, schema)
    assert ("column 'respondent_id' must be unique but repeats 'dk_2024-1001' at raw rows 2, 3"
            in message)


def test_wrong_dtype_is_named_once_without_cascading_value_errors(clean, schema):
    bad = clean.assign(year=clean["year"].astype("str"), employees=clean["employees"].astype(float))
    message = violation(bad, schema)
    assert "column 'year' has type str, expected int64" in message
    assert "column 'employees' has type float64, expected int64" in message
    assert "isin([2024])" not in message  # every value fails only because of the type


def test_missing_and_unexpected_columns_are_named(clean, schema):
    bad = clean.drop(columns=["segment"]).assign(**{"E-mail": "kontakt1@firma1.dk"})
    message = violation(bad, schema)
    assert "column 'segment' is missing" in message
    assert "column 'E-mail' is not part of the contract" in message


def test_identity_columns_and_segment_are_checked(clean, schema):
    bad = clean.copy()
    bad.loc[0, "country"] = "SE"
    bad.loc[1, "wave"] = None
    bad["segment"] = bad["segment"].cat.rename_categories({"micro": "tiny"})
    message = violation(bad, schema)
    assert "column 'country' fails isin(['DK', 'NO']): 'SE' at raw row 2" in message
    assert "column 'wave' has missing values at raw row 3" in message
    assert "column 'segment' fails isin(['micro', 'small', 'medium']): 'tiny' at raw rows" in message


def test_a_derived_boolean_must_agree_with_its_source(clean, schema):
    bad = clean.copy()
    bad["barrier_time"] = ~bad["barrier_time"].fillna(False)
    message = violation(bad, schema)
    assert "barrier_time must be True exactly where barrier_time_likert is one of" in message


def test_the_report_is_capped_and_keeps_the_failures(clean, schema):
    bad = clean.copy()
    for name in [c for c in clean.columns if c.startswith(("post_", "important_"))]:
        bad[name] = "bogus"
    with pytest.raises(ContractError) as err:
        validate_clean(bad, schema, source="x")
    problems = err.value.problem.split(": ", 1)[1].split("; ")
    assert problems[-1].startswith("and ") and problems[-1].endswith(" more")
    assert len(problems) == MAX_LISTED + 1
    assert isinstance(err.value, InputError)
    assert {"column", "check", "failure_case", "index"} <= set(err.value.failures.columns)


# --- the clean step validates before it writes ---------------------------------------------------


class _Files(list):
    """What Snakemake hands a script: a list with names."""

    def __init__(self, **named: str) -> None:
        super().__init__(named.values())
        self.__dict__.update(named)


@pytest.fixture
def restore_logging():
    """The entry script points the root logger at its log file; put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def run_clean_script(tmp_path: Path, config: dict[str, Any], harmonised_file: Path,
                     ingested_file: Path, segments_file: Path) -> SimpleNamespace:
    out = tmp_path / "results"
    smk = SimpleNamespace(
        input=_Files(ingested=str(ingested_file), segments=str(segments_file),
                     harmonised=str(harmonised_file)),
        output=_Files(clean=str(out / "clean.parquet"), exclusions=str(out / "exclusions.csv"),
                      flow=str(out / "flow.csv"), counts=str(out / "segment_counts.csv")),
        log=[str(tmp_path / "clean.log")], wildcards=SimpleNamespace(wave="dk_2024"),
        params=SimpleNamespace(config=config), rule="clean")
    runpy.run_path(str(ROOT / "workflow/scripts/clean.py"), init_globals={"snakemake": smk})
    return smk


def test_clean_step_writes_nothing_when_the_contract_fails(tmp_path, ingested, config,
                                                             restore_logging):
    ingested_file, segments_file = tmp_path / "ingested.parquet", tmp_path / "segments.parquet"
    counted = with_employee_counts(ingested, source="export.csv", column="employees")
    write_parquet(counted, ingested_file)
    write_parquet(segment_table(counted, load_schemes(config)), segments_file)
    good = tmp_path / "harmonised.yaml"
    shutil.copy(ROOT / "config/codebook/harmonised.yaml", good)
    smk = run_clean_script(tmp_path / "ok", config, good, ingested_file, segments_file)
    assert all(Path(p).is_file() for p in smk.output)

    # The spec now says professionalism has a sixth level: the ingested categories break it.
    spec = yaml.safe_load(good.read_text(encoding="utf-8"))
    spec["scales"]["professionalism"]["levels"].append("world_class")
    changed = tmp_path / "harmonised_changed.yaml"
    changed.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        run_clean_script(tmp_path / "bad", config, changed, ingested_file, segments_file)
    assert exit_.value.code == 1
    assert not (tmp_path / "bad" / "results").exists() or not any((tmp_path / "bad" / "results").iterdir())
    log = (tmp_path / "bad" / "clean.log").read_text(encoding="utf-8")
    assert "column 'professionalism' has type ordered category" in log
    assert "'world_class'" in log and "Traceback" not in log


def test_a_harmonised_variable_may_not_hide_behind_a_fixed_column(config, harmonised):
    spec = dataclasses.replace(
        harmonised, variables={**harmonised.variables, "status": Variable("status", "yes_no", "x")})
    scheme = load_schemes(config)["report_dk_2024"]
    with pytest.raises(InputError) as err:
        clean_schema(spec, wave="dk_2024", wave_cfg=config["waves"]["dk_2024"], scheme=scheme,
                          schemes=load_schemes(config))
    assert "variable 'status' has the name of a fixed column" in err.value.problem


def test_sample_takes_the_harmonised_levels_and_may_not_be_missing(clean, config, harmonised):
    # The spec's `sample` variable (waves with several samples) types the fixed column.
    spec = dataclasses.replace(
        harmonised,
        scales={**harmonised.scales, "sample": Scale("sample", "nominal", ("main", "panel", "expert"))},
        variables={**harmonised.variables, "sample": Variable("sample", "sample", "x")})
    schema = clean_schema(spec, wave="dk_2024", wave_cfg=config["waves"]["dk_2024"],
                          scheme=load_schemes(config)["report_dk_2024"],
                          schemes=load_schemes(config))
    assert list(schema.columns["sample"].dtype.categories) == ["main", "panel", "expert"]
    bad = clean.copy()
    bad["sample"] = pd.Categorical(["pilot", None, *["main"] * 4], categories=["main", "panel", "expert", "pilot"])
    message = violation(bad, schema)
    assert "column 'sample' fails isin(['main', 'panel', 'expert']): 'pilot' at raw row 2" in message
    assert "column 'sample' has missing values at raw row 3" in message
