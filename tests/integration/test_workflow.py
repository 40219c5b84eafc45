"""End to end: the whole Snakemake DAG in a temporary copy of the repository, run twice.

Checks the reproduction of the published Danish figures, the respondent flow, the provenance
manifest and that the two runs give byte-identical results.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
import yaml

from workflow_support import ROOT, copy_repository, run_workflow

pytestmark = pytest.mark.e2e


def test_two_runs_give_byte_identical_results(two_runs):
    _, run1, run2 = two_runs
    assert len(run1) >= 10
    differing = sorted(name for name in run1.keys() | run2.keys() if run1.get(name) != run2.get(name))
    assert differing == []


def test_every_followed_published_figure_is_reproduced(two_runs):
    workdir, _, _ = two_runs
    table = pd.read_csv(workdir / "results/dk_2024/reproduction.csv")
    published = yaml.safe_load((ROOT / "config/published/dk_2024.yaml").read_text())
    assert len(table) == len(published["figures"])
    followed = {f["id"] for f in published["figures"] if f["follow"]}
    statuses = table.set_index("figure_id")["status"]
    assert statuses[sorted(followed)].eq("match").all(), table[table.status == "off"].to_string()
    inconsistent = set(statuses[statuses == "report_inconsistent"].index)
    assert inconsistent == {f["id"] for f in published["figures"] if not f["follow"]}
    assert table.loc[table.status == "match", "diff_pp"].abs().max() <= 0.5


def test_flow_accounts_for_every_raw_row(two_runs):
    workdir, _, _ = two_runs
    flow = pd.read_csv(workdir / "results/dk_2024/flow.csv")
    exclusions = pd.read_csv(workdir / "results/dk_2024/exclusions.csv")
    clean = pd.read_parquet(workdir / "results/dk_2024/clean.parquet")
    raw_rows = sum(1 for _ in (ROOT / "data/raw/dk_2024/dk_2024_survey_export.csv").open(encoding="utf-8")) - 1
    assert flow.iloc[0]["n_in"] == raw_rows
    assert flow.iloc[-1]["n_out"] == len(clean) == 332
    assert raw_rows - len(clean) == len(exclusions) == flow["n_excluded"].sum()
    assert exclusions["reason"].str.len().gt(0).all()
    assert clean["segment"].value_counts().to_dict() == {"micro": 97, "small": 103, "medium": 132}


def test_provenance_manifest_names_rule_script_and_checksums(two_runs):
    workdir, _, _ = two_runs
    manifest = json.loads((workdir / "results/provenance.json").read_text())
    outputs = {o["path"]: o for o in manifest["outputs"]}
    record = outputs["results/dk_2024/reproduction.csv"]
    assert record["rule"] == "reproduce"
    assert record["script"].endswith("scripts/reproduce.py")
    assert record["sha256"] == hashlib.sha256((workdir / record["path"]).read_bytes()).hexdigest()
    assert {i["path"] for i in record["inputs"]} == {"results/dk_2024/estimates.csv",
                                                    "config/published/dk_2024.yaml"}
    raw = {i["path"]: i["sha256"] for i in manifest["inputs"]}
    shipped = ROOT / "data/raw/dk_2024/dk_2024_survey_export.csv"
    assert raw["data/raw/dk_2024/dk_2024_survey_export.csv"] == hashlib.sha256(shipped.read_bytes()).hexdigest()
    assert manifest["packages"]["snakemake"] != "not installed"
    assert all(o["rule"] != "unknown" for o in manifest["outputs"])


def test_results_say_the_data_are_synthetic(two_runs):
    workdir, _, _ = two_runs
    for name in ["results/summary.md", "results/dk_2024/reproduction.md"]:
        assert "Synthetic data" in (workdir / name).read_text()


def test_an_invalid_config_stops_the_run_naming_the_key(tmp_path):
    workdir = copy_repository(tmp_path)
    config_file = workdir / "config/config.yaml"
    config = yaml.safe_load(config_file.read_text())
    config["alpha"] = 5
    config_file.write_text(yaml.safe_dump(config, allow_unicode=True))
    done = run_workflow(workdir, "--dry-run")
    assert done.returncode != 0
    message = done.stdout + done.stderr
    assert "alpha" in message and "5" in message


def test_identification_classes_and_ranges_hold_the_battery(two_runs):
    """results/identification/tests.csv: one row per battery row, and where a range is given it
    contains the battery's own p (both written at 6 significant digits)."""
    workdir, _, _ = two_runs
    keys = ["hypothesis", "waves", "item", "segment", "test"]
    battery = pd.read_csv(workdir / "results/stats/tests.csv")
    ident = pd.read_csv(workdir / "results/identification/tests.csv")
    assert ident[keys].equals(battery[keys])
    assert set(ident["class"]) <= {"identified", "bounded", "assumed"}
    both = ident.merge(battery[keys + ["p", "statistic"]], on=keys)
    ranged = both[both["p_min"].notna()]
    tol = 1e-5
    assert (ranged["p_min"] <= ranged["p"] * (1 + tol)).all()
    assert (ranged["p"] <= ranged["p_max"] * (1 + tol)).all()

    def one(item, test, segment="all"):
        hit = both[(both["item"] == item) & (both["test"] == test) & (both["segment"] == segment)]
        assert len(hit) == 1
        return hit.iloc[0]

    linkedin = one("post_daily_weekly_linkedin", "cochran_armitage")
    assert linkedin["class"] == "identified"
    assert linkedin["p_min"] <= linkedin["p"] * (1 + tol) and linkedin["p"] <= linkedin["p_max"] * (1 + tol)
    assert one("post_linkedin", "kruskal_wallis")["class"] == "assumed"
    gap = one("important_linkedin vs post_daily_weekly_linkedin", "mcnemar_exact", "micro")
    assert gap["class"] == "bounded" and gap["p_min"] < gap["p"] < gap["p_max"]
    assert (both.loc[both["waves"].str.contains("no_2010"), "class"] == "assumed").all()
