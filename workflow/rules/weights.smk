# Weights: post-stratify a wave to published population counts by size class (raking when it
# has several margins); a wave without population targets gets unit weights and a warning.
# The report's own figures stay unweighted; weights.parquet is there for weighted views.
rule weights:
    input:
        clean="results/{prefix}{wave}/clean.parquet",
        population=lambda wildcards: weighting_population_files(wildcards.wave),
    output:
        weights="results/{prefix}{wave}/weights.parquet",
        summary=report(
            "results/{prefix}{wave}/weights_summary.csv",
            caption="../report/weights_summary.rst",
            category="Weights",
        ),
    log:
        "results/logs/{prefix}{wave}/weights.log",
    benchmark:
        "results/benchmarks/{prefix}{wave}/weights.tsv"
    conda:
        CONDA_ENV
    params:
        config=weighting_config,
    script:
        "../scripts/weights.py"
