"""Snakemake entry: the manuscript -> results/manuscript/paper.{html,pdf} and values.csv (every
inline number with its source file, selector, column, raw value, rule and script)."""

import time
from pathlib import Path

import pandas as pd

from smesocial.manuscript import (RENDERED_IN, add_source_notes, choose_renderer, render_build,
                                  source_date_epoch, stage_build)
from smesocial.manuscript_values import (collect, figure_notes, provenance_table,
                                         sources_markdown, table_notes, variables,
                                         variables_yaml, with_producers, write_tables)
from smesocial.runner import log, run_step
from smesocial.tables import write_csv
from smesocial.value_specs import load_value_map, used_specs


def step(snakemake) -> None:
    inputs, out, params = snakemake.input, snakemake.output, snakemake.params
    root = Path(".")
    paper_text = Path(inputs.paper).read_text(encoding="utf-8")
    value_map = load_value_map(inputs.values)
    # only the values the paper shows: values.csv is the list of its inline numbers
    values = with_producers(
        collect(used_specs(value_map.specs, paper_text, inputs.paper, inputs.values), root),
        params.producers)
    renderer = choose_renderer()
    # each number a link to its source: paths in links are relative to the rendered paper
    out_dir = Path(out.html).parent.as_posix()
    nested = variables(values, {"meta.renderer": renderer.description}, link=True)
    build = Path(out.build)
    sources = [Path(inputs.paper), Path(inputs.quarto), Path(inputs.bibliography)]
    figures = {relative: Path(path) for relative, path in params.figures.items()}
    stage_build(build, sources, figures, variables_yaml(nested))
    tables = write_tables(root, build / "tables", value_map.tables)
    (build / "tables" / "sources.md").write_text(sources_markdown(values, out_dir),
                                                 encoding="utf-8")
    manifest = pd.read_csv(inputs.figures_manifest, dtype=str, keep_default_na=False)
    staged = build / Path(inputs.paper).name
    staged.write_text(add_source_notes(
        paper_text,
        figure_notes(manifest, params.figures, params.producers, out_dir,
                     inputs.figures_manifest),
        table_notes(value_map.tables, params.producers, out_dir), inputs.paper),
        encoding="utf-8")
    timestamp = source_date_epoch(root)
    log.info("%d values, %d tables, %d figures staged in %s; rendering with %s (timestamp %d)",
             len(values), len(tables), len(figures), build, renderer.description, timestamp)
    rendering = time.perf_counter()
    html, pdf = render_build(build, Path(inputs.paper).name, nested, Path(out.html).parent,
                             renderer, bibliography=Path(inputs.bibliography).name,
                             timestamp=timestamp)
    # read by workflow/bench/build.py: a paper edit's cost beyond the renderer's own
    log.info("%s%.3f s wall", RENDERED_IN, time.perf_counter() - rendering)
    for made, wanted in ((html, out.html), (pdf, out.pdf)):
        if Path(made).resolve() != Path(wanted).resolve():
            Path(made).replace(wanted)
    write_csv(provenance_table(values), out.values)
    log.info("wrote %s, %s and %s", out.html, out.pdf, out.values)


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
