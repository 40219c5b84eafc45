# Manuscript: stage manuscript/ with the figures, the variables every inline number comes from
# (results/manuscript/values.csv says from where) and the generated tables into
# results/manuscript/_build/, then render it: Quarto where it is on PATH, else pandoc + Typst.
from pathlib import Path as _Path

from smesocial.manuscript import figure_sources as _figure_sources
from smesocial.manuscript_values import (manuscript_specs as _manuscript_specs,
                                         source_files as _manuscript_sources,
                                         used_specs as _used_specs)

MANUSCRIPT_PAPER = "manuscript/paper.qmd"
_MANUSCRIPT_TEXT = _Path(MANUSCRIPT_PAPER).read_text(encoding="utf-8")
# Read from paper.qmd itself, so that a figure or number added to the text is a dependency
# without a second list to keep in step: the figures it embeds (build path -> pipeline output)
# and the files its values and tables are read from.
MANUSCRIPT_FIGURES = _figure_sources(_MANUSCRIPT_TEXT, MANUSCRIPT_PAPER)
MANUSCRIPT_SOURCES = _manuscript_sources(
    _used_specs(_manuscript_specs(), _MANUSCRIPT_TEXT, MANUSCRIPT_PAPER))


rule manuscript:
    input:
        paper=MANUSCRIPT_PAPER,
        quarto="manuscript/_quarto.yml",
        bibliography="manuscript/references.bib",
        # every results table and config file a value or table of the paper is read from
        tables=MANUSCRIPT_SOURCES,
        figures=sorted(MANUSCRIPT_FIGURES.values()),
    output:
        html=report("results/manuscript/paper.html", caption="../report/manuscript.rst", category="Manuscript"),
        pdf=report("results/manuscript/paper.pdf", caption="../report/manuscript.rst", category="Manuscript"),
        values=report("results/manuscript/values.csv", caption="../report/manuscript.rst", category="Manuscript"),
        build=directory("results/manuscript/_build"),
    params:
        figures=MANUSCRIPT_FIGURES,
    log:
        "results/logs/manuscript.log",
    benchmark:
        "results/benchmarks/manuscript.tsv"
    script:
        "../scripts/manuscript.py"
