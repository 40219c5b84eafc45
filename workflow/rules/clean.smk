# Clean: parse employee counts, apply the configured exclusion rules and log every excluded
# raw row with its reason; the respondent flow must add up.
rule clean:
    input:
        ingested="results/{wave}/ingested.parquet",
        codebook=codebook_file,
    output:
        clean="results/{wave}/clean.parquet",
        exclusions="results/{wave}/exclusions.csv",
        flow="results/{wave}/flow.csv",
    log:
        "results/logs/{wave}/clean.log",
    benchmark:
        "results/benchmarks/{wave}/clean.tsv"
    script:
        "../scripts/clean.py"
