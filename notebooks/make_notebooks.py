"""Write the project's notebooks (nbformat v4) from the cells below, with fixed cell ids so the
files, and the executed copies the workflow keeps, have stable bytes.

    .venv/bin/python notebooks/make_notebooks.py

The notebooks draw figures from the pipeline's tables through smesocial.figures; they compute
no statistic. Each has a cell tagged `parameters` whose defaults let it run on its own from the
repository root; the workflow (workflow/rules/notebooks.smk) runs them with papermill.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

HERE = Path(__file__).resolve().parent
KERNELSPEC = {"name": "smesocial", "display_name": "smesocial (.venv)", "language": "python"}

# --------------------------------------------------------------------------------------------
# Shared by the three notebooks: saving a figure with its manifest record, then showing it.

PUBLISH = '''\
def publish(drawn, stem):
    """Save the figure (PNG + SVG, byte-stable), record it in this run's manifest, show the SVG."""
    meta = figures.FigureMeta(caption=drawn.caption, sources=drawn.sources, notebook=NOTEBOOK,
                              executed_notebook=executed_notebook, rule=rule, manifest=manifest)
    figures.save_figure(drawn.figure, stem, meta)
    display(SVG(filename=f"{stem}.svg"), Markdown(f"**{Path(stem).name}**: {meta.caption}"))'''


def markdown(cell_id: str, text: str) -> NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    cell["id"] = cell_id
    return cell


def code(cell_id: str, source: str, tags: list[str] | None = None) -> NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell["id"] = cell_id
    if tags:
        cell["metadata"]["tags"] = tags
    return cell


def notebook(cells: list[NotebookNode]) -> NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb["metadata"] = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    return nb


# --------------------------------------------------------------------------------------------
# wave_profile.ipynb

WAVE_PROFILE = notebook([
    markdown("intro", """\
# Wave profile

The figures of one survey wave, drawn from the workflow's tables: how often firms post on each
platform, the gap between a platform's importance for growth and its use, how professionally
firms work with social media, broadcast versus dialogue, presence and purposes per platform
where the wave asks them, and the respondent flow. A figure the wave lacks the items for is
skipped with a note.

**The data are synthetic.** The waves shipped with this project are reconstructions from
published figures (each wave's `disclosure` in `config/config.yaml`), not survey responses:
the figures illustrate the method and are not findings. This notebook computes no statistic;
it reads `results/<wave>/estimates.csv`, `flow.csv`, `estimates_by_sample.csv` and
`results/stats/estimates.csv`, `tests.csv`."""),
    code("parameters", """\
wave = "dk_2024"
scheme = "report_dk_2024"  # the wave's segmentation scheme (its estimates are by this scheme)
weighted = False  # True: the battery's weighted shares, where the wave has weights
results_dir = "results"
figures_dir = "results/figures"
config_file = "config/config.yaml"
# Filled in by the workflow, recorded in the figure manifest:
rule = "interactive"
executed_notebook = \"\"""", tags=["parameters"]),
    code("setup", """\
from pathlib import Path

import pandas as pd
from IPython.display import SVG, Markdown, display

from smesocial import figures
from smesocial.config import load_config, load_harmonised

NOTEBOOK = "notebooks/wave_profile.ipynb"
config = load_config(config_file)
settings = config["waves"][wave]
if scheme != settings["segmentation"]:
    raise ValueError(f"{wave}'s estimates are by scheme {settings['segmentation']!r}, not "
                     f"{scheme!r}: this notebook draws the pipeline's tables, it does not estimate")
harmonised = load_harmonised(config["harmonised"])
disclosure = " ".join(settings["disclosure"].split())
print(disclosure)

paths = {role: Path(results_dir, name) for role, name in {
    "wave": f"{wave}/estimates.csv", "stats": "stats/estimates.csv", "tests": "stats/tests.csv",
    "flow": f"{wave}/flow.csv", "by_sample": f"{wave}/estimates_by_sample.csv"}.items()}
tables = {role: pd.read_csv(path) for role, path in paths.items() if path.is_file()}
if weighted and (note := figures.weighting_note(tables.get("stats"), wave)):
    print(f"weighted=True, but {wave} has no weighted estimates ({note}): drawing unweighted")
    weighted = False
suffix = "_weighted" if weighted else ""
manifest = f"{figures_dir}/wave_profile_{wave}{suffix}_figures.csv"

variables = figures.measured_variables(tables["wave"])
if "by_sample" in tables and tables["by_sample"]["sample"].nunique() > 2:  # all + 2 samples
    variables.add("sample")
scheme_segments = [s["name"] for s in config["segmentation"][scheme]["segments"]]
view = figures.WaveView(
    wave=wave,
    estimates=figures.wave_estimates(tables["wave"], tables.get("stats"), wave,
                                     weighted=weighted,
                                     sources=(str(paths["wave"]), str(paths["stats"]))),
    variables=frozenset(variables), platforms=harmonised.platforms, purposes=harmonised.purposes,
    segments=("all", *scheme_segments),
    segment_names=figures.segment_labels(config["segmentation"][scheme]),
    frequency_levels=tuple(reversed(harmonised.scales["frequency"].levels)),
    sources={role: str(path) for role, path in paths.items() if role in tables},
    tests=tables.get("tests"), flow=tables.get("flow"), by_sample=tables.get("by_sample"),
    weighted=weighted, disclosure=disclosure,
    basis=("Weighted shares (Wilson 95% CIs on Kish's effective n)." if weighted
           else "Unweighted shares with Wilson 95% confidence intervals."))
available = figures.wave_figures(variables)
print(f"{wave}: figures {', '.join(available)}")
figures.apply_theme()


""" + PUBLISH + """


def draw(name):
    \"\"\"Draw and publish one of the wave's figures, or say why it is skipped.\"\"\"
    if name not in available:
        print(f"{name}: skipped, {wave} does not have the items it shows")
        return
    try:
        drawn = figures.draw_wave_figure(name, view)
    except figures.NotDrawable as reason:
        print(f"{name}: skipped, {reason}")
        return
    publish(drawn, f"{figures_dir}/{wave}_{name}{suffix}")"""),
    markdown("h-posting", "## Posting frequency by platform and firm size"),
    code("posting-frequency", 'draw("posting_frequency")'),
    markdown("h-gap", "## Importance for growth versus use (the Danish report's headline)"),
    code("importance-use-gap", 'draw("importance_use_gap")'),
    markdown("h-professionalism", "## Professionalism by firm size"),
    code("professionalism", 'draw("professionalism")'),
    markdown("h-broadcast", "## Broadcast versus dialogue"),
    code("broadcast-dialogue", 'draw("broadcast_dialogue")'),
    markdown("h-presence", "## Presence per platform by sample"),
    code("presence-by-sample", 'draw("presence_by_sample")'),
    markdown("h-purposes", "## Purposes per platform"),
    code("purposes", 'draw("purposes")'),
    markdown("h-flow", "## Respondent flow"),
    code("respondent-flow", 'draw("respondent_flow")'),
    code("manifest", """\
# This run's figures: files, sha256 and the notebook and rule that made them.
pd.read_csv(manifest)[["figure", "format", "bytes", "sha256", "rule"]]"""),
])

# --------------------------------------------------------------------------------------------
# country_comparison.ipynb

COUNTRY_COMPARISON = notebook([
    markdown("intro", """\
# Denmark and Norway compared

The items `config/harmonisation.yaml` declares comparable across the Danish and the Norwegian
questionnaires, side by side with their confidence intervals, and the difference between the
countries per common size segment, from `results/comparisons/dk_no.csv`. The comparisons are
**not comparable in design** (14 years apart, different instruments and samples): the
non-comparabilities are listed below and in every caption.

**The data are synthetic**: both waves are reconstructions from published figures, not survey
responses; the figure illustrates the method and is no finding. This notebook computes no
statistic."""),
    code("parameters", """\
waves = ["dk_2024", "no_2010"]  # first, second: differences are first minus second
results_dir = "results"
figures_dir = "results/figures"
config_file = "config/config.yaml"
# Filled in by the workflow, recorded in the figure manifest:
rule = "interactive"
executed_notebook = \"\"""", tags=["parameters"]),
    code("setup", """\
from pathlib import Path

import pandas as pd
from IPython.display import SVG, Markdown, display

from smesocial import figures
from smesocial.config import load_config, load_yaml

NOTEBOOK = "notebooks/country_comparison.ipynb"
config = load_config(config_file)
scheme = load_yaml(config["harmonisation"])["common_scheme"]
segments = ["all", *[s["name"] for s in config["segmentation"][scheme]["segments"]]]
paths = {"comparison": Path(results_dir, "comparisons/dk_no.csv"),
         "non_comparabilities": Path(results_dir, "comparisons/non_comparabilities.csv")}
comparison = pd.read_csv(paths["comparison"])
non_comparabilities = pd.read_csv(paths["non_comparabilities"])
manifest = f"{figures_dir}/country_comparison_figures.csv"
for wave in waves:
    print(" ".join(config["waves"][wave]["disclosure"].split()))
figures.apply_theme()


""" + PUBLISH),
    markdown("h-non-comparabilities", "## What the design does not let the comparison show"),
    code("non-comparabilities", """\
with pd.option_context("display.max_colwidth", None):
    display(non_comparabilities[["id", "dimension", "description", "consequence", "applies_to"]])"""),
    markdown("h-figure", "## The harmonised items, Denmark and Norway"),
    code("comparison", """\
publish(figures.draw_country_comparison(
    comparison, non_comparabilities, waves=waves, segments=segments,
    segment_names=figures.segment_labels(config["segmentation"][scheme]),
    sources=[str(p) for p in paths.values()]), f"{figures_dir}/dk_no_comparison")"""),
])

# --------------------------------------------------------------------------------------------
# official_trends.ipynb

OFFICIAL_TRENDS = notebook([
    markdown("intro", """\
# Official statistics: enterprises using social media

Published shares of enterprises using social media in Denmark and Norway, with the EU
aggregates as reference, from `results/official/trends.csv` (checked and tabulated by the
workflow from `data/raw/official/`). **Official figures cover enterprises with 10+
employees**, unlike the survey waves, and are published without sample sizes (no confidence
intervals). These are published figures, not the synthetic survey data; the notebook computes
no statistic."""),
    code("parameters", """\
countries = ["DK", "NO"]
size_class = "10+"
results_dir = "results"
figures_dir = "results/figures"
# Filled in by the workflow, recorded in the figure manifest:
rule = "interactive"
executed_notebook = \"\"""", tags=["parameters"]),
    code("setup", """\
from pathlib import Path

import pandas as pd
from IPython.display import SVG, Markdown, display

from smesocial import figures

NOTEBOOK = "notebooks/official_trends.ipynb"
source = Path(results_dir, "official/trends.csv")
trends = pd.read_csv(source)
manifest = f"{figures_dir}/official_trends_figures.csv"
figures.apply_theme()


""" + PUBLISH),
    markdown("h-table", "## The published figures drawn"),
    code("table", """\
shown = trends[trends["indicator"].isin(list(figures.OFFICIAL_INDICATORS))
               & (trends["size_class"] == size_class)]
shown.pivot_table(index=["indicator", "country"], columns="year", values="values_pct",
                  aggfunc="first")"""),
    markdown("h-figure", "## Trends"),
    code("trends", """\
publish(figures.draw_official_trends(trends, countries=countries, size_class=size_class,
                                     sources=[str(source)]), f"{figures_dir}/official_trends")"""),
])


def main() -> None:
    for name, nb in [("wave_profile", WAVE_PROFILE), ("country_comparison", COUNTRY_COMPARISON),
                     ("official_trends", OFFICIAL_TRENDS)]:
        nbformat.validate(nb)
        nbformat.write(nb, HERE / f"{name}.ipynb")


if __name__ == "__main__":
    main()
