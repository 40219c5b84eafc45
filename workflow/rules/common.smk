# What the rules share: where a wave's inputs are, the config keys each job may read, the
# harmonisation spec and the list of final outputs (used by `rule all` and provenance alike).
# Read while the workflow is parsed, by every snakemake call: only light imports here.
import os as _os
from pathlib import Path as _Path

from smesocial.config import check_references as _check_references
from smesocial.config import ensemble_batch as _ensemble_batch
from smesocial.config import ensemble_batch_ids as _ensemble_batch_ids
from smesocial.config import ensemble_draw as _ensemble_draw
from smesocial.config import ensemble_draw_ids as _ensemble_draw_ids
from smesocial.config import ensemble_draws as _ensemble_draws
from smesocial.config import load_harmonised as _load_harmonised
from smesocial.config import weighting_spec as _weighting_spec
from smesocial.compare import country_waves as _country_waves
from smesocial.compare import load_spec as _load_spec
from smesocial.config import load_yaml as _load_yaml
from smesocial.respondent_key import KEY_ENV as RESPONDENT_KEY_ENV
from smesocial.respondent_key import check_key_secrets as _check_key_secrets
from smesocial.provenance import repo_relative as _repo_relative
from smesocial.runner import ReadConfig as _ReadConfig
from snakemake.exceptions import WorkflowError
from snakemake.iocontainers import Wildcards as _Wildcards
from snakemake.io import is_flagged as _is_flagged

HARMONISED_FILE = config["harmonised"]
INDICATORS_FILE = config["indicators"]
HYPOTHESES_FILE = "config/hypotheses.yaml"
HARMONISATION_FILE = config.get("harmonisation", "config/harmonisation.yaml")
OFFICIAL_FILE = config["official"]["file"]
CONDA_ENV = "../../environment.yml"

# Checked while the workflow is read, so a bad reference (a scheme, a file, a wave, a population
# target) stops the run naming its key before any job.
_check_references(config)
# A wave of real data needs the respondent key's secret in the environment (only whether it is
# there is checked here; the ingest step reads it).
_check_key_secrets(config, _os.environ)
HARMONISATION = _load_spec(
    HARMONISATION_FILE, config, _load_harmonised(HARMONISED_FILE)
)
CROSS_COUNTRY_WAVES = [HARMONISATION.first, HARMONISATION.second]
COUNTRY_WAVES = _country_waves(config)  # country -> its waves in time order (2+ only)


# A wave's files live under results/{wave}/; a draw of the ensemble runs the same rules under
# results/ensemble/batch<NNN>/draw<NNN>/{wave}/ (`prefix`, empty for the shipped waves).
wildcard_constraints:
    wave="|".join(WAVES),
    prefix="(ensemble/batch[0-9]+/draw[0-9]+/)?",
    draw="[0-9]+",
    batch="[0-9]+",


def wave_config(wave):
    return config["waves"][wave]


def raw_file(wildcards):
    """The export a wave's ingest reads: its raw file, or for a draw the one its generator wrote."""
    if getattr(wildcards, "prefix", ""):
        return f"results/{wildcards.prefix}{wildcards.wave}/export.csv"
    return wave_config(wildcards.wave)["raw_file"]


def codebook_file(wildcards):
    return wave_config(wildcards.wave)["codebook"]


def published_file(wildcards):
    return wave_config(wildcards.wave)["published"]


def waves_with_published():
    return [wave for wave in WAVES if "published" in wave_config(wave)]


def synthetic_params():
    """config/synthetic/<wave>.yaml of every wave that is a synthetic reconstruction."""
    return [
        f
        for f in expand("config/synthetic/{wave}.yaml", wave=WAVES)
        if _Path(f).is_file()
    ]


def weighting_population_files(wave):
    """The population files a wave's weighting margins read (none for an unweighted wave).
    Read through the same function the script uses, so a bad population name stops the run
    while the workflow is read."""
    return sorted({margin.file for margin in _weighting_spec(config, wave).margins})


def rule_scripts():
    """rule -> the entry script it runs, relative to the repository root like every other
    path of the provenance (a rule names it relative to its own file). Read from the workflow
    itself, so a new rule is never left out; call it from a params function, once every rule
    is defined."""
    return {
        each.name: _repo_relative(
            each.basedir.join(each.script).get_path_or_uri(secret_free=True),
            workflow.basedir,
        )
        for each in workflow.rules
        if each.script
    }


