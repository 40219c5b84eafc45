"""Rendering the Quarto manuscript, with Quarto where it is on PATH and offline where not.

The manuscript is written in the subset of Quarto that both paths understand:
`{{< var key >}}` and `{{< include file >}}` shortcodes, figures as `![caption](path){#fig-id}`,
table captions as `: caption {#tbl-id}` under a table, cross-references `@fig-id`/`@tbl-id`,
and citations `[@key]` resolved by citeproc from a .bib file.

Quarto cannot be installed on every machine (it ships as a binary outside the package
registries), so the offline path resolves those features itself and hands plain pandoc Markdown
to pandoc (HTML) and to pandoc's Typst writer plus the Typst compiler (PDF), both from wheels.
Writing this small resolver ourselves is deliberate: no library on PyPI implements Quarto's
shortcodes and cross-references outside Quarto.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from smesocial.config import parse_yaml
from smesocial.errors import InputError

SHORTCODE = re.compile(r"\{\{<\s*(var|include)\s+([^\s>]+)\s*>\}\}")
# A caption may hold links (a value linked to its source, the figure's own source note), so
# brackets nest one level; backslash escapes (`\[`) are text.
_CAPTION_TEXT = r"(?:\\.|[^\[\]\\])"
FIGURE = re.compile(rf"!\[(?P<caption>(?:{_CAPTION_TEXT}|\[{_CAPTION_TEXT}*\])*)\]"
                    r"\((?P<path>[^)\s]+)\)\{(?P<attrs>[^}]*#fig-(?P<id>[\w-]+)[^}]*)\}")
TABLE_CAPTION = re.compile(r"^:[ \t]+(?P<caption>.*?)[ \t]*\{#tbl-(?P<id>[\w-]+)\}[ \t]*$", re.MULTILINE)
CROSS_REF = re.compile(r"@(?P<kind>fig|tbl)-(?P<id>[\w-]+)")
LEFTOVER = re.compile(r"\{\{<|@(?:fig|tbl)-[\w-]+|\?@(?:fig|tbl)")
FRONT_MATTER = re.compile(r"\A---\n(?P<yaml>.*?)\n---\n", re.DOTALL)


@dataclass(frozen=True)
class Renderer:
    name: str  # "quarto" or "offline"
    description: str  # said in the document: which tool made it


def lookup(variables: Mapping[str, Any], key: str, source: str) -> str:
    """A dotted key in the variables mapping; missing keys are an error naming the key."""
    value: Any = variables
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise InputError(source, "the manuscript uses a variable the pipeline did not write",
                             found=key, expected="a key of the manuscript variables file")
        value = value[part]
    if isinstance(value, Mapping):
        raise InputError(source, "variable names a group, not a value", found=key)
    return str(value)


def expand_shortcodes(text: str, variables: Mapping[str, Any], base: Path, source: str,
                      depth: int = 0) -> str:
    """Replace `{{< var ... >}}` by its value and `{{< include ... >}}` by the file's text."""
    if depth > 5:
        raise InputError(source, "includes nest more than 5 levels deep")

    def replace(match: re.Match[str]) -> str:
        kind, argument = match.group(1), match.group(2)
        if kind == "var":
            return lookup(variables, argument, source)
        included = base / argument
        if not included.is_file():
            raise InputError(source, "included file not found", found=argument)
        return expand_shortcodes(included.read_text(encoding="utf-8"), variables,
                                 included.parent, str(included), depth + 1)

    return SHORTCODE.sub(replace, text)


