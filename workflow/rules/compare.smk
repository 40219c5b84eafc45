# Compare: waves side by side. Across countries only the items config/harmonisation.yaml
# declares comparable, with the design's non-comparabilities (dk_no.csv); waves of one country
# on every indicator both measure (<country>_waves.csv, one file per country with 2+ waves, so
# the targets follow the configured waves).
from smesocial.config import load_harmonised as _load_harmonised
from smesocial.harmonise import country_waves as _country_waves, load_spec as _load_spec

HARMONISATION_FILE = config.get("harmonisation", "config/harmonisation.yaml")
# Checked while the workflow is read, so a bad spec stops the run (naming its key) before any job.
HARMONISATION = _load_spec(HARMONISATION_FILE, config, _load_harmonised(config["harmonised"]))
CROSS_COUNTRY_WAVES = [HARMONISATION.first, HARMONISATION.second]
COUNTRY_WAVES = _country_waves(config)  # country -> its waves in time order (2+ only)


def comparison_targets():
    """Every comparison file the configured waves call for."""
    return [
        "results/comparisons/dk_no.csv",
        "results/comparisons/dk_no.parquet",
        "results/comparisons/non_comparabilities.csv",
    ] + expand("results/comparisons/{country}_waves.{ext}", country=COUNTRY_WAVES,
               ext=["csv", "parquet"])


rule compare_countries:
    input:
        clean=expand("results/{wave}/clean.parquet", wave=CROSS_COUNTRY_WAVES),
        segments=expand("results/{wave}/segments.parquet", wave=CROSS_COUNTRY_WAVES),
        harmonisation=HARMONISATION_FILE,
        harmonised=config["harmonised"],
    output:
        table=report("results/comparisons/dk_no.csv", caption="../report/comparison_dk_no.rst", category="Comparisons"),
        parquet="results/comparisons/dk_no.parquet",
        non_comparabilities=report("results/comparisons/non_comparabilities.csv", caption="../report/non_comparabilities.rst", category="Comparisons"),
    params:
        settings=settings("harmonisation", "segmentation", "alpha"),
        waves=lambda wildcards: {w: wave_config(w) for w in CROSS_COUNTRY_WAVES},
    log:
        "results/logs/compare_countries.log",
    benchmark:
        "results/benchmarks/compare_countries.tsv"
    script:
        "../scripts/compare_countries.py"


rule compare_waves:
    input:
        clean=lambda wildcards: expand("results/{wave}/clean.parquet", wave=COUNTRY_WAVES[wildcards.country]),
        segments=lambda wildcards: expand("results/{wave}/segments.parquet", wave=COUNTRY_WAVES[wildcards.country]),
        codebooks=lambda wildcards: [wave_config(w)["codebook"] for w in COUNTRY_WAVES[wildcards.country]],
        harmonised=config["harmonised"],
        indicators=config["indicators"],
    output:
        table=report("results/comparisons/{country}_waves.csv", caption="../report/country_waves.rst", category="Comparisons"),
        parquet="results/comparisons/{country}_waves.parquet",
    params:
        settings=settings("segmentation", "alpha"),
        waves=lambda wildcards: COUNTRY_WAVES[wildcards.country],
        wave_settings=lambda wildcards: {w: wave_config(w) for w in COUNTRY_WAVES[wildcards.country]},
        scheme=HARMONISATION.common_scheme,
    wildcard_constraints:
        # only countries with two or more configured waves ((?!) matches nothing)
        country="|".join(COUNTRY_WAVES) or "(?!)",
    log:
        "results/logs/compare_{country}_waves.log",
    benchmark:
        "results/benchmarks/compare_{country}_waves.tsv"
    script:
        "../scripts/compare_waves.py"