def producing_rules(paths):
    """path -> {rule, script} of the rule that makes it; rule None for a file no rule makes
    (configuration, raw data). For the manuscript's list of where each number comes from.
    """
    scripts = rule_scripts()
    found = {}
    for path in paths:
        makers = sorted(each.name for each in workflow.rules if each.is_producer(path))
        if len(makers) > 1:
            raise WorkflowError(
                f"{path} is an output of several rules: {', '.join(makers)}"
            )
        maker = makers[0] if makers else None
        found[path] = {"rule": maker, "script": scripts.get(maker)}
    return found


# --- configuration a job may read --------------------------------------------------------------
# A script never sees `config` (smesocial.runner hides it): it reads what its rule passes as
# params, so Snakemake reruns a job exactly when a key it reads changes (params are a rerun
# trigger) and never when another key changes.


def _copy_dpath(source, target, keys, dpath):
    """Copy source[keys...] into target, keeping the nesting; '*' takes every key at its level.
    A key the config leaves out is left out (scripts use their documented defaults)."""
    head, rest = keys[0], keys[1:]
    if not isinstance(source, dict):
        raise WorkflowError(
            f"config_subset: {dpath!r} goes below a value that is not a mapping"
        )
    names = list(source) if head == "*" else [head] if head in source else []
    for name in names:
        if rest:
            _copy_dpath(source[name], target.setdefault(name, {}), rest, dpath)
        else:
            target[name] = source[name]


def config_subset(*dpaths):
    """The parts of `config` a job's script reads, in config's own shape, as a params value.

    Each dpath is keys joined by slashes ('exclusions/partial_min_answered_share'); '{wave}' is the
    job's wave wildcard and '*' every key at that level ('waves/*/country')."""

    def subset(wildcards):
        chosen = {}
        for dpath in dpaths:
            keys = dpath.format(**dict(wildcards.items())).split("/")
            _copy_dpath(config, chosen, keys, dpath)
        return chosen

    return subset


def ingest_config(wildcards):
    """The keys ingest reads: a shipped wave's declared sha256 (a draw's export has none: the
    ensemble's generator writes it in the same run), whether it is synthetic (where the key's
    secret may come from) and what to do with unmapped columns."""
    keys = [
        "exclusions/test_response_markers",
        "waves/{wave}/synthetic",
        "waves/{wave}/unmapped_columns",
    ]
    if not getattr(wildcards, "prefix", ""):
        keys.append("waves/{wave}/raw_sha256")
    return config_subset(*keys)(wildcards)


def read_from_config(build, *args):
    """(build(config, *args), the config keys it read): for params computed from the config
    while the workflow is read (the notebooks' parameters, a draw's seed), so their step can log
    what it used like any other (smesocial.runner)."""
    tracked = _ReadConfig(config)
    return build(tracked, *args), sorted(tracked.reads)


def weighting_config(wildcards):
    """The wave's `weighting` entry with the population targets and the scheme it names."""
    chosen = config_subset("weighting/{wave}")(wildcards)
    entry = chosen.get("weighting", {}).get(wildcards.wave) or {}
    named = {
        str(m["population"]) for m in entry.get("margins") or [] if "population" in m
    }
    targets = config.get("population_targets") or {}
    # what a margin takes of a target (smesocial.config.weighting_spec); `unit` is for readers
    read = ("file", "filter", "class_column", "count_column", "source")
    chosen["population_targets"] = {
        name: {k: v for k, v in target.items() if k in read}
        for name, target in targets.items()
        if name in named
    }
    schemes = config.get("segmentation", {})
    chosen["segmentation"] = {
        k: v for k, v in schemes.items() if k == entry.get("scheme")
    }
    return chosen


# What describes a wave wherever its results are shown (tables, summaries, the comparison).
WAVE_DESCRIPTION = ("country", "year", "sample", "disclosure")


def waves_described(*fields):
    return [f"waves/*/{name}" for name in (fields or WAVE_DESCRIPTION)]


# --- the ensemble of reconstructions -------------------------------------------------------------

ENSEMBLE = config.get("ensemble") or {}
ENSEMBLE_WAVE = ENSEMBLE.get("wave")


# The keys of the ensemble's wave its generator reads: which codebook is the wave's, where the
# respondent key's secret may come from, and the clean stage's settings.
GENERATOR_WAVE_KEYS = (
    "codebook",
    "synthetic",
    "country",
    "year",
    "sample",
    "segmentation",
    "population",
)


