# Estimates: the share of each indicator per segment (and all), on the base of those who
# answered the item, with Wilson confidence intervals at level 1 - alpha.
rule estimates:
    input:
        clean="results/{wave}/clean.parquet",
        harmonised=HARMONISED_FILE,
        indicators=INDICATORS_FILE,
    output:
        report(
            "results/{wave}/estimates.csv",
            caption="../report/estimates.rst",
            category="Estimates",
        ),
    params:
        config=config_subset("alpha"),
    log:
        "results/logs/{wave}/estimates.log",
    benchmark:
        "results/benchmarks/{wave}/estimates.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/estimates.py"
