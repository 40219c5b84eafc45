# Ensemble: what the published figures can and cannot tell. Each draw regenerates the synthetic
# wave (another seed, one assumption variant of config `ensemble.variants`); the generator
# checks that the draw still reproduces every followed published figure through the pipeline's
# own ingest and clean (a draw that does not stops the run naming the draw and the figure).
# The draw then runs through the very rules of the shipped file (ingest ... stats, under
# results/ensemble/batch<NNN>/draw<NNN>/), and robustness.csv says per battery row how the
# result varies.
rule ensemble_generate:
    input:
        **generator_inputs(),
        params=ENSEMBLE.get("params", []),
    output:
        # deleted once ingested: an export (synthetic identifiers included) is no result
        temp("results/ensemble/batch{batch}/draw{draw}/{wave}/export.csv"),
    log:
        "results/logs/ensemble/batch{batch}/draw{draw}/{wave}/generate.log",
    benchmark:
        "results/benchmarks/ensemble/batch{batch}/draw{draw}/{wave}/generate.tsv"
    conda:
        CONDA_ENV
    params:
        draw=lambda wildcards: ensemble_draw(wildcards)[0],
        config_read=lambda wildcards: ensemble_draw(wildcards)[1],
        # what the generator's self-check (the pipeline's ingest and clean) reads of the
        # config; not the wave's raw file, its checksum or its disclosure
        config=config_subset(
            "exclusions",
            "segmentation",
            "reproduction/tolerance_pp",
            "alpha",
            *[f"waves/{{wave}}/{key}" for key in GENERATOR_WAVE_KEYS],
        ),
    script:
        "../scripts/ensemble_generate.py"


# One job runs `ensemble.draws_per_job` draws through DRAW_STAGES (generate, ingest, segment,
# clean, weights, estimates, stats): each step is its rule's job, expanded by Snakemake for the
# draw (common.smk draw_jobs), run by its own script in this one process, so the libraries
# load once per batch rather than once per draw and rule. Every step writes its rule's outputs
# and log; the batch's directory holds its draws' results.
rule ensemble_batch:
    input:
        batch_inputs,
    output:
        directory("results/ensemble/batch{batch}"),
    log:
        "results/logs/ensemble/batch{batch}.log",
    benchmark:
        "results/benchmarks/ensemble/batch{batch}.tsv"
    conda:
        CONDA_ENV
    params:
        jobs=lambda wildcards: draw_jobs(wildcards.batch),
        # which draws a batch holds depends on it (and on `ensemble.draws`): a param, so a
        # change reruns the batches
        draws_per_job=ENSEMBLE.get("draws_per_job"),
        draws=lambda wildcards: batch_draws(wildcards)[0],
        config_read=lambda wildcards: batch_draws(wildcards)[1],
    script:
        "../scripts/ensemble_batch.py"


rule ensemble_robustness:
    input:
        shipped="results/stats/tests.csv",
        identification="results/identification/tests.csv",
        batches=lambda wildcards: expand(
            "results/ensemble/batch{batch}", batch=ensemble_batches()
        ),
    output:
        robustness=report(
            "results/ensemble/robustness.csv",
            caption="../report/ensemble_robustness.rst",
            category="What the published figures support",
        ),
        draws="results/ensemble/draws.csv",
    log:
        "results/logs/ensemble/robustness.log",
    benchmark:
        "results/benchmarks/ensemble/robustness.tsv"
    conda:
        CONDA_ENV
    params:
        draws=lambda wildcards: read_from_config(_ensemble_draws)[0],
        config_read=lambda wildcards: read_from_config(_ensemble_draws)[1],
        config=config_subset("alpha"),
    script:
        "../scripts/ensemble_robustness.py"
