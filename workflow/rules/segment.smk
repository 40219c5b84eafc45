# Segment: place every ingested respondent in a size segment under each configured scheme (NA
# where no single segment holds the stated range); clean decides scope from these.
rule segment:
    input:
        ingested="results/{wave}/ingested.parquet",
    output:
        "results/{wave}/segments.parquet",
    log:
        "results/logs/{wave}/segment.log",
    benchmark:
        "results/benchmarks/{wave}/segment.tsv"
    conda:
        CONDA_ENV
    params:
        config=config_subset("segmentation"),
    script:
        "../scripts/segment.py"
