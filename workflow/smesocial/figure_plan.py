"""What the notebooks draw and what they are given, decided from the configuration alone.

Snakemake imports this module while it reads the workflow (to declare each notebook job's
figure files and parameters), so it imports only the standard library and smesocial.config
(yaml): no pandas, matplotlib or seaborn at parse time. smesocial.notebooks, which draws, takes
the figure formats, the wave figures and the labels from here, so the two cannot disagree.

The notebooks open only the tables they draw: everything they need from config/ (labels,
orders, disclosures) reaches them as papermill parameters built by the functions below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from smesocial.config import Harmonised, load_codebook

FORMATS = ("png", "svg")

# Which figures a wave gets, from the harmonised variables it measures. The workflow calls
# wave_figures with the variables the wave's codebook maps (so the figure files are known before
# the run), the notebook with those its estimates cover: a figure the config promises that the
# data cannot draw is then a missing output that stops the run, never a silent gap.
WAVE_FIGURES = ("posting_frequency", "importance_use_gap", "professionalism",
                "broadcast_dialogue", "presence_by_sample", "purposes", "respondent_flow")


def wave_figures(variables: Iterable[str]) -> list[str]:
    """The wave figures (names of WAVE_FIGURES, in its order) the variables allow."""
    v = set(variables)
    posted = {x.removeprefix("post_") for x in v if x.startswith("post_")}
    has = {
        "posting_frequency": bool(posted),
        "importance_use_gap": any(f"important_{p}" in v for p in posted),
        "professionalism": "professionalism" in v,
        "broadcast_dialogue": {"effective_communication", "learn_about_customers"} <= v,
        "presence_by_sample": "sample" in v and any(x.startswith("present_") for x in v),
        "purposes": any(x.startswith("purpose_") for x in v),
        "respondent_flow": True,
    }
    return [name for name in WAVE_FIGURES if has[name]]


def codebook_variables(codebook: str | Path, harmonised: Harmonised) -> frozenset[str]:
    """The harmonised variables a wave's codebook maps, and those derived from them."""
    mapped = set(load_codebook(codebook).columns.values())
    return frozenset(mapped | {name for name, derived in harmonised.derived.items()
                               if derived.source in mapped})


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def segment_labels(scheme: Mapping[str, Any]) -> dict[str, str]:
    """`all` -> "All firms", then each segment of a segmentation scheme of the config, in its
    order -> "Micro (1–10 employees)"."""
    labels = {"all": "All firms"}
    for segment in scheme["segments"]:
        low, high = segment.get("min"), segment.get("max")
        span = f"{low}+" if high is None else f"{low}–{high}"
        name = str(segment["name"]).replace("_", " + ").capitalize()
        labels[str(segment["name"])] = f"{name} ({span} employees)"
    return labels


# --------------------------------------------------------------------------------------------
# The notebooks' parameters from the configuration (each notebook's `parameters` cell holds
# the same values for its default run; tests/unit/test_figures.py checks they agree)


def wave_profile_parameters(config: Mapping[str, Any], wave: str,
                            harmonised: Harmonised) -> dict[str, Any]:
    """What notebooks/wave_profile.py needs of the configuration for one wave: its disclosure,
    its segmentation scheme's segments with their labels, the harmonised platforms, purposes
    and answer levels of posting frequency (most frequent first)."""
    settings = config["waves"][wave]
    return {
        "wave": wave,
        "disclosure": one_line(settings["disclosure"]),
        "segment_labels": segment_labels(config["segmentation"][settings["segmentation"]]),
        "platforms": dict(harmonised.platforms),
        "purposes": dict(harmonised.purposes),
        "frequency_levels": list(reversed(harmonised.scales["frequency"].levels)),
    }


def country_comparison_parameters(config: Mapping[str, Any], waves: Sequence[str],
                                  common_scheme: str) -> dict[str, Any]:
    """What notebooks/country_comparison.py needs of the configuration: the two waves (first
    minus second), their disclosures, and the segments of the common size scheme."""
    return {
        "waves": list(waves),
        "disclosures": [one_line(config["waves"][w]["disclosure"]) for w in waves],
        "segment_labels": segment_labels(config["segmentation"][common_scheme]),
    }
