"""Page metadata for search engines and link previews: description, OpenGraph, JSON-LD, sitemap.

Contract, for the HTML builders:

- Every page whose front matter has a ``description`` gets
  ``<meta name="description">`` with it.
- Every page gets OpenGraph tags: ``og:title``, ``og:site_name``, ``og:type``
  (``article`` for articles, else ``website``), ``og:description`` where there
  is a description, ``og:url`` where there is a base URL; articles also get
  ``article:published_time`` and ``article:modified_time`` (the last review).
- Every article gets a schema.org ``MedicalWebPage`` as JSON-LD: ``name``,
  ``description``, ``datePublished``, ``lastReviewed``, ``author``,
  ``reviewedBy`` (only where the front matter has ``reviewed_by``), ``url``
  (with a base URL) and ``citation``: the works the article's own bibliography
  lists, in its order, each with its DOI (as an identifier and a doi.org URL),
  its PMID, or else its URL. A name equal to the project's is an
  ``Organization``, any other a ``Person``.
- With ``html_baseurl`` set, the theme writes ``<link rel="canonical">`` and
  this module writes ``sitemap.xml`` at the root of the output: every page
  (the topic pages and the A–Z page of :mod:`.library` too), with the
  article's last review as ``<lastmod>``. Without a base URL there is
  no sitemap and no warning (local and test builds have no public address).

Everything is computed while pages are written, from ``env.metadata`` and
sphinxcontrib-bibtex's domain data; nothing is stored on the environment, so
parallel reading and writing need no merging.

Why not sphinx-sitemap: 2.9.0 warns (an error under ``-W``) whenever no base
URL is set, in every builder including LaTeX; it prefixes each URL with the
language (``en/``) by default; and it starts a ``multiprocessing`` manager
process on each build. The sitemap below is twenty lines and knows our
review dates.
"""

from __future__ import annotations

import functools
import html
import json
import re
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from pybtex.backends.plaintext import Backend as PlainTextBackend
from pybtex.richtext import Text

from .articles import article_authors, parse_iso_date
from .common import is_article

if TYPE_CHECKING:
    from pathlib import Path

    from pybtex.database import Person
    from sphinx.application import Sphinx

SITEMAP_NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP_FILENAME = "sitemap.xml"
HTML_FORMATS = ("html",)


def iso_date(value: object) -> str | None:
    """*value* as ``YYYY-MM-DD`` if it is one, else None (the articles module warns about it)."""
    date = parse_iso_date(str(value or ""))
    return None if date is None else date.isoformat()


PLAIN_TEXT = PlainTextBackend()


@functools.cache
def plain(latex: str) -> str:
    """A BibTeX field as plain text: braces and LaTeX accents resolved.

    Cached: pybtex's LaTeX parsing costs milliseconds a call, and every page
    citing a work asks again for the same fields (seconds at 50 articles).
    The backend is passed as an object: ``render_as("text")`` would look the
    name up in every installed package's entry points (about 4 ms a call)."""
    return Text.from_latex(latex).render(PLAIN_TEXT)


def creator(person: Person) -> dict[str, str]:
    """A BibTeX author as schema.org: ``O. van Hecke``, not ``van Hecke, O.``.

    A name in braces (``{National Institutes of Health}``) is BibTeX's way of
    writing a corporate author: an ``Organization``.
    """
    if str(person).startswith("{") and str(person).endswith("}"):
        return {"@type": "Organization", "name": plain(str(person))}
    parts = person.first_names + person.middle_names + person.prelast_names + person.last_names + person.lineage_names
    return {"@type": "Person", "name": plain(" ".join(parts))}


# -- Tags in <head> ------------------------------------------------------------


def meta_tag(attribute: str, name: str, content: str) -> str:
    return f'<meta {attribute}="{name}" content="{html.escape(content)}" />'


def page_title(app: Sphinx, pagename: str, context: dict) -> str:
    title = app.env.titles.get(pagename)
    if title is not None:
        return title.astext()
    return html.unescape(re.sub(r"<[^>]+>", "", str(context.get("title", ""))))


def party(app: Sphinx, name: str) -> dict[str, str]:
    """A schema.org author or reviewer: the project itself is an organisation."""
    kind = "Organization" if name == app.config.project else "Person"
    return {"@type": kind, "name": name}


