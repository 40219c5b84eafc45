"""Snakemake entry: clean.parquet -> segments.parquet (every scheme) and segment_counts.csv."""

import pandas as pd

from smesocial.io import write_parquet
from smesocial.runner import log, run_step
from smesocial.segment import assign, load_schemes, segment_counts
from smesocial.tables import write_csv


def step(snakemake) -> None:
    wave_config = snakemake.config["waves"][snakemake.wildcards.wave]
    schemes = load_schemes(snakemake.config)
    clean = pd.read_parquet(snakemake.input.clean)
    ranges = clean[["employees_low", "employees_high"]]
    assigned = {name: assign(ranges, scheme) for name, scheme in schemes.items()}
    segments = pd.DataFrame({"respondent_id": clean["respondent_id"], "employees": clean["employees"]})
    for name, values in assigned.items():
        segments[f"segment_{name}"] = values
    counts = segment_counts(clean["employees"], assigned, schemes,
                            boundary_checks=wave_config.get("boundary_checks", []),
                            check_scheme=wave_config["segmentation"])
    write_parquet(segments, snakemake.output.segments)
    write_csv(counts, snakemake.output.counts)
    for name, values in assigned.items():
        log.info("%s: %s", name, pd.Series(values).value_counts(sort=False, dropna=False).to_dict())


run_step(snakemake, step)  # noqa: F821 - `snakemake` is injected by the script directive
