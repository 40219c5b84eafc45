# Reproduce: set every published figure beside the pipeline's recomputed share, and write a
# readable summary of matches, misses and the report's own inconsistencies.
rule reproduce:
    input:
        estimates="results/{wave}/estimates.csv",
        published=published_file,
    output:
        table=report("results/{wave}/reproduction.csv", caption="../report/reproduction.rst", category="Reproduction of the report"),
        summary="results/{wave}/reproduction.md",
    params:
        settings=settings("reproduction", wave=True),
    log:
        "results/logs/{wave}/reproduce.log",
    benchmark:
        "results/benchmarks/{wave}/reproduce.tsv"
    script:
        "../scripts/reproduce.py"


rule summary:
    input:
        flows=expand("results/{wave}/flow.csv", wave=WAVES),
        counts=expand("results/{wave}/segment_counts.csv", wave=WAVES),
        reproductions=expand("results/{wave}/reproduction.csv", wave=waves_with_published()),
    output:
        report("results/summary.md", caption="../report/summary.rst", category="Summary"),
    params:
        settings=settings("waves"),
    log:
        "results/logs/summary.log",
    benchmark:
        "results/benchmarks/summary.tsv"
    script:
        "../scripts/summary.py"
