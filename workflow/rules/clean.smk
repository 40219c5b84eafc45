# Clean: parse employee counts, apply the configured exclusion rules and log every excluded
# raw row with its reason; the respondent flow must add up.
rule clean:
    input:
        ingested="results/{wave}/ingested.parquet",
        codebook=codebook_file,
        harmonised=config["harmonised"],
    output:
        clean="results/{wave}/clean.parquet",
        exclusions=report("results/{wave}/exclusions.csv", caption="../report/exclusions.rst", category="Respondents"),
        flow=report("results/{wave}/flow.csv", caption="../report/flow.rst", category="Respondents"),
    params:
        settings=settings("exclusions", "segmentation", wave=True),
    log:
        "results/logs/{wave}/clean.log",
    benchmark:
        "results/benchmarks/{wave}/clean.tsv"
    script:
        "../scripts/clean.py"
