"""Page metadata: meta description, OpenGraph, MedicalWebPage JSON-LD, canonical URL, sitemap."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from citedhealth.metadata import json_ld
from conftest import built_page

BASE = "https://health.example.org/site/"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def opengraph(soup: BeautifulSoup) -> dict[str, str]:
    return {
        tag["property"]: tag["content"]
        for tag in soup.find_all("meta", attrs={"property": True})
        if tag["property"].startswith(("og:", "article:"))
    }


def medical_web_pages(soup: BeautifulSoup) -> list[dict]:
    scripts = soup.find_all("script", attrs={"type": "application/ld+json"})
    return [data for data in (json.loads(s.string) for s in scripts) if data.get("@type") == "MedicalWebPage"]


@pytest.mark.sphinx("html", testroot="metadata", freshenv=True)
def test_article_has_meta_description_and_opengraph_from_its_front_matter(app):
    app.build()
    assert app.warning.getvalue() == ""
    article = built_page(app.outdir, "articles/reviewed-article")
    assert article.find("meta", attrs={"name": "description"})["content"] == "An article that a named expert reviewed."
    assert opengraph(article) == {
        "og:title": "A Reviewed Article",
        "og:site_name": "Test Health",
        "og:type": "article",
        "og:description": "An article that a named expert reviewed.",
        "og:url": f"{BASE}articles/reviewed-article.html",
        "article:published_time": "2026-01-10",
        "article:modified_time": "2026-02-01",
    }


@pytest.mark.sphinx("html", testroot="metadata", freshenv=True)
def test_landing_page_is_a_website_with_its_description_and_no_json_ld(app):
    app.build()
    assert app.warning.getvalue() == ""
    index = built_page(app.outdir, "index")
    description = 'Test pages about health & "metadata".'
    assert index.find("meta", attrs={"name": "description"})["content"] == description
    tags = opengraph(index)
    assert (tags["og:type"], tags["og:description"], tags["og:title"]) == ("website", description, "Home")
    assert not index.find_all("script", attrs={"type": "application/ld+json"})


@pytest.mark.sphinx("html", testroot="metadata", freshenv=True)
def test_article_is_a_medical_web_page_citing_its_own_references_with_dois(app):
    app.build()
    assert app.warning.getvalue() == ""
    [data] = medical_web_pages(built_page(app.outdir, "articles/reviewed-article"))
    assert data["@context"] == "https://schema.org"
    assert data["name"] == "A Reviewed Article"
    assert data["description"] == "An article that a named expert reviewed."
    assert data["url"] == f"{BASE}articles/reviewed-article.html"
    assert (data["datePublished"], data["lastReviewed"]) == ("2026-01-10", "2026-02-01")
    assert data["author"] == {"@type": "Person", "name": "Test Author"}
    assert data["reviewedBy"] == {"@type": "Person", "name": "Ada Reviewer"}
    assert data["publisher"] == {"@type": "Organization", "name": "Test Health"}
    # The article's bibliography, in its order (first cited first); the uncited entry is not there.
    review, trial, agency = data["citation"]
    assert review == {
        "@type": "ScholarlyArticle",
        "name": "A Review of Things",
        "author": [{"@type": "Person", "name": "Ann Jones"}],
        "datePublished": "2021",
        "url": "https://doi.org/10.1000/test.2021.2",
        "identifier": [{"@type": "PropertyValue", "propertyID": "DOI", "value": "10.1000/test.2021.2"}],
    }
    assert trial["name"] == "A Trial of Something"  # BibTeX's protective braces are gone
    assert [a["name"] for a in trial["author"]] == ["Jane Smith", "John van Doe"]
    assert trial["identifier"] == [
        {"@type": "PropertyValue", "propertyID": "DOI", "value": "10.1000/test.2020.1"},
        {"@type": "PropertyValue", "propertyID": "PMID", "value": "12345678"},
    ]
    # No DOI: the work's own URL, and no identifier invented.
    assert agency["@type"] == "CreativeWork"
    assert agency["url"] == "https://agency.example.org/things"
    assert "identifier" not in agency
    assert agency["author"] == [{"@type": "Organization", "name": "Test Agency"}]


@pytest.mark.sphinx("html", testroot="metadata", freshenv=True)
def test_reviewer_and_citations_only_where_the_article_has_them(app):
    app.build()
    assert app.warning.getvalue() == ""
    [data] = medical_web_pages(built_page(app.outdir, "articles/unreviewed-article"))
    assert "reviewedBy" not in data
    assert "citation" not in data  # the other article's references are not this one's
    # The author is the project itself: an organisation.
    assert data["author"] == {"@type": "Organization", "name": "Test Health"}
    assert data["lastReviewed"] == "2026-03-05"


@pytest.mark.sphinx("html", testroot="metadata", freshenv=True)
def test_base_url_gives_canonical_links_and_a_sitemap_with_review_dates(app):
    app.build()
    assert app.warning.getvalue() == ""
    canonical = built_page(app.outdir, "articles/reviewed-article").find("link", rel="canonical")
    assert canonical["href"] == f"{BASE}articles/reviewed-article.html"
    urls = ElementTree.parse(app.outdir / "sitemap.xml").getroot().findall(f"{SITEMAP}url")
    entries = {url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod") for url in urls}
    assert entries == {
        f"{BASE}articles/reviewed-article.html": "2026-02-01",
        f"{BASE}articles/unreviewed-article.html": "2026-03-05",
        f"{BASE}index.html": None,
        # The pages made from the front matter (library.py).
        f"{BASE}a-z.html": None,
        f"{BASE}topics/pain-and-nerves.html": None,
    }


# Its own copy of the root: the sitemap of the other builds must not be found here.
@pytest.mark.sphinx(
    "html", testroot="metadata", srcdir="metadata-no-base-url", freshenv=True, confoverrides={"html_baseurl": ""}
)
def test_without_a_base_url_no_sitemap_canonical_link_or_og_url_and_no_warning(app):
    app.build()
    assert app.warning.getvalue() == ""
    article = built_page(app.outdir, "articles/reviewed-article")
    assert not (app.outdir / "sitemap.xml").exists()
    assert article.find("link", rel="canonical") is None
    assert "og:url" not in opengraph(article)
    [data] = medical_web_pages(article)
    assert "url" not in data


def test_json_ld_cannot_be_closed_by_its_content():
    script = json_ld({"name": "</script><script>alert(1)</script>"})
    assert script.count("</script>") == 1 and script.endswith("</script>")
    body = script.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert json.loads(body) == {"name": "</script><script>alert(1)</script>"}
