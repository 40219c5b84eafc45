"""The offline manuscript renderer: shortcodes, cross-references, and real HTML/PDF output."""

from pathlib import Path

import pypdf
import pytest

from smesocial.errors import InputError
from smesocial.manuscript import choose_renderer, number_cross_references, render_offline, resolve

PAPER = """---
title: "Test paper"
---

# Results

LinkedIn: {{< var dk.linkedin >}}% (@fig-li, @tbl-flow), again @fig-li.

![LinkedIn use](fig.png){#fig-li width=40%}

{{< include table.md >}}

: Respondent flow {#tbl-flow}

After the table [@cph2024].
"""


@pytest.fixture
def paper(tmp_path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.bar(["a", "b"], [1, 2])
    fig.savefig(tmp_path / "fig.png", dpi=50)
    plt.close(fig)
    (tmp_path / "table.md").write_text("| step | n |\n|---|---|\n| raw | 337 |\n")
    (tmp_path / "refs.bib").write_text("@report{cph2024, title={Rapport}, author={{Cphbusiness}}, year={2024}}\n")
    source = tmp_path / "paper.qmd"
    source.write_text(PAPER)
    return source


def test_resolve_expands_variables_includes_and_numbers_references(paper: Path):
    text = resolve(paper, {"dk": {"linkedin": 54.8}})
    assert "LinkedIn: 54.8% ([Figure\u00a01](#fig-li), [Table\u00a01](#tbl-flow)), again [Figure\u00a01](#fig-li)." in text
    assert "![Figure 1: LinkedIn use](fig.png){#fig-li width=40%}" in text
    assert "| raw | 337 |" in text
    assert ": Table 1: Respondent flow {#tbl-flow}" in text
    assert "\nAfter the table" in text  # the caption did not swallow the next paragraph's break


def test_captions_stay_bare_for_typst_which_numbers_itself(paper: Path):
    text = resolve(paper, {"dk": {"linkedin": 1}}, label_captions=False)
    assert "![LinkedIn use](fig.png)" in text and ": Respondent flow {#tbl-flow}" in text


def test_a_missing_variable_names_the_key(paper: Path):
    with pytest.raises(InputError, match="dk.linkedin"):
        resolve(paper, {"dk": {}})


def test_a_reference_to_an_unknown_label_is_an_error():
    with pytest.raises(InputError, match="@fig-nowhere"):
        number_cross_references("See @fig-nowhere.", "paper.qmd")


def test_a_label_used_twice_is_an_error():
    text = "![a](x.png){#fig-a}\n\n![b](y.png){#fig-a}\n"
    with pytest.raises(InputError, match="used twice"):
        number_cross_references(text, "paper.qmd")


def test_offline_render_makes_html_and_a_pdf_with_the_text(paper: Path, tmp_path: Path):
    html, pdf = render_offline(paper, {"dk": {"linkedin": 54.8}}, tmp_path / "out",
                               bibliography=paper.parent / "refs.bib", timestamp=0)
    page = html.read_text()
    assert "Test paper" in page and "54.8%" in page and "Figure 1: LinkedIn use" in page
    assert "data:image/png;base64," in page  # self-contained
    assert "Cphbusiness" in page  # citation resolved by citeproc
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(str(pdf)).pages)
    assert "Test paper" in text and "54.8%" in text and "Respondent flow" in text
    again_html, again_pdf = render_offline(paper, {"dk": {"linkedin": 54.8}}, tmp_path / "again",
                                           bibliography=paper.parent / "refs.bib", timestamp=0)
    assert again_pdf.read_bytes() == pdf.read_bytes()
    assert again_html.read_bytes() == html.read_bytes()


def test_the_renderer_says_what_it_is():
    renderer = choose_renderer()
    assert renderer.name in {"quarto", "offline"}
    assert ("Quarto" in renderer.description)
    if renderer.name == "offline":
        assert "pandoc" in renderer.description and "Typst" in renderer.description
