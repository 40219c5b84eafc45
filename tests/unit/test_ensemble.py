"""The ensemble's draws and how a battery result's robustness across them is summarised."""

from __future__ import annotations

import logging
import math
import runpy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from smesocial.config import ensemble_draws
from smesocial.ensemble import KEY, draws_table, robustness


def test_draws_cycle_through_the_variants_with_consecutive_seeds():
    config = {"ensemble": {"wave": "dk_2024", "params": "p.yaml", "draws": 5, "first_seed": 10,
                           "variants": {"shipped": {}, "weak": {"copula_strength": 0.5}}}}
    draws = ensemble_draws(config)
    assert list(draws) == ["001", "002", "003", "004", "005"]
    assert [d["seed"] for d in draws.values()] == [10, 11, 12, 13, 14]
    assert [d["variant"] for d in draws.values()] == ["shipped", "weak", "shipped", "weak",
                                                      "shipped"]
    assert draws["002"]["assumptions"] == {"copula_strength": 0.5}
    table = draws_table(draws)
    assert table["assumptions"].tolist() == ["", "copula_strength=0.5", "", "copula_strength=0.5",
                                             ""]
    assert ensemble_draws({}) == {} and ensemble_draws({"ensemble": {"draws": 0}}) == {}


def battery(p: list[float], holm: list[float], effect: list[float]) -> pd.DataFrame:
    rows = [{"hypothesis": "H", "waves": "w", "item": f"i{k}", "segment": "all", "test": "t",
             "p": p[k], "p_adj_holm": holm[k], "effect_size_name": "e", "effect_size": effect[k]}
            for k in range(len(p))]
    return pd.DataFrame(rows)


def test_robustness_counts_significant_draws_and_keeps_the_shipped_values():
    shipped = battery([0.001, 0.2, math.nan], [0.004, 0.4, math.nan], [0.5, 0.1, math.nan])
    draws = {"001": battery([0.002, 0.03, math.nan], [0.008, 0.09, math.nan], [0.4, 0.2, math.nan]),
             "002": battery([0.3, 0.001, math.nan], [0.6, 0.003, math.nan], [0.1, 0.3, math.nan]),
             "003": battery([0.01, 0.5, math.nan], [0.02, 0.9, math.nan], [0.3, 0.0, math.nan])}
    table = robustness(shipped, draws, alpha=0.05).set_index("item")
    assert table.loc["i0", "n_draws"] == 3 and table.loc["i0", "n_significant"] == 2
    assert table.loc["i0", "share_significant"] == pytest.approx(2 / 3)
    assert table.loc["i1", "n_significant"] == 1
    assert table.loc["i0", "p_median"] == pytest.approx(0.01)
    assert table.loc["i0", "effect_median"] == pytest.approx(0.3)
    # 2.5% and 97.5% quantiles of the three draws (linear interpolation, as numpy)
    assert table.loc["i0", "p_low"] == pytest.approx(0.002 + 0.05 * (0.01 - 0.002))
    assert table.loc["i0", "p_high"] == pytest.approx(0.01 + 0.95 * (0.3 - 0.01))
    assert table.loc["i0", "shipped_p"] == pytest.approx(0.001)
    assert bool(table.loc["i0", "shipped_significant"]) and not bool(table.loc["i1", "shipped_significant"])
    # a row no draw could test says so instead of showing numbers
    assert table.loc["i2", "n_draws"] == 0 and math.isnan(table.loc["i2", "share_significant"])
    assert "no draw gave a p-value" in table.loc["i2", "note"]
    assert table.reset_index()[KEY].equals(shipped[KEY])


@pytest.mark.parametrize("row, says", [
    ({"class": "identified", "p_min": 1e-9, "p_max": 0.004},
     "identified: significant for every table consistent with the report's rounded figures "
     "(p at most 0.004, unadjusted)"),
    ({"class": "bounded", "p_min": 0.2, "p_max": 0.9},
     "bounded: not significant for any joint distribution the report's margins allow "
     "(p at least 0.2)"),
    ({"class": "bounded", "p_min": 0.0001, "p_max": 0.3},
     "bounded: the report's figures leave it open; over every joint distribution the report's "
     "margins allow p runs from 0.0001 to 0.3 (unadjusted)"),
    ({"class": "assumed", "p_min": math.nan, "p_max": math.nan, "n_draws": 4, "n_significant": 1},
     "assumed: rests on the reconstruction's assumptions; significant after Holm in 1 of 4 "
     "reconstructions"),
    ({"class": "bounded", "p_min": math.nan, "p_max": math.nan, "n_draws": 4, "n_significant": 4},
     "assumed: rests on the reconstruction's assumptions; significant after Holm in 4 of 4 "
     "reconstructions"),
    ({"class": "observed"}, "observed: the wave's responses, not a reconstruction"),
])
def test_support_says_what_a_result_rests_on(row, says):
    from smesocial.ensemble import support

    assert support(row, alpha=0.05) == says


def exit_code_of(script: Path, smk: Any) -> int | str | None:
    """Run a workflow entry script as Snakemake would, with the root logger put back after."""
    handlers, level = logging.getLogger().handlers[:], logging.getLogger().level
    try:
        with pytest.raises(SystemExit) as stopped:
            runpy.run_path(str(script), init_globals={"snakemake": smk})
    finally:
        for handler in logging.getLogger().handlers[:]:
            if handler not in handlers:
                handler.close()
        logging.getLogger().handlers[:], logging.getLogger().level = handlers, level
    return stopped.value.code


