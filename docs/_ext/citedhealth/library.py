"""The library's own pages: one page per topic, and the A–Z page of every article.

Contract, for the HTML builders (others, the ``typst`` builder among them,
make none of these pages):

- ``topics/<slug>.html`` for every topic of ``citedhealth_topics``
  (:func:`.topics.topic_pagename`): the topic's articles by title, each with
  its title (a link), its description and its last review date. A topic
  with no article yet gets its page too, saying so.
- ``a-z.html``: every article by title, under letter headings (``A`` to
  ``Z``; a title starting with anything else, once accents are set aside,
  under ``#``), with a bar of jump links to the letters at the top (letters
  with no article shown, not linked). The sidebar links it from every page
  (:mod:`.navigation`).

They are made from the sources' front matter, never written into ``docs/``:
Sphinx's ``html-collect-pages`` event hands Furo's ``page.html`` a body we
render (as ablog does), so they carry the site's header, sidebar, policy and
audit like any page. Every build makes their bodies from the catalog
(:func:`.topics.catalog`), so they always show the articles' current titles,
descriptions, topics and dates; :mod:`.outputs` records them, so a page
whose topic left ``conf.py`` leaves the output.

A page is written again only when what it is made of changed
(:func:`page_key`: its title, what its body is made from (:func:`body_source`:
the catalog records it lists, and how dates are written), its sidebar; the configuration and tags
hashes Sphinx itself rewrites every page for; the templates' newest
modification time; the contents of the stylesheets and scripts pages link;
the Sphinx and Furo versions and our own code). The keys of the pages
written are kept beside the doctrees (:data:`RECORD`); a page's key is
dropped from it before the page is written and stored after the build, so a
build killed while writing one writes it again next time. At 1000 articles
the A–Z and topic pages are the site's largest; an edit that shows on none
of them costs none of their rendering, writing or auditing. A body is
rendered only for a page to be written: its key is made from what the body
is a function of (:func:`body_source`), not from the body (rendering the
seven bodies of 1000 articles to compare them took 0.07 s of every build).
"""

from __future__ import annotations

import hashlib
import html
import json
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from .common import app_state, write_atomically
from .navigation import A_TO_Z_PAGE, A_TO_Z_TITLE, sidebar_html
from .topics import Entry, catalog, topic_pagename

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sphinx.application import Sphinx

#: The builders that write these pages (one page per name: not singlehtml, not epub).
HTML_BUILDERS = ("html", "dirhtml")
#: Each written page's key, per builder, beside the doctrees.
RECORD = "citedhealth-generated-pages-{builder}.json"
OTHER = "#"
LETTERS = [chr(code) for code in range(ord("A"), ord("Z") + 1)] + [OTHER]


def letter(title: str) -> str:
    """The A–Z heading *title* goes under: its first letter, accents aside, or ``#``."""
    for char in unicodedata.normalize("NFKD", title.strip()):
        if unicodedata.combining(char):
            continue
        # "ß".upper() is "SS": its first letter.
        upper = char.upper()[:1]
        return upper if "A" <= upper <= "Z" else OTHER
    return OTHER


def anchor(heading: str) -> str:
    return "letter-other" if heading == OTHER else f"letter-{heading.lower()}"


def reviewed(entry: Entry) -> str:
    """``Last reviewed <time>24 November 2026</time>``, or nothing where the article has no valid date."""
    from .articles import format_date, parse_iso_date

    date = parse_iso_date(entry.last_reviewed)
    if date is None:
        return ""
    shown = html.escape(format_date(date))
    return f'<p class="ch-last-reviewed">Last reviewed <time datetime="{date.isoformat()}">{shown}</time></p>'


