# Weights: post-stratify a wave to published population counts by size class (raking when it
# has several margins); a wave without population targets gets unit weights and a warning.
# The report's own figures stay unweighted; weights.parquet is there for weighted views.


from smesocial.weights import weighting_spec as _weighting_spec


def weighting_population_files(wave):
    """The population files a wave's weighting margins read (none for an unweighted wave).
    Read through the same function the script uses, so a bad population name stops the run
    while the workflow is read."""
    return sorted({margin.file for margin in _weighting_spec(config, wave).margins})


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