def test_a_draw_that_misses_the_report_stops_the_run_naming_the_draw(tmp_path, monkeypatch):
    """Copula strength 0.5 with seed 14 fails the generator's check that LinkedIn posting and
    importance go together once the floor has no sampling allowance (measured: rho 0.07 < 0.075):
    the draw's step ends with one message, no export."""
    from smesocial.synthetic import dk

    monkeypatch.setattr(dk, "SPEARMAN_VARIANT_ALLOWANCE", 0.0)
    from types import SimpleNamespace

    from smesocial.config import load_config

    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    config = load_config(root / "config/config.yaml")
    out = tmp_path / "export.csv"
    draw = {"draw": "002", "seed": 14, "variant": "copula_weak",
            "assumptions": {"copula_strength": 0.5}}
    project = {key: config[key] for key in ("exclusions", "segmentation",
                                            "reproduction", "alpha", "waves")}
    smk = SimpleNamespace(
        input=SimpleNamespace(params="config/synthetic/dk_2024.yaml"), output=[str(out)],
        log=[str(tmp_path / "generate.log")], rule="ensemble_generate",
        params=SimpleNamespace(draw=draw, config=project, config_read=[]))
    assert exit_code_of(root / "workflow/scripts/ensemble_generate.py", smk) == 1
    assert not out.exists()
    last = (tmp_path / "generate.log").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert "draw 002 (seed 14, variant copula_weak) does not reproduce the report" in last
    assert "Spearman(post_linkedin, important_linkedin_likert)" in last


def test_a_job_object_is_the_snakemake_object_a_rules_script_gets():
    from smesocial.ensemble import job_object

    job = {"rule": "stats", "draw": "001",
           "input": {"items": ["a.parquet", "b.parquet", "h.yaml"],
                     "names": {"clean": [0, 2], "hypotheses": [2, None]}},
           "output": {"items": ["t.csv"], "names": {"tests": [0, None]}},
           "params": {"items": [{"alpha": 0.05}, ["alpha"]],
                      "names": {"config": [0, None], "config_read": [1, None]}},
           "log": {"items": ["s.log"], "names": {}},
           "wildcards": {"items": ["ensemble/batch001/draw001/"], "names": {"prefix": [0, None]}}}
    smk = job_object(job)
    assert list(smk.input.clean) == ["a.parquet", "b.parquet"]
    assert smk.input.hypotheses == "h.yaml" and smk.output.tests == smk.output[0] == "t.csv"
    assert smk.params.config == {"alpha": 0.05} and smk.params.config_read == ["alpha"]
    assert smk.log[0] == "s.log" and smk.wildcards.prefix == "ensemble/batch001/draw001/"
    assert smk.rule == "stats"


def test_robustness_reads_exactly_the_configured_draws_from_the_batches(tmp_path):
    from smesocial.ensemble import draw_tests
    from smesocial.errors import InputError

    for batch, draw in (("batch001", "001"), ("batch001", "002"), ("batch002", "003")):
        folder = tmp_path / batch / f"draw{draw}" / "stats"
        folder.mkdir(parents=True)
        (folder / "tests.csv").write_text(f"p\n0.{draw}\n", encoding="utf-8")
    batches = [str(tmp_path / "batch001"), str(tmp_path / "batch002")]
    tests = draw_tests(batches, ["001", "002", "003"])
    assert list(tests) == ["001", "002", "003"] and tests["003"]["p"].iloc[0] == 0.003
    with pytest.raises(InputError, match="other draws than the configured"):
        draw_tests(batches, ["001", "002"])


def test_a_batch_stops_at_a_draw_that_misses_the_report_naming_draw_rule_and_figure(
        tmp_path, monkeypatch):
    """The batch runs the draw's generate job in-process; its failure is the batch's one
    message (the same check as the standalone job above)."""
    from smesocial.synthetic import dk

    monkeypatch.setattr(dk, "SPEARMAN_VARIANT_ALLOWANCE", 0.0)
    from types import SimpleNamespace

    from smesocial.config import load_config

    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    config = load_config(root / "config/config.yaml")
    project = {key: config[key] for key in ("exclusions", "segmentation",
                                            "reproduction", "alpha", "waves")}
    draw = {"draw": "002", "seed": 14, "variant": "copula_weak",
            "assumptions": {"copula_strength": 0.5}}
    out = tmp_path / "draw002" / "export.csv"
    generate = {"draw": "002", "rule": "ensemble_generate",
                "script": "workflow/scripts/ensemble_generate.py",
                "input": {"items": ["config/synthetic/dk_2024.yaml"], "names": {"params": [0, None]}},
                "output": {"items": [str(out)], "names": {}},
                "params": {"items": [draw, [], project],
                           "names": {"draw": [0, None], "config_read": [1, None],
                                     "config": [2, None]}},
                "log": {"items": [str(tmp_path / "generate.log")], "names": {}},
                "wildcards": {"items": ["002"], "names": {"draw": [0, None]}}, "temp": [str(out)]}
    batch_log = tmp_path / "batch.log"
    smk = SimpleNamespace(output=[str(tmp_path / "batch001")], log=[str(batch_log)],
                          rule="ensemble_batch",
                          params=SimpleNamespace(jobs=[generate], draws=["002"], config_read=[]))
    assert exit_code_of(root / "workflow/scripts/ensemble_batch.py", smk) == 1
    assert not out.exists()
    last = batch_log.read_text(encoding="utf-8").strip().splitlines()[-1]
    assert last.startswith("ERROR smesocial: config/synthetic/dk_2024.yaml: draw 002, rule "
                           "ensemble_generate: draw 002 (seed 14, variant copula_weak) does not "
                           "reproduce the report")
    assert "Spearman(post_linkedin, important_linkedin_likert)" in last
