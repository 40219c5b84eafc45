# Summary: a readable page of the run: per wave what the data are, the raw columns the codebook
# does not map, the respondent flow, the segment counts and how the published figures were
# reproduced.
rule summary:
    input:
        flows=expand("results/{wave}/flow.csv", wave=WAVES),
        counts=expand("results/{wave}/segment_counts.csv", wave=WAVES),
        raw_columns=expand("results/{wave}/raw_columns.csv", wave=WAVES),
        reproductions=expand(
            "results/{wave}/reproduction.csv", wave=waves_with_published()
        ),
    output:
        report(
            "results/summary.md", caption="../report/summary.rst", category="Summary"
        ),
    log:
        "results/logs/summary.log",
    benchmark:
        "results/benchmarks/summary.tsv"
    conda:
        CONDA_ENV
    params:
        config=config_subset(*waves_described()),
    script:
        "../scripts/summary.py"
