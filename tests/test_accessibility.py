"""Markup that assistive technology can read: valid ARIA where docutils, Sphinx and Furo fall short.

axe-core itself runs in tests/test_browser.py; these tests pin the markup
each fix writes, so a regression names its cause.
"""

from __future__ import annotations

import pytest
from conftest import built_page


@pytest.mark.sphinx("html", testroot="accessibility", freshenv=True)
def test_bibliography_is_a_list_of_list_items_with_no_deprecated_role(app):
    app.build()
    assert app.warning.getvalue() == ""
    article = built_page(app.outdir, "articles/sample-article")
    [bibliography] = article.select("[role=list]")
    entries = bibliography.find_all(recursive=False)
    assert len(entries) == 2
    assert all(entry["role"] == "listitem" and "citation" in entry["class"] for entry in entries)
    assert not article.select("[role=doc-biblioentry]")
    # The in-text citations still land on the entries.
    targets = {a["href"].removeprefix("#") for a in article.select("span.bibtex-citation a")}
    assert targets == {entry["id"] for entry in entries}


@pytest.mark.sphinx("html", testroot="accessibility", freshenv=True)
def test_navigation_caption_is_a_heading_with_a_level(app):
    app.build()
    assert app.warning.getvalue() == ""
    # The sidebar's caption (navigation.py) on every page; the landing page's
    # visible toctree's caption (our translator) in its body.
    expected = {"index": ["Articles", "Topics"], "articles/sample-article": ["Topics"]}
    for name, texts in expected.items():
        captions = built_page(app.outdir, name).select("[role=heading]")
        assert sorted(caption.get_text(strip=True) for caption in captions) == texts, name
        for caption in captions:
            assert caption["aria-level"] == "2", caption


def test_the_sites_landmarks_have_unique_names(html_site):
    assert html_site.returncode == 0, html_site.stderr
    for name in ("index", "articles/can-acupuncture-help-with-nerve-pain"):
        asides = html_site.page(name).find_all("aside")
        labels = [aside.get("aria-label") for aside in asides]
        assert len(asides) == 2 and all(labels) and len(set(labels)) == 2, labels
