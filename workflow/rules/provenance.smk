# Provenance: one manifest for the run: sha256 of every input and output, the rule and script
# that made each output, package versions, git commit and the configuration.
rule provenance:
    input:
        raw=[wave_config(w)["raw_file"] for w in WAVES]
        + sorted({f for w in WAVES for f in weighting_population_files(w)})
        + [config["official"]["file"]],
        config_files=["config/config.yaml", config["harmonised"], config["indicators"],
                      "config/hypotheses.yaml", HARMONISATION_FILE]
        + [wave_config(w)["codebook"] for w in WAVES]
        + [wave_config(w)["published"] for w in waves_with_published()],
        outputs=expand(
            "results/{wave}/{name}",
            wave=WAVES,
            name=["ingested.parquet", "clean.parquet", "exclusions.csv", "flow.csv",
                  "segments.parquet", "segment_counts.csv", "estimates.csv",
                  "weights.parquet", "weights_summary.csv"],
        )
        + expand("results/{wave}/{name}", wave=waves_with_published(),
                 name=["reproduction.csv", "reproduction.md"])
        + ["results/summary.md"]
        + expand("results/stats/{name}", name=["estimates.csv", "estimates.parquet", "tests.csv",
                                               "tests.parquet", "summary.md"])
        + comparison_targets()
        + official_targets()
        + notebook_targets()
        + manuscript_targets(),
    output:
        "results/provenance.json",
    params:
        # rule -> the entry script it runs, for every stage whose outputs the manifest lists
        # (read from the workflow itself, so a new rule is never left out)
        scripts_by_rule=lambda wildcards: {
            rule.name: rule.script for rule in workflow.rules if rule.script
        },
    log:
        "results/logs/provenance.log",
    benchmark:
        "results/benchmarks/provenance.tsv"
    script:
        "../scripts/provenance.py"