def ensemble_draws():
    """The configured draws' ids ('001', ...; smesocial.config)."""
    return _ensemble_draw_ids(config)


def ensemble_draw(wildcards):
    """A draw's seed, variant and knobs, with the config keys they came from (for its log)."""
    return read_from_config(_ensemble_draw, wildcards.draw)


def generator_inputs():
    """The files the ensemble's generator reads, named in its parameters file."""
    if not ENSEMBLE:
        return {}
    inputs = _load_yaml(ENSEMBLE["params"])["inputs"]
    return {key: path for key, path in inputs.items() if key != "project_config"}


def wave_tables(name):
    """Every wave's `name`.parquet for the battery: a draw's own for the ensemble's wave, the
    shipped one for the others."""

    def tables(wildcards):
        prefix = getattr(wildcards, "prefix", "")
        return [
            f"results/{prefix if wave == ENSEMBLE_WAVE else ''}{wave}/{name}.parquet"
            for wave in WAVES
        ]

    return tables


# The rules a draw runs through, in order: each later one reads what the earlier ones wrote.
DRAW_STAGES = (
    "ensemble_generate",
    "ingest",
    "segment",
    "clean",
    "weights",
    "estimates",
    "stats",
)


def ensemble_batches():
    """The ids of the jobs that run the draws (draws_per_job each; smesocial.config)."""
    return _ensemble_batch_ids(config)


def batch_draws(wildcards):
    """The draws job `batch` runs, with the config keys that placed them there."""
    return read_from_config(_ensemble_batch, wildcards.batch)


def _named(items, plain=str):
    """A Snakemake named list (input, output, params, log) as plain data for a job's params."""
    return {
        "items": [plain(item) for item in items],
        "names": {name: list(span) for name, span in items._names.items()},
    }


_DRAW_JOBS = {}


def draw_jobs(batch):
    """The jobs of every draw in `batch`: each rule of DRAW_STAGES expanded by Snakemake itself
    for the draw's wildcards (prefix ensemble/batch<B>/draw<D>/), so a draw's inputs, outputs,
    params, log and script are exactly the rule's, as a standalone job of it would have them.
    """
    if batch not in _DRAW_JOBS:
        jobs, scripts = [], rule_scripts()
        for draw in _ensemble_batch(config, batch):
            values = {
                "prefix": f"ensemble/batch{batch}/draw{draw}/",
                "wave": ENSEMBLE_WAVE,
                "batch": batch,
                "draw": draw,
            }
            for name in DRAW_STAGES:
                stage = workflow.get_rule(name)
                wildcards = _Wildcards(
                    fromdict={w: values[w] for w in sorted(stage.wildcard_names)}
                )
                input, _, _, _ = stage.expand_input(wildcards)
                output, _ = stage.expand_output(wildcards)
                params, _ = stage.expand_params(wildcards, input, output, None)
                jobs.append(
                    {
                        "draw": draw,
                        "rule": name,
                        "script": scripts[name],
                        "wildcards": _named(wildcards),
                        "input": _named(input),
                        "output": _named(output),
                        "params": _named(params, plain=lambda value: value),
                        "log": _named(stage.expand_log(wildcards)),
                        "temp": [str(f) for f in output if _is_flagged(f, "temp")],
                    }
                )
        _DRAW_JOBS[batch] = jobs
    return _DRAW_JOBS[batch]


def batch_inputs(wildcards):
    """What a batch reads from outside it: its draws' inputs that no job of the batch writes."""
    jobs = draw_jobs(wildcards.batch)
    written = {f for job in jobs for f in job["output"]["items"]}
    read = [f for job in jobs for f in job["input"]["items"] if f not in written]
    return sorted(set(read))


def ensemble_targets():
    if not ensemble_draws():
        return []
    return ["results/ensemble/robustness.csv", "results/ensemble/draws.csv"]


# --- final outputs -----------------------------------------------------------------------------


def reproduction_targets():
    return expand("results/{wave}/reproduction.csv", wave=waves_with_published())


def comparison_targets():
    """Every comparison file the configured waves call for."""
    return [
        "results/comparisons/dk_no.csv",
        "results/comparisons/dk_no.parquet",
        "results/comparisons/non_comparabilities.csv",
    ] + expand(
        "results/comparisons/{country}_waves.{ext}",
        country=COUNTRY_WAVES,
        ext=["csv", "parquet"],
    )


def official_targets():
    return ["results/official/trends.csv", "results/official/benchmarks.csv"]


