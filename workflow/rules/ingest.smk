# Ingest: read a wave's raw export as its codebook declares, drop direct identifiers, recode
# every label to the harmonised variables (an unknown label stops the run) and parse the
# employee counts (an unreadable one stops the run) once, for every later stage.
rule ingest:
    input:
        raw=raw_file,
        codebook=codebook_file,
        harmonised=HARMONISED_FILE,
    output:
        "results/{prefix}{wave}/ingested.parquet",
    log:
        "results/logs/{prefix}{wave}/ingest.log",
    benchmark:
        "results/benchmarks/{prefix}{wave}/ingest.tsv"
    conda:
        CONDA_ENV
    params:
        config=config_subset(
            "privacy/respondent_key_salt", "exclusions/test_response_markers"
        ),
    script:
        "../scripts/ingest.py"
