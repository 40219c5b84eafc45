"""End to end, in a real browser: results/manuscript/paper.html as a reviewer opens it.

Headless chromium (tests/integration/browser_support.py) opens the paper the full workflow run
rendered and checks, in the page itself: every inline number is a link to its entry under
"Where each number comes from", with a tooltip naming the results file, row, column, rule and
script that values.csv records for it; clicking a number scrolls to its entry; numbers that print
alike lead to different entries; each figure's caption names its notebook and rule; and every
link the page holds resolves (anchors to an element, relative links to a file the browser
can read).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd
import pytest

from browser_support import Browser, chromium_binary

pytestmark = pytest.mark.e2e

# Every link of the page: its attribute, the URL the browser resolves it to, text and tooltip;
# for an anchor, whether an element with that id exists and its text.
LINKS = """
[...document.querySelectorAll('a[href]')].map(a => {
  const href = a.getAttribute('href');
  const target = href.startsWith('#')
    ? document.getElementById(decodeURIComponent(href.slice(1))) : null;
  return {href, url: a.href, text: a.textContent.replace(/\\s+/g, ' ').trim(),
          title: a.title, value_source: a.classList.contains('value-source'),
          target: target ? target.textContent.replace(/\\s+/g, ' ').trim() : null,
          in_figure: !!a.closest('figcaption'), in_caption: !!a.closest('caption')};
})
"""

# Reads a file the way the page would (the browser resolves and loads the URL).
READ = """
((url) => {
  try {
    const request = new XMLHttpRequest();
    request.open('GET', url, false);
    request.send();
    return {ok: request.status === 200 || request.status === 0, size: request.responseText.length};
  } catch (error) { return {ok: false, error: String(error)}; }
})(%r)
"""

# Clicks a link and reports where the page went and whether the target is in view.
CLICK = """
(async (href) => {
  window.scrollTo(0, 0);
  const link = [...document.querySelectorAll('a.value-source')]
    .find(a => a.getAttribute('href') === href);
  link.click();
  await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
  const box = target.getBoundingClientRect();
  return {hash: location.hash, scrolled: window.scrollY > 0,
          visible: box.top >= -1 && box.top < window.innerHeight};
})(%r)
"""


def typographic(text: str) -> str:
    """Text with pandoc's typographic quotes and dashes back as typed."""
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"') \
        .replace("\u201d", '"')


