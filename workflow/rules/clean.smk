# Clean: apply the configured exclusion rules (scope from the segments), log every excluded raw
# row with its reason, check the respondent flow adds up, and write the one analysis table
# (a segment_<scheme> column per scheme) that every later stage reads, with its segment counts.
rule clean:
    input:
        ingested="results/{prefix}{wave}/ingested.parquet",
        segments="results/{prefix}{wave}/segments.parquet",
        harmonised=HARMONISED_FILE,
    output:
        clean="results/{prefix}{wave}/clean.parquet",
        exclusions=report(
            "results/{prefix}{wave}/exclusions.csv",
            caption="../report/exclusions.rst",
            category="Respondents",
        ),
        flow=report(
            "results/{prefix}{wave}/flow.csv",
            caption="../report/flow.rst",
            category="Respondents",
        ),
        counts=report(
            "results/{prefix}{wave}/segment_counts.csv",
            caption="../report/segment_counts.rst",
            category="Respondents",
        ),
    log:
        "results/logs/{prefix}{wave}/clean.log",
    benchmark:
        "results/benchmarks/{prefix}{wave}/clean.tsv"
    conda:
        CONDA_ENV
    params:
        config=config_subset(
            "exclusions",
            "segmentation",
            "waves/{wave}/raw_file",
            "waves/{wave}/country",
            "waves/{wave}/year",
            "waves/{wave}/sample",
            "waves/{wave}/segmentation",
            "waves/{wave}/population",
            "waves/{wave}/boundary_checks",
        ),
    script:
        "../scripts/clean.py"
