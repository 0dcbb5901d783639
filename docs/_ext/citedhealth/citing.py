"""Cite this article: Google Scholar's tags, a "Cite this article" section, ``.bib`` and ``.ris`` downloads.

Contract, for every article:

- The article as a citable work is a BibTeX ``@misc`` entry (:func:`article_entry`):
  its authors (``author``: one name or a YAML list; each kept whole, in
  braces, as nothing tells a team from a person), title (in braces, so its
  capitals survive sentence case), the site (``project``) as publisher, the year
  and month of ``date_published``, "Reviewed <date>" (the last review) as a note, and the
  page's URL where ``html_baseurl`` is set. Its key is the article's slug.
- "Cite this article" is a section appended to the article (before the review
  footer of :mod:`.review`), added when the article is read, so every builder
  renders it (HTML, today's LaTeX PDF, any builder to come): a paragraph
  of class ``ch-cite-as`` reading "Cite as: " and the entry formatted by the
  site's own pybtex style (:mod:`.citations`), as its references are. Without
  ``html_baseurl`` the citation has no URL: a relative one means nothing to
  someone who copies it. A change of ``html_baseurl`` re-reads the articles.
- HTML builders also write ``<slug>.bib`` and ``<slug>.ris`` beside the page
  (``articles/<slug>.bib``), linked from the section ("Download the citation");
  the ``.bib`` parses with pybtex, the ``.ris`` is one ``TY`` ... ``ER``
  record (``ELEC``, lines ending CRLF as RIS asks). Their URL is absolute with
  ``html_baseurl``, else the page's name relative to them. Files of articles
  that no longer exist are removed at the end of the build.
- Google Scholar's Highwire tags in the page's ``<head>``: ``citation_title``,
  one ``citation_author`` per author, ``citation_publication_date``
  (``YYYY/MM/DD``), ``citation_publisher``, ``citation_language``,
  ``citation_pdf_url`` (with ``citedhealth_pdf_per_article``),
  ``citation_fulltext_html_url`` (with a base URL), and one
  ``citation_reference`` per work the article's own bibliography lists, as
  ``citation_title=...; citation_author=...; ...; citation_doi=...``. URLs are
  absolute with ``html_baseurl``, else relative to the page.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from typing import TYPE_CHECKING

from docutils import nodes
from pybtex.database import Entry, Person
from pybtex.richtext import Text
from sphinx.util.osutil import relative_uri

from .articles import article_authors, format_date, parse_iso_date
from .bibstyle import CitedHealthStyle, EntryBackend, protect, restore
from .common import article_docnames, is_article, write_if_changed
from .metadata import meta_tag, page_title, plain

if TYPE_CHECKING:
    from pathlib import Path

    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment

SECTION_TITLE = "Cite this article"
SECTION_CLASS = "ch-cite"
CITE_AS_CLASS = "ch-cite-as"
DOWNLOADS_CLASS = "ch-cite-downloads"
HTML_FORMATS = ("html",)

#: What LaTeX would read as markup, escaped so the ``.bib`` says what the article says.
LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    # Not \{ and \}: BibTeX counts braces even when escaped, so one would unbalance the field.
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex(text: str) -> str:
    return "".join(LATEX_SPECIALS.get(char, char) for char in text)


def slug(docname: str) -> str:
    return docname.rsplit("/", 1)[-1]


def page_url(config: Config, docname: str) -> str | None:
    """The article page's public URL, or None without ``html_baseurl`` (as ``html`` writes pages)."""
    baseurl = config.html_baseurl
    if not baseurl:
        return None
    return baseurl.rstrip("/") + "/" + docname + (config.html_file_suffix or ".html")