def manuscript_targets():
    return [
        "results/manuscript/paper.html",
        "results/manuscript/paper.pdf",
        "results/manuscript/values.csv",
    ]


WAVE_OUTPUTS = [
    "ingested.parquet",
    "raw_columns.csv",
    "segments.parquet",
    "clean.parquet",
    "exclusions.csv",
    "flow.csv",
    "segment_counts.csv",
    "estimates.csv",
    "item_estimates.parquet",
    "weights.parquet",
    "weights_summary.csv",
]
STATS_OUTPUTS = [
    "estimates.csv",
    "estimates.parquet",
    "tests.csv",
    "tests.parquet",
    "summary.md",
]


def final_outputs():
    """Every file the build makes except provenance.json, which lists them all."""
    return (
        expand("results/{wave}/{name}", wave=WAVES, name=WAVE_OUTPUTS)
        + expand(
            "results/{wave}/{name}",
            wave=waves_with_published(),
            name=["reproduction.csv", "reproduction.md"],
        )
        + ["results/summary.md"]
        + expand("results/stats/{name}", name=STATS_OUTPUTS)
        + ["results/identification/tests.csv"]
        + comparison_targets()
        + official_targets()
        + ensemble_targets()
        + notebook_targets()
        + manuscript_targets()
    )


# --- notebooks ---
# What the notebooks rule (workflow/rules/notebooks.smk) declares, worked out while the workflow
# is read: a wave's figures follow from its codebook. smesocial.figure_plan is stdlib + yaml,
# so this section imports no pandas, matplotlib or seaborn (tests/unit/test_figures.py).
from functools import lru_cache as _lru_cache

from smesocial.config import load_harmonised as _load_harmonised_nb
from smesocial.figure_plan import (
    FORMATS as FIGURE_FORMATS,
    codebook_variables as _codebook_variables,
    country_comparison_parameters as _country_comparison_parameters,
    wave_figures as _wave_figures,
    wave_profile_parameters as _wave_profile_parameters,
)

# The code the notebooks run beside their own (the figures, their manifests, the runner that
# executes and normalises them): editing it reruns them.
NOTEBOOK_CODE = [
    "workflow/smesocial/notebooks.py",
    "workflow/smesocial/figure_plan.py",
    "workflow/smesocial/figure_manifest.py",
    "workflow/smesocial/notebook_runs.py",
]
_HARMONISED_NB = _load_harmonised_nb(config["harmonised"])
COMPARISON_FIGURES = [
    f"results/figures/dk_no_comparison.{ext}" for ext in FIGURE_FORMATS
]
OFFICIAL_FIGURES = [f"results/figures/official_trends.{ext}" for ext in FIGURE_FORMATS]
SUPPORT_FIGURES = [f"results/figures/support.{ext}" for ext in FIGURE_FORMATS]
FIGURES_MANIFEST = "results/figures/figures.csv"


def support_notebook():
    """The notebook of what the published figures support: only with an ensemble to draw."""
    return ["support"] if ensemble_draws() else []


@_lru_cache(maxsize=None)
def wave_variables(wave):
    """The harmonised variables a wave's codebook maps (and those derived from them)."""
    return _codebook_variables(wave_config(wave)["codebook"], _HARMONISED_NB)


def waves_with_samples():
    """Waves drawn in several samples (their codebook maps a column onto `sample`)."""
    return [w for w in WAVES if "sample" in wave_variables(w)]


def wave_figure_files(wave):
    """A wave's figure files: the figures its items allow (smesocial.figure_plan.wave_figures)."""
    return [
        f"results/figures/{wave}_{name}.{ext}"
        for name in _wave_figures(wave_variables(wave))
        for ext in FIGURE_FORMATS
    ]


def figure_outputs(files, caption, category_label):
    # In the Snakemake report: the PNGs (the SVGs are the same figures), labelled by name.
    return [
        _in_report(f, caption, category_label) if f.endswith(".png") else f
        for f in files
    ]


def _in_report(path, caption, category_label):
    labels = {"figure": _Path(path).stem, "format": "png"}
    return report(
        path,
        caption=caption,
        category="Figures",
        subcategory=category_label,
        labels=labels,
    )


_WAVE_TABLES = ["results/stats/estimates.csv", "results/stats/tests.csv"]
_FIGURE_DIRS = {"results_dir": "results", "figures_dir": "results/figures"}


