"""Published figures beside the pipeline's recomputed shares.

Status per figure: `match` (followed and within the rounding tolerance), `off` (followed but
not reproduced, or not computable), `report_inconsistent` (the report contradicts itself here
and the reconstruction follows the other figure of the conflict).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

REPRODUCTION_COLUMNS = [
    "figure_id", "indicator", "segment", "published", "recomputed", "diff_pp", "n", "status",
    "location", "note",
]


def compare_published(
    estimates: pd.DataFrame, published: dict[str, Any], tolerance_pp: float
) -> pd.DataFrame:
    lookup = {
        (row.indicator, row.segment): row
        for row in estimates[~estimates["weighted"].astype(bool)].itertuples(index=False)
    }
    conflict_of = {
        figure_id: conflict
        for conflict in published.get("conflicts", [])
        for figure_id in conflict["figures"]
    }
    rows = []
    for figure in published["figures"]:
        estimate = lookup.get((figure["indicator"], figure["segment"]))
        notes = []
        if estimate is None or estimate.n == 0 or pd.isna(estimate.share):
            recomputed, diff, n = float("nan"), float("nan"), 0
            notes.append("not computable: no answered respondents for this indicator and segment")
        else:
            recomputed = round(100.0 * float(estimate.share), 2)
            diff = round(recomputed - float(figure["value"]), 2)
            n = int(estimate.n)
        if not figure.get("follow", True):
            status = "report_inconsistent"
            conflict = conflict_of.get(figure["id"])
            if conflict is not None:
                notes.append(f"report contradicts itself ({conflict['id']}); follows "
                             f"{conflict['followed']}: {' '.join(conflict['why'].split())}")
        elif notes:
            status = "off"
        else:
            status = "match" if abs(diff) <= tolerance_pp + 1e-9 else "off"
        if figure.get("interpretation"):
            notes.append("reading: " + " ".join(str(figure["interpretation"]).split()))
        rows.append({
            "figure_id": figure["id"], "indicator": figure["indicator"],
            "segment": figure["segment"], "published": float(figure["value"]),
            "recomputed": recomputed, "diff_pp": diff, "n": n, "status": status,
            "location": figure.get("location", ""), "note": " | ".join(notes),
        })
    return pd.DataFrame(rows, columns=REPRODUCTION_COLUMNS)


def check_rank_claims(estimates: pd.DataFrame, published: dict[str, Any]) -> pd.DataFrame:
    """Ordinal claims ("Facebook, LinkedIn and Instagram, in that order") against the estimates."""
    rows = []
    for claim in published.get("rank_claims", []):
        sub = estimates[(estimates["segment"] == claim["segment"]) & ~estimates["weighted"].astype(bool)]
        share = {
            indicator.removeprefix(claim["measure"] + "_"): value
            for indicator, value in zip(sub["indicator"], sub["share"])
            if indicator.startswith(claim["measure"] + "_")
        }
        platforms = [p for p in share if not pd.isna(share[p])]
        if "order" in claim:
            values = [share.get(p, float("nan")) for p in claim["order"]]
            holds = all(a > b for a, b in zip(values, values[1:]))
            recomputed = ", ".join(f"{p} {100 * share.get(p, float('nan')):.1f}%" for p in claim["order"])
        else:
            least = sorted(platforms, key=lambda p: share[p])[: len(claim["least"])]
            holds = set(least) == set(claim["least"])
            recomputed = "least: " + ", ".join(f"{p} {100 * share[p]:.1f}%" for p in least)
        rows.append({"claim_id": claim["id"], "segment": claim["segment"], "quote": claim["quote"],
                     "recomputed": recomputed, "holds": bool(holds)})
    return pd.DataFrame(rows, columns=["claim_id", "segment", "quote", "recomputed", "holds"])


def status_sentence(table: pd.DataFrame) -> str:
    """'84 published figures: 78 match, 0 off, 6 where the report contradicts itself'."""
    counts = table["status"].value_counts()
    return (f"{len(table)} published figures: {counts.get('match', 0)} match, "
            f"{counts.get('off', 0)} off, {counts.get('report_inconsistent', 0)} where the "
            "report contradicts itself")


def not_reproduced(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] == "off"]


def reproduction_markdown(
    wave: str, table: pd.DataFrame, claims: pd.DataFrame, published: dict[str, Any],
    disclosure: str,
) -> str:
    lines = [
        f"# Reproduction of the published figures: {wave}",
        "",
        f"> {disclosure}",
        "",
        status_sentence(table) + ".",
        "",
    ]
    off = not_reproduced(table)
    if len(off):
        lines += ["## Not reproduced", "", _markdown_table(off), ""]
    lines += ["## Where the report contradicts itself", ""]
    for conflict in published.get("conflicts", []):
        lines.append(f"- **{conflict['id']}**: {', '.join(conflict['figures'])}; the reconstruction "
                     f"follows `{conflict['followed']}`. {' '.join(conflict['why'].split())}")
    lines += ["", "## Ordering claims", ""]
    for claim in claims.itertuples(index=False):
        verdict = "holds" if claim.holds else "does NOT hold"
        lines.append(f"- {claim.claim_id} ({claim.segment}): \"{claim.quote}\" — {verdict} ({claim.recomputed})")
    lines += ["", "## All figures", "", _markdown_table(table.drop(columns=["note"])), ""]
    return "\n".join(lines)


def _markdown_table(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False, floatfmt=".1f")