@pytest.fixture(scope="module")
def page(two_runs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir, _, _ = two_runs
    paper = workdir / "results/manuscript/paper.html"
    browser = Browser(chromium_binary(), tmp_path_factory.mktemp("chromium"))
    try:
        browser.open(paper.as_uri())
        yield {"browser": browser, "workdir": workdir, "links": browser.evaluate(LINKS),
               "values": pd.read_csv(workdir / "results/manuscript/values.csv", dtype=str,
                                     keep_default_na=False)}
    finally:
        browser.close()


def test_every_inline_number_links_to_its_source_entry_with_a_tooltip(page):
    links = [link for link in page["links"] if link["value_source"]]
    values = page["values"].set_index("key")
    assert len(links) >= len(values) > 100
    linked_keys = {link["href"].removeprefix("#src-") for link in links}
    assert linked_keys == set(values.index)
    for link in links:
        key = link["href"].removeprefix("#src-")
        row = values.loc[key]
        assert typographic(link["text"]) == " ".join(row["value"].split()), key
        # the entry the link points to exists and starts with the same number
        assert link["target"] is not None and link["target"] == link["text"], key
        title = link["title"]
        assert title.startswith(row["source"].partition("#")[0] + " \u00b7 "), (key, title)
        path, _, node = row["source"].partition("#")
        columns = [c for c in row["column"].split("|") if c]
        if node and not row["selector"] and row["agg"] == "cell":
            # a key of a YAML file: the key names it (a scalar's column is `value`)
            keys = [node if c == "value" else f"{node}.{c}" for c in columns]
            assert f"key {', '.join(keys)}" in title, (key, title)
        else:
            assert all(column in title for column in columns), (key, title)
        if row["selector"]:
            assert row["selector"] in title, (key, title)
        if row["rule"]:
            assert f"rule {row['rule']} ({row['script']})" in title, (key, title)
        else:
            assert "configuration" in title, (key, title)


def test_the_rule_and_script_of_each_number_are_those_that_made_its_file(page):
    values: pd.DataFrame = page["values"]
    made = values[values["rule"] != ""]
    assert set(made["source"]) >= {"results/stats/tests.csv", "results/dk_2024/flow.csv"}
    assert set(made.loc[made["source"] == "results/stats/tests.csv", "rule"]) == {"stats"}
    assert set(made.loc[made["source"] == "results/dk_2024/flow.csv", "script"]) == {
        "workflow/scripts/clean.py"}
    assert all((page["workdir"] / script).is_file() for script in set(made["script"]))
    assert set(values.loc[values["source"].str.startswith("config/"), "rule"]) == {""}


def test_numbers_that_print_alike_lead_to_different_sources(page):
    values: pd.DataFrame = page["values"]
    twins = values[values.duplicated("value", keep=False) & (values["format"] != "text")]
    assert len(twins) >= 2  # e.g. 332 analysed respondents and 332 who responded
    entries = {link["href"]: link for link in page["links"] if link["value_source"]}
    for shown, group in twins.groupby("value"):
        hrefs = {f"#src-{key}" for key in group["key"]}
        assert len(hrefs) == len(group), shown
        # told apart by their source: file, row or column differ, and so do the tooltips
        sources = {(r.source, r.selector, r.column, r.agg) for r in group.itertuples()}
        titles = {entries[href]["title"] for href in hrefs}
        assert len(titles) == len(sources), (shown, titles)


def test_clicking_a_number_scrolls_to_its_entry(page):
    browser: Browser = page["browser"]
    sample = sorted({link["href"] for link in page["links"] if link["value_source"]})[::15]
    assert len(sample) >= 10
    for href in sample:
        landed = browser.evaluate(CLICK % href)
        assert landed == {"hash": href, "scrolled": True, "visible": True}, (href, landed)


def test_each_figure_names_its_notebook_and_rule(page):
    manifest = pd.read_csv(page["workdir"] / "results/figures/figures.csv", dtype=str,
                           keep_default_na=False)
    captions = page["browser"].evaluate(
        "[...document.querySelectorAll('figure figcaption')].map(c => c.textContent"
        ".replace(/\\s+/g, ' '))")
    assert len(captions) == 11
    for caption in captions:
        row = manifest[[path in caption for path in manifest["path"]]]
        assert len(row) == 1, caption
        assert f"drawn by the notebook {row['notebook'].iloc[0]}" in caption
        assert f"rule {row['rule'].iloc[0]}" in caption
        assert row["executed_notebook"].iloc[0] in caption
    links_in_figures = [link for link in page["links"] if link["in_figure"]]
    assert {link["href"] for link in links_in_figures} >= {"../../notebooks/wave_profile.py"}
    tables = [link for link in page["links"] if link["in_caption"]]
    assert {link["text"] for link in tables} >= {"results/stats/tests.csv"}


def test_every_link_of_the_page_resolves(page):
    browser: Browser = page["browser"]
    anchors = [link for link in page["links"] if link["href"].startswith("#")]
    assert len(anchors) > 200
    broken = [link["href"] for link in anchors if link["target"] is None]
    assert broken == []
    files = sorted({link["url"].partition("#")[0] for link in page["links"]
                    if link["url"].startswith("file:") and not link["href"].startswith("#")})
    # the results files, configuration, scripts and notebooks the sources and captions name
    assert len(files) >= 30
    unreadable = {url: result for url in files
                  if not (result := browser.evaluate(READ % url))["ok"] or result["size"] == 0}
    assert unreadable == {}
    workdir: Path = page["workdir"]
    assert any(url.endswith("/results/stats/tests.csv") for url in files)
    # every one inside the checkout the paper was built in
    assert all(Path(unquote(urlparse(url).path)).resolve().is_relative_to(workdir.resolve())
               for url in files)
