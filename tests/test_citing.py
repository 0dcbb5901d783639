"""Cite this article: Google Scholar's tags, the section, the .bib and .ris downloads, the PDF's "Cite as"."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import built_page
from docutils import nodes
from pybtex.database import parse_file
from pybtex.richtext import Text
from pypdf import PdfReader

ARTICLE = "articles/vitamin-d-and-bones"
BASEURL = "https://health.example.org/site/"


def metas(page, name: str) -> list[str]:
    return [tag["content"] for tag in page.find_all("meta", attrs={"name": name})]


def reference_fields(content: str) -> list[tuple[str, str]]:
    return [tuple(part.split("=", 1)) for part in content.split("; ")]


@pytest.mark.sphinx("html", testroot="citing", confoverrides={"html_baseurl": BASEURL})
def test_google_scholar_tags_with_absolute_urls(app):
    app.build()
    assert app.warning.getvalue() == ""
    page = built_page(app.outdir, ARTICLE)
    assert metas(page, "citation_title") == ["Does Vitamin D Help Bones?"]
    # One tag per author, in the front matter's order.
    assert metas(page, "citation_author") == ["Jane Roe", "Cited Health"]
    assert metas(page, "citation_publication_date") == ["2026/05/04"]
    assert metas(page, "citation_pdf_url") == [BASEURL + "pdf/vitamin-d-and-bones.pdf"]
    assert metas(page, "citation_fulltext_html_url") == [BASEURL + "articles/vitamin-d-and-bones.html"]
    references = [reference_fields(content) for content in metas(page, "citation_reference")]
    # One per cited work, in the bibliography's order, each with its DOI where it has one.
    assert [dict(fields)["citation_title"] for fields in references] == [
        "A Trial of Something, Twice",  # the format has no escape for ";"
        "A Review of Things",
        "Another Review of Things",
        "A Page About Something",
    ]
    assert references[0] == [
        ("citation_title", "A Trial of Something, Twice"),
        ("citation_author", "Smith, Jane"),
        ("citation_author", "Doe, John"),
        ("citation_publication_date", "2020"),
        ("citation_journal_title", "Journal of Tests"),
        ("citation_volume", "12"),
        ("citation_issue", "3"),
        ("citation_firstpage", "101"),
        ("citation_lastpage", "110"),
        ("citation_doi", "10.1000/test.2020.1"),
        ("citation_pmid", "12345678"),
    ]
    assert [dict(fields).get("citation_doi") for fields in references] == [
        "10.1000/test.2020.1",
        "10.1000/test.2021.2",
        "10.1000/test.2022.3",
        None,
    ]
    assert dict(references[3])["citation_public_url"] == "https://agency.example/page"
    # Several authors reach the byline and schema.org too.
    assert "By Jane Roe and Cited Health" in page.select_one(".ch-byline").get_text()
    ld = json.loads(page.find("script", type="application/ld+json").string)
    assert ld["author"] == [{"@type": "Person", "name": "Jane Roe"}, {"@type": "Organization", "name": "Cited Health"}]
    # The landing page is no article: no tags.
    assert not built_page(app.outdir, "index").find("meta", attrs={"name": "citation_title"})


@pytest.mark.sphinx("html", testroot="citing")
def test_without_a_base_url_the_pdf_url_is_relative_to_the_page(app):
    app.build()
    page = built_page(app.outdir, ARTICLE)
    assert metas(page, "citation_pdf_url") == ["../pdf/vitamin-d-and-bones.pdf"]
    assert metas(page, "citation_fulltext_html_url") == []


@pytest.mark.sphinx("html", testroot="citing", confoverrides={"html_baseurl": BASEURL})
def test_cite_this_article_section_ends_the_article_in_the_sites_style(app):
    app.build()
    assert app.warning.getvalue() == ""
    page = built_page(app.outdir, ARTICLE)
    section = page.find("section", id="cite-this-article")
    assert section.find("h2").get_text().rstrip("¶") == "Cite this article"
    cite_as = " ".join(section.select_one("p.ch-cite-as").get_text().split())
    url = BASEURL + "articles/vitamin-d-and-bones.html"
    assert cite_as == (
        "Cite as: Jane Roe and Cited Health. Does Vitamin D Help Bones? Cited Health, May 2026."
        f" Reviewed 1 June 2026. URL: {url}."
    )
    assert section.select_one("p.ch-cite-as a")["href"] == url
    # After the references; the page's contents list it.
    assert section.find_previous("section", id="references") is not None
    toc = app.env.tocs[ARTICLE]
    assert "#cite-this-article" in [ref.get("anchorname") for ref in toc.findall(nodes.reference)]
    # Downloads beside the page.
    links = {a.get_text(): a["href"] for a in section.select("p.ch-cite-downloads a")}
    assert links == {"BibTeX (.bib)": "vitamin-d-and-bones.bib", "RIS (.ris)": "vitamin-d-and-bones.ris"}
    for href in links.values():
        assert (app.outdir / "articles" / href).is_file()


@pytest.mark.sphinx("html", testroot="citing", confoverrides={"html_baseurl": BASEURL})
def test_the_bib_parses_with_pybtex_and_the_ris_is_one_record(app):
    app.build()
    bib = parse_file(app.outdir / "articles" / "vitamin-d-and-bones.bib")
    [(key, entry)] = bib.entries.items()
    assert key == "vitamin-d-and-bones"
    assert entry.type == "misc"
    assert [Text.from_latex(str(person)).render_as("text") for person in entry.persons["author"]] == [
        "Jane Roe",
        "Cited Health",
    ]
    assert Text.from_latex(entry.fields["title"]).render_as("text") == "Does Vitamin D Help Bones?"
    assert entry.fields["year"] == "2026"
    assert entry.fields["howpublished"] == "Cited Health"
    assert entry.fields["url"] == BASEURL + "articles/vitamin-d-and-bones.html"

    raw = (app.outdir / "articles" / "vitamin-d-and-bones.ris").read_bytes()
    lines = raw.decode("utf-8").split("\r\n")
    assert lines[-1] == ""  # every line ends with CRLF
    records = [(line[:2], line[6:]) for line in lines[:-1]]
    assert all(line[2:6] == "  - " for line in lines[:-1])
    assert records[0] == ("TY", "ELEC")
    assert records[-1] == ("ER", "")
    assert [tag for tag, _ in records].count("TY") == 1
    fields = {}
    for tag, value in records:
        fields.setdefault(tag, []).append(value)
    assert fields["AU"] == ["Jane Roe", "Cited Health"]
    assert fields["TI"] == ["Does Vitamin D Help Bones?"]
    assert fields["PY"] == ["2026"]
    assert fields["DA"] == ["2026/05/04"]
    assert fields["UR"] == [BASEURL + "articles/vitamin-d-and-bones.html"]


@pytest.mark.sphinx("html", testroot="citing")
def test_titles_with_latex_specials_survive_the_bib(app):
    source = app.srcdir / "articles" / "second-article.md"
    title = 'Fish oil & {omega}-3: 50% of "users" \\ #1_a $2 ~ ^'
    source.write_text(
        source.read_text(encoding="utf-8").replace("title: A Second Article", f"title: '{title}'"), encoding="utf-8"
    )
    app.build()
    entry = parse_file(app.outdir / "articles" / "second-article.bib").entries["second-article"]
    # Our style reads it back to the very title (as the site's references are read).
    from citedhealth.bibstyle import protect, restore

    assert str(restore(Text.from_latex(protect(entry.fields["title"])))) == title
    ris = (app.outdir / "articles" / "second-article.ris").read_bytes().decode("utf-8")
    assert f"\r\nTI  - {title}\r\n" in ris


def test_files_of_a_removed_article_are_removed(make_app, tmp_path, rootdir):
    srcdir = tmp_path / "docs"
    shutil.copytree(rootdir / "test-citing", srcdir)
    app = make_app("html", srcdir=srcdir)
    app.build()
    assert (app.outdir / "articles" / "second-article.bib").is_file()
    (srcdir / "articles" / "second-article.md").unlink()
    app = make_app("html", srcdir=srcdir)
    app.build()
    assert not (app.outdir / "articles" / "second-article.bib").exists()
    assert not (app.outdir / "articles" / "second-article.ris").exists()
    assert (app.outdir / "articles" / "vitamin-d-and-bones.bib").is_file()


@pytest.mark.sphinx("html", testroot="citing")
def test_a_new_base_url_reaches_every_citation(make_app, app):
    app.build()
    page = built_page(app.outdir, ARTICLE)
    assert "URL:" not in page.select_one("p.ch-cite-as").get_text()
    again = make_app("html", srcdir=app.srcdir, confoverrides={"html_baseurl": BASEURL})
    again.build()
    page = built_page(again.outdir, ARTICLE)
    assert f"URL: {BASEURL}articles/vitamin-d-and-bones.html" in page.select_one("p.ch-cite-as").get_text()


def test_the_sites_pdf_shows_cite_as_the_evidence_labels_and_the_review_dates(site):
    """Today's LaTeX PDF of the real article (the session's `make site` build)."""
    pdf = site.builddir / "pdf" / "can-acupuncture-help-with-nerve-pain.pdf"
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    # pypdf drops the spaces of some fonts (the headings), and LaTeX hyphenates
    # at line ends ("informa-tion"): compare without spaces and hyphens.
    squeezed = "".join(text.split()).replace("-", "")

    def count(phrase: str) -> int:
        return squeezed.count("".join(phrase.split()).replace("-", ""))

    assert count("Cite this article") == 1
    assert count("Cite as: Cited Health. Can Acupuncture Help With Nerve Pain? Cited Health, November 2026.") == 1
    assert (
        count(
            "This article cites 7 systematic reviews or meta-analyses, 1 randomised controlled trial,"
            " 3 narrative reviews and 1 source of consumer health information."
        )
        == 1
    )
    assert count("Evidence: systematic review or meta-analysis") == 7
    assert count("Evidence: narrative review") == 3
    assert count("Evidence: randomised controlled trial") == 1
    assert count("Evidence: consumer health information") == 1
    assert count("Page last reviewed: 24 November 2026 · Next review due: 24 November 2027") == 1
