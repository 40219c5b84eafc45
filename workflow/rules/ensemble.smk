# Ensemble: what the published figures can and cannot tell. Each draw regenerates the synthetic
# wave (another seed, one assumption variant of config `ensemble.variants`); the generator
# checks that the draw still reproduces every followed published figure through the pipeline's
# own ingest and clean (a draw that does not stops the run naming the draw and the figure).
# The draw then runs through the very rules of the shipped file (ingest ... stats, under
# results/ensemble/draw<NNN>/), and robustness.csv says per battery row how the result varies.
rule ensemble_generate:
    input:
        **generator_inputs(),
        params=ENSEMBLE.get("params", []),
    output:
        # deleted once ingested: an export (synthetic identifiers included) is no result
        temp("results/ensemble/draw{draw}/{wave}/export.csv"),
    log:
        "results/logs/ensemble/draw{draw}/{wave}/generate.log",
    benchmark:
        "results/benchmarks/ensemble/draw{draw}/{wave}/generate.tsv"
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


rule ensemble_robustness:
    input:
        shipped="results/stats/tests.csv",
        identification="results/identification/tests.csv",
        draws=lambda wildcards: expand(
            "results/ensemble/draw{draw}/stats/tests.csv", draw=ensemble_draws()
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
