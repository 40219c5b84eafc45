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
include: "workflow/rules/segment.smk"
include: "workflow/rules/clean.smk"
include: "workflow/rules/estimates.smk"
include: "workflow/rules/reproduce.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/weights.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/identification.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/official.smk"
include: "workflow/rules/ensemble.smk"
include: "workflow/rules/notebooks.smk"
include: "workflow/rules/manuscript.smk"
include: "workflow/rules/provenance.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
        "results/provenance.json",
