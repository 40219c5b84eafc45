# smesocial: survey exports -> cleaned tables -> estimates -> reproduction of the published
# report. Stages live in workflow/rules/*.smk (one file per stage); the rules are thin and
# call entry scripts in workflow/scripts/, which call the tested package workflow/smesocial/.
from snakemake.utils import min_version, validate

min_version("9.0")

configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


validate(config, schema="config/schemas/config.schema.yaml")

WAVES = list(config["waves"])


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/clean.smk"
include: "workflow/rules/segment.smk"
include: "workflow/rules/estimates.smk"
include: "workflow/rules/reproduce.smk"
include: "workflow/rules/weights.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/official.smk"
include: "workflow/rules/notebooks.smk"
include: "workflow/rules/manuscript.smk"
include: "workflow/rules/provenance.smk"


rule all:
    input:
        expand("results/{wave}/clean.parquet", wave=WAVES),
        expand("results/{wave}/segment_counts.csv", wave=WAVES),
        expand("results/{wave}/estimates.csv", wave=WAVES),
        expand("results/{wave}/{name}", wave=WAVES, name=["weights.parquet", "weights_summary.csv"]),
        reproduction_targets(),
        "results/summary.md",
        "results/stats/tests.csv",
        "results/stats/estimates.csv",
        "results/stats/summary.md",
        comparison_targets(),
        official_targets(),
        notebook_targets(),
        manuscript_targets(),
        "results/provenance.json",
    default_target: True
