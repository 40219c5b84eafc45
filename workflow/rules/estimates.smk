# Estimates: the share of each indicator per segment (and all), on the base of those who
# answered the item, with Wilson confidence intervals at level 1 - alpha; and the shares behind
# the hypothesis battery's tests (unweighted, and weighted where the wave's weights vary), which
# the stats stage reads instead of computing them again.
rule estimates:
    input:
        clean="results/{prefix}{wave}/clean.parquet",
        weights="results/{prefix}{wave}/weights.parquet",
        harmonised=HARMONISED_FILE,
        indicators=INDICATORS_FILE,
        hypotheses=HYPOTHESES_FILE,
    output:
        estimates=report(
            "results/{prefix}{wave}/estimates.csv",
            caption="../report/estimates.rst",
            category="Estimates",
        ),
        item_estimates="results/{prefix}{wave}/item_estimates.parquet",
    log:
        "results/logs/{prefix}{wave}/estimates.log",
    benchmark:
        "results/benchmarks/{prefix}{wave}/estimates.tsv"
    conda:
        CONDA_ENV
    params:
        config=config_subset("alpha", "design_based/interval"),
    script:
        "../scripts/estimates.py"


# Shares per indicator x sample for a wave drawn in several samples: the notebooks only read
# tables, so the presence-by-sample figure needs its shares estimated here.
rule estimates_by_sample:
    input:
        clean="results/{wave}/clean.parquet",
        harmonised=HARMONISED_FILE,
        indicators=INDICATORS_FILE,
    output:
        "results/{wave}/estimates_by_sample.csv",
    log:
        "results/logs/{wave}/estimates_by_sample.log",
    benchmark:
        "results/benchmarks/{wave}/estimates_by_sample.tsv"
    wildcard_constraints:
        wave="|".join(waves_with_samples()) or "(?!)",
    conda:
        CONDA_ENV
    params:
        config=config_subset("alpha"),
    script:
        "../scripts/estimates_by_sample.py"
