# Estimates: the share of each indicator per segment (and all), on the base of those who
# answered the item, with Wilson 95% confidence intervals.
rule estimates:
    input:
        clean="results/{wave}/clean.parquet",
        harmonised=config["harmonised"],
        indicators=config["indicators"],
    output:
        report("results/{wave}/estimates.csv", caption="../report/estimates.rst", category="Estimates"),
    params:
        settings=settings("alpha"),
    log:
        "results/logs/{wave}/estimates.log",
    benchmark:
        "results/benchmarks/{wave}/estimates.tsv"
    script:
        "../scripts/estimates.py"
