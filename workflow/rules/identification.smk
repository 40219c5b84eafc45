# Identification: for every row of the hypothesis battery, whether its result is identified by
# the report's published figures (up to rounding, given the bases), bounded by them (a range of
# the statistic and p over every admissible table) or rests on the synthetic generator's
# assumptions, worked out from the provenance in config/synthetic/<wave>.yaml.
rule identification:
    input:
        tests="results/stats/tests.csv",
        clean=expand("results/{wave}/clean.parquet", wave=WAVES),
        # the waves that are synthetic reconstructions (their generator's parameters)
        synthetic=synthetic_params(),
        published=[wave_config(wave)["published"] for wave in waves_with_published()],
        hypotheses=HYPOTHESES_FILE,
        harmonised=HARMONISED_FILE,
        indicators=INDICATORS_FILE,
    output:
        tests=report(
            "results/identification/tests.csv",
            caption="../report/identification_tests.rst",
            category="Hypothesis tests",
        ),
    log:
        "results/logs/identification.log",
    benchmark:
        "results/benchmarks/identification.tsv"
    conda:
        CONDA_ENV
    params:
        config=config_subset("alpha", "random_seed"),
    script:
        "../scripts/identification.py"