def number_cross_references(text: str, source: str, *, label_captions: bool = True) -> str:
    """Number figures and tables in order of appearance and resolve `@fig-`/`@tbl-` references,
    as Quarto does ("Figure 1: caption" under the figure, "Figure 1" in the text).

    `label_captions=False` leaves captions bare for Typst, which numbers figures and tables
    itself in the same order.
    """
    numbers: dict[tuple[str, str], int] = {}

    def figure(match: re.Match[str]) -> str:
        key = ("fig", match.group("id"))
        if key in numbers:
            raise InputError(source, "figure label used twice", found=f"#fig-{key[1]}")
        numbers[key] = sum(1 for k in numbers if k[0] == "fig") + 1
        attrs = match.group("attrs").strip()
        caption = (f"Figure {numbers[key]}: " if label_captions else "") + match.group("caption")
        return f"![{caption}]({match.group('path')}){{{attrs}}}"

    def table(match: re.Match[str]) -> str:
        key = ("tbl", match.group("id"))
        if key in numbers:
            raise InputError(source, "table label used twice", found=f"#tbl-{key[1]}")
        numbers[key] = sum(1 for k in numbers if k[0] == "tbl") + 1
        label = f"Table {numbers[key]}: " if label_captions else ""
        return f": {label}{match.group('caption')} {{#tbl-{key[1]}}}"

    text = FIGURE.sub(figure, text)
    text = TABLE_CAPTION.sub(table, text)

    def reference(match: re.Match[str]) -> str:
        key = (match.group("kind"), match.group("id"))
        if key not in numbers:
            raise InputError(source, "cross-reference to a label that does not exist",
                             found=f"@{key[0]}-{key[1]}", expected="a #fig- or #tbl- label in the manuscript")
        word = "Figure" if key[0] == "fig" else "Table"
        return f"[{word}\u00a0{numbers[key]}](#{key[0]}-{key[1]})"

    return CROSS_REF.sub(reference, text)


def resolve(source_file: Path, variables: Mapping[str, Any], *, label_captions: bool = True) -> str:
    """The manuscript as plain pandoc Markdown: shortcodes expanded, cross-references numbered."""
    text = source_file.read_text(encoding="utf-8")
    text = expand_shortcodes(text, variables, source_file.parent, str(source_file))
    front = FRONT_MATTER.match(text)
    head, body = (text[: front.end()], text[front.end():]) if front else ("", text)
    body = number_cross_references(body, str(source_file), label_captions=label_captions)
    leftover = LEFTOVER.search(body)
    if leftover:
        line = body[: leftover.start()].count("\n") + 1
        raise InputError(str(source_file), "unresolved shortcode or cross-reference after rendering",
                         found=body[leftover.start(): leftover.start() + 40], rows=[line])
    return head + body


def pandoc_metadata(text: str) -> dict[str, Any]:
    front = FRONT_MATTER.match(text)
    return parse_yaml(front.group("yaml")) if front else {}


def render_offline(source_file: Path, variables: Mapping[str, Any], out_dir: Path, *,
                   bibliography: Path | None, timestamp: int) -> tuple[Path, Path]:
    """HTML with pandoc, PDF with pandoc's Typst writer and Typst; returns (html, pdf)."""
    import pypandoc
    import typst

    # Absolute paths: pypandoc resolves a relative source against `cworkdir`, i.e. twice.
    source_file, out_dir = source_file.resolve(), out_dir.resolve()
    bibliography = bibliography.resolve() if bibliography else None
    out_dir.mkdir(parents=True, exist_ok=True)
    work = source_file.parent
    markdown = work / (source_file.stem + ".resolved.md")
    markdown.write_text(resolve(source_file, variables), encoding="utf-8")
    citations = ["--citeproc", f"--bibliography={bibliography}"] if bibliography else []
    html = out_dir / f"{source_file.stem}.html"
    pypandoc.convert_file(
        str(markdown), "html5", format="markdown", outputfile=str(html),
        extra_args=["--standalone", "--embed-resources", "--number-sections",
                    f"--resource-path={work}", "--toc", *citations],
        cworkdir=str(work),
    )
    typst_markdown = work / (source_file.stem + ".resolved-typst.md")
    typst_markdown.write_text(resolve(source_file, variables, label_captions=False), encoding="utf-8")
    typ = work / f"{source_file.stem}.typ"
    pypandoc.convert_file(
        str(typst_markdown), "typst", format="markdown", outputfile=str(typ),
        extra_args=["--standalone", "--number-sections", f"--resource-path={work}", *citations],
        cworkdir=str(work),
    )
    pdf = out_dir / f"{source_file.stem}.pdf"
    # A fixed timestamp and only Typst's bundled fonts: the same PDF bytes on every machine.
    pdf.write_bytes(typst.compile(str(typ), root=str(work), timestamp=timestamp,
                                  ignore_system_fonts=True))
    return html, pdf


