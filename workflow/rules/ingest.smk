# Ingest: read a wave's raw export as its codebook declares, drop direct identifiers, recode
# every label to the harmonised variables (an unknown label stops the run).
rule ingest:
    input:
        raw=raw_file,
        codebook=codebook_file,
        harmonised=config["harmonised"],
    output:
        "results/{wave}/ingested.parquet",
    params:
        settings=settings("exclusions", "privacy", wave=True),
    log:
        "results/logs/{wave}/ingest.log",
    benchmark:
        "results/benchmarks/{wave}/ingest.tsv"
    script:
        "../scripts/ingest.py"
