"""Snakemake entry: check the official statistics file -> results/official/trends.csv."""

from smesocial.official import read_official, trends
from smesocial.runner import log, run_step
from smesocial.tables import write_csv


def step(snakemake) -> None:
    official = snakemake.params.config.get("official") or {}
    recorded = official.get("disagreements") or []
    frame = read_official(snakemake.input.official, recorded)
    notes = {(str(r["country"]), int(r["year"]), str(r["indicator"]), str(r["size_class"])):
             str(r.get("note", "")) for r in recorded}
    table = trends(frame, notes)
    write_csv(table, snakemake.output[0])
    for _, row in table[table["disagreement"]].iterrows():
        log.warning("sources disagree on %s %s %s %s: %s (both kept)", row["country"], row["year"],
                    row["indicator"], row["size_class"], row["values_pct"])
    log.info("%d figures, %d series, years %d-%d", len(frame), len(table),
             frame["year"].min(), frame["year"].max())


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
