"""End to end: for every configured wave the respondent flow of the shared full run accounts for
every raw row, step by step, and agrees with exclusions.csv rule by rule."""

from __future__ import annotations

import pandas as pd
import pytest

from smesocial.clean import RULES
from smesocial.config import load_codebook, load_config
from smesocial.readers import read_export
from workflow_support import ROOT

pytestmark = pytest.mark.e2e

WAVES = list(load_config(ROOT / "config" / "config.yaml")["waves"])


@pytest.mark.parametrize("wave", WAVES)
def test_flow_adds_up_and_matches_the_exclusions(two_runs, wave):
    workdir, _, _ = two_runs
    wave_cfg = load_config(workdir / "config" / "config.yaml")["waves"][wave]
    results = workdir / "results" / wave
    flow = pd.read_csv(results / "flow.csv")
    exclusions = pd.read_csv(results / "exclusions.csv", dtype={"response_id": "str"})
    clean = pd.read_parquet(results / "clean.parquet")
    raw = read_export(workdir / wave_cfg["raw_file"], load_codebook(workdir / wave_cfg["codebook"]))

    # The steps: raw, every rule in its documented order (shown even when it excluded none),
    # analysed; each step starts where the last one ended and loses exactly what it excluded.
    assert flow["step"].tolist() == ["raw", *RULES, "analysed"]
    assert flow["n_in"].iloc[0] == len(raw)
    for step in flow.itertuples():
        assert step.n_in - step.n_excluded == step.n_out, step
    assert flow["n_out"].iloc[:-1].tolist() == flow["n_in"].iloc[1:].tolist()
    assert flow["n_excluded"].iloc[[0, -1]].tolist() == [0, 0]
    assert flow["n_out"].iloc[-1] == len(clean)

    # Rule by rule, the flow's count is the number of lines exclusions.csv gives that rule.
    per_rule = exclusions["rule"].value_counts()
    for step in flow[flow["step"].isin(RULES)].itertuples():
        assert per_rule.get(step.step, 0) == step.n_excluded, step.step
    assert set(exclusions["rule"]) <= set(RULES)

    # Row by row: each raw row is analysed or excluded exactly once, never both, never neither.
    assert exclusions["raw_row"].is_unique
    assert not set(exclusions["raw_row"]) & set(clean["raw_row"])
    assert sorted([*exclusions["raw_row"], *clean["raw_row"]]) == sorted(raw["raw_row"])
    assert len(raw) == len(clean) + len(exclusions) == len(clean) + flow["n_excluded"].sum()

    # Each line points at its raw row and says why.
    id_column = load_codebook(workdir / wave_cfg["codebook"]).meta["response_id"]
    raw_ids = raw.set_index("raw_row")[id_column].str.strip()
    assert (raw_ids[exclusions["raw_row"]].to_numpy() == exclusions["response_id"].to_numpy()).all()
    assert (exclusions["wave"] == wave).all()
    assert exclusions["reason"].str.len().gt(20).all()
