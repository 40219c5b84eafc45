"""The workflow's layout keeps its promises: each stage is one name (rules/X.smk ->
scripts/X.py -> smesocial/X.py), reading the workflow imports no heavy library, and no script
reads configuration except through its rule's params."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from workflow_files import ROOT, RULES, rule_scripts, smk_imports

HEAVY = {"pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn", "pyarrow", "IPython"}


def stages() -> list[str]:
    return sorted(p.stem for p in RULES.glob("*.smk") if p.stem != "common")


def test_every_stage_has_its_rules_scripts_and_module_under_one_name():
    assert {"ingest", "segment", "clean", "estimates", "stats", "compare", "notebooks",
            "manuscript"} <= set(stages())
    wrong = []
    for stage in stages():
        if not (ROOT / "workflow" / "smesocial" / f"{stage}.py").is_file():
            wrong.append(f"{stage}: no workflow/smesocial/{stage}.py")
        scripts = rule_scripts(RULES / f"{stage}.smk")
        if not scripts:
            wrong.append(f"{stage}: no rule runs a script")
        for rule, script in scripts.items():
            # the stage's own script, or in a stage of several rules one named after its rule
            if not (script == stage or script.startswith(f"{stage}_") or script == rule):
                wrong.append(f"{stage}.smk: rule {rule} runs scripts/{script}.py")
            if not (ROOT / "workflow" / "scripts" / f"{script}.py").is_file():
                wrong.append(f"{stage}.smk: scripts/{script}.py is missing")
    assert wrong == []


def test_rule_files_define_rules_and_common_holds_the_shared_functions():
    for stage in stages():
        text = (RULES / f"{stage}.smk").read_text(encoding="utf-8")
        defined = [line for line in text.splitlines() if line.startswith("def ")]
        assert defined == [], f"{stage}.smk defines {defined}: functions belong in common.smk"
    common = (RULES / "common.smk").read_text(encoding="utf-8")
    assert "def final_outputs():" in common and "def config_subset(" in common


def test_reading_the_workflow_imports_no_table_or_plotting_library():
    """Every snakemake call (a no-op build, each cluster job) reads the workflow: the imports of
    all rule files, in a fresh interpreter, load none of the heavy libraries."""
    imports = [s for path in sorted(RULES.glob("*.smk")) for s in smk_imports(path)]
    assert any("smesocial.compare" in s for s in imports)
    script = "\n".join([*imports, "import sys",
                        "print(' '.join(sorted({n.split('.')[0] for n in sys.modules})))"])
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "workflow")})
    loaded = set(done.stdout.split())
    assert "smesocial" in loaded
    assert loaded.isdisjoint(HEAVY), loaded & HEAVY


def test_no_script_reads_the_config_directly():
    readers = [p.name for p in (ROOT / "workflow" / "scripts").glob("*.py")
               if re.search(r"snakemake\.config\b", p.read_text(encoding="utf-8"))]
    assert readers == []
