"""The bibliography style: numbered in order of citation, DOI, PubMed and PMC links."""

from __future__ import annotations

import pytest
from conftest import built_page


@pytest.mark.sphinx("html", testroot="citations", freshenv=True)
def test_entries_are_numbered_in_citation_order_with_doi_and_pubmed_links(app):
    app.build()
    assert app.warning.getvalue() == ""
    page = built_page(app.outdir, "articles/sample-article")
    entries = page.select("div.citation")
    labels = [e.select_one("span.label").get_text(strip=True) for e in entries]
    assert labels == ["[1]", "[2]"]
    first, second = entries
    assert "A trial of something" in first.get_text()  # cited first, so numbered first
    hrefs = [a["href"] for a in first.select("a.reference.external")]
    assert hrefs == [
        "https://doi.org/10.1000/test.2020.1",
        "https://pubmed.ncbi.nlm.nih.gov/12345678/",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC1234567/",
    ]
    # No PMID in the second entry: no PubMed link is invented.
    assert [a["href"] for a in second.select("a.reference.external")] == ["https://doi.org/10.1000/test.2021.2"]


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_each_article_has_its_own_bibliography_numbered_from_one(app):
    app.build()
    assert app.warning.getvalue() == ""
    for slug, first_title in [("first-article", "A trial of something"), ("second-article", "A review of things")]:
        page = built_page(app.outdir, f"articles/{slug}")
        entries = page.select("div.citation")
        assert [e.select_one("span.label").get_text(strip=True) for e in entries] == ["[1]", "[2]"]
        assert first_title in entries[0].get_text()
        # Every citation on the page links to an entry on the same page.
        for link in page.select("span.bibtex-citation a"):
            assert link["href"].startswith("#") and page.find(id=link["href"][1:]) in entries
