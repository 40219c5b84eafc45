# Official statistics: check the published figures on enterprises' use of social media (a bad
# cell stops the run naming its line and column), tabulate them per country x indicator x year
# (disagreeing sources kept side by side), and set each wave's level beside them. One job for
# both tables: each is a second's work after the libraries load.
rule official:
    input:
        official=OFFICIAL_FILE,
        clean=expand("results/{wave}/clean.parquet", wave=WAVES),
        harmonisation=HARMONISATION_FILE,
        harmonised=HARMONISED_FILE,
    output:
        trends=report(
            "results/official/trends.csv",
            caption="../report/official_trends.rst",
            category="Official statistics",
        ),
        benchmarks=report(
            "results/official/benchmarks.csv",
            caption="../report/official_benchmarks.rst",
            category="Official statistics",
        ),
    log:
        "results/logs/official.log",
    benchmark:
        "results/benchmarks/official.tsv"
    conda:
        CONDA_ENV
    params:
        config=config_subset(
            "official/disagreements", "alpha", "segmentation", *waves_described()
        ),
        waves=WAVES,
    script:
        "../scripts/official.py"
