"""The run's readable summary: per wave, what the data are, the columns of its raw export the
codebook does not map, the respondent flow, segment counts and how the published figures were
reproduced."""

from __future__ import annotations

from typing import Any

import pandas as pd

from smesocial.reproduce import not_reproduced, status_sentence


def summary_markdown(
    config: dict[str, Any],
    flows: dict[str, pd.DataFrame],
    segment_counts: dict[str, pd.DataFrame],
    reproductions: dict[str, pd.DataFrame],
    raw_columns: dict[str, pd.DataFrame],
) -> str:
    lines = ["# smesocial: run summary", ""]
    for wave, flow in flows.items():
        wave_config = config["waves"][wave]
        lines += [
            f"## {wave} ({wave_config['country']}, {wave_config['year']}, sample {wave_config['sample']})",
            "",
            "> " + " ".join(wave_config["disclosure"].split()),
            "",
            _columns_sentence(wave, raw_columns[wave]),
            "",
            "### Respondent flow",
            "",
            flow.to_markdown(index=False),
            "",
            "### Segments",
            "",
            _segment_overview(segment_counts[wave]).to_markdown(index=False),
            "",
        ]
        if wave in reproductions:
            table = reproductions[wave]
            lines += [
                "### Reproduction of the published figures",
                "",
                f"{status_sentence(table)} (details: results/{wave}/reproduction.md).",
                "",
            ]
            off = not_reproduced(table)
            if len(off):
                lines += [off[["figure_id", "published", "recomputed", "diff_pp", "n"]]
                          .to_markdown(index=False, floatfmt=".1f"), ""]
    return "\n".join(lines)


def _segment_overview(counts: pd.DataFrame) -> pd.DataFrame:
    """Segments, unassigned firms and boundary checks; the per-bound counts stay in the CSV."""
    shown = counts[counts["count_type"].isin(["segment", "unassigned", "boundary_check"])]
    return shown.astype("object").where(shown.notna(), "")


def _columns_sentence(wave: str, uses: pd.DataFrame) -> str:
    """What ingest did with the export's columns (raw_columns.csv): the unmapped ones by name."""
    unmapped = uses.loc[uses["use"] == "unmapped", "column"].tolist()
    where = f"(results/{wave}/raw_columns.csv)"
    if not unmapped:
        return f"Raw export: all {len(uses)} columns are in the codebook {where}."
    return (f"Raw export: {len(unmapped)} of its {len(uses)} columns are not in the codebook and "
            f"were not read {where}: " + ", ".join(f"`{c}`" for c in unmapped) + ".")