def article_entry(config: Config, docname: str, metadata: dict, title: str, url: str | None) -> Entry:
    """The article as a BibTeX ``@misc`` entry (LaTeX-escaped fields); see the module docstring."""
    # The title in braces: styles that set titles in sentence case keep its capitals ("Vitamin D").
    fields = {"title": f"{{{latex(title)}}}", "howpublished": latex(config.project)}
    published = parse_iso_date(str(metadata.get("date_published", "")))
    if published:
        fields["year"] = str(published.year)
        fields["month"] = f"{published:%B}"
    reviewed = parse_iso_date(str(metadata.get("last_reviewed", "")))
    if reviewed:
        fields["note"] = f"Reviewed {format_date(reviewed)}"
    if url:
        fields["url"] = url
    # Each name in braces, as written: BibTeX would split "Cited Health editorial
    # team" into first and last names, and nothing tells a team from a person.
    persons = [Person(f"{{{latex(name)}}}") for name in article_authors(metadata)]
    entry = Entry("misc", fields=fields, persons={"author": persons} if persons else {})
    entry.key = slug(docname)
    return entry


def article_title(metadata: dict, heading: nodes.Node) -> str:
    """The title as the front matter gives it, else the page's heading."""
    return " ".join(str(metadata.get("title") or heading.astext()).split())


def bibtex_record(entry: Entry) -> str:
    """The entry as BibTeX, every value in braces (its fields are LaTeX already, braces balanced)."""
    fields = [("author", " and ".join(str(person) for person in entry.persons.get("author", [])))]
    fields += list(entry.fields.items())
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name.ljust(width)} = {{{value}}}" for name, value in fields if value)
    return f"@{entry.type}{{{entry.key},\n{body}\n}}\n"


def formatted_citation(entry: Entry) -> list[nodes.Node]:
    """The entry in the site's style, as docutils nodes (as the bibliographies render)."""
    formatted = CitedHealthStyle().format_entry_uncached("", entry)
    return list(formatted.text.render(EntryBackend()))


# -- The section ---------------------------------------------------------------------


def add_cite_section(app: Sphinx, doctree: nodes.document) -> None:
    """Append the "Cite this article" section, with its title only, to an article's top section.

    Early (priority 450), so Sphinx's table-of-contents collector (500) lists
    it; :func:`fill_cite_section` adds the citation after the checks of
    :mod:`.checks` (500) have run, since a title with "study" or "review" in it
    is no claim that needs a citation."""
    env = app.env
    if not is_article(env, env.docname):
        return
    top = next(iter(doctree.findall(nodes.section)), None)
    if top is None or not isinstance(top[0], nodes.title):
        return
    section = nodes.section("", classes=[SECTION_CLASS])
    section["names"].append(nodes.fully_normalize_name(SECTION_TITLE))
    section += nodes.title(text=SECTION_TITLE)
    top += section
    doctree.note_implicit_target(section, section)


def fill_cite_section(app: Sphinx, doctree: nodes.document) -> None:
    """Put "Cite as: <the article in the site's style>" into the section."""
    env = app.env
    docname = env.docname
    for section in doctree.findall(nodes.section):
        if SECTION_CLASS not in section["classes"]:
            continue
        heading = next(iter(doctree.findall(nodes.title)))
        metadata = env.metadata[docname]
        title = article_title(metadata, heading)
        entry = article_entry(app.config, docname, metadata, title, page_url(app.config, docname))
        paragraph = nodes.paragraph("", "", nodes.strong(text="Cite as: "), *formatted_citation(entry))
        paragraph["classes"].append(CITE_AS_CLASS)
        section += paragraph
        break


def articles_if_baseurl_changed(app: Sphinx, env: BuildEnvironment, added, changed, removed) -> list[str]:
    """Re-read every article when ``html_baseurl`` changed: their citations hold the URL."""
    baseurl = app.config.html_baseurl or ""
    previous = getattr(env, "citedhealth_cite_baseurl", None)
    env.citedhealth_cite_baseurl = baseurl
    if previous is None or previous == baseurl:
        return []
    return [d for d in article_docnames(env) if d not in added | changed | removed]


