"""Snakemake entry: the hypothesis battery (config/hypotheses.yaml) on every wave's clean table ->
results/stats/{estimates,tests}.{csv,parquet} and results/stats/summary.md."""

from pathlib import Path

import pandas as pd

from smesocial.config import load_harmonised, load_indicators
from smesocial.compare import load_spec
from smesocial.hypotheses import load_hypotheses
from smesocial.stats import run_battery, summary_markdown
from smesocial.tables import write_parquet
from smesocial.runner import log, run_step
from smesocial.tables import write_csv


def by_wave(paths) -> dict[str, pd.DataFrame]:
    # results/<wave>/<file>: the wave is the parent folder's name.
    return {Path(p).parent.name: pd.read_parquet(p) for p in paths}


def step(snakemake) -> None:
    config = snakemake.params.config
    harmonised = load_harmonised(snakemake.input.harmonised)
    indicators = load_indicators(snakemake.input.indicators, harmonised.platforms,
                                 harmonised.purposes)
    declarations = load_hypotheses(snakemake.input.hypotheses, harmonised.platforms)
    tables = by_wave(snakemake.input.clean)
    item_estimates = by_wave(snakemake.input.item_estimates)
    weights = by_wave(snakemake.input.weights)
    # Tests pooling waves stratify on the common size scheme, never on each wave's own one.
    common_scheme = load_spec(snakemake.input.harmonisation, config, harmonised).common_scheme
    battery = run_battery(
        declarations, tables, configured_waves=list(config["waves"]), indicators=indicators,
        alpha=config["alpha"], seed=config["random_seed"], item_estimates=item_estimates,
        common_scheme=common_scheme, weights=weights,
    )
    out = snakemake.output
    write_csv(battery.estimates, out.estimates)
    write_parquet(battery.estimates, out.estimates_parquet)
    write_csv(battery.tests, out.tests)
    write_parquet(battery.tests, out.tests_parquet)
    Path(out.summary).write_text(
        summary_markdown(battery, declarations, config, sorted(tables)), encoding="utf-8")
    for skipped in battery.skipped:
        log.info("not asked, left out: %s", skipped)
    log.info("%d tests (%d with a p-value), %d estimates", len(battery.tests),
             int(battery.tests["p"].notna().sum()), len(battery.estimates))


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
