# Compare: waves side by side. Across countries only the items config/harmonisation.yaml
# declares comparable, with the design's non-comparabilities (dk_no.csv); waves of one country
# on every indicator both measure (<country>_waves.csv, one file per country with 2+ waves, so
# the targets follow the configured waves).
rule compare_countries:
    input:
        clean=expand("results/{wave}/clean.parquet", wave=CROSS_COUNTRY_WAVES),
        harmonisation=HARMONISATION_FILE,
        harmonised=HARMONISED_FILE,
    output:
        table=report(
            "results/comparisons/dk_no.csv",
            caption="../report/comparison_dk_no.rst",
            category="Comparisons",
        ),
        parquet="results/comparisons/dk_no.parquet",
        non_comparabilities=report(
            "results/comparisons/non_comparabilities.csv",
            caption="../report/non_comparabilities.rst",
            category="Comparisons",
        ),
    log:
        "results/logs/compare_countries.log",
    benchmark:
        "results/benchmarks/compare_countries.tsv"
    conda:
        CONDA_ENV
    params:
        # load_spec checks the spec's waves and scheme against these
        config=config_subset("alpha", "segmentation", *waves_described()),
    script:
        "../scripts/compare_countries.py"


rule compare_waves:
    input:
        clean=lambda wildcards: expand(
            "results/{wave}/clean.parquet", wave=COUNTRY_WAVES[wildcards.country]
        ),
        codebooks=lambda wildcards: [
            wave_config(w)["codebook"] for w in COUNTRY_WAVES[wildcards.country]
        ],
        harmonised=HARMONISED_FILE,
        indicators=INDICATORS_FILE,
    output:
        table=report(
            "results/comparisons/{country}_waves.csv",
            caption="../report/country_waves.rst",
            category="Comparisons",
        ),
        parquet="results/comparisons/{country}_waves.parquet",
    log:
        "results/logs/compare_{country}_waves.log",
    benchmark:
        "results/benchmarks/compare_{country}_waves.tsv"
    wildcard_constraints:
        # only countries with two or more configured waves ((?!) matches nothing)
        country="|".join(COUNTRY_WAVES) or "(?!)",
    conda:
        CONDA_ENV
    params:
        config=config_subset("alpha", *waves_described()),
        waves=lambda wildcards: COUNTRY_WAVES[wildcards.country],
        scheme=HARMONISATION.common_scheme,
    script:
        "../scripts/compare_waves.py"
