"""The illustrative synthetic no_2010 export: deterministic per seed, reproduces the three
published figures (pooled), follows the seed's qualitative statements, reads through the
pipeline's own reader and clean stage, and the shipped .sav cannot drift from the generator."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import yaml

from smesocial.synthetic import core, no
from smesocial.config import expand_template, load_harmonised, load_indicators
from smesocial.errors import InputError
from synth_support import ROOT, assert_params_rejected, check_shipped, copy_params, generator_fixtures, run_cli

PARAMS = ROOT / "config" / "synthetic" / "no_2010.yaml"
SHIPPED = ROOT / "data" / "raw" / "no_2010" / "no_2010_survey_export.sav"
PUBLISHED = {"present_facebook": 62.0, "present_twitter": 59.0, "present_youtube": 30.0}

ctx, allocation, result = generator_fixtures(no, PARAMS)


@pytest.fixture(scope="module")
def retained(result: no.SynthResult) -> pd.DataFrame:
    return result.retained


@pytest.fixture(scope="module")
def sav(result: no.SynthResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sav") / "no_2010_survey_export.sav"
    path.write_bytes(result.sav_bytes)
    return path


def present_share(frame: pd.DataFrame, platform: str, sample: str = "all") -> float:
    return no.pct(frame, f"present_{platform}", {True}, sample)


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(ctx, allocation, result):
    again = no.generate(context=ctx, allocation=allocation, seed=result.seed)
    assert again.sav_bytes == result.sav_bytes
    assert again.sha256 == result.sha256


def test_other_seed_gives_another_file_with_the_same_counts(ctx, allocation, result):
    other = no.generate(context=ctx, allocation=allocation, seed=result.seed + 1)
    assert other.sav_bytes != result.sav_bytes
    for platform in ctx.platforms:  # counts come from the seed-independent MILP
        assert present_share(other.retained, platform) == present_share(result.retained, platform)
    assert no.verify_figures(other)["ok"].all()


def test_sav_creation_stamp_is_the_fixed_one(result, ctx):
    assert result.sav_bytes[:4] == b"$FL2"
    assert result.sav_bytes[92:109] == b"11 Oct 1008:30:00"  # export.created, not the clock
    assert ctx.params["export"]["created"] == "2010-10-11 08:30:00"


# --- published figures and the seed's statements -------------------------------------------------


def test_three_published_figures_reproduced_pooled(result, retained):
    table = no.verify_figures(result)
    assert sorted(table["indicator"]) == sorted(PUBLISHED)
    assert (table["segment"] == "all").all() and table["ok"].all(), table
    for platform, published in (("facebook", 62), ("twitter", 59), ("youtube", 30)):
        assert abs(present_share(retained, platform) - published) <= 0.5


def test_experts_ahead_of_panel_on_every_platform(retained, ctx):
    assert list(ctx.platforms) == ["facebook", "twitter", "linkedin", "youtube", "blog"]
    for platform in ctx.platforms:
        panel = present_share(retained, platform, "panel")
        expert = present_share(retained, platform, "expert")
        assert expert > panel + 10, platform


def test_linkedin_for_recruitment_the_others_for_profiling(retained, ctx):
    for platform in ctx.platforms:
        present = retained[[v is True for v in retained[f"present_{platform}"]]]
        shares = {u: no.pct(present, f"purpose_{u}_{platform}", {True}) for u in ctx.purposes}
        top = max(shares, key=shares.get)
        assert top == ("recruitment" if platform == "linkedin" else "profiling_marketing"), shares


def test_product_testing_and_customer_service_are_rare(retained, ctx):
    for platform in ctx.platforms:
        for purpose in ("product_testing", "customer_service"):
            for sample in ("panel", "expert", "all"):
                share = no.pct(retained, f"purpose_{purpose}_{platform}", {True}, sample)
                assert share < 15, (platform, purpose, sample, share)


def test_personal_use_mirrors_business_use(result, retained):
    assert no.spearman_personal_business(result) > 0.3
    panel = no.pct(retained, "personal_use", {"daily"}, "panel")
    expert = no.pct(retained, "personal_use", {"daily"}, "expert")
    assert panel < expert  # the panel are less often heavy users personally


def test_every_qualitative_check_holds(result):
    checks = no.qualitative_checks(result)
    assert len(checks) == 24 and checks["ok"].all(), checks[~checks["ok"]]


def test_routed_items_empty_where_not_present(retained, ctx):
    for platform in ctx.platforms:
        absent = [v is not True for v in retained[f"present_{platform}"]]
        for name in [f"post_{platform}", *(f"purpose_{u}_{platform}" for u in ctx.purposes)]:
            assert all(v is None for v in retained.loc[absent, name])


# --- the .sav as a survey tool writes it, and as the pipeline reads it ------------------------------


def test_sav_has_norwegian_labels(sav, ctx):
    data, meta = pyreadstat.read_sav(str(sav))
    assert meta.column_labels[:4] == ["Respondent-ID", "Status", "Starttidspunkt", "Sluttidspunkt"]
    assert set(ctx.codebook.columns) <= set(meta.column_labels)
    labels = meta.variable_value_labels
    assert labels["q1"] == {1.0: "Daglig", 2.0: "Ukentlig", 3.0: "Månedlig", 4.0: "Sjeldnere",
                            5.0: "Aldri", 9.0: "Vet ikke"}
    assert labels["q3_1"] == {1.0: "Ja", 2.0: "Nei", 9.0: "Vet ikke"}
    assert labels["utvalg"] == {1.0: "Panelutvalg", 2.0: "Ekspertutvalg"}
    assert list(labels["q2"].values()) == ["1-4", "5-9", "10-19", "20-49", "50-99", "100-249", "250+"]
    orgnr = [o for o in data["orgnr"] if o]
    assert len(orgnr) == len(data) - 1 and all(no.orgnr_valid(o) for o in orgnr)
    assert "SYNTETISK" in meta.file_label


def test_pipeline_reads_cleans_and_keeps_750(sav, ctx):
    run = core.pipeline_retained(sav, ctx)  # the pipeline's read_export, ingest and clean
    assert len(run.ingested) == 756
    assert not set(ctx.codebook.identifiers) & set(run.ingested.columns)
    assert len(run.clean) == 750
    assert run.clean["sample"].astype(str).value_counts().to_dict() == {"panel": 500, "expert": 250}
    assert run.exclusions["rule"].value_counts().to_dict() == {
        "partial_below_threshold": 4, "test_response": 1, "duplicate_submission": 1}
    assert set(run.clean["segment"].astype(str)) == {"micro", "small", "medium", "large"}
    share = run.clean["present_facebook"].dropna().mean()
    assert abs(100 * share - 62) <= 0.5


@pytest.fixture(scope="module")
def harmonised_spec():
    return load_harmonised(ROOT / "config" / "codebook" / "harmonised.yaml")


# --- the shipped file --------------------------------------------------------------------------


def test_shipped_file_matches_readme_and_a_fresh_generation():
    first = check_shipped(no, PARAMS, SHIPPED).splitlines()[0]
    assert first.startswith("# ILLUSTRATIVE SYNTHETIC reconstruction")
    assert "three published figures" in first and "NOT on the survey's responses" in first


def test_one_cli_dispatches_on_the_generator_key(tmp_path, monkeypatch, capsys):
    printed = run_cli(PARAMS, tmp_path / "export.sav", 5, monkeypatch, capsys)
    assert "3/3" in printed and "panel 500, expert 250" in printed


# --- template expansion and parameter errors --------------------------------------------------------


def test_purpose_templates_expand_platform_outermost(harmonised_spec):
    names = list(expand_template("purpose_{purpose}_{platform}",
                                 {"platform": {"linkedin": "LinkedIn", "blog": "Blogs"},
                                  "purpose": {"recruitment": "r", "product_testing": "p"}}))
    assert names == ["purpose_recruitment_linkedin", "purpose_product_testing_linkedin",
                     "purpose_recruitment_blog", "purpose_product_testing_blog"]
    var = harmonised_spec.variables["purpose_recruitment_linkedin"]
    assert (var.platform, var.purpose, var.label) == ("linkedin", "recruitment",
                                                      "The firm uses LinkedIn for recruitment")
    # Callers passing only the platforms still get the purposes (indicators' dimensions_from).
    indicators = load_indicators(ROOT / "config" / "indicators.yaml", harmonised_spec.platforms)
    assert indicators["purpose_recruitment_linkedin"].variable == "purpose_recruitment_linkedin"
    assert len([i for i in indicators if i.startswith("purpose_")]) == 5 * len(harmonised_spec.platforms)


def test_a_template_without_its_dimension_is_an_error():
    with pytest.raises(InputError, match=r"uses \{purpose\}, but no `purposes` are given"):
        expand_template("purpose_{purpose}_{platform}", {"platform": {"x": "X"}}, "spec.yaml")


def test_source_must_name_a_published_figure(tmp_path):
    def edit(params):
        params["presence"]["linkedin"]["source"] = "published:abelia_linkedin_all"
    assert_params_rejected(no, PARAMS, tmp_path, edit,
                           r"presence.linkedin.source: source names no published figure")


def test_block_without_provenance_is_rejected(tmp_path):
    def edit(params):
        del params["frequency"]["blog"]["assumption"]
    assert_params_rejected(no, PARAMS, tmp_path, edit, r"frequency.blog has no provenance")


def test_shares_must_sum_to_100(tmp_path):
    def edit(params):
        params["personal_use"]["panel"]["daily"] = 50
    assert_params_rejected(no, PARAMS, tmp_path, edit,
                           r"personal_use.panel must be non-negative and sum to 100")


def test_contradictory_figures_name_item_and_stratum(tmp_path):
    # Two followed figures on the same pooled share (62% and 20%) cannot both hold: the MILP
    # finds no counts and the error names the item and the stratum ('all': the pooled sample).
    path = copy_params(tmp_path, PARAMS, lambda params: None)
    published = tmp_path / "config" / "published" / "no_2010.yaml"
    figures = yaml.safe_load(published.read_text(encoding="utf-8"))
    figures["figures"].append({**figures["figures"][0], "id": "contradiction", "value": 20})
    published.write_text(yaml.safe_dump(figures, allow_unicode=True), encoding="utf-8")
    ctx = no.load_context(path, root=tmp_path)
    with pytest.raises(InputError, match=r"item 'present_facebook', segment 'all'.*contradiction=20%"):
        no.allocate_all(ctx)
