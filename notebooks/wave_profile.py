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
# # Wave profile
#
# The figures of one survey wave, drawn from the workflow's tables: how often firms post on each
# platform, the gap between a platform's importance for growth and its use, how professionally
# firms work with social media, broadcast versus dialogue, presence and purposes per platform
# where the wave asks them, and the respondent flow. A figure the wave lacks the items for is
# skipped with a note.
#
# **The data are synthetic.** The waves shipped with this project are reconstructions from
# published figures (each wave's `disclosure` in `config/config.yaml`, printed below), not survey
# responses: the figures illustrate the method and are not findings. This notebook computes no
# statistic; it reads `results/<wave>/estimates.csv`, `flow.csv`, `estimates_by_sample.csv` and
# `results/stats/estimates.csv`, `tests.csv`. What it needs of the configuration (labels, orders,
# the disclosure) the workflow passes as parameters (smesocial.figure_plan).

# %%
from pathlib import Path

import pandas as pd

from smesocial import notebooks as figures

# %% tags=["parameters"]
wave = "dk_2024"
weighted = False  # True: the battery's weighted shares, where the wave has weights
results_dir = "results"
figures_dir = "results/figures"
# From the configuration (figure_plan.wave_profile_parameters); these are dk_2024's:
disclosure = (
    "Synthetic data: dk_2024 is a reconstruction generated from the report's published "
    "percentages (data/raw/dk_2024/README.md), not the survey's responses. Its results "
    "reproduce the published figures by construction and are not findings."
)
segment_labels = {  # "all", then the wave's segmentation scheme in order
    "all": "All firms",
    "micro": "Micro (1–10 employees)",
    "small": "Small (11–50 employees)",
    "medium": "Medium (51+ employees)",
}
platforms = {
    "facebook": "Facebook", "instagram": "Instagram", "linkedin": "LinkedIn",
    "tiktok": "TikTok", "snapchat": "Snapchat", "pinterest": "Pinterest", "youtube": "YouTube",
    "trustpilot": "Trustpilot", "tripadvisor": "TripAdvisor", "twitter": "Twitter",
    "blog": "Blogs",
}
purposes = {
    "profiling_marketing": "profiling and marketing", "recruitment": "recruitment",
    "customer_dialogue": "dialogue with customers",
    "customer_service": "customer service and support", "product_testing": "product testing",
}
frequency_levels = ["daily", "weekly", "monthly", "almost_never", "never"]  # most frequent first
# Filled in by the workflow, recorded in the figure manifest:
notebook = "notebooks/wave_profile.py"
rule = "interactive"
executed_notebook = ""

# %%
print(disclosure)
paths = {role: Path(results_dir, name) for role, name in {
    "wave": f"{wave}/estimates.csv", "stats": "stats/estimates.csv", "tests": "stats/tests.csv",
    "flow": f"{wave}/flow.csv", "by_sample": f"{wave}/estimates_by_sample.csv"}.items()}
tables = {role: pd.read_csv(path) for role, path in paths.items() if path.is_file()}
if weighted and (note := figures.weighting_note(tables.get("stats"), wave)):
    print(f"weighted=True, but {wave} has no weighted estimates ({note}): drawing unweighted")
    weighted = False
suffix = "_weighted" if weighted else ""
publisher = figures.Publisher(notebook=notebook, executed_notebook=executed_notebook, rule=rule,
                              manifest=f"{figures_dir}/wave_profile_{wave}{suffix}_figures.csv")

variables = figures.measured_variables(tables["wave"])
if "by_sample" in tables and tables["by_sample"]["sample"].nunique() > 2:  # all + 2 samples
    variables.add("sample")
view = figures.WaveView(
    wave=wave,
    estimates=figures.wave_estimates(tables["wave"], tables.get("stats"), wave,
                                     weighted=weighted,
                                     sources=(str(paths["wave"]), str(paths["stats"]))),
    variables=frozenset(variables), platforms=platforms, purposes=purposes,
    segments=tuple(segment_labels), segment_names=segment_labels,
    frequency_levels=tuple(frequency_levels),
    sources={role: str(path) for role, path in paths.items() if role in tables},
    tests=tables.get("tests"), flow=tables.get("flow"), by_sample=tables.get("by_sample"),
    weighted=weighted, disclosure=disclosure,
    basis=("Weighted shares (Wilson 95% CIs on Kish's effective n)." if weighted
           else "Unweighted shares with Wilson 95% confidence intervals."))
available = figures.wave_figures(variables)
print(f"{wave}: figures {', '.join(available)}")
figures.apply_theme()


def draw(name: str) -> None:
    """Draw and publish one of the wave's figures, or say why it is skipped."""
    if name not in available:
        print(f"{name}: skipped, {wave} does not have the items it shows")
        return
    try:
        drawn = figures.draw_wave_figure(name, view)
    except figures.NotDrawable as reason:
        print(f"{name}: skipped, {reason}")
        return
    publisher.publish(drawn, f"{figures_dir}/{wave}_{name}{suffix}")


# %% [markdown]
# ## Posting frequency by platform and firm size

# %%
draw("posting_frequency")

# %% [markdown]
# ## Importance for growth versus use (the Danish report's headline)

# %%
draw("importance_use_gap")

# %% [markdown]
# ## Professionalism by firm size

# %%
draw("professionalism")

# %% [markdown]
# ## Broadcast versus dialogue

# %%
draw("broadcast_dialogue")

# %% [markdown]
# ## Presence per platform by sample

# %%
draw("presence_by_sample")

# %% [markdown]
# ## Purposes per platform

# %%
draw("purposes")

# %% [markdown]
# ## Respondent flow

# %%
draw("respondent_flow")

# %%
# This run's figures: files, sha256 and the notebook and rule that made them.
pd.read_csv(publisher.manifest)[["figure", "format", "bytes", "sha256", "rule"]]
