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
# # Official statistics: enterprises using social media
#
# Published shares of enterprises using social media in Denmark and Norway, with the EU
# aggregates as reference, from `results/official/trends.csv` (checked and tabulated by the
# workflow from `data/raw/official/`). **Official figures cover enterprises with 10+
# employees**, unlike the survey waves, and are published without sample sizes (no confidence
# intervals). These are published figures, not the synthetic survey data; the notebook computes
# no statistic.

# %%
from pathlib import Path

import pandas as pd

from smesocial import notebooks as figures

# %% tags=["parameters"]
countries = ["DK", "NO"]
size_class = "10+"
results_dir = "results"
figures_dir = "results/figures"
# Filled in by the workflow, recorded in the figure manifest:
notebook = "notebooks/official_trends.py"
rule = "interactive"
executed_notebook = ""

# %%
source = Path(results_dir, "official/trends.csv")
trends = pd.read_csv(source)
publisher = figures.Publisher(notebook=notebook, executed_notebook=executed_notebook, rule=rule,
                              manifest=f"{figures_dir}/official_trends_figures.csv")
figures.apply_theme()

# %% [markdown]
# ## The published figures drawn

# %%
shown = trends[trends["indicator"].isin(list(figures.OFFICIAL_INDICATORS))
               & (trends["size_class"] == size_class)]
shown.pivot_table(index=["indicator", "country"], columns="year", values="values_pct",
                  aggfunc="first")

# %% [markdown]
# ## Trends

# %%
publisher.publish(figures.draw_official_trends(trends, countries=countries,
                                               size_class=size_class, sources=[str(source)]),
                  f"{figures_dir}/official_trends")
