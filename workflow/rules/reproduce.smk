# Reproduce: set every published figure beside the pipeline's recomputed share, and write a
# readable summary of matches, misses and the report's own inconsistencies.
rule reproduce:
    input:
        estimates="results/{wave}/estimates.csv",
        published=published_file,
    output:
        table=report(
            "results/{wave}/reproduction.csv",
            caption="../report/reproduction.rst",
            category="Reproduction of the report",
        ),
        summary="results/{wave}/reproduction.md",
    log:
        "results/logs/{wave}/reproduce.log",
    benchmark:
        "results/benchmarks/{wave}/reproduce.tsv"
    conda:
        CONDA_ENV
    params:
        config=config_subset("reproduction/tolerance_pp", "waves/{wave}/disclosure"),
    script:
        "../scripts/reproduce.py"
