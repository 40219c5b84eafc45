# Provenance: one manifest for the run: sha256 of every input and output, the rule and script
# that made each output, package versions, git commit and the configuration.
rule provenance:
    input:
        raw=[wave_config(w)["raw_file"] for w in WAVES]
        + sorted({f for w in WAVES for f in weighting_population_files(w)})
        + [OFFICIAL_FILE],
        config_files=[
            "config/config.yaml",
            HARMONISED_FILE,
            INDICATORS_FILE,
            HYPOTHESES_FILE,
            HARMONISATION_FILE,
        ]
        + [wave_config(w)["codebook"] for w in WAVES]
        + [wave_config(w)["published"] for w in waves_with_published()],
        outputs=final_outputs(),
    output:
        "results/provenance.json",
    log:
        "results/logs/provenance.log",
    benchmark:
        "results/benchmarks/provenance.tsv"
    conda:
        CONDA_ENV
    params:
        # the manifest records the whole configuration, so every key is this rule's param
        config=config,
        # rule -> the entry script it runs, for every stage whose outputs the manifest lists
        scripts_by_rule=lambda wildcards: rule_scripts(),
        # each notebook run's outputs -> that run's own inputs (one job runs them all)
        inputs_of=notebook_run_inputs(),
    script:
        "../scripts/provenance.py"