def add_download_links(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """HTML only: link the ``.bib`` and ``.ris`` files under the citation."""
    if app.builder.format not in HTML_FORMATS or not is_article(app.env, docname):
        return
    for section in doctree.findall(nodes.section):
        if SECTION_CLASS not in section["classes"]:
            continue
        links = nodes.paragraph("", "Download the citation: ", classes=[DOWNLOADS_CLASS])
        for index, (suffix, name) in enumerate(((".bib", "BibTeX"), (".ris", "RIS"))):
            if index:
                links += nodes.Text(" · ")
            href = download_href(app, docname, suffix)
            links += nodes.reference("", f"{name} ({suffix})", refuri=href, classes=[f"ch-cite-{suffix[1:]}"])
        section += links
        break


def download_href(app: Sphinx, docname: str, suffix: str) -> str:
    """The download's address relative to the page (``<slug>.bib`` beside ``<slug>.html``)."""
    return relative_uri(app.builder.get_target_uri(docname), docname + suffix)


# -- The .bib and .ris files --------------------------------------------------------


@functools.cache
def text_of(latex_text: str) -> str:
    """A field of our entry as plain text, read as the site's style reads ``.bib`` fields.

    Cached (a pure function of the text): pybtex's LaTeX decoding costs about a
    millisecond a field, and every article's record repeats the publisher and authors."""
    return str(restore(Text.from_latex(protect(latex_text))))


def ris_record(entry: Entry, metadata: dict, language: str) -> str:
    """One RIS record (``TY  - ELEC`` ... ``ER  - ``) of the article entry."""
    lines = [("TY", "ELEC")]
    lines += [("AU", text_of(str(person))) for person in entry.persons.get("author", [])]
    lines.append(("TI", text_of(entry.fields["title"])))
    published = parse_iso_date(str(metadata.get("date_published", "")))
    if published:
        lines += [("PY", str(published.year)), ("DA", published.strftime("%Y/%m/%d"))]
    lines.append(("PB", text_of(entry.fields["howpublished"])))
    if entry.fields.get("url"):
        lines.append(("UR", entry.fields["url"]))
    if entry.fields.get("note"):
        lines.append(("N1", entry.fields["note"]))
    lines += [("LA", language), ("ER", "")]
    # RIS: a two-letter tag, two spaces, a hyphen, a space; one line break (CRLF) per line.
    return "".join(f"{tag}  - {' '.join(value.split())}\r\n" for tag, value in lines)


def write_citation_files(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Write ``<slug>.bib`` and ``<slug>.ris`` beside an article's page as it is written."""
    if app.builder.format not in HTML_FORMATS or not is_article(app.env, pagename):
        return
    metadata = app.env.metadata[pagename]
    url = page_url(app.config, pagename) or relative_uri(pagename + ".bib", app.builder.get_target_uri(pagename))
    title = article_title(metadata, nodes.Text(page_title(app, pagename, context)))
    entry = article_entry(app.config, pagename, metadata, title, url)
    outdir: Path = app.outdir
    write_if_changed(outdir / f"{pagename}.bib", bibtex_record(entry))
    ris = ris_record(entry, metadata, app.config.language or "en")
    path = outdir / f"{pagename}.ris"
    if not path.is_file() or path.read_bytes() != ris.encode():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ris.encode())


def remove_stale_citation_files(app: Sphinx, exception: Exception | None) -> None:
    """Remove the ``.bib`` and ``.ris`` of articles that no longer exist (Sphinx keeps their pages: sphinx#5908)."""
    if exception is not None or app.builder.format not in HTML_FORMATS:
        return
    folder = app.outdir / app.config.citedhealth_articles_dir.strip("/")
    if not folder.is_dir():
        return
    articles = set(article_docnames(app.env))
    prefix = app.config.citedhealth_articles_dir.strip("/")
    # os.scandir, not two globs: one Path per file was most of the cost at 1000 articles.
    with os.scandir(folder) as entries:
        stale = [
            entry.path
            for entry in entries
            if entry.name.endswith((".bib", ".ris"))
            # The stem, as Path.stem gives it (".bib" alone is its own stem).
            and posixpath.join(prefix, entry.name[:-4] or entry.name) not in articles
        ]
    for path in stale:
        os.unlink(path)


# -- Google Scholar's tags ------------------------------------------------------------


def page_relative(app: Sphinx, pagename: str, target: str) -> str:
    """*target* (a path from the site's root) as an absolute URL with a base URL, else relative to the page."""
    if app.config.html_baseurl:
        return app.config.html_baseurl.rstrip("/") + "/" + target
    return relative_uri(app.builder.get_target_uri(pagename), target)


def reference_value(entry) -> str:
    """A cited work as Google Scholar's ``citation_reference``: ``citation_title=...; ...``."""
    fields = entry.fields
    parts = [("citation_title", plain(fields.get("title", "")))]
    parts += [("citation_author", plain(str(person))) for person in entry.persons.get("author", [])]
    if fields.get("year"):
        parts.append(("citation_publication_date", str(fields["year"])))
    if fields.get("journal"):
        parts.append(("citation_journal_title", plain(fields["journal"])))
    for name, tag in (("volume", "citation_volume"), ("number", "citation_issue")):
        if fields.get(name):
            parts.append((tag, plain(fields[name])))
    pages = re.split(r"-+|–", plain(fields.get("pages", "")), maxsplit=1)
    if pages[0].strip():
        parts.append(("citation_firstpage", pages[0].strip()))
        if len(pages) > 1 and pages[1].strip():
            parts.append(("citation_lastpage", pages[1].strip()))
    for name, tag in (("doi", "citation_doi"), ("pmid", "citation_pmid"), ("url", "citation_public_url")):
        if fields.get(name):
            parts.append((tag, fields[name].strip()))
    # The format has no escape for its separator: a ";" inside a value would split it.
    return "; ".join(f"{tag}={' '.join(value.replace(';', ',').split())}" for tag, value in parts if value)


def add_highwire_tags(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Google Scholar's ``citation_*`` tags for an article page; see the module docstring."""
    if app.builder.format not in HTML_FORMATS or not is_article(app.env, pagename):
        return
    metadata = app.env.metadata[pagename]
    tags = [meta_tag("name", "citation_title", page_title(app, pagename, context))]
    tags += [meta_tag("name", "citation_author", name) for name in article_authors(metadata)]
    published = parse_iso_date(str(metadata.get("date_published", "")))
    if published:
        tags.append(meta_tag("name", "citation_publication_date", published.strftime("%Y/%m/%d")))
    tags.append(meta_tag("name", "citation_publisher", app.config.project))
    tags.append(meta_tag("name", "citation_language", app.config.language or "en"))
    if context.get("pageurl"):
        tags.append(meta_tag("name", "citation_fulltext_html_url", context["pageurl"]))
    if app.config.citedhealth_pdf_per_article:
        pdf = f"{app.config.citedhealth_pdf_dir.strip('/')}/{slug(pagename)}.pdf"
        tags.append(meta_tag("name", "citation_pdf_url", page_relative(app, pagename, pdf)))
    domain = app.env.get_domain("cite")
    for citation in domain.citations_of_page(pagename):  # not a scan of the site's citations a page
        tags.append(meta_tag("name", "citation_reference", reference_value(citation.entry)))
    context["metatags"] = context.get("metatags", "") + "\n".join(tags) + "\n"


def setup(app: Sphinx) -> None:
    # Before Sphinx's table-of-contents collector (500), so the section is in the page's contents.
    app.connect("doctree-read", add_cite_section, priority=450)
    app.connect("doctree-read", fill_cite_section, priority=550)
    app.connect("env-get-outdated", articles_if_baseurl_changed)
    app.connect("doctree-resolved", add_download_links)
    # Before metadata.py's tags (priority 500): Google Scholar's come first in <head>, whatever
    # the order the modules register in.
    app.connect("html-page-context", add_highwire_tags, priority=490)
    app.connect("html-page-context", write_citation_files)
    app.connect("build-finished", remove_stale_citation_files)
