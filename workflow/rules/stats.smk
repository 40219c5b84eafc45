# Stats: the study's hypotheses (config/hypotheses.yaml) as a tested battery over every wave:
# tidy estimates and tests (Holm within families, Benjamini-Hochberg across the battery) and a
# readable summary that opens with each wave's disclosure.


def stats_weights(wildcards):
    """Every wave's weights, where the workflow has a weights rule (the battery runs unweighted
    without them)."""
    if rules.has("weights"):
        return expand("results/{wave}/weights.parquet", wave=WAVES)
    return []


rule stats:
    input:
        clean=expand("results/{wave}/clean.parquet", wave=WAVES),
        # Pooled (cross-wave) tests stratify on the harmonisation spec's common size scheme,
        # taken from each wave's segments table (segment_<common_scheme>).
        segments=expand("results/{wave}/segments.parquet", wave=WAVES),
        weights=stats_weights,
        hypotheses="config/hypotheses.yaml",
        harmonised=config["harmonised"],
        indicators=config["indicators"],
        harmonisation=config.get("harmonisation", "config/harmonisation.yaml"),
    output:
        estimates=report("results/stats/estimates.csv", caption="../report/stats_estimates.rst", category="Hypothesis tests"),
        estimates_parquet="results/stats/estimates.parquet",
        tests=report("results/stats/tests.csv", caption="../report/stats_tests.rst", category="Hypothesis tests"),
        tests_parquet="results/stats/tests.parquet",
        summary=report("results/stats/summary.md", caption="../report/stats_summary.rst", category="Hypothesis tests"),
    log:
        "results/logs/stats.log",
    benchmark:
        "results/benchmarks/stats.tsv"
    script:
        "../scripts/stats.py"
