# Segment: place every ingested respondent in a size segment under each configured scheme (NA
# where no single segment holds the stated range); clean decides scope from these.
rule segment:
    input:
        ingested="results/{prefix}{wave}/ingested.parquet",
    output:
        "results/{prefix}{wave}/segments.parquet",
    log:
        "results/logs/{prefix}{wave}/segment.log",
    benchmark:
        "results/benchmarks/{prefix}{wave}/segment.tsv"
    conda:
        CONDA_ENV
    params:
        config=config_subset("segmentation"),
    script:
        "../scripts/segment.py"
