# Notebooks: figures drawn from the pipeline's tables, by notebooks executed with papermill
# (kernel `smesocial`, run from the repository root). One job executes them all on one kernel
# (workflow/scripts/notebooks.py, smesocial.notebook_runs): a kernel's start and the figure
# code's imports cost more than most notebooks' own work; the kernel is reset between them, so
# each executed notebook is what a kernel of its own gives. The source notebooks (jupytext
# percent scripts, notebooks/*.py) are inputs (editing one reruns them), as is the figure code;
# what a notebook needs of the configuration is in its parameters (so a config edit that changes
# none reruns no notebook), and the tables are the files they open. The executed notebooks are
# kept under results/notebooks/ for audit, without run times, and each run writes a manifest of
# its figures (sha256, caption, notebook, rule) that the job merges into figures.csv. The runs,
# with what each reads and makes, are in common.smk ("# --- notebooks ---"); provenance.json
# gives each run's outputs that run's own inputs.
rule notebooks:
    input:
        **notebook_inputs(),
    output:
        notebooks=[run["executed"] for run in notebook_runs()],
        manifests=notebook_manifests(),
        figures=notebook_figure_outputs(),
        merged=report(
            FIGURES_MANIFEST,
            caption="../report/figures_manifest.rst",
            category="Figures",
        ),
    log:
        "results/logs/notebooks.log",
    benchmark:
        "results/benchmarks/notebooks.tsv"
    conda:
        CONDA_ENV
    params:
        runs=notebook_run_params(),
        config_read=notebook_config_read(),
    script:
        "../scripts/notebooks.py"