def cited_works(app: Sphinx, pagename: str) -> list[dict]:
    """The works listed in the page's own bibliographies, in their order, as schema.org items."""
    domain = app.env.get_domain("cite")
    works = []
    # The domain's per-page index (citations.ArticleBibtexDomain.of_page): a scan
    # of the site's citations for every page is O(N^2) a build.
    for citation in domain.citations_of_page(pagename):
        entry = citation.entry
        fields = entry.fields
        work: dict[str, object] = {
            "@type": "ScholarlyArticle" if entry.type == "article" else "CreativeWork",
            "name": plain(fields.get("title", "")),
        }
        authors = [creator(person) for person in entry.persons.get("author", [])]
        if authors:
            work["author"] = authors
        if fields.get("year"):
            work["datePublished"] = str(fields["year"])
        identifiers = []
        if fields.get("doi"):
            identifiers.append({"@type": "PropertyValue", "propertyID": "DOI", "value": fields["doi"]})
            work["url"] = f"https://doi.org/{fields['doi']}"
        elif fields.get("url"):
            work["url"] = fields["url"]
        if fields.get("pmid"):
            identifiers.append({"@type": "PropertyValue", "propertyID": "PMID", "value": fields["pmid"]})
        if identifiers:
            work["identifier"] = identifiers
        works.append(work)
    return works


def medical_web_page(app: Sphinx, pagename: str, context: dict) -> dict:
    """The schema.org ``MedicalWebPage`` describing an article."""
    metadata = app.env.metadata[pagename]
    page: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": page_title(app, pagename, context),
        "inLanguage": app.config.language or "en",
        "publisher": party(app, app.config.project),
    }
    if metadata.get("description"):
        page["description"] = str(metadata["description"])
    if context.get("pageurl"):
        page["url"] = context["pageurl"]
    for key, prop in (("date_published", "datePublished"), ("last_reviewed", "lastReviewed")):
        date = iso_date(metadata.get(key))
        if date:
            page[prop] = date
    authors = [party(app, name) for name in article_authors(metadata)]
    if authors:
        page["author"] = authors[0] if len(authors) == 1 else authors
    if metadata.get("reviewed_by"):
        page["reviewedBy"] = party(app, str(metadata["reviewed_by"]))
    if metadata.get("keywords"):
        page["keywords"] = str(metadata["keywords"])
    citations = cited_works(app, pagename)
    if citations:
        page["citation"] = citations
    return page


def json_ld(data: dict) -> str:
    """A ``<script type="application/ld+json">`` that no value can close early."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>'


def add_page_metadata(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Description, OpenGraph and, for articles, JSON-LD, appended to the page's ``metatags``."""
    if app.builder.format not in HTML_FORMATS or pagename not in app.env.metadata:
        return
    metadata = app.env.metadata[pagename]
    article = is_article(app.env, pagename)
    description = str(metadata.get("description", "")).strip()
    tags = []
    if description:
        tags.append(meta_tag("name", "description", description))
    tags += [
        meta_tag("property", "og:title", page_title(app, pagename, context)),
        meta_tag("property", "og:site_name", app.config.project),
        meta_tag("property", "og:type", "article" if article else "website"),
    ]
    if description:
        tags.append(meta_tag("property", "og:description", description))
    if context.get("pageurl"):
        tags.append(meta_tag("property", "og:url", context["pageurl"]))
    if article:
        for key, prop in (("date_published", "article:published_time"), ("last_reviewed", "article:modified_time")):
            date = iso_date(metadata.get(key))
            if date:
                tags.append(meta_tag("property", prop, date))
        tags.append(json_ld(medical_web_page(app, pagename, context)))
    context["metatags"] = context.get("metatags", "") + "\n" + "\n".join(tags) + "\n"


# -- Sitemap -------------------------------------------------------------------


def write_sitemap(app: Sphinx, exception: Exception | None) -> None:
    """``sitemap.xml``: every page at its public URL, articles with their last review."""
    baseurl = app.config.html_baseurl
    if exception is not None or not baseurl or app.builder.name not in ("html", "dirhtml"):
        return
    ElementTree.register_namespace("", SITEMAP_NAMESPACE)
    urlset = ElementTree.Element(f"{{{SITEMAP_NAMESPACE}}}urlset")
    from .library import generated_pages

    for docname in sorted({*app.env.found_docs, *generated_pages(app)}):
        url = ElementTree.SubElement(urlset, f"{{{SITEMAP_NAMESPACE}}}url")
        location = baseurl.rstrip("/") + "/" + app.builder.get_target_uri(docname)
        ElementTree.SubElement(url, f"{{{SITEMAP_NAMESPACE}}}loc").text = location
        reviewed = iso_date(app.env.metadata.get(docname, {}).get("last_reviewed"))
        if reviewed:
            ElementTree.SubElement(url, f"{{{SITEMAP_NAMESPACE}}}lastmod").text = reviewed
    tree = ElementTree.ElementTree(urlset)
    ElementTree.indent(tree)
    outdir: Path = app.outdir
    tree.write(outdir / SITEMAP_FILENAME, encoding="utf-8", xml_declaration=True)


def setup(app: Sphinx) -> None:
    app.connect("html-page-context", add_page_metadata)
    app.connect("build-finished", write_sitemap)