def _notebook_run(name, notebook, tables, figures, report_as, parameters, read=()):
    return {
        "name": name,
        "notebook": notebook,
        "executed": f"results/notebooks/{name}.ipynb",
        "manifest": f"results/figures/{name}_figures.csv",
        "tables": list(tables),
        "figures": list(figures),
        "report_as": report_as,  # (caption, label) of its figures in the Snakemake report
        "parameters": {**parameters, **_FIGURE_DIRS},
        "config_read": list(read),
    }


@_lru_cache(maxsize=None)
def notebook_runs():
    """The notebooks the `notebooks` job executes, in order, on one kernel: per run its name,
    source notebook, executed copy and figure manifest, the tables it opens, the figures it
    draws, its parameters (what it needs of the configuration: a config edit that changes none
    reruns no notebook) and the config keys they came from."""
    runs = []
    for wave in WAVES:
        profile, read = read_from_config(_wave_profile_parameters, wave, _HARMONISED_NB)
        by_sample = [f"results/{wave}/estimates_by_sample.csv"]
        runs.append(
            _notebook_run(
                f"wave_profile_{wave}",
                "notebooks/wave_profile.py",
                [f"results/{wave}/estimates.csv", f"results/{wave}/flow.csv"]
                + (by_sample if wave in waves_with_samples() else [])
                + _WAVE_TABLES,
                wave_figure_files(wave),
                ("../report/figures_wave.rst", wave),
                {**profile, "weighted": False},
                read,
            )
        )
    comparison, read = read_from_config(
        _country_comparison_parameters,
        CROSS_COUNTRY_WAVES,
        HARMONISATION.common_scheme,
    )
    runs.append(
        _notebook_run(
            "country_comparison",
            "notebooks/country_comparison.py",
            [
                "results/comparisons/dk_no.csv",
                "results/comparisons/non_comparabilities.csv",
            ],
            COMPARISON_FIGURES,
            ("../report/figures_comparison.rst", "comparison"),
            comparison,
            read,
        )
    )
    runs.append(
        _notebook_run(
            "official_trends",
            "notebooks/official_trends.py",
            ["results/official/trends.csv"],
            OFFICIAL_FIGURES,
            ("../report/figures_official.rst", "official"),
            {"countries": ["DK", "NO"], "size_class": "10+"},
        )
    )
    for name in support_notebook():
        support, read = read_from_config(lambda c: {"alpha": c["alpha"]})
        runs.append(
            _notebook_run(
                name,
                f"notebooks/{name}.py",
                ["results/ensemble/robustness.csv", "results/ensemble/draws.csv"],
                SUPPORT_FIGURES,
                ("../report/figures_support.rst", name),
                support,
                read,
            )
        )
    return tuple(runs)


def notebook_inputs():
    """What the notebooks job reads: the source notebooks, the code beside them and every
    table a notebook opens."""
    runs = notebook_runs()
    return {
        "notebooks": sorted({run["notebook"] for run in runs}),
        "code": NOTEBOOK_CODE,
        "tables": sorted({table for run in runs for table in run["tables"]}),
    }


def notebook_figure_outputs():
    return [
        f
        for run in notebook_runs()
        for f in figure_outputs(run["figures"], *run["report_as"])
    ]


def notebook_run_params():
    """Per run what scripts/notebooks.py needs (smesocial.notebook_runs.NotebookRun)."""
    keys = ("name", "notebook", "executed", "parameters")
    return [{key: run[key] for key in keys} for run in notebook_runs()]


def notebook_config_read():
    return sorted({key for run in notebook_runs() for key in run["config_read"]})


def notebook_run_inputs():
    """Each file a notebook run makes -> the inputs that run read (its source notebook, the
    code and its own tables), for the provenance manifest: Snakemake records one job's inputs
    for all its outputs, and the job runs every notebook."""
    made = {}
    for run in notebook_runs():
        inputs = sorted({run["notebook"], *NOTEBOOK_CODE, *run["tables"]})
        for path in [run["executed"], run["manifest"], *run["figures"]]:
            made[path] = inputs
    return made


def notebook_manifests():
    return [run["manifest"] for run in notebook_runs()]


def notebook_targets():
    """Every executed notebook, figure and figure manifest (for rule all and provenance)."""
    return (
        [run["executed"] for run in notebook_runs()]
        + [f for run in notebook_runs() for f in run["figures"]]
        + expand("results/{wave}/estimates_by_sample.csv", wave=waves_with_samples())
        + notebook_manifests()
        + [FIGURES_MANIFEST]
    )
