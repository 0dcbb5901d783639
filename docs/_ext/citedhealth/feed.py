"""The Atom feed of the articles by last review, and its link in every page's head.

Contract, for the HTML builders (``html``, ``dirhtml``):

- ``feed.xml`` at the root of the output: an Atom 1.0 feed (RFC 4287) of the
  ``citedhealth_feed_entries`` (50) most recently reviewed articles, newest
  first (then by title). Each entry has the article's title, its link, an
  id, ``updated`` (its ``last_reviewed``, at midnight UTC), a summary (its
  description) and its authors. The feed's own ``updated`` is the newest
  entry's (no clock is read: the same sources give the same bytes); a site
  without articles says 1970-01-01.
- Links are absolute, from ``html_baseurl``, when it is set. When it is not
  (a local build), they are relative to the feed, which lies at the site's
  root beside ``index.html``: RFC 4287 resolves them against the feed's own
  address, so the feed still works wherever the site is served. Ids are
  never links: each is a ``urn:uuid`` made from the project's name and the
  article's document name (UUID 5), so an entry keeps its id when the site
  moves or the base URL changes, as RFC 4287 wants of ids.
- Every page's head carries ``<link rel="alternate" type="application/atom+xml">``
  to it.
- It is written only when its bytes change, in one step (a reader sees the
  old file or the new one), and :mod:`.outputs` records it, so it leaves the
  output with the builder that made it.
"""

from __future__ import annotations

import html
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from .common import write_atomically
from .topics import catalog

if TYPE_CHECKING:
    from sphinx.application import Sphinx

ATOM = "http://www.w3.org/2005/Atom"
FEED_FILE = "feed.xml"
HTML_BUILDERS = ("html", "dirhtml")
#: Where no article has a review date.
EPOCH = "1970-01-01T00:00:00Z"


def makes_feed(app: Sphinx) -> bool:
    return app.builder.name in HTML_BUILDERS


def entry_id(project: str, name: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"citedhealth:{project}:{name}"))


def timestamp(date: str) -> str:
    return f"{date}T00:00:00Z" if date else EPOCH


def feed_xml(app: Sphinx) -> str:
    """The feed's text."""
    config, builder = app.config, app.builder
    baseurl = config.html_baseurl.rstrip("/")

    def address(target: str) -> str:
        uri = builder.get_target_uri(target)
        return f"{baseurl}/{uri}" if baseurl else (uri or "./")

    def sub(parent: ElementTree.Element, tag: str, text: str | None = None, **attributes: str) -> ElementTree.Element:
        element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        element.text = text
        return element

    entries = [entry for entry in catalog(app.env).recent(config.citedhealth_feed_entries)]
    ElementTree.register_namespace("", ATOM)
    feed = ElementTree.Element(
        f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": config.language or "en"}
    )
    sub(feed, "title", config.project)
    sub(feed, "id", entry_id(config.project, ""))
    sub(feed, "updated", timestamp(entries[0].last_reviewed if entries else ""))
    sub(feed, "link", rel="self", type="application/atom+xml", href=f"{baseurl}/{FEED_FILE}" if baseurl else FEED_FILE)
    sub(feed, "link", rel="alternate", type="text/html", href=address(config.root_doc))
    author = sub(feed, "author")
    sub(author, "name", config.author)
    for item in entries:
        entry = sub(feed, "entry")
        sub(entry, "title", item.title)
        sub(entry, "link", rel="alternate", type="text/html", href=address(item.docname))
        sub(entry, "id", entry_id(config.project, item.docname))
        sub(entry, "updated", timestamp(item.last_reviewed))
        if item.description:
            sub(entry, "summary", item.description)
        for name in item.authors or (config.author,):
            sub(sub(entry, "author"), "name", name)
    tree = ElementTree.ElementTree(feed)
    ElementTree.indent(tree)
    return ElementTree.tostring(feed, encoding="unicode", xml_declaration=False).join(
        ['<?xml version="1.0" encoding="utf-8"?>\n', "\n"]
    )


def write_feed(app: Sphinx, exception: BaseException | None) -> None:
    """build-finished: ``feed.xml``, rewritten only when it changes."""
    if exception is not None or not makes_feed(app):
        return
    path = Path(app.outdir) / FEED_FILE
    text = feed_xml(app)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_atomically(path, text)


def link_feed(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """html-page-context: the feed's ``<link rel="alternate">`` in the page's head."""
    if not makes_feed(app):
        return
    href = context["pathto"](FEED_FILE, resource=True)
    tag = (
        f'<link rel="alternate" type="application/atom+xml" title="{html.escape(app.config.project)}" '
        f'href="{html.escape(href)}">'
    )
    context["metatags"] = context.get("metatags", "") + tag + "\n"


def outputs(app: Sphinx) -> list[str]:
    """What this module writes, for :mod:`.outputs`'s record."""
    return [FEED_FILE] if makes_feed(app) else []


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_feed_entries", 50, "html", int)
    # After citing's Scholar tags (490), before metadata's tags (500): the
    # <head> reads the same whatever the order of the modules.
    app.connect("html-page-context", link_feed, priority=495)
    app.connect("build-finished", write_feed, priority=600)
