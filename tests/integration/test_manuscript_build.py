"""End to end: the manuscript the full workflow run renders (results/manuscript/).

Both files exist; every figure paper.qmd references is embedded in the HTML and staged in the
build; nothing is left unresolved; every inline number equals its results table (re-read here
from values.csv's source, selector and column, with this file's own reading and rounding, not
the package's); the PDF holds the title, the headings, key numbers and the disclosure; the
document names its renderer; and the README's build command makes all of it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import shlex
import subprocess
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pypdf
import pytest
import yaml

from smesocial.manuscript import choose_renderer
from workflow_support import ROOT, SNAKEMAKE

pytestmark = pytest.mark.e2e

FIGURE = re.compile(r"!\[[^\]]*\]\((?P<path>figures/[^)\s]+\.png)\)\{[^}]*#fig-")
VARIABLE = re.compile(r"\{\{<\s*var\s+([^\s>]+)\s*>\}\}")
HEADINGS = ["Abstract", "Introduction", "Data", "Methods", "Results",
            "Reproducing the published report", "Limitations", "References"]


def normalise(text: str) -> str:
    """Text as a reader sees it: one space between words, straight quotes, no line-end
    hyphenation (Typst's soft hyphens), no zero-width or non-breaking spaces, no break after a
    slash (applied to expected and found text alike)."""
    text = text.replace("\u200b", "").replace("\u00a0", " ").replace("\u2019", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2212", "-")
    text = re.sub(r"\u00ad\s*", "", text)
    text = re.sub(r"/\s+", "/", text)
    return " ".join(text.split())


def html_text(page: str) -> str:
    page = re.sub(r'src="data:[^"]*"', "", page)
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return normalise(html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture(scope="module")
def built(two_runs) -> dict[str, object]:
    workdir, _, _ = two_runs
    out = workdir / "results/manuscript"
    page = (out / "paper.html").read_text(encoding="utf-8")
    reader = pypdf.PdfReader(str(out / "paper.pdf"))
    return {
        "workdir": workdir, "out": out, "page": page, "html_text": html_text(page),
        "pdf_text": normalise("\n".join(p.extract_text() for p in reader.pages)),
        "paper": (ROOT / "manuscript/paper.qmd").read_text(encoding="utf-8"),
        "values": pd.read_csv(out / "values.csv", dtype=str, keep_default_na=False),
    }


def test_the_manuscript_is_rendered_to_html_and_pdf(built):
    out: Path = built["out"]
    assert (out / "paper.pdf").read_bytes()[:5] == b"%PDF-"
    assert built["page"].lstrip().lower().startswith("<!doctype html")
    assert len(pypdf.PdfReader(str(out / "paper.pdf")).pages) >= 5


def test_every_figure_the_paper_references_is_embedded_and_staged(built):
    figures = FIGURE.findall(built["paper"])
    assert len(figures) == 11
    data_uris = re.findall(r'<img[^>]+src="data:image/png;base64,([^"]+)"', built["page"])
    embedded = {hashlib.sha256(base64.b64decode(data)).hexdigest() for data in data_uris}
    linked = set(re.findall(r'<img[^>]+src="(figures/[^"]+)"', built["page"]))
    for figure in figures:
        produced = built["workdir"] / "results" / figure
        staged = built["out"] / "_build" / figure
        assert staged.read_bytes() == produced.read_bytes(), figure
        digest = hashlib.sha256(produced.read_bytes()).hexdigest()
        assert digest in embedded or figure in linked, f"{figure} is not in the HTML"


def test_nothing_is_left_unresolved(built):
    for name in ("html_text", "pdf_text"):
        text = built[name]
        assert "{{<" not in text, name
        assert re.search(r"@(fig|tbl)-|\?@", text) is None, name
        assert "?var" not in text, name
    # cross-references became numbered links
    assert "Figure 10" in built["html_text"] and "Table 9" in built["html_text"]


def _read(workdir: Path, source: str) -> pd.DataFrame:
    path, _, key = source.partition("#")
    if not key:
        return pd.read_csv(workdir / path, dtype=str, keep_default_na=False)
    node = yaml.safe_load((workdir / path).read_text(encoding="utf-8"))
    for part in key.split("."):
        node = node[part]
    if isinstance(node, list):
        return pd.DataFrame([{k: "; ".join(map(str, v)) if isinstance(v, list) else str(v)
                              for k, v in item.items()} for item in node])
    if isinstance(node, dict):
        return pd.DataFrame([{k: str(v) for k, v in node.items()}])
    return pd.DataFrame([{"value": str(node)}])


def _rows(frame: pd.DataFrame, selector: str) -> pd.DataFrame:
    for part in filter(None, selector.split(" & ")):
        column, _, value = part.partition("=")
        frame = frame[frame[column.strip()] == value.strip()]
    return frame


def _numbers(shown: str) -> list[Decimal]:
    return [Decimal(n.replace(",", "")) for n in re.findall(r"-?[\d,]*\d(?:\.\d+)?", shown)]


# format -> (scale applied to the raw value, half a unit of the shown precision)
SCALED = {"pct": (100, "0.05"), "percent": (1, "0.05"), "pp": (100, "0.05"),
          "pp_value": (1, "0.05"), "pct_ci": (100, "0.05"), "percent_ci": (1, "0.05"),
          "pp_ci": (100, "0.05"), "decimal1": (1, "0.05"), "decimal2": (1, "0.005"),
          "decimal3": (1, "0.0005"), "decimal2_ci": (1, "0.005"), "decimal3_ci": (1, "0.0005"),
          "count": (1, "0"), "integer": (1, "0"), "published_pct": (1, "0")}


def _check_shown(fmt: str, shown: str, raw: list[str]) -> None:
    if fmt == "text":
        assert shown == " ".join(raw[0].split())
    elif fmt == "p":
        value = Decimal(raw[0])
        if value < Decimal("0.001"):
            assert shown == "< 0.001"
        else:
            assert shown.startswith("= ") and abs(_numbers(shown)[0] - value) <= Decimal("0.0005")
    elif fmt == "times":
        assert shown == {"1": "once", "2": "twice"}.get(raw[0], f"{int(raw[0]):,} times")
    elif fmt == "confidence":
        assert _numbers(shown) == [(1 - Decimal(raw[0])) * 100]
    else:
        scale, tolerance = SCALED[fmt]
        shown_numbers = _numbers(shown)
        assert len(shown_numbers) == len(raw)
        for number, cell in zip(shown_numbers, raw):
            assert abs(number - Decimal(cell) * scale) <= Decimal(tolerance), (shown, cell)


def test_each_inline_number_equals_the_value_in_its_results_table(built):
    values: pd.DataFrame = built["values"]
    assert list(values.columns)[:6] == ["key", "value", "source", "selector", "column", "raw"]
    cache: dict[str, pd.DataFrame] = {}
    for row in values.itertuples():
        if row.source not in cache:
            cache[row.source] = _read(built["workdir"], row.source)
        rows = _rows(cache[row.source], row.selector)
        if row.agg == "count":
            raw = [str(len(rows))]
        elif row.agg == "sum":
            raw = [str(sum(int(v) for v in rows[row.column]))]
        else:
            assert len(rows) == 1, (row.key, row.source, row.selector)
            raw = [rows.iloc[0][c] for c in row.column.split("|")]
        assert "|".join(raw) == row.raw, (row.key, row.source, row.selector)
        _check_shown(row.format, row.value, raw)


def test_values_csv_lists_exactly_the_papers_inline_numbers_and_each_is_shown(built):
    used = {k for k in VARIABLE.findall(built["paper"]) if not k.startswith("meta.")}
    values: pd.DataFrame = built["values"]
    assert set(values["key"]) == used
    assert len(values) == len(used) > 100
    for row in values.itertuples():
        assert normalise(row.value) in built["html_text"], row.key


def test_the_pdf_holds_the_title_headings_and_key_numbers(built):
    text: str = built["pdf_text"]
    title = yaml.safe_load(built["paper"].split("---")[1])["title"]
    assert normalise(title) in text
    for heading in HEADINGS:
        assert re.search(rf"(^|\s)(\d+ )?{re.escape(heading)}\s", text), heading
    values = built["values"].set_index("key")["value"]
    assert values["dk.flow.analysed"] == "332" and "leaving 332, the number" in text
    match, total = values["repro.dk.match"], values["repro.dk.total"]
    assert f"recovers {match} of the {total} figures" in text
    assert f"{match} figures match" in text
    assert values["t.h2_li.effect"] in text and values["cmp.li.diff"] in text


def test_the_synthetic_data_disclosure_is_in_both_documents(built):
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    for wave in ("dk_2024", "no_2010"):
        disclosure = normalise(config["waves"][wave]["disclosure"])
        assert disclosure in built["html_text"], wave
        assert disclosure in built["pdf_text"], wave
    for name in ("html_text", "pdf_text"):
        assert "nothing in this paper is a finding" in built[name]


def test_the_document_names_its_renderer(built):
    sentence = normalise(f"This document was rendered by {choose_renderer().description}.")
    assert sentence in built["html_text"]
    assert sentence in built["pdf_text"]


def test_the_readme_build_command_makes_the_manuscript(built):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", readme, re.DOTALL).group(1)
    assert block.strip().splitlines()[0].strip() == "bash workflow/run.sh build"
    # `run.sh build` runs snakemake with options only: the Snakefile's default target
    run = (ROOT / "workflow/run.sh").read_text(encoding="utf-8")
    branch = run[run.index("  build)"):run.index(";;", run.index("  build)"))]
    call = next(line.strip() for line in branch.splitlines()
                if line.strip().startswith("snakemake --cores"))
    tokens = shlex.split(call.replace('"$@"', "EXTRA_ARGS"))
    positional = [t for i, t in enumerate(tokens[1:], 1)
                  if not t.startswith("-") and tokens[i - 1] != "--cores" and t != "EXTRA_ARGS"]
    assert positional == []
    # that default target includes the manuscript: the run without targets made it, and a dry
    # run of the default target lists the manuscript job when it is forced
    out: Path = built["out"]
    assert (out / "paper.html").stat().st_size > 0 and (out / "paper.pdf").stat().st_size > 0
    done = subprocess.run([str(SNAKEMAKE), "--dry-run", "--forcerun", "manuscript", "--cores", "1"],
                          cwd=built["workdir"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r"^manuscript\s+1\b", done.stdout, re.MULTILINE), done.stdout[-2000:]


def _bib_entries(text: str) -> dict[str, dict[str, str]]:
    entries = {}
    for match in re.finditer(r"@\w+\{(?P<key>[^,]+),(?P<body>.*?)\n\}", text, re.DOTALL):
        fields = dict(re.findall(r"^\s*(\w+)\s*=\s*\{(.*)\},?\s*$", match.group("body"),
                                 re.MULTILINE))
        entries[match.group("key")] = fields
    return entries


def test_references_hold_no_placeholders_and_no_date_is_left_out(built):
    """No "title not available" stands in for a title, and "n.d." appears only for a source
    whose date the project's copy does not give (its entry has neither year nor date)."""
    bib = _bib_entries((ROOT / "manuscript/references.bib").read_text(encoding="utf-8"))
    assert len(bib) > 15 and all(fields.get("title") for fields in bib.values())
    page: str = built["page"]
    references = html_text(page[page.index('id="refs"'):page.index('id="where-each-number')])
    for placeholder in ("not available", "title not"):
        assert placeholder not in references.lower(), placeholder
    cited = set(re.findall(r'id="ref-([\w-]+)"', page))
    undated = {key for key in cited if not ({"year", "date"} & set(bib[key]))}
    assert references.count("n.d.") == len(undated)
    # the sources that do give a date carry it
    assert {"roi_guide", "eurostat2022", "berglund2010", "cphbusiness2024"} <= cited - undated


def test_tables_name_tests_and_conflicts_in_words_and_say_how_often(built):
    text: str = built["html_text"]
    assert "Cochran-Mantel-Haenszel" in text and "exact McNemar" in text
    # the weighted wave's rows name their design-based method, the declared test beside
    assert "design-based: weighted logistic regression, group and segment, Wald F (unweighted: " \
        "Cochran-Mantel-Haenszel)" in text
    build = built["out"] / "_build/tables"
    for table in ("tests.md", "inconsistencies.md"):
        body = "\n".join((build / table).read_text(encoding="utf-8").splitlines()[2:])
        for raw_id in ("cmh", "mcnemar", "cochran\\_", "micro\\_professional",
                       "linkedin\\_dw\\_all", "agency\\_all"):
            assert raw_id not in body.replace("\u200b", ""), (table, raw_id)
    assert "time(s)" not in text
    assert re.search(r"this happens once\s?, for Norway", text)  # a tag ends after "once"