def topic_body(app: Sphinx, pagename: str, topic: str) -> str:
    builder = app.builder
    listed = catalog(app.env).by_topic.get(topic, [])
    parts = [f'<section id="{html.escape(pagename.rsplit("/", 1)[-1])}">', f"<h1>{html.escape(topic)}</h1>"]
    if not listed:
        parts.append('<p class="ch-topic-empty">No article on this topic yet.</p>')
    else:
        count = "1 article" if len(listed) == 1 else f"{len(listed)} articles"
        parts.append(f'<p class="ch-topic-count">{count} on this topic, by title.</p>')
        parts.append('<ul class="ch-topic-articles">')
        for entry in listed:
            href = builder.get_relative_uri(pagename, entry.docname)
            item = [
                f'<li><p><a class="reference internal" href="{html.escape(href)}">{html.escape(entry.title)}</a></p>'
            ]
            if entry.description:
                item.append(f'<p class="ch-article-description">{html.escape(entry.description)}</p>')
            item.append(reviewed(entry))
            parts.append("".join(item) + "</li>")
        parts.append("</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def a_to_z_body(app: Sphinx) -> str:
    builder = app.builder
    groups: dict[str, list[Entry]] = {}
    for entry in catalog(app.env).by_title:
        groups.setdefault(letter(entry.title), []).append(entry)
    bar = []
    for heading in LETTERS:
        if heading in groups:
            bar.append(f'<li><a href="#{anchor(heading)}">{html.escape(heading)}</a></li>')
        else:
            bar.append(f'<li><span class="ch-az-empty">{html.escape(heading)}</span></li>')
    parts = [
        '<section id="articles-a-z">',
        f"<h1>{html.escape(A_TO_Z_TITLE)}</h1>",
        f'<nav class="ch-az-letters" aria-label="Letters"><ul>{"".join(bar)}</ul></nav>',
    ]
    if not groups:
        parts.append('<p class="ch-topic-empty">No article yet.</p>')
    for heading in LETTERS:
        if heading not in groups:
            continue
        parts.append(f'<section id="{anchor(heading)}"><h2>{html.escape(heading)}</h2><ul class="ch-az-list">')
        for entry in groups[heading]:
            href = builder.get_relative_uri(A_TO_Z_PAGE, entry.docname)
            parts.append(
                f'<li><a class="reference internal" href="{html.escape(href)}">{html.escape(entry.title)}</a></li>'
            )
        parts.append("</ul></section>")
    parts.append("</section>")
    return "\n".join(parts)


def page_context(app: Sphinx, title: str, body: str) -> dict:
    return {"title": html.escape(title), "body": body, "parents": [], "toc": "", "display_toc": False}


def generated_pages(app: Sphinx) -> list[str]:
    """The names of the pages this module writes (for :mod:`.outputs`'s record)."""
    if not makes_pages(app):
        return []
    return [A_TO_Z_PAGE, *(topic_pagename(topic) for topic in app.config.citedhealth_topics)]


def makes_pages(app: Sphinx) -> bool:
    return app.builder.name in HTML_BUILDERS


def build_key(app: Sphinx) -> str:
    """What every page of this build is made of besides its own content (see the module docstring)."""
    import furo
    import sphinx

    from . import source_version

    builder = app.builder
    digest = hashlib.sha256()
    build_info = getattr(builder, "build_info", None)
    parts = [
        sphinx.__version__,
        furo.__version__,
        source_version(),
        getattr(build_info, "config_hash", None),
        getattr(build_info, "tags_hash", None),
        builder.templates.newest_template_mtime() if builder.templates else None,
    ]
    outdir = Path(app.outdir)
    for kind in ("css_files", "script_files"):
        for asset in builder.globalcontext.get(kind, []):
            name = str(getattr(asset, "filename", asset) or "")
            path = outdir / name
            parts.append((name, repr(sorted(getattr(asset, "attributes", {}).items()))))
            if name and "://" not in name and path.is_file():
                parts.append(hashlib.sha256(path.read_bytes()).hexdigest())
    digest.update(repr(parts).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def body_source(app: Sphinx, pagename: str, title: str) -> str:
    """Everything :func:`topic_body` or :func:`a_to_z_body` reads for *pagename* (titled *title*), as text.

    The bodies read the catalog records they list (in order), the builder's
    links between pages (its configuration, in :func:`build_key`) and
    :func:`.articles.format_date` (the month's name follows the process's
    locale: the twelve are part of it)."""
    import datetime as dt

    from .articles import format_date

    books = catalog(app.env)
    months = [format_date(dt.date(2000, month, 1)) for month in range(1, 13)]
    if pagename == A_TO_Z_PAGE:
        listed = [(entry.docname, entry.title) for entry in books.by_title]
    else:
        listed = [
            (entry.docname, entry.title, entry.description, entry.last_reviewed)
            for entry in books.by_topic.get(title, [])  # a topic page's title is its topic
        ]
    return repr((months, listed))


def page_key(common: str, pagename: str, title: str, made_from: str, sidebar: str) -> str:
    digest = hashlib.sha256()
    for part in (common, pagename, title, made_from, sidebar):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def record_path(app: Sphinx) -> Path:
    return Path(app.doctreedir) / RECORD.format(builder=app.builder.name)


def read_record(app: Sphinx) -> dict[str, str]:
    try:
        data = json.loads(record_path(app).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("outdir") != str(app.outdir) or not isinstance(data.get("keys"), dict):
        return {}
    return data["keys"]


def write_record(app: Sphinx, keys: dict[str, str]) -> None:
    write_atomically(record_path(app), json.dumps({"outdir": str(app.outdir), "keys": keys}, sort_keys=True, indent=0))


# app_state(app).library_pending: (the record as it stands, the keys of the pages this build writes).


def collect_pages(app: Sphinx) -> Iterator[tuple[str, dict, str]]:
    """html-collect-pages: the topic pages and the A–Z page whose content changed (or that are missing)."""
    if not makes_pages(app):
        return
    pages = [(topic_pagename(topic), topic) for topic in app.config.citedhealth_topics]
    pages.append((A_TO_Z_PAGE, A_TO_Z_TITLE))
    common = build_key(app)
    record = read_record(app)
    written: dict[str, str] = {}
    contexts = []
    for pagename, title in pages:
        key = page_key(common, pagename, title, body_source(app, pagename, title), sidebar_html(app, pagename))
        if record.get(pagename) == key and Path(app.builder.get_outfilename(pagename)).is_file():
            continue
        written[pagename] = key
        body = a_to_z_body(app) if pagename == A_TO_Z_PAGE else topic_body(app, pagename, title)
        contexts.append((pagename, page_context(app, title, body), "page.html"))
    # Forgotten before they are written: a build killed midway writes them again.
    if any(pagename in record for pagename in written):
        record = {pagename: key for pagename, key in record.items() if pagename not in written}
        write_record(app, record)
    app_state(app).library_pending = (record, written)
    yield from contexts


def record_written_pages(app: Sphinx, exception: BaseException | None) -> None:
    """build-finished: the keys of the pages this build wrote, for the next build to compare."""
    state = app_state(app)
    record, written = getattr(state, "library_pending", None) or ({}, {})
    state.library_pending = None
    if exception is not None or not written:
        return
    current = set(generated_pages(app))
    write_record(app, {page: key for page, key in {**record, **written}.items() if page in current})


def setup(app: Sphinx) -> None:
    app.connect("html-collect-pages", collect_pages)
    app.connect("build-finished", record_written_pages)
