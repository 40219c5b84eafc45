# Weights: post-stratify a wave to published population counts by size class (raking when it
# has several margins); a wave without population targets gets unit weights and a warning.
# The report's own figures stay unweighted; weights.parquet is there for weighted views.
def weighting_config(wildcards):
    """The wave's `weighting` entry with the population targets and the scheme it names."""
    chosen = config_subset("weighting/{wave}")(wildcards)
    entry = chosen.get("weighting", {}).get(wildcards.wave) or {}
    named = {str(m["population"]) for m in entry.get("margins") or [] if "population" in m}
    targets = config.get("population_targets") or {}
    # what a margin takes of a target (smesocial.config.weighting_spec); `unit` is for readers
    read = ("file", "filter", "class_column", "count_column", "source")
    chosen["population_targets"] = {
        name: {k: v for k, v in target.items() if k in read}
        for name, target in targets.items()
        if name in named
    }
    schemes = config.get("segmentation", {})
    chosen["segmentation"] = {k: v for k, v in schemes.items() if k == entry.get("scheme")}
    return chosen


rule weights:
    input:
        clean="results/{wave}/clean.parquet",
        population=lambda wildcards: weighting_population_files(wildcards.wave),
    output:
        weights="results/{wave}/weights.parquet",
        summary=report(
            "results/{wave}/weights_summary.csv",
            caption="../report/weights_summary.rst",
            category="Weights",
        ),
    params:
        config=weighting_config,
    log:
        "results/logs/{wave}/weights.log",
    benchmark:
        "results/benchmarks/{wave}/weights.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/weights.py"
