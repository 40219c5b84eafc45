# Official statistics: check the published figures on enterprises' use of social media (a bad
# cell stops the run naming its line and column), tabulate them per country x indicator x year
# (disagreeing sources kept side by side), and set each wave's level beside them.
rule official_trends:
    input:
        official=OFFICIAL_FILE,
    output:
        report(
            "results/official/trends.csv",
            caption="../report/official_trends.rst",
            category="Official statistics",
        ),
    log:
        "results/logs/official_trends.log",
    benchmark:
        "results/benchmarks/official_trends.tsv"
    conda:
        CONDA_ENV
    params:
        config=config_subset("official/disagreements"),
    script:
        "../scripts/official_trends.py"


rule official_benchmarks:
    input:
        trends="results/official/trends.csv",
        clean=expand("results/{wave}/clean.parquet", wave=WAVES),
        harmonisation=HARMONISATION_FILE,
        harmonised=HARMONISED_FILE,
    output:
        report(
            "results/official/benchmarks.csv",
            caption="../report/official_benchmarks.rst",
            category="Official statistics",
        ),
    log:
        "results/logs/official_benchmarks.log",
    benchmark:
        "results/benchmarks/official_benchmarks.tsv"
    conda:
        CONDA_ENV
    params:
        config=config_subset("alpha", "segmentation", *waves_described()),
        waves=WAVES,
    script:
        "../scripts/official_benchmarks.py"
