# Shared helpers for the rules: where a wave's inputs are, which waves have published figures.


def wave_config(wave):
    return config["waves"][wave]


def raw_file(wildcards):
    return wave_config(wildcards.wave)["raw_file"]


def codebook_file(wildcards):
    return wave_config(wildcards.wave)["codebook"]


def published_file(wildcards):
    return wave_config(wildcards.wave)["published"]


def waves_with_published():
    return [wave for wave in WAVES if "published" in wave_config(wave)]


def reproduction_targets():
    return expand("results/{wave}/reproduction.csv", wave=waves_with_published())


wildcard_constraints:
    wave="|".join(WAVES),


def settings(*sections, wave=False):
    """The config sections a rule's script reads, as a params value: Snakemake reruns a job
    whose params changed, so editing config/config.yaml reruns exactly the rules it affects."""

    def collect(wildcards):
        chosen = {name: config.get(name) for name in sections}
        if wave:
            chosen["wave"] = wave_config(wildcards.wave)
        return chosen

    return collect


# --- notebooks ---
# What the notebook rules (workflow/rules/notebooks.smk) declare, worked out while the workflow
# is read: a wave's figures follow from its codebook. smesocial.figure_plan is stdlib + yaml,
# so this section imports no pandas, matplotlib or seaborn (tests/unit/test_figures.py).
from functools import lru_cache as _lru_cache
from pathlib import Path as _Path

from smesocial.config import load_harmonised as _load_harmonised_nb
from smesocial.figure_plan import (FORMATS as FIGURE_FORMATS,
                                   codebook_variables as _codebook_variables,
                                   country_comparison_parameters as _country_comparison_parameters,
                                   wave_figures as _wave_figures,
                                   wave_profile_parameters as _wave_profile_parameters)

# The code the notebooks run beside their own: editing it reruns them.
NOTEBOOK_CODE = ["workflow/smesocial/figures.py", "workflow/smesocial/figure_plan.py"]
_HARMONISED_NB = _load_harmonised_nb(config["harmonised"])
COMPARISON_FIGURES = [f"results/figures/dk_no_comparison.{ext}" for ext in FIGURE_FORMATS]
OFFICIAL_FIGURES = [f"results/figures/official_trends.{ext}" for ext in FIGURE_FORMATS]


@_lru_cache(maxsize=None)
def wave_variables(wave):
    """The harmonised variables a wave's codebook maps (and those derived from them)."""
    return _codebook_variables(wave_config(wave)["codebook"], _HARMONISED_NB)


def waves_with_samples():
    """Waves drawn in several samples (their codebook maps a column onto `sample`)."""
    return [w for w in WAVES if "sample" in wave_variables(w)]


def wave_figure_files(wave):
    """A wave's figure files: the figures its items allow (smesocial.figure_plan.wave_figures)."""
    return [f"results/figures/{wave}_{name}.{ext}"
            for name in _wave_figures(wave_variables(wave)) for ext in FIGURE_FORMATS]


def figure_outputs(files, caption, category_label):
    # In the Snakemake report: the PNGs (the SVGs are the same figures), labelled by name.
    return [report(f, caption=caption, category="Figures", subcategory=category_label,
                   labels={"figure": _Path(f).stem, "format": "png"})
            if f.endswith(".png") else f for f in files]


def notebook_manifests():
    return [f"results/figures/wave_profile_{w}_figures.csv" for w in WAVES] + [
        "results/figures/country_comparison_figures.csv",
        "results/figures/official_trends_figures.csv"]


def notebook_targets():
    """Every executed notebook, figure and figure manifest (for rule all and provenance)."""
    return (
        [f"results/notebooks/wave_profile_{w}.ipynb" for w in WAVES]
        + ["results/notebooks/country_comparison.ipynb", "results/notebooks/official_trends.ipynb"]
        + [f for w in WAVES for f in wave_figure_files(w)]
        + COMPARISON_FIGURES + OFFICIAL_FIGURES
        + expand("results/{wave}/estimates_by_sample.csv", wave=waves_with_samples())
        + notebook_manifests() + ["results/figures/figures.csv"]
    )
