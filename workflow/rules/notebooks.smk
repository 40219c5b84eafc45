# Notebooks: figures drawn from the pipeline's tables, by notebooks executed with papermill
# (workflow/scripts/run_notebook.py; kernel `smesocial`, run from the repository root). The
# source notebook is an input (editing it reruns it), as is the figure code; the executed
# notebook is kept under results/notebooks/ for audit, without run times, and each run writes
# a manifest of its figures (sha256, caption, notebook, rule) that figures_manifest merges.
from functools import lru_cache as _lru_cache

from pathlib import Path as _Path

from smesocial.config import load_codebook as _load_codebook, load_harmonised as _load_harmonised_nb
from smesocial.figures import FORMATS as FIGURE_FORMATS, wave_figures as _wave_figures

NOTEBOOK_CODE = "workflow/smesocial/figures.py"
_HARMONISED_NB = _load_harmonised_nb(config["harmonised"])


@_lru_cache(maxsize=None)
def wave_variables(wave):
    """The harmonised variables a wave's codebook maps (and those derived from them)."""
    mapped = set(_load_codebook(wave_config(wave)["codebook"]).columns.values())
    return frozenset(mapped | {n for n, d in _HARMONISED_NB.derived.items() if d.source in mapped})


def waves_with_samples():
    """Waves drawn in several samples (their codebook maps a column onto `sample`)."""
    return [w for w in WAVES if "sample" in wave_variables(w)]


def wave_figure_files(wave):
    """A wave's figure files: the figures its items allow (smesocial.figures.wave_figures)."""
    return [f"results/figures/{wave}_{name}.{ext}"
            for name in _wave_figures(wave_variables(wave)) for ext in FIGURE_FORMATS]


def figure_outputs(files, caption, category_label):
    # In the Snakemake report: the PNGs (the SVGs are the same figures), labelled by name.
    return [report(f, caption=caption, category="Figures", subcategory=category_label,
                   labels={"figure": _Path(f).stem, "format": "png"})
            if f.endswith(".png") else f for f in files]


COMPARISON_FIGURES = [f"results/figures/dk_no_comparison.{ext}" for ext in FIGURE_FORMATS]
OFFICIAL_FIGURES = [f"results/figures/official_trends.{ext}" for ext in FIGURE_FORMATS]
NOTEBOOK_RULES = [f"notebook_wave_profile_{w}" for w in WAVES] + [
    "notebook_country_comparison", "notebook_official_trends", "estimates_by_sample",
    "figures_manifest"]


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


# Shares per indicator x sample for a wave drawn in several samples: the notebooks only read
# tables, so the presence-by-sample figure needs its shares estimated here.
rule estimates_by_sample:
    input:
        clean="results/{wave}/clean.parquet",
        harmonised=config["harmonised"],
        indicators=config["indicators"],
    output:
        "results/{wave}/estimates_by_sample.csv",
    params:
        config=config_subset("alpha"),
    wildcard_constraints:
        wave="|".join(waves_with_samples()) or "(?!)",
    log:
        "results/logs/{wave}/estimates_by_sample.log",
    benchmark:
        "results/benchmarks/{wave}/estimates_by_sample.tsv"
    script:
        "../scripts/estimates_by_sample.py"


# One rule per wave: its figure files are known from its codebook, so each is declared.
for _wave in WAVES:

    rule:
        name:
            f"notebook_wave_profile_{_wave}"
        input:
            notebook="notebooks/wave_profile.ipynb",
            code=NOTEBOOK_CODE,
            config_files=["config/config.yaml", config["harmonised"]],
            estimates=f"results/{_wave}/estimates.csv",
            flow=f"results/{_wave}/flow.csv",
            by_sample=[f"results/{_wave}/estimates_by_sample.csv"] if _wave in waves_with_samples() else [],
            stats=["results/stats/estimates.csv", "results/stats/tests.csv"],
        output:
            notebook=f"results/notebooks/wave_profile_{_wave}.ipynb",
            manifest=f"results/figures/wave_profile_{_wave}_figures.csv",
            figures=figure_outputs(wave_figure_files(_wave), "../report/figures_wave.rst", _wave),
        params:
            parameters={"wave": _wave, "scheme": wave_config(_wave)["segmentation"],
                        "weighted": False, "results_dir": "results",
                        "figures_dir": "results/figures"},
        log:
            f"results/logs/notebooks/wave_profile_{_wave}.log",
        benchmark:
            f"results/benchmarks/notebooks/wave_profile_{_wave}.tsv"
        script:
            "../scripts/run_notebook.py"


rule notebook_country_comparison:
    input:
        notebook="notebooks/country_comparison.ipynb",
        code=NOTEBOOK_CODE,
        config_files=["config/config.yaml", HARMONISATION_FILE],
        comparison="results/comparisons/dk_no.csv",
        non_comparabilities="results/comparisons/non_comparabilities.csv",
    output:
        notebook="results/notebooks/country_comparison.ipynb",
        manifest="results/figures/country_comparison_figures.csv",
        figures=figure_outputs(COMPARISON_FIGURES, "../report/figures_comparison.rst", "comparison"),
    params:
        parameters={"waves": CROSS_COUNTRY_WAVES, "results_dir": "results",
                    "figures_dir": "results/figures"},
    log:
        "results/logs/notebooks/country_comparison.log",
    benchmark:
        "results/benchmarks/notebooks/country_comparison.tsv"
    script:
        "../scripts/run_notebook.py"


rule notebook_official_trends:
    input:
        notebook="notebooks/official_trends.ipynb",
        code=NOTEBOOK_CODE,
        trends="results/official/trends.csv",
    output:
        notebook="results/notebooks/official_trends.ipynb",
        manifest="results/figures/official_trends_figures.csv",
        figures=figure_outputs(OFFICIAL_FIGURES, "../report/figures_official.rst", "official"),
    params:
        parameters={"countries": ["DK", "NO"], "size_class": "10+", "results_dir": "results",
                    "figures_dir": "results/figures"},
    log:
        "results/logs/notebooks/official_trends.log",
    benchmark:
        "results/benchmarks/notebooks/official_trends.tsv"
    script:
        "../scripts/run_notebook.py"


rule figures_manifest:
    input:
        manifests=notebook_manifests(),
    output:
        report("results/figures/figures.csv", caption="../report/figures_manifest.rst", category="Figures"),
    log:
        "results/logs/notebooks/figures_manifest.log",
    benchmark:
        "results/benchmarks/notebooks/figures_manifest.tsv"
    script:
        "../scripts/figures_manifest.py"
