"""Write the design-based reference fixtures (tests/data/reference/design_*.csv) from the built
results of the shipped synthetic data, for tests/reference/make_design_reference.R to compute
R `survey` values on. Run from the repository root after a build:

    PYTHONPATH=workflow .venv/bin/python tests/reference/make_design_fixtures.py [RESULTS_DIR]

RESULTS_DIR defaults to results/ (the fixtures committed were made from /work/main/results).
Items are resolved with the workflow's own smesocial.hypotheses.resolve_item, so a fixture's 0/1
is what the battery sees. The data are synthetic reconstructions, not survey answers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from smesocial.config import load_config, load_harmonised, load_indicators
from smesocial.hypotheses import resolve_item

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "reference"
NO_SEGMENTS = ["micro", "small", "medium", "large"]
DK_SEGMENTS = ["micro", "small", "medium"]
POOLED_ITEMS = ["post_daily_weekly_facebook", "post_daily_weekly_linkedin",
                "post_daily_weekly_youtube"]
# Made-up shares for the Danish fixture's calibration, only to make its design non-trivial
# (unequal weights) so the estimators are exercised; they are NOT a claim about Danish firms.
DK_ARTIFICIAL_SHARES = {"micro": 0.80, "small": 0.15, "medium": 0.05}


def binary_column(table: pd.DataFrame, name: str, indicators) -> pd.Series | None:
    """The item as nullable 0/1 (Int64), or None when it is not binary."""
    item = resolve_item(table, name, indicators)
    if item.kind != "binary":
        return None
    return item.values.astype("Int64").reset_index(drop=True)


def codes(column: pd.Series) -> pd.Series:
    """An ordered categorical as 1..k in category order, NA kept."""
    values = column.cat.codes.astype("Int64") + 1
    return values.where(column.notna().to_numpy(), pd.NA).reset_index(drop=True)


def no_items(results: Path) -> list[str]:
    names = pd.read_parquet(results / "no_2010" / "item_estimates.parquet")["item"]
    return list(dict.fromkeys(n for n in names if "=" not in n and "*" not in n))


def no_population(config: dict) -> pd.DataFrame:
    """Statistics Norway's 2017 enterprise counts summed per segment by the weighting mapping."""
    target = config["population_targets"]["no_firms_2017"]
    margin = config["weighting"]["no_2010"]["margins"][0]
    raw = pd.read_csv(ROOT / target["file"], dtype=str)
    for column, value in target["filter"].items():
        raw = raw[raw[column] == str(value)]
    raw = raw.drop_duplicates([target["class_column"], target["count_column"]])
    counts = {s: 0 for s in NO_SEGMENTS}
    for size_class, segment in margin["mapping"].items():
        if segment is None:
            continue
        match = raw.loc[raw[target["class_column"]] == size_class, target["count_column"]]
        if len(match) != 1:
            raise SystemExit(f"population class {size_class}: {len(match)} rows, expected 1")
        counts[segment] += int(match.iloc[0])
    return pd.DataFrame({"cell": NO_SEGMENTS, "population_count": [counts[s] for s in NO_SEGMENTS]})


def main(results: Path) -> None:
    config = load_config(ROOT / "config" / "config.yaml")
    harmonised = load_harmonised(ROOT / config["harmonised"])
    indicators = load_indicators(ROOT / config["indicators"], harmonised.platforms,
                                 harmonised.purposes)
    no = pd.read_parquet(results / "no_2010" / "clean.parquet").reset_index(drop=True)
    dk = pd.read_parquet(results / "dk_2024" / "clean.parquet").reset_index(drop=True)

    # 1. no_2010: every binary battery item.
    sample = no["sample"].astype(str)
    segment = no["segment"].astype(str)
    fixture = pd.DataFrame({
        "row": range(1, len(no) + 1), "sample": sample, "segment": segment,
        "segment_score": segment.map({s: i for i, s in enumerate(NO_SEGMENTS)}),
        "cell": segment.where(sample == "panel", "expert"),
    })
    for name in no_items(results):
        column = binary_column(no, name, indicators)
        if column is not None:
            fixture[name] = column
    fixture.to_csv(OUT / "design_no_2010.csv", index=False, na_rep="", lineterminator="\n")

    # 2. Poststratification targets: population shares scaled to the panel's size (weights of
    # mean 1 within each sample); the expert sample is its own cell at its own size.
    n_panel = int((sample == "panel").sum())
    n_expert = int((sample == "expert").sum())
    population = no_population(config)
    total = population["population_count"].sum()
    population["count"] = population["population_count"] / total * n_panel
    population = pd.concat([population, pd.DataFrame(
        {"cell": ["expert"], "population_count": [pd.NA], "count": [float(n_expert)]})])
    population = population[["cell", "count", "population_count"]]
    population.to_csv(OUT / "design_population.csv", index=False, na_rep="",
                      lineterminator="\n")

    # 3. dk_2024 + no_2010 stacked.
    def pooled_part(table: pd.DataFrame, wave: str, country: str) -> pd.DataFrame:
        part_sample = table["sample"].astype(str)
        part = pd.DataFrame({
            "wave": wave, "country": country, "sample": part_sample,
            "stratum": f"{wave[:2]}_" + part_sample,
            "cell": (pd.Series("dk", index=table.index) if country == "DK" else
                     table["segment"].astype(str).where(part_sample == "panel", "expert")),
            "segment_common": table["segment_common_size"].astype(str),
        })
        for name in POOLED_ITEMS:
            part[name] = binary_column(table, name, indicators)
        return part

    pooled = pd.concat([pooled_part(dk, "dk_2024", "DK"), pooled_part(no, "no_2010", "NO")],
                       ignore_index=True)
    pooled.insert(0, "row", range(1, len(pooled) + 1))
    pooled.to_csv(OUT / "design_pooled.csv", index=False, na_rep="", lineterminator="\n")
    pooled_population = pd.concat([
        pd.DataFrame({"cell": ["dk"], "count": [float(len(dk))]}),
        population.loc[population["cell"] != "expert", ["cell", "count"]],
        pd.DataFrame({"cell": ["expert"], "count": [float(n_expert)]}),
    ])
    pooled_population.to_csv(OUT / "design_pooled_population.csv", index=False,
                             lineterminator="\n")

    # 4. dk_2024 ordinal items, with an artificial calibration (see DK_ARTIFICIAL_SHARES).
    dk_segment = dk["segment"].astype(str)
    dk_fixture = pd.DataFrame({
        "row": range(1, len(dk) + 1), "segment": dk_segment,
        "segment_score": dk_segment.map({s: i for i, s in enumerate(DK_SEGMENTS)}),
        "cell": dk_segment,
        "professionalism": codes(dk["professionalism"]),
        "post_linkedin": codes(dk["post_linkedin"]),
        "want_more_with_resources": binary_column(dk, "want_more_with_resources", indicators),
    })
    dk_fixture.to_csv(OUT / "design_dk_ordinal.csv", index=False, na_rep="", lineterminator="\n")
    dk_population = pd.DataFrame({
        "cell": DK_SEGMENTS,
        "count": [DK_ARTIFICIAL_SHARES[s] * len(dk) for s in DK_SEGMENTS],
        "share": [DK_ARTIFICIAL_SHARES[s] for s in DK_SEGMENTS],
    })
    with open(OUT / "design_dk_population.csv", "w", encoding="utf-8", newline="\n") as handle:
        handle.write("# made-up targets to exercise the estimators (unequal weights), "
                     "not a claim about Danish firms\n")
        dk_population.to_csv(handle, index=False, lineterminator="\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "results")
