"""Reading the workflow's own files in tests: the import statements of a Snakemake file, and
which script each rule of a rule file runs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "workflow" / "rules"


def smk_imports(path: Path) -> list[str]:
    """The top-level import statements of a Snakemake file (parenthesised ones whole)."""
    statements, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if current or line.startswith(("from ", "import ")):
            current.append(line)
            text = "\n".join(current)
            if text.count("(") == text.count(")"):
                ast.parse(text)
                statements.append(text)
                current = []
    return statements


def rule_scripts(path: Path) -> dict[str, str]:
    """rule name -> the stem of the script it runs, for the named rules of a rule file (a rule
    defined in a loop with `name:` is listed under its f-string's fixed prefix)."""
    text = path.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    blocks = re.split(r"^\s*rule(?:\s+(\w+))?:\s*$", text, flags=re.MULTILINE)
    for name, body in zip(blocks[1::2], blocks[2::2]):
        if name is None:
            named = re.search(r"name:\s*\n\s*f?\"(\w+?)(?:_?\{|\")", body)
            name = named.group(1) if named else "?"
        script = re.search(r"script:\s*\n\s*\"\.\./scripts/(\w+)\.py\"", body)
        if script:
            found[name] = script.group(1)
    return found
