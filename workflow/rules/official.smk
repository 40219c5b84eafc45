# Official statistics: check the published figures on enterprises' use of social media (a bad
# cell stops the run naming its line and column), tabulate them per country x indicator x year
# (disagreeing sources kept side by side), and set each wave's level beside them.


rule official_trends:
    input:
        official=config["official"]["file"],
    output:
        report("results/official/trends.csv", caption="../report/official_trends.rst", category="Official statistics"),
    params:
        settings=settings("official"),
    log:
        "results/logs/official_trends.log",
    benchmark:
        "results/benchmarks/official_trends.tsv"
    script:
        "../scripts/official_trends.py"


rule official_benchmarks:
    input:
        trends="results/official/trends.csv",
        clean=expand("results/{wave}/clean.parquet", wave=WAVES),
        harmonisation=HARMONISATION_FILE,
        harmonised=config["harmonised"],
    output:
        report("results/official/benchmarks.csv", caption="../report/official_benchmarks.rst", category="Official statistics"),
    params:
        settings=settings("harmonisation", "waves", "alpha"),
        waves=WAVES,
    log:
        "results/logs/official_benchmarks.log",
    benchmark:
        "results/benchmarks/official_benchmarks.tsv"
    script:
        "../scripts/official_benchmarks.py"


def official_targets():
    return ["results/official/trends.csv", "results/official/benchmarks.csv"]
