# Notebooks: figures drawn from the pipeline's tables, by notebooks executed with papermill
# (workflow/scripts/notebooks.py; kernel `smesocial`, run from the repository root). The
# source notebook (a jupytext percent script, notebooks/*.py) is an input (editing it reruns
# it), as is the figure code; what a notebook needs of the configuration is in its params (so a
# config edit reruns only the notebooks it changes), and its inputs are the files it opens. The
# executed notebook is kept under results/notebooks/ for audit, without run times, and each run
# writes a manifest of its figures (sha256, caption, notebook, rule) that figures_manifest
# merges. The input functions and constants are in common.smk ("# --- notebooks ---").


# One rule per wave: its figure files are known from its codebook, so each is declared.
for _wave in WAVES:
    _profile, _profile_read = read_from_config(
        _wave_profile_parameters, _wave, _HARMONISED_NB
    )

    rule:
        name:
            f"notebook_wave_profile_{_wave}"
        input:
            notebook="notebooks/wave_profile.py",
            code=NOTEBOOK_CODE,
            estimates=f"results/{_wave}/estimates.csv",
            flow=f"results/{_wave}/flow.csv",
            by_sample=(
                [f"results/{_wave}/estimates_by_sample.csv"]
                if _wave in waves_with_samples()
                else []
            ),
            stats=["results/stats/estimates.csv", "results/stats/tests.csv"],
        output:
            notebook=f"results/notebooks/wave_profile_{_wave}.ipynb",
            manifest=f"results/figures/wave_profile_{_wave}_figures.csv",
            figures=figure_outputs(
                wave_figure_files(_wave), "../report/figures_wave.rst", _wave
            ),
        log:
            f"results/logs/notebooks/wave_profile_{_wave}.log",
        benchmark:
            f"results/benchmarks/notebooks/wave_profile_{_wave}.tsv"
        conda:
            CONDA_ENV
        params:
            parameters={
                **_profile,
                "weighted": False,
                "results_dir": "results",
                "figures_dir": "results/figures",
            },
            config_read=_profile_read,
        script:
            "../scripts/notebooks.py"


_comparison, _comparison_read = read_from_config(
    _country_comparison_parameters, CROSS_COUNTRY_WAVES, HARMONISATION.common_scheme
)


rule notebook_country_comparison:
    input:
        notebook="notebooks/country_comparison.py",
        code=NOTEBOOK_CODE,
        comparison="results/comparisons/dk_no.csv",
        non_comparabilities="results/comparisons/non_comparabilities.csv",
    output:
        notebook="results/notebooks/country_comparison.ipynb",
        manifest="results/figures/country_comparison_figures.csv",
        figures=figure_outputs(
            COMPARISON_FIGURES, "../report/figures_comparison.rst", "comparison"
        ),
    log:
        "results/logs/notebooks/country_comparison.log",
    benchmark:
        "results/benchmarks/notebooks/country_comparison.tsv"
    conda:
        CONDA_ENV
    params:
        parameters={
            **_comparison,
            "results_dir": "results",
            "figures_dir": "results/figures",
        },
        config_read=_comparison_read,
    script:
        "../scripts/notebooks.py"


rule notebook_official_trends:
    input:
        notebook="notebooks/official_trends.py",
        code=NOTEBOOK_CODE,
        trends="results/official/trends.csv",
    output:
        notebook="results/notebooks/official_trends.ipynb",
        manifest="results/figures/official_trends_figures.csv",
        figures=figure_outputs(
            OFFICIAL_FIGURES, "../report/figures_official.rst", "official"
        ),
    log:
        "results/logs/notebooks/official_trends.log",
    benchmark:
        "results/benchmarks/notebooks/official_trends.tsv"
    conda:
        CONDA_ENV
    params:
        parameters={
            "countries": ["DK", "NO"],
            "size_class": "10+",
            "results_dir": "results",
            "figures_dir": "results/figures",
        },
    script:
        "../scripts/notebooks.py"


rule notebook_support:
    input:
        notebook="notebooks/support.py",
        code=NOTEBOOK_CODE,
        robustness="results/ensemble/robustness.csv",
        draws="results/ensemble/draws.csv",
    output:
        notebook="results/notebooks/support.ipynb",
        manifest="results/figures/support_figures.csv",
        figures=figure_outputs(
            SUPPORT_FIGURES, "../report/figures_support.rst", "support"
        ),
    log:
        "results/logs/notebooks/support.log",
    benchmark:
        "results/benchmarks/notebooks/support.tsv"
    conda:
        CONDA_ENV
    params:
        parameters=lambda wildcards: {
            **read_from_config(lambda c: {"alpha": c["alpha"]})[0],
            "results_dir": "results",
            "figures_dir": "results/figures",
        },
        config_read=lambda wildcards: read_from_config(
            lambda c: {"alpha": c["alpha"]}
        )[1],
    script:
        "../scripts/notebooks.py"


rule figures_manifest:
    input:
        manifests=notebook_manifests(),
    output:
        report(
            "results/figures/figures.csv",
            caption="../report/figures_manifest.rst",
            category="Figures",
        ),
    log:
        "results/logs/notebooks/figures_manifest.log",
    benchmark:
        "results/benchmarks/notebooks/figures_manifest.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/figures_manifest.py"