def quarto_available() -> str | None:
    """Quarto's version where `quarto` is on PATH, else None."""
    if shutil.which("quarto") is None:
        return None
    done = subprocess.run(["quarto", "--version"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def choose_renderer() -> Renderer:
    version = quarto_available()
    if version:
        return Renderer("quarto", f"Quarto {version} (quarto render, HTML and Typst PDF)")
    from importlib.metadata import version as package_version

    import pypandoc

    return Renderer(
        "offline",
        f"the offline renderer, as Quarto is not on PATH: pandoc {pypandoc.get_pandoc_version()} "
        f"for HTML, pandoc's Typst writer and Typst {package_version('typst')} for PDF",
    )


def render_quarto(project_dir: Path, source_file: Path, out_dir: Path, *,
                  timestamp: int | None = None) -> tuple[Path, Path]:
    """`quarto render` to HTML and Typst PDF, outputs moved to out_dir. `timestamp` reaches the
    Typst compiler Quarto runs as SOURCE_DATE_EPOCH, the PDF's creation date."""
    env = dict(os.environ)
    if timestamp is not None:
        env["SOURCE_DATE_EPOCH"] = str(timestamp)
    for fmt in ("html", "typst"):
        done = subprocess.run(["quarto", "render", source_file.name, "--to", fmt],
                              cwd=project_dir, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"quarto render --to {fmt} failed:\n{done.stderr[-3000:]}")
    out_dir.mkdir(parents=True, exist_ok=True)
    html, pdf = out_dir / f"{source_file.stem}.html", out_dir / f"{source_file.stem}.pdf"
    shutil.move(str(project_dir / f"{source_file.stem}.html"), html)
    shutil.move(str(project_dir / f"{source_file.stem}.pdf"), pdf)
    # Quarto's per-project cache records render times: not part of a reproducible build.
    shutil.rmtree(project_dir / ".quarto", ignore_errors=True)
    return html, pdf


# --------------------------------------------------------------------------------------------
# Staging a build: the sources, the figures the paper embeds and its variables in one folder


def figure_paths(text: str) -> list[str]:
    """The image paths of the manuscript's figures (`![caption](path){#fig-id}`), in order."""
    return list(dict.fromkeys(match.group("path") for match in FIGURE.finditer(text)))


def figure_sources(text: str, source: str, results_dir: str = "results/figures",
                   folder: str = "figures") -> dict[str, str]:
    """Build-relative figure path -> the pipeline output it is copied from. The paper refers to
    figures as `figures/<file>`, the pipeline writes them to `results/figures/<file>`."""
    mapping = {}
    for path in figure_paths(text):
        pure = PurePosixPath(path)
        if pure.parent != PurePosixPath(folder) or pure.suffix.lower() != ".png":
            raise InputError(source, "a figure must be a PNG in the build's figures folder",
                             found=path, expected=f"{folder}/<stem>.png")
        mapping[path] = f"{results_dir}/{pure.name}"
    return mapping


def source_date_epoch(repo: Path, environ: Mapping[str, str] | None = None) -> int:
    """The build's timestamp: SOURCE_DATE_EPOCH if set, else the git HEAD commit time, else 0.
    Never the clock, so two builds of one checkout give the same bytes."""
    environ = os.environ if environ is None else environ
    given = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if given:
        if not given.isdigit():
            raise InputError("SOURCE_DATE_EPOCH", "not a Unix timestamp", found=given,
                             expected="seconds since 1970-01-01 as a whole number")
        return int(given)
    try:
        done = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=repo,
                              capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return 0  # not a git checkout (e.g. a copy), or no commit yet
    stamp = done.stdout.strip()
    return int(stamp) if stamp.isdigit() else 0


def stage_build(build: Path, sources: Sequence[Path], figures: Mapping[str, Path],
                variables_text: str) -> None:
    """A fresh build folder: the manuscript sources, each figure at the path the paper uses,
    and `_variables.yml` beside `_quarto.yml` (where Quarto's `var` shortcode reads it)."""
    if build.exists():
        shutil.rmtree(build)
    build.mkdir(parents=True)
    for source in sources:
        shutil.copyfile(source, build / source.name)
    for relative, figure in figures.items():
        if not figure.is_file():
            raise InputError(str(figure), "a figure the manuscript embeds is missing",
                             expected="the PNG written by the figure notebooks")
        target = build / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(figure, target)
    (build / "_variables.yml").write_text(variables_text, encoding="utf-8")


def _sentence(caption: str) -> str:
    """A caption ending in a full stop, so that a note can follow it."""
    caption = caption.rstrip()
    return caption if caption.endswith((".", "!", "?")) else caption + "."


INCLUDED_TABLE = re.compile(
    r"(?P<include>\{\{<\s*include\s+(?P<file>[^\s>]+)\s*>\}\}[ \t]*\n[ \t]*\n)"
    r"(?P<caption>:[ \t]+.*?)(?P<label>[ \t]*\{#tbl-[\w-]+\}[ \t]*)$", re.MULTILINE)


def add_source_notes(text: str, figure_notes: Mapping[str, str],
                     table_notes: Mapping[str, str], source: str) -> str:
    """The manuscript with each figure's caption ending in its note (`figure_notes`: the
    figure's path in the paper -> Markdown naming its notebook and rule) and each included
    table's caption in its sources (`table_notes`: the included file -> Markdown). A figure or
    table without a note is an error: every one names where it comes from."""
    def figure(match: re.Match[str]) -> str:
        path = match.group("path")
        if path not in figure_notes:
            raise InputError(source, "no source note for a figure", found=path,
                             expected="a figure listed in results/figures/figures.csv")
        caption = _sentence(match.group("caption"))
        return f"![{caption} {figure_notes[path]}]({path}){{{match.group('attrs')}}}"

    def table(match: re.Match[str]) -> str:
        name = match.group("file")
        if name not in table_notes:
            raise InputError(source, "no source note for a table", found=name,
                             expected=f"one of {', '.join(table_notes)}")
        return (f"{match.group('include')}{_sentence(match.group('caption'))} "
                f"{table_notes[name]}{match.group('label')}")

    return INCLUDED_TABLE.sub(table, FIGURE.sub(figure, text))


def check_variables(text: str, variables: Mapping[str, Any], source: str) -> None:
    """Every `{{< var key >}}` of the manuscript has a value (Quarto would print "?var")."""
    for match in SHORTCODE.finditer(text):
        if match.group(1) == "var":
            lookup(variables, match.group(2), source)


RENDERED_IN = "rendered HTML and PDF in "  # the manuscript step's log line of the render's time


def render_build(build: Path, paper: str, variables: Mapping[str, Any], out_dir: Path,
                 renderer: Renderer, *, bibliography: str | None,
                 timestamp: int) -> tuple[Path, Path]:
    """Render a staged build with the chosen renderer; returns (html, pdf) in out_dir."""
    source = build / paper
    check_variables(source.read_text(encoding="utf-8"), variables, str(source))
    if renderer.name == "quarto":
        return render_quarto(build, source, out_dir, timestamp=timestamp)
    return render_offline(source, variables, out_dir,
                          bibliography=build / bibliography if bibliography else None,
                          timestamp=timestamp)
