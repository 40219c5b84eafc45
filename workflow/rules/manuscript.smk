# Manuscript: stage manuscript/ with the figures, the variables every inline number comes from
# (results/manuscript/values.csv says from where) and the generated tables into
# results/manuscript/_build/, then render it: Quarto where it is on PATH, else pandoc + Typst.
# Every inline number links to its entry in the paper's list of sources (file, row, column,
# rule and script; the tooltip says the same), and each figure's and table's caption names
# the files, notebook and rule it comes from.
from pathlib import Path as _Path

# Light modules only (stdlib + yaml): Snakemake imports them whenever it reads the workflow.
from smesocial.manuscript import figure_sources as _figure_sources
from smesocial.value_specs import (
    load_value_map as _load_value_map,
    manuscript_sources as _manuscript_sources,
)

MANUSCRIPT_PAPER = "manuscript/paper.qmd"
# Where every inline number of the paper and every generated table comes from.
MANUSCRIPT_VALUES = "manuscript/values.yaml"
_MANUSCRIPT_TEXT = _Path(MANUSCRIPT_PAPER).read_text(encoding="utf-8")
# Read from paper.qmd and values.yaml themselves, so that a figure or number added to the text
# is a dependency without a second list to keep in step: the figures it embeds (build path ->
# pipeline output) and the files its values and tables are read from.
MANUSCRIPT_FIGURES = _figure_sources(_MANUSCRIPT_TEXT, MANUSCRIPT_PAPER)
MANUSCRIPT_SOURCES = _manuscript_sources(
    _load_value_map(MANUSCRIPT_VALUES),
    _MANUSCRIPT_TEXT,
    MANUSCRIPT_PAPER,
    MANUSCRIPT_VALUES,
)


rule manuscript:
    input:
        paper=MANUSCRIPT_PAPER,
        values=MANUSCRIPT_VALUES,
        quarto="manuscript/_quarto.yml",
        bibliography="manuscript/references.bib",
        # every results table and config file a value or table of the paper is read from
        tables=MANUSCRIPT_SOURCES,
        figures=sorted(MANUSCRIPT_FIGURES.values()),
        # each figure's notebook and rule, named in its caption
        figures_manifest="results/figures/figures.csv",
    output:
        html=report(
            "results/manuscript/paper.html",
            caption="../report/manuscript.rst",
            category="Manuscript",
        ),
        pdf=report(
            "results/manuscript/paper.pdf",
            caption="../report/manuscript.rst",
            category="Manuscript",
        ),
        values=report(
            "results/manuscript/values.csv",
            caption="../report/manuscript.rst",
            category="Manuscript",
        ),
        build=directory("results/manuscript/_build"),
    log:
        "results/logs/manuscript.log",
    benchmark:
        "results/benchmarks/manuscript.tsv"
    conda:
        CONDA_ENV
    params:
        figures=MANUSCRIPT_FIGURES,
        # the rule and script that make each file a number, table or figure comes from
        producers=lambda wildcards: producing_rules(
            MANUSCRIPT_SOURCES + sorted(MANUSCRIPT_FIGURES.values())
        ),
    script:
        "../scripts/manuscript.py"
