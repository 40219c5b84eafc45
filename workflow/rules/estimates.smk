# Estimates: the share of each indicator per segment (and all), on the base of those who
# answered the item, with Wilson 95% confidence intervals.
rule estimates:
    input:
        clean="results/{wave}/clean.parquet",
        harmonised=config["harmonised"],
        indicators=config["indicators"],
    output:
        "results/{wave}/estimates.csv",
    log:
        "results/logs/{wave}/estimates.log",
    benchmark:
        "results/benchmarks/{wave}/estimates.tsv"
    script:
        "../scripts/estimates.py"
