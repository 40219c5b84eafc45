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
# # What the published figures support
#
# For the paper's key tests: the range of p the report's published figures allow (identified and
# bounded results, `results/identification/tests.csv`), the spread over the ensemble of
# reconstructions and the shipped reconstruction (`results/ensemble/robustness.csv`). **The
# Danish data are synthetic reconstructions**: this shows which results the report's own
# figures carry and which rest on the reconstruction's assumptions, not findings. The notebook
# computes no statistic.

# %%
from pathlib import Path

import pandas as pd

from smesocial import notebooks as figures

# %% tags=["parameters"]
alpha = 0.05
results_dir = "results"
figures_dir = "results/figures"
# The battery rows drawn, top to bottom (the key tests the paper discusses).
rows = [
    {"hypothesis": "H1_size_gradient", "item": "post_daily_weekly_linkedin", "segment": "all",
     "test": "cochran_armitage", "label": "H1 LinkedIn daily/weekly rises with size"},
    {"hypothesis": "H1_size_gradient", "item": "post_daily_weekly_instagram", "segment": "all",
     "test": "cochran_armitage", "label": "H1 Instagram daily/weekly rises with size"},
    {"hypothesis": "H1_size_gradient",
     "item": "post_daily_weekly_linkedin vs post_daily_weekly_facebook", "segment": "all",
     "test": "gradient_difference_ordinal_logit", "label": "H1 LinkedIn's gradient steeper than Facebook's"},
    {"hypothesis": "H1b_linkedin_leads_medium",
     "item": "post_daily_weekly_linkedin vs post_daily_weekly_facebook", "segment": "medium",
     "test": "mcnemar_exact", "label": "H1b LinkedIn ahead of Facebook, medium firms"},
    {"hypothesis": "H2_importance_use_gap",
     "item": "important_linkedin vs post_daily_weekly_linkedin", "segment": "all",
     "test": "mcnemar_exact", "label": "H2 LinkedIn: importance exceeds use"},
    {"hypothesis": "H2_importance_use_gap",
     "item": "important_facebook vs post_daily_weekly_facebook", "segment": "all",
     "test": "mcnemar_exact", "label": "H2 Facebook: importance vs use"},
    {"hypothesis": "H2b_gap_largest_in_micro",
     "item": "important_linkedin vs post_daily_weekly_linkedin", "segment": "all",
     "test": "gradient_difference_ordinal_logit", "label": "H2b LinkedIn gap narrows with size"},
    {"hypothesis": "H3_broadcast_over_dialogue",
     "item": "effective_communication vs learn_about_customers", "segment": "all",
     "test": "mcnemar_exact", "label": "H3 broadcast over dialogue"},
    {"hypothesis": "H4_professionalism_by_size", "item": "professionalism", "segment": "all",
     "test": "ordinal_logit_trend", "label": "H4 professionalism rises with size"},
    {"hypothesis": "H5_resources_by_size", "item": "want_more_with_resources", "segment": "all",
     "test": "cochran_armitage", "label": "H5 resources weigh on the smallest"},
]
# Filled in by the workflow, recorded in the figure manifest:
notebook = "notebooks/support.py"
rule = "interactive"
executed_notebook = ""

# %%
source = Path(results_dir, "ensemble/robustness.csv")
robustness = pd.read_csv(source)
draws = pd.read_csv(Path(results_dir, "ensemble/draws.csv"), dtype={"draw": str})
publisher = figures.Publisher(notebook=notebook, executed_notebook=executed_notebook, rule=rule,
                              manifest=f"{figures_dir}/support_figures.csv")
figures.apply_theme()

# %% [markdown]
# ## The rows drawn

# %%
shown = pd.DataFrame(rows).merge(robustness, on=list(figures.SUPPORT_KEY), how="left")
shown[["label", "class", "p_min", "p_max", "shipped_p", "n_significant", "n_draws", "support"]]

# %%
publisher.publish(figures.draw_support(robustness, rows, alpha=alpha, n_draws=len(draws),
                                       sources=[str(source)]),
                  f"{figures_dir}/support")
