# Weights: post-stratify a wave to published population counts by size class (raking when it
# has several margins); a wave without population targets gets unit weights and a warning.
# The report's own figures stay unweighted; weights.parquet is there for weighted views.


def weighting_population_files(wave):
    """The population files a wave's weighting margins read (none for an unweighted wave)."""
    entry = config.get("weighting", {}).get(wave) or {}
    named = config.get("population_targets", {})
    files = [
        named.get(m["population"], {}).get("file") if "population" in m else m["population_file"]
        for m in entry.get("margins", [])
    ]
    # An unknown population name is reported by the script, naming the config key.
    return sorted({f for f in files if f})


rule weights:
    input:
        clean="results/{wave}/clean.parquet",
        segments="results/{wave}/segments.parquet",
        population=lambda wildcards: weighting_population_files(wildcards.wave),
    output:
        weights="results/{wave}/weights.parquet",
        summary=report("results/{wave}/weights_summary.csv", caption="../report/weights_summary.rst", category="Weights"),
    params:
        settings=settings("weighting", "population_targets", "segmentation", wave=True),
    log:
        "results/logs/{wave}/weights.log",
    benchmark:
        "results/benchmarks/{wave}/weights.tsv"
    script:
        "../scripts/weights.py"
