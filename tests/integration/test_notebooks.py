"""End to end: the notebooks the workflow executes with papermill and the figures they draw.

Reads the shared two-run fixture: every expected figure exists as PNG and SVG and is the same in
both runs, every executed notebook is kept, ran without an error, records its source script, its
parameters (the configuration's labels among them) and no run times, keeps the source's cell
ids, and the figure manifest names the notebook and the rule of every figure file (one rule,
`notebooks`, runs them all; provenance.json gives each figure its own notebook's inputs). Editing
config/config.yaml where no notebook's parameters change reruns no notebook.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil

import pandas as pd
import pytest

from smesocial.notebook_runs import notebook_from_script
from smesocial.notebooks import SYNTHETIC_MARK
from workflow_support import digests, run_workflow

pytestmark = pytest.mark.e2e

# The stable names the manuscript relies on.
WAVE_FIGURES = {
    "dk_2024": ["posting_frequency", "importance_use_gap", "professionalism", "broadcast_dialogue",
                "respondent_flow"],
    "no_2010": ["presence_by_sample", "purposes", "respondent_flow"],
}
FIGURES = [f"{wave}_{name}" for wave, names in WAVE_FIGURES.items() for name in names] + [
    "dk_no_comparison", "official_trends", "support"]
NOTEBOOKS = {
    "wave_profile_dk_2024": ("notebooks/wave_profile.py", {
        "wave": "dk_2024", "segment_labels": {"all": "All firms", "micro": "Micro (1–10 employees)",
                                              "small": "Small (11–50 employees)",
                                              "medium": "Medium (51+ employees)"}}),
    "wave_profile_no_2010": ("notebooks/wave_profile.py", {"wave": "no_2010"}),
    "country_comparison": ("notebooks/country_comparison.py",
                           {"waves": ["dk_2024", "no_2010"]}),
    "official_trends": ("notebooks/official_trends.py", {"size_class": "10+"}),
    "support": ("notebooks/support.py", {"alpha": 0.05}),
}
# One job runs every notebook (on one kernel): its rule made each executed notebook and figure.
RULE = "notebooks"


@pytest.mark.parametrize("stem", FIGURES)
def test_every_expected_figure_exists_as_png_and_svg_in_both_runs_alike(two_runs, stem):
    workdir, run1, run2 = two_runs
    png, svg = (workdir / f"results/figures/{stem}.{ext}" for ext in ("png", "svg"))
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert png.stat().st_size > 20_000
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "</svg>" in text
    for ext in ("png", "svg"):
        name = f"figures/{stem}.{ext}"
        assert run1[name] == run2[name], f"{name} differs between runs"


@pytest.mark.parametrize("stem", [f for f in FIGURES if f != "official_trends"])
def test_figures_of_survey_waves_say_the_data_are_synthetic(two_runs, stem):
    workdir, _, _ = two_runs
    assert SYNTHETIC_MARK in (workdir / f"results/figures/{stem}.svg").read_text(encoding="utf-8")


def test_official_trends_figure_says_what_the_official_figures_cover(two_runs):
    workdir, _, _ = two_runs
    svg = (workdir / "results/figures/official_trends.svg").read_text(encoding="utf-8")
    assert "enterprises with 10+ employees" in svg and SYNTHETIC_MARK not in svg


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_executed_notebook_is_kept_without_errors_or_run_times_and_records_parameters(two_runs, name):
    workdir, run1, run2 = two_runs
    source, expected = NOTEBOOKS[name]
    path = workdir / f"results/notebooks/{name}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []
    papermill = nb["metadata"]["papermill"]
    assert papermill["input_path"] == source
    assert papermill["output_path"] == f"results/notebooks/{name}.ipynb"
    parameters = papermill["parameters"]
    assert {k: parameters[k] for k in expected} == expected
    assert parameters["rule"] == RULE
    assert parameters["executed_notebook"] == f"results/notebooks/{name}.ipynb"
    assert parameters["notebook"] == source
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and injected[0]["id"] == "injected-parameters"
    # the source's cells, in order and with the ids the runner derived from them
    own = [(c["id"], "".join(c["source"])) for c in nb["cells"] if c not in injected]
    assert own == [(c.id, c.source) for c in notebook_from_script(workdir / source).cells]
    assert nb["metadata"]["kernelspec"]["name"] == "smesocial" and "jupytext" not in nb["metadata"]
    assert f"rule = \"{RULE}\"" in "".join(injected[0]["source"])
    # no run times anywhere, and every code cell ran
    assert not {"start_time", "end_time", "duration"} & set(papermill)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all("execution" not in c["metadata"] for c in code)
    assert all(not {"start_time", "end_time", "duration"} & set(c["metadata"].get("papermill", {}))
               for c in code)
    assert all(c["execution_count"] is not None for c in code)
    assert run1[f"notebooks/{name}.ipynb"] == run2[f"notebooks/{name}.ipynb"]


def test_a_wave_notebook_says_the_data_are_synthetic_and_notes_skipped_figures(two_runs):
    workdir, _, _ = two_runs
    nb = json.loads((workdir / "results/notebooks/wave_profile_no_2010.ipynb").read_text())
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])
                      if o["output_type"] == "stream")
    assert "Synthetic data: no_2010" in printed
    assert "professionalism: skipped" in printed and "importance_use_gap: skipped" in printed


def test_the_figures_manifest_names_notebook_rule_and_checksum_of_every_figure(two_runs):
    workdir, _, _ = two_runs
    manifest = pd.read_csv(workdir / "results/figures/figures.csv", keep_default_na=False)
    files = sorted(p.relative_to(workdir).as_posix()
                   for p in (workdir / "results/figures").glob("*") if p.suffix in {".png", ".svg"})
    assert sorted(manifest["path"]) == files
    assert set(FIGURES) <= set(manifest["figure"])
    for row in manifest.itertuples():
        path = workdir / row.path
        assert row.sha256 == hashlib.sha256(path.read_bytes()).hexdigest(), row.path
        assert row.rule == RULE, row.path
        assert (workdir / row.notebook).is_file()
        assert re.fullmatch(r"notebooks/(wave_profile|country_comparison|official_trends|support)\.py",
                            row.notebook)
        assert (workdir / row.executed_notebook).is_file()
        run = row.executed_notebook.removeprefix("results/notebooks/").removesuffix(".ipynb")
        assert NOTEBOOKS[run][0] == row.notebook
        assert len(row.caption) > 80 and row.sources
    wave_rows = manifest[manifest["figure"].str.match(r"(dk_2024|no_2010|dk_no)_")]
    assert wave_rows["caption"].str.contains("Synthetic data|synthetic", regex=True).all()
    official = manifest[manifest["figure"] == "official_trends"]
    assert official["caption"].str.contains("enterprises with 10\\+ employees").all()


def test_provenance_lists_figures_and_notebooks_with_their_rule_script_and_own_inputs(two_runs):
    workdir, _, _ = two_runs
    manifest = json.loads((workdir / "results/provenance.json").read_text())
    outputs = {o["path"]: o for o in manifest["outputs"]}
    figure = outputs["results/figures/dk_2024_posting_frequency.png"]
    assert figure["rule"] == RULE
    assert figure["script"].endswith("scripts/notebooks.py")
    # one job runs every notebook; a figure's inputs are those of the notebook run that drew it
    inputs = {i["path"] for i in figure["inputs"]}
    assert inputs == {"notebooks/wave_profile.py", "results/dk_2024/estimates.csv",
                      "results/dk_2024/flow.csv", "results/stats/estimates.csv",
                      "results/stats/tests.csv", "workflow/smesocial/notebooks.py",
                      "workflow/smesocial/figure_plan.py", "workflow/smesocial/figure_manifest.py",
                      "workflow/smesocial/notebook_runs.py"}
    executed = outputs["results/notebooks/official_trends.ipynb"]
    assert executed["rule"] == RULE
    assert {i["path"] for i in executed["inputs"]} - {i["path"] for i in figure["inputs"]} == {
        "notebooks/official_trends.py", "results/official/trends.csv"}
    # the merged manifest reads every run's
    merged = outputs["results/figures/figures.csv"]
    assert merged["rule"] == RULE and merged["log"] == ["results/logs/notebooks.log"]
    assert {"results/official/trends.csv", "results/dk_2024/flow.csv"} <= {
        i["path"] for i in merged["inputs"]}


def test_a_config_edit_that_changes_no_notebook_parameter_reruns_no_notebook(two_runs):
    workdir, _, _ = two_runs
    config = workdir / "config/config.yaml"
    text, stat = config.read_bytes(), config.stat()
    try:
        config.write_bytes(text + b"\n# an edit no notebook reads\n")
        planned = run_workflow(workdir, "--dry-run")
    finally:
        config.write_bytes(text)
        os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert planned.returncode == 0, planned.stderr[-2000:]
    jobs = set(re.findall(r"^(?:local)?rule (\w+):", planned.stdout, flags=re.MULTILINE))
    assert "provenance" in jobs  # it records the configuration: the edit is seen
    assert RULE not in jobs


def test_rerunning_the_notebooks_alone_gives_the_same_bytes_and_a_quiet_kernel(
        two_runs, tmp_path_factory):
    """The notebooks job on its own (in a copy of the built workflow): the same executed
    notebooks, figures and manifests as the whole build made, and nothing from the kernel in
    Snakemake's output."""
    first, run1, _ = two_runs
    workdir = tmp_path_factory.mktemp("notebooks_again") / "repo"
    shutil.copytree(first, workdir, symlinks=True)
    done = run_workflow(workdir, RULE, "--forcerun", RULE)
    assert done.returncode == 0, done.stderr[-3000:]
    ran = re.findall(r"^(?:local)?rule (\w+):", done.stdout + done.stderr, flags=re.MULTILINE)
    assert ran == [RULE]
    assert "[IPKernelApp]" not in done.stdout + done.stderr  # the kernel is quiet
    again = digests(workdir / "results")
    drawn = [name for name in run1 if name.startswith(("notebooks/", "figures/"))]
    assert len(drawn) > 30
    assert {name: again[name] for name in drawn} == {name: run1[name] for name in drawn}
