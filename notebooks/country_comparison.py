# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: smesocial (.venv)
#     language: python
#     name: smesocial
# ---

# %% [markdown]
# # Denmark and Norway compared
#
# The items `config/harmonisation.yaml` declares comparable across the Danish and the Norwegian
# questionnaires, side by side with their confidence intervals, and the difference between the
# countries per common size segment, from `results/comparisons/dk_no.csv`. The comparisons are
# **not comparable in design** (14 years apart, different instruments and samples): the
# non-comparabilities are listed below and in every caption.
#
# **The data are synthetic**: both waves are reconstructions from published figures, not survey
# responses; the figure illustrates the method and is no finding. This notebook computes no
# statistic. What it needs of the configuration (the waves' disclosures, the common size
# scheme's segments) the workflow passes as parameters (smesocial.figure_plan).

# %%
from pathlib import Path

import pandas as pd
from IPython.display import display

from smesocial import notebooks as figures

# %% tags=["parameters"]
waves = ["dk_2024", "no_2010"]  # first, second: differences are first minus second
results_dir = "results"
figures_dir = "results/figures"
# From the configuration (figure_plan.country_comparison_parameters), for the waves above:
disclosures = [  # one per wave
    ("Synthetic data: dk_2024 is a reconstruction generated from the report's published "
     "percentages (data/raw/dk_2024/README.md), not the survey's responses. Its results "
     "reproduce the published figures by construction and are not findings."),
    ("Synthetic data: no_2010 is an illustrative reconstruction (data/raw/no_2010/README.md) "
     "whose levels rest on three published figures (quoted by Abelia, 2010) and stated "
     "assumptions, not the survey's responses. Its results are not findings."),
]
segment_labels = {  # "all", then the common size scheme (harmonisation.yaml) in order
    "all": "All firms",
    "micro_small": "Micro + small (0–49 employees)",
    "medium_large": "Medium + large (50+ employees)",
}
# Filled in by the workflow, recorded in the figure manifest:
notebook = "notebooks/country_comparison.py"
rule = "interactive"
executed_notebook = ""

# %%
paths = {"comparison": Path(results_dir, "comparisons/dk_no.csv"),
         "non_comparabilities": Path(results_dir, "comparisons/non_comparabilities.csv")}
comparison = pd.read_csv(paths["comparison"])
non_comparabilities = pd.read_csv(paths["non_comparabilities"])
publisher = figures.Publisher(notebook=notebook, executed_notebook=executed_notebook, rule=rule,
                              manifest=f"{figures_dir}/country_comparison_figures.csv")
for disclosure in disclosures:
    print(disclosure)
figures.apply_theme()

# %% [markdown]
# ## What the design does not let the comparison show

# %%
with pd.option_context("display.max_colwidth", None):
    display(non_comparabilities[["id", "dimension", "description", "consequence", "applies_to"]])

# %% [markdown]
# ## The harmonised items, Denmark and Norway

# %%
publisher.publish(figures.draw_country_comparison(
    comparison, non_comparabilities, waves=waves, segments=list(segment_labels),
    segment_names=segment_labels, sources=[str(p) for p in paths.values()]),
    f"{figures_dir}/dk_no_comparison")
