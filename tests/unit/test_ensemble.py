"""The ensemble's draws and how a battery result's robustness across them is summarised."""

from __future__ import annotations

import math

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


def test_a_draw_that_misses_the_report_stops_the_run_naming_the_draw(tmp_path, monkeypatch):
    """Copula strength 0.5 with seed 14 fails the generator's check that LinkedIn posting and
    importance go together (measured): the draw's step ends with one message, no export."""
    import logging
    import runpy
    from pathlib import Path
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
    handlers, level = logging.getLogger().handlers[:], logging.getLogger().level
    try:
        with pytest.raises(SystemExit) as stopped:
            runpy.run_path(str(root / "workflow/scripts/ensemble_generate.py"),
                           init_globals={"snakemake": smk})
    finally:
        for handler in logging.getLogger().handlers[:]:
            if handler not in handlers:
                handler.close()
        logging.getLogger().handlers[:], logging.getLogger().level = handlers, level
    assert stopped.value.code == 1
    assert not out.exists()
    last = (tmp_path / "generate.log").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert "draw 002 (seed 14, variant copula_weak) does not reproduce the report" in last
    assert "Spearman(post_linkedin, important_linkedin_likert)" in last
