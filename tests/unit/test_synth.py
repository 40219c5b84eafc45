"""The synthetic dk_2024 export: deterministic per seed, reproduces every followed published
figure, carries the intended defects, and the shipped file cannot drift from the generator."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pandas as pd
import pytest
import yaml

from smesocial.synthetic import core, dk
from smesocial.errors import InputError
from smesocial.reproduce import compare_published
from smesocial.estimates import asked_indicators, share_estimates
from synth_support import ROOT, assert_params_rejected, check_shipped, copy_params, generator_fixtures, run_cli

PARAMS = ROOT / "config" / "synthetic" / "dk_2024.yaml"
SHIPPED = ROOT / "data" / "raw" / "dk_2024" / "dk_2024_survey_export.csv"

ctx, allocation, result = generator_fixtures(dk, PARAMS)


@pytest.fixture(scope="module")
def rows(result: dk.SynthResult) -> pd.DataFrame:
    """The CSV as a strict reader sees it: every cell a string, empty = ''."""
    text = result.csv_bytes.decode("utf-8")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True))
    return pd.DataFrame(records[1:], columns=records[0], dtype=object)


def item_columns(ctx: dk.Context) -> list[str]:
    return list(ctx.codebook.columns)


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(ctx, allocation, result):
    again = dk.generate(context=ctx, allocation=allocation, seed=result.seed)
    assert again.csv_bytes == result.csv_bytes


def test_other_seed_gives_another_file_with_the_same_counts(ctx, allocation, result):
    other = dk.generate(context=ctx, allocation=allocation, seed=result.seed + 1)
    assert other.csv_bytes != result.csv_bytes
    # Counts come from the seed-independent MILP: the figures are reproduced for any seed.
    assert dk.verify_figures(other)["ok"].all()


def test_csv_format(result, ctx):
    data = result.csv_bytes
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
    header = data.split(b"\n", 1)[0].decode("utf-8").split(";")
    assert header == dk.export_columns(ctx.codebook)
    assert header[:4] == ["Respons-ID", "Status", "Startet", "Afsluttet"]


# --- published figures, segments, claims ---------------------------------------------------


def test_every_followed_figure_is_reproduced(result, ctx):
    table = dk.verify_figures(result)
    followed = [f["id"] for f in ctx.published["figures"] if f["follow"]]
    assert sorted(table["figure_id"]) == sorted(followed)
    assert table["ok"].all(), table[~table["ok"]]
    assert ((table["recomputed"] - table["published"]).abs() <= 0.5).all()


def test_segment_counts_among_retained(result):
    counts = result.retained["segment"].value_counts().to_dict()
    assert counts == {"micro": 97, "small": 103, "medium": 132}
    assert 3 <= int((result.retained["employees"] == 50).sum()) <= 4


def test_employee_texts_stay_inside_their_segment(result, ctx):
    texts = result.frame.loc[result.frame["role"] != core.ROLE_TEST, ["employees_text", "segment"]]
    for text, segment in texts.itertuples(index=False):
        lo, hi = ctx.bounds[segment]
        numbers = [int(n) for n in re.findall(r"\d+", text)]
        assert numbers and all(lo <= n and (hi is None or n <= hi) for n in numbers), text
    shown = set(texts["employees_text"])
    assert any(t.startswith("ca") for t in shown) and any("-" in t for t in shown)
    assert "50" in shown


def test_rank_claims_hold(result):
    table = dk.rank_claim_checks(result)
    assert len(table) == 3 and table["ok"].all(), table


def test_qualitative_claims_hold(result):
    table = dk.qualitative_checks(result)
    assert table["ok"].all(), table[~table["ok"]]


def test_linkedin_use_and_importance_correlate(result):
    assert dk.spearman_linkedin(result) > 0.3


# --- defects --------------------------------------------------------------------------------


def test_exactly_one_duplicate_pair(rows):
    cvr = rows.loc[rows["CVR-nummer"] != "", "CVR-nummer"]
    repeated = rows[rows["CVR-nummer"].isin(cvr[cvr.duplicated()])]
    assert len(repeated) == 2 and repeated["E-mail"].nunique() == 1
    first, second = repeated.sort_values("Startet").to_dict("records")
    assert first["Status"] == second["Status"] == "Gennemført"
    assert first["Afsluttet"] < second["Startet"]
    assert int(first["Respons-ID"]) < int(second["Respons-ID"])
    differing = sum(first[c] != second[c] for c in rows.columns[9:])
    assert 1 <= differing <= 2


def test_one_test_response(rows):
    test = rows[rows["Virksomhedens navn"].str.strip().str.casefold() == "test"]
    assert len(test) == 1
    assert test["E-mail"].iloc[0].startswith("test@") and test["Kommentarer"].iloc[0] == "testbesvarelse"
    others = rows.drop(test.index)
    text = (others["Virksomhedens navn"] + " " + others["E-mail"] + " " + others["Kommentarer"]).str.casefold()
    assert not text.str.contains("test|prøve").any()


def test_partials(rows, ctx):
    answered = (rows[item_columns(ctx)] != "").sum(axis=1) / len(item_columns(ctx))
    partial = rows["Status"] == "Delvist gennemført"
    assert int((partial & (answered < 0.5)).sum()) == 3  # excluded by the clean stage
    assert int((partial & (answered >= 0.5)).sum()) == 7  # retained, break-off on the last page
    assert int(((rows["Status"] == "Gennemført") & (answered < 0.5)).sum()) == 0
    assert (rows[item_columns(ctx)] == "Ved ikke").to_numpy().sum() > 0


def test_speeders_are_fast_and_no_retained_response_is(rows):
    started = pd.to_datetime(rows["Startet"])
    minutes = (pd.to_datetime(rows["Afsluttet"]) - started).dt.total_seconds() / 60
    # Complete submissions of firms; the test response is excluded before the speeder rule.
    complete = (rows["Status"] == "Gennemført") & (rows["Virksomhedens navn"] != "TEST")
    median = minutes[complete].median()
    fast = complete & (minutes < 0.3 * median)  # the clean stage's default speeder cut-off
    assert int(fast.sum()) == 2
    assert minutes[fast].between(1.0, 2.0).all()
    slowest_kept_floor = minutes[complete & ~fast].min()
    assert slowest_kept_floor >= 0.35 * median


def test_rows_shuffled_and_ids_unique(result, rows):
    assert rows["Respons-ID"].is_unique
    segments = result.frame["segment"].tolist()
    assert segments != sorted(segments, key=dk.SEGMENTS.index)
    assert rows["Startet"].tolist() != sorted(rows["Startet"])


def test_excluded_rows_do_not_count(result):
    assert len(result.frame) == 332 + 1 + 1 + 2 + 3  # retained, duplicate, test, speeders, partials
    assert set(result.retained["role"]) == {dk.ROLE_RETAINED}


# --- generator and pipeline agree, for any seed --------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_every_seed_reproduces_the_report_after_the_pipelines_ingest_and_clean(ctx, allocation, seed):
    # The file as the pipeline sees it (core.pipeline_retained on the written bytes: its own
    # reader, ingest and clean stages), then the estimates and the reproduction check the
    # workflow runs on clean.parquet.
    run = dk.generate(context=ctx, allocation=allocation, seed=seed).pipeline
    indicators, _not_asked = asked_indicators(run.clean, ctx.indicators)
    estimates = share_estimates(run.clean, indicators, wave="dk_2024")
    table = compare_published(estimates, ctx.published, 0.5)
    followed = table[[bool(f["follow"]) for f in ctx.published["figures"]]]
    assert len(followed) == 78
    assert (followed["status"] == "match").all(), followed[followed["status"] != "match"]
    assert run.clean["segment"].astype(str).value_counts().to_dict() == {
        "micro": 97, "small": 103, "medium": 132}
    assert run.flow.set_index("step").loc["speeder", "n_excluded"] == 2


def test_self_check_goes_through_the_clean_stage(ctx, allocation, monkeypatch):
    # Seed 5 draws a retained partial response of 3 min 12 s, under the clean stage's cut-off
    # (0.3 x the median of complete responses, 3 min 16 s). Without lengthening it, the
    # pipeline drops it as a speeder, and the self-check must say so rather than count 78/78.
    monkeypatch.setattr(dk, "lift_speeder_durations", lambda *args: 0)
    with pytest.raises(core.VerificationError) as caught:
        dk.generate(context=ctx, allocation=allocation, seed=5)
    message = str(caught.value)
    assert "meant to be retained, the clean stage says speeder (speeder: took 3 min 12 s" in message
    assert "segment micro: 96 retained, expected 97" in message
    assert "figure hk1_neutral_micro: published 30, recomputed 29.47 (off)" in message


def test_seed_5_lengthens_the_one_response_the_speeder_rule_would_cut(ctx, allocation):
    result = dk.generate(context=ctx, allocation=allocation, seed=5)
    assert result.defects["lifted_durations"] == 1
    assert result.defects["speeder"] == 2 and len(result.pipeline.clean) == 332


def _timed(role: str, status: str, minutes: float, start: datetime = datetime(2024, 1, 31, 12)) -> dict:
    return {"role": role, "status": status, "started": start,
            "finished": start + timedelta(seconds=round(60 * minutes))}


def test_lift_speeder_durations_uses_the_clean_stage_median_and_keeps_it():
    rows = [_timed(core.ROLE_RETAINED, "complete", m) for m in (10, 10, 11, 12)]
    rows.append(_timed(core.ROLE_RETAINED, "complete", 2.5, datetime(2024, 1, 31, 23, 57)))
    rows += [_timed(core.ROLE_SPEEDER, "complete", 1), _timed(core.ROLE_RETAINED, "partial", 3),
             _timed(core.ROLE_TEST, "complete", 0.5), _timed(core.ROLE_DUPLICATE, "complete", 2)]
    end = datetime(2024, 1, 31, 23, 59, 59)
    # Median of the complete retained and speeder rows: 10 min; cut-off 0.3 x 600 s = 180 s.
    assert core.lift_speeder_durations(rows, {"speeder_min_share_of_median": 0.3}, end) == 2
    seconds = [(r["finished"] - r["started"]).total_seconds() for r in rows]
    assert seconds == [600, 600, 660, 720, 181, 60, 181, 30, 120]
    # Lengthened past the survey's close, it starts earlier instead.
    assert (rows[4]["started"], rows[4]["finished"]) == (end - timedelta(seconds=181), end)
    assert core.lift_speeder_durations(rows, {"speeder_min_share_of_median": None}, end) == 0


def test_generator_key_must_name_a_module_of_the_package(tmp_path, monkeypatch, capsys):
    path = copy_params(tmp_path, PARAMS, lambda params: params.update(generator="os.path"))
    monkeypatch.chdir(tmp_path)
    assert core.main(["--params", str(path), "--out", str(tmp_path / "x.csv")]) == 1
    assert "`generator` must name a generator module of smesocial.synthetic" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


# --- the shipped file -------------------------------------------------------------------------


def test_shipped_file_matches_readme_and_a_fresh_generation():
    readme = check_shipped(dk, PARAMS, SHIPPED)
    assert readme.splitlines()[0].startswith("# SYNTHETIC reconstruction from the report's published figures")


def test_cli_writes_csv_and_readme(tmp_path, monkeypatch, capsys):
    printed = run_cli(PARAMS, tmp_path / "export.csv", 3, monkeypatch, capsys)
    assert "78/78" in printed and "micro 97, small 103, medium 132" in printed


# --- MILP and parameter errors -----------------------------------------------------------------


def _figure(fid: str, segment: str, value: float, categories: set[str]) -> core.FigureTarget:
    return core.FigureTarget(fid, "test_indicator", segment, value, "post_linkedin", frozenset(categories))


@pytest.fixture()
def linkedin_inputs(ctx):
    spec = ctx.item["post_linkedin"]
    na_min = {s: 0 for s in dk.SEGMENTS}
    return spec.levels, ctx.sizes, dk.target_counts(ctx, "post_linkedin", na_min), na_min


def test_milp_reproduces_figures_exactly(linkedin_inputs):
    levels, sizes, targets, na_min = linkedin_inputs
    figures = [_figure("a", "micro", 33, {"daily", "weekly"}), _figure("b", "all", 55, {"daily", "weekly"})]
    counts = core.allocate_item("post_linkedin", levels, sizes, targets, figures, na_min, 0.49)
    for seg in dk.SEGMENTS:
        assert sum(counts[seg].values()) == sizes[seg]
    k = counts["micro"]["daily"] + counts["micro"]["weekly"]
    n = sizes["micro"] - counts["micro"][None]
    assert abs(100 * k / n - 33) <= 0.49


def test_contradictory_segment_figures_name_item_and_segment(linkedin_inputs):
    levels, sizes, targets, na_min = linkedin_inputs
    figures = [_figure("dw", "micro", 33, {"daily", "weekly"}),
               _figure("rarely", "micro", 80, {"almost_never", "never"})]  # 33 + 80 > 100
    with pytest.raises(InputError, match=r"item 'post_linkedin', segment 'micro'.*dw=33%.*rarely=80%"):
        core.allocate_item("post_linkedin", levels, sizes, targets, figures, na_min, 0.49)


def test_contradictory_all_figure_names_segment_all(linkedin_inputs):
    levels, sizes, targets, na_min = linkedin_inputs
    figures = [_figure(f"s_{s}", s, 10, {"daily"}) for s in dk.SEGMENTS]
    figures.append(_figure("total", "all", 50, {"daily"}))  # 10/10/10 cannot average 50
    with pytest.raises(InputError, match=r"item 'post_linkedin', segment 'all'"):
        core.allocate_item("post_linkedin", levels, sizes, targets, figures, na_min, 0.49)


def test_contradictory_targets_file_raises_naming_item(tmp_path):
    # Every micro firm breaking off before 'want more' leaves no base for the published 65%
    # (hk8_want_more_micro): the MILP is infeasible and the error names item and segment.
    def edit(params):
        params["defects"]["retained_partials"]["micro"] = ["want_more_with_resources_likert"] * 97
    ctx = dk.load_context(copy_params(tmp_path, PARAMS, edit), root=tmp_path)
    with pytest.raises(InputError, match=r"item 'want_more_with_resources_likert', segment 'micro'"):
        dk.allocate_all(ctx)


def test_target_without_provenance_is_rejected(tmp_path):
    def edit(params):
        del params["targets"]["post_youtube"]["provenance"]
    assert_params_rejected(dk, PARAMS, tmp_path, edit,
                           r"targets.post_youtube.micro: categories without provenance")


def test_target_shares_must_sum_to_100(tmp_path):
    def edit(params):
        params["targets"]["handling"]["small"]["pct"]["agency"] = 10
    assert_params_rejected(dk, PARAMS, tmp_path, edit,
                           r"targets.handling.small.pct must be non-negative and sum to 100")


def test_params_must_name_the_codebook_of_one_configured_wave(tmp_path):
    # The self-check runs the clean stage with the settings of the wave read with this codebook.
    path = copy_params(tmp_path, PARAMS, lambda params: None)
    config_path = tmp_path / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["waves"]["dk_2024"]["codebook"] = "config/codebook/dk_2024_renamed.yaml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=r"inputs.codebook must be the codebook of exactly one wave"):
        dk.load_context(path, root=tmp_path)
