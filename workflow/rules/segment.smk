# Segment: assign every retained respondent to a size segment under each configured scheme,
# count them, and count respondents on boundaries the sources define inconsistently.
rule segment:
    input:
        clean="results/{wave}/clean.parquet",
    output:
        segments="results/{wave}/segments.parquet",
        counts=report("results/{wave}/segment_counts.csv", caption="../report/segment_counts.rst", category="Respondents"),
    params:
        settings=settings("segmentation", wave=True),
    log:
        "results/logs/{wave}/segment.log",
    benchmark:
        "results/benchmarks/{wave}/segment.tsv"
    script:
        "../scripts/segment.py"
