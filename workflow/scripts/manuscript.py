"""Snakemake entry: the manuscript -> results/manuscript/paper.{html,pdf} and values.csv (every
inline number with its source file, selector, column and raw value)."""

from pathlib import Path

from smesocial.manuscript import choose_renderer, render_build, source_date_epoch, stage_build
from smesocial.manuscript_values import (collect, provenance_table, variables, variables_yaml,
                                         write_tables)
from smesocial.runner import log, run_step
from smesocial.tables import write_csv
from smesocial.value_specs import load_value_map, used_specs


def step(snakemake) -> None:
    inputs, out = snakemake.input, snakemake.output
    root = Path(".")
    paper_text = Path(inputs.paper).read_text(encoding="utf-8")
    value_map = load_value_map(inputs.values)
    # only the values the paper shows: values.csv is the list of its inline numbers
    values = collect(used_specs(value_map.specs, paper_text, inputs.paper, inputs.values), root)
    renderer = choose_renderer()
    nested = variables(values, {"meta.renderer": renderer.description})
    build = Path(out.build)
    sources = [Path(inputs.paper), Path(inputs.quarto), Path(inputs.bibliography)]
    figures = {relative: Path(path) for relative, path in snakemake.params.figures.items()}
    stage_build(build, sources, figures, variables_yaml(nested))
    tables = write_tables(root, build / "tables", value_map.tables)
    timestamp = source_date_epoch(root)
    log.info("%d values, %d tables, %d figures staged in %s; rendering with %s (timestamp %d)",
             len(values), len(tables), len(figures), build, renderer.description, timestamp)
    html, pdf = render_build(build, Path(inputs.paper).name, nested, Path(out.html).parent,
                             renderer, bibliography=Path(inputs.bibliography).name,
                             timestamp=timestamp)
    for made, wanted in ((html, out.html), (pdf, out.pdf)):
        if Path(made).resolve() != Path(wanted).resolve():
            Path(made).replace(wanted)
    write_csv(provenance_table(values), out.values)
    log.info("wrote %s, %s and %s", out.html, out.pdf, out.values)


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
