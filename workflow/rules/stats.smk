# Stats: the study's hypotheses (config/hypotheses.yaml) as a tested battery over every wave:
# tidy tests (Holm within families, Benjamini-Hochberg across the battery) beside the shares the
# estimates stage computed for them, and a readable summary that opens with each wave's
# disclosure.
rule stats:
    input:
        # Pooled (cross-wave) tests stratify on the harmonisation spec's common size scheme,
        # each analysis table's segment_<common_scheme>.
        # A draw of the ensemble runs the battery on its own reconstruction of the ensemble's wave.
        clean=wave_tables("clean"),
        item_estimates=wave_tables("item_estimates"),
        # Each wave's design (weights, strata, calibration cells): weighted waves are tested
        # design-based (smesocial.weighted_tests), with the unweighted test beside.
        weights=wave_tables("weights"),
        hypotheses=HYPOTHESES_FILE,
        harmonised=HARMONISED_FILE,
        indicators=INDICATORS_FILE,
        harmonisation=HARMONISATION_FILE,
    output:
        estimates=report(
            "results/{prefix}stats/estimates.csv",
            caption="../report/stats_estimates.rst",
            category="Hypothesis tests",
        ),
        estimates_parquet="results/{prefix}stats/estimates.parquet",
        tests=report(
            "results/{prefix}stats/tests.csv",
            caption="../report/stats_tests.rst",
            category="Hypothesis tests",
        ),
        tests_parquet="results/{prefix}stats/tests.parquet",
        summary=report(
            "results/{prefix}stats/summary.md",
            caption="../report/stats_summary.rst",
            category="Hypothesis tests",
        ),
    log:
        "results/logs/{prefix}stats.log",
    benchmark:
        "results/benchmarks/{prefix}stats.tsv"
    conda:
        CONDA_ENV
    params:
        config=config_subset(
            "alpha",
            "random_seed",
            "waves/*/country",
            "waves/*/disclosure",
            "segmentation",
        ),
    script:
        "../scripts/stats.py"
