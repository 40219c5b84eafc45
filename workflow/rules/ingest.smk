# Ingest: check the raw export against the sha256 its wave declares, read it as its codebook
# declares, account for every column (raw_columns.csv; an unmapped one is listed, or stops the
# run), drop direct identifiers (the respondent key is kept as a keyed hash), recode every label
# to the harmonised variables (an unknown label stops the run) and parse the employee counts (an
# unreadable one stops the run) once, for every later stage.
rule ingest:
    input:
        raw=raw_file,
        codebook=codebook_file,
        harmonised=HARMONISED_FILE,
    output:
        ingested="results/{prefix}{wave}/ingested.parquet",
        columns="results/{prefix}{wave}/raw_columns.csv",
    log:
        "results/logs/{prefix}{wave}/ingest.log",
    benchmark:
        "results/benchmarks/{prefix}{wave}/ingest.tsv"
    conda:
        CONDA_ENV
    params:
        config=ingest_config,
        # the name of the variable holding the key's secret, never its value
        key_env=RESPONDENT_KEY_ENV,
    script:
        "../scripts/ingest.py"
