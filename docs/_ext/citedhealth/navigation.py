"""The navigation sidebar: bounded in size, whatever the number of articles.

Contract, for the HTML builders with Furo: every page's sidebar
(``furo_navigation_tree``) holds, in Furo's markup (its classes, its
collapsible checkboxes):

- a link to the A–Z page (:mod:`.library`);
- under the caption "Topics", each topic of ``citedhealth_topics`` linking to
  its page;
- on an article, its first topic opened on a window of that topic's articles
  by title: the ``citedhealth_sidebar_window`` (12) nearest around the
  article, which is marked current as Sphinx and Furo mark the current page,
  then a link "All articles on <topic>" to the topic page. On a topic page
  its topic, and on the A–Z page its link, is the current entry.

Nothing else: no page lists every article (the A–Z and topic pages aside),
so an article page weighs the same with 10 articles or 1000 in its topic.
The sidebar shows each article's title and topics, so :mod:`.outputs` counts
both in the structure that, when it changes, rewrites every page.

Why: Furo asks Sphinx, on every page it writes, for the whole site's
toctree (``titles_only``, all depths) and parses it with BeautifulSoup: at
1000 articles that is 1000 links on every page, and Sphinx copying every
document's section tree once per page. The root toctree in ``index.md``
stays (hidden, glob), so Sphinx still knows every document, and its
previous/next links still follow it.

How (leaning on Furo's internals, furo/__init__.py ``_compute_navigation_tree``
and furo/navigation.py ``get_navigation_tree``, both checked against the
pinned Furo by ``tests/test_navigation.py``): before Furo's
``html-page-context`` handler, the page's ``toctree()`` is wrapped so that
Furo's call for the sidebar (:data:`FURO_NAVIGATION`) returns nothing and
Sphinx computes no global toctree; after it, ``furo_navigation_tree`` is our
sidebar in the markup ``get_navigation_tree`` would make of a toctree
(:func:`furo_markup`: checkboxes, labels, ``current-page``), written
directly rather than parsed from HTML on every page.

Sphinx also rewrites every page whose toctree includes a page it writes,
because "the TOC of the included file could have changed". A page whose
toctrees are all hidden (the landing page's is) shows nothing of them but
what other triggers already cover (the sidebar and previous/next links: the
structure digest of :mod:`.outputs`; the landing page's lists: ``articles.py``),
so it is not rewritten for that reason. Pages with a visible toctree are.

Each page's template context holds the HTML of the titles of its previous
and next pages and of its parents (Sphinx's ``get_doc_context``), each made
by ``render_partial``: a new docutils document, its transforms and a
translator for a few words, five times a page. The parents (the landing
page, for every article) and the neighbours' titles are the same for many
pages, so the builder's ``render_partial`` keeps, for the length of a write,
what it made of each page title that is plain text (:class:`TitleRenderer`):
the same words give the same HTML, on whichever page they show.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx import addnodes
from sphinx.util.osutil import relative_uri

from .common import app_state
from .topics import catalog, topic_pagename

if TYPE_CHECKING:
    from sphinx.application import Sphinx

#: The arguments Furo passes to ``toctree()`` for its sidebar (furo/__init__.py,
#: ``_compute_navigation_tree``). Any other call is passed through untouched.
FURO_NAVIGATION = {"collapse": False, "titles_only": True, "maxdepth": -1, "includehidden": True}
#: The A–Z page (:mod:`.library`).
A_TO_Z_PAGE = "a-z"
A_TO_Z_TITLE = "Articles A–Z"
CAPTION = "Topics"
#: Furo's arrow on an entry with children (furo/navigation.py, ``_get_navigation_expand_image``).
EXPAND_ICON = '<span class="icon"><svg><use href="#svg-arrow-right"></use></svg></span>'
#: As our translator writes a toctree's caption (accessibility.py): a heading with a level.
CAPTION_HTML = f'<p aria-level="2" class="caption" role="heading"><span class="caption-text">{CAPTION}</span></p>'


def uses_our_navigation(app: Sphinx) -> bool:
    return app.builder.format == "html" and app.config.html_theme == "furo"


def window(count: int, index: int, size: int) -> range:
    """The *size* positions of a list of *count* nearest to *index* (fewer if the list is shorter)."""
    size = max(1, size)
    start = max(0, min(index - size // 2, count - size))
    return range(start, min(count, start + size))


@dataclass
class Entry:
    """One link of the sidebar: its text, its address (None for the current page), and the entries under it."""

    text: str
    href: str | None
    current: bool = False
    children: list[Entry] = field(default_factory=list)


def sidebar_entries(app: Sphinx, pagename: str) -> tuple[list[Entry], list[Entry]]:
    """The sidebar of *pagename*: (the entries above the caption, the topics)."""
    builder, env = app.builder, app.env
    base = builder.get_target_uri(pagename)
    books = catalog(env)

    def entry(target: str, text: str, current: bool = False) -> Entry:
        return Entry(text, None if current else relative_uri(base, builder.get_target_uri(target)) or "#", current)

    top = [entry(A_TO_Z_PAGE, A_TO_Z_TITLE, pagename == A_TO_Z_PAGE)]
    article = books.entries.get(pagename)
    opened = article.topics[0] if article is not None and article.topics else None
    topics = []
    for topic in books.topics:
        page = topic_pagename(topic)
        item = entry(page, topic, page == pagename)
        if topic == opened:
            listed = books.by_topic[topic]
            item.current = True
            item.children = [
                entry(listed[i].docname, listed[i].title, listed[i].docname == pagename)
                for i in window(len(listed), books.position[pagename], app.config.citedhealth_sidebar_window)
            ]
            item.children.append(entry(page, f"All articles on {topic}"))
        topics.append(item)
    return top, topics


def text(value: str) -> str:
    """Text as BeautifulSoup writes it (Furo's output): ``&``, ``<`` and ``>`` escaped."""
    return html.escape(value, quote=False)


def attribute(name: str, value: str) -> str:
    """An attribute as BeautifulSoup writes it: single quotes around a value holding only double ones."""
    value = text(value)
    if '"' in value:
        if "'" not in value:
            return f"{name}='{value}'"
        value = value.replace('"', "&quot;")
    return f'{name}="{value}"'


def anchor(item: Entry) -> str:
    if item.href is None:
        attributes = [attribute("aria-current", "page"), attribute("class", "current reference internal"), 'href="#"']
    else:
        attributes = [attribute("class", "reference internal"), attribute("href", item.href)]
    return f"<a {' '.join(attributes)}>{text(item.text)}</a>"


def toctree_markup(groups: tuple[list[Entry], list[Entry]]) -> str:
    """The sidebar as Sphinx's ``toctree()`` writes one: the HTML Furo's ``get_navigation_tree`` takes."""

    def items(entries: list[Entry], level: int) -> str:
        found = []
        for item in entries:
            classes = f"toctree-l{level}" + (" current" if item.current else "")
            children = ""
            if item.children:
                children = '<ul class="current">' + items(item.children, level + 1) + "</ul>"
            found.append(f'<li class="{classes}">{anchor(item)}{children}</li>')
        return "".join(found)

    top, topics = groups
    return f"<ul>{items(top, 1)}</ul>{CAPTION_HTML}<ul>{items(topics, 1)}</ul>"


def furo_markup(groups: tuple[list[Entry], list[Entry]]) -> str:
    """What ``furo.navigation.get_navigation_tree(toctree_markup(groups))`` returns, without parsing HTML.

    Furo's function parses its input with BeautifulSoup (about 7 ms a page:
    7 s of a 1000-article build) to add, to each entry with children, a
    checkbox and its label, and ``current-page`` to the last entry marked
    current. We write that markup directly; ``tests/test_navigation.py``
    checks, against the pinned Furo, that it is byte for byte what Furo makes.
    """
    every = [item for group in groups for item in walk(group)]
    current = [item for item in every if item.current]
    last_current = current[-1] if current else None
    boxes = 0

    def items(entries: list[Entry], level: int) -> str:
        nonlocal boxes
        found = []
        for item in entries:
            classes = [f"toctree-l{level}"] + (["current"] if item.current else [])
            inside = ""
            if item.children:
                classes.append("has-children")
                boxes += 1
                name = f"toctree-checkbox-{boxes}"
                checkbox = [
                    attribute("aria-label", f"Toggle navigation of {item.text}"),
                    *(['checked=""'] if item.current else []),
                    attribute("class", "toctree-checkbox"),
                    attribute("id", name),
                    attribute("name", name),
                    'role="switch"',
                    'type="checkbox"',
                ]
                label = f'<label for="{name}">{EXPAND_ICON}</label>'
                children = '<ul class="current">' + items(item.children, level + 1) + "</ul>"
                inside = f"<input {' '.join(checkbox)}/>{label}{children}"
            if item is last_current:
                classes.append("current-page")
            found.append(f"<li {attribute('class', ' '.join(classes))}>{anchor(item)}{inside}</li>")
        return "".join(found)

    top, topics = groups
    return f"<ul>{items(top, 1)}</ul>{CAPTION_HTML}<ul>{items(topics, 1)}</ul>"


def walk(entries: list[Entry]):
    """The entries in document order (an entry, then those under it)."""
    for item in entries:
        yield item
        yield from walk(item.children)


def sidebar_html(app: Sphinx, pagename: str) -> str:
    """The sidebar of *pagename*, in Furo's markup."""
    return furo_markup(sidebar_entries(app, pagename))


# -- Events ---------------------------------------------------------------------------


def take_over_navigation(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Before Furo (priority 400): its sidebar call to ``toctree()`` returns nothing, at no cost."""
    page_toctree = context.get("toctree")
    if not uses_our_navigation(app) or page_toctree is None:
        return

    def toctree(**kwargs):
        if kwargs == FURO_NAVIGATION:
            return ""
        return page_toctree(**kwargs)

    context["toctree"] = toctree
    context["citedhealth_page_toctree"] = page_toctree


def fill_navigation(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """After Furo (priority 600): our sidebar, in Furo's markup."""
    if not uses_our_navigation(app):
        return
    if "citedhealth_page_toctree" in context:
        context["toctree"] = context.pop("citedhealth_page_toctree")
    context["furo_navigation_tree"] = sidebar_html(app, pagename)


# app_state(app).set_aside_parents: Sphinx's own files_to_rebuild, while a
# filtered one stands in for it during writing.


def skip_quiet_parents(app: Sphinx, builder) -> None:
    """write-started: Sphinx's write step leaves out parents whose toctrees are all hidden (see the module docstring).

    Sphinx reads ``env.files_to_rebuild`` (page -> the pages whose toctrees
    include it) only there while writing (``Builder.write``,
    sphinx/builders/__init__.py); the filtered copy is swapped back for the
    original when the build finishes, before anything reads again.
    """
    env = app.env
    restore_parents(app)
    if not uses_our_navigation(app):
        return
    quiet = {
        docname
        for docname in env.toctree_includes
        if docname in env.tocs and all(node.get("hidden") for node in env.tocs[docname].findall(addnodes.toctree))
    }
    if not quiet:
        return
    app_state(app).set_aside_parents = env.files_to_rebuild
    env.files_to_rebuild = {
        docname: parents - quiet for docname, parents in env.files_to_rebuild.items() if parents - quiet
    }


def restore_parents(app: Sphinx) -> None:
    state = app_state(app)
    original = getattr(state, "set_aside_parents", None)
    if original is not None:
        app.env.files_to_rebuild = original
        state.set_aside_parents = None


class TitleRenderer:
    """The HTML builder's ``render_partial``, keeping what it made of each plain-text title (module docstring)."""

    def __init__(self, render_partial) -> None:
        self.render_partial = render_partial
        #: id(title node) -> (the node, its text, the parts rendered); the node is kept so its id is not reused.
        self.rendered: dict[int, tuple[nodes.title, str, dict[str, str]]] = {}

    def __call__(self, node) -> dict[str, str]:
        if not (isinstance(node, nodes.title) and all(isinstance(child, nodes.Text) for child in node.children)):
            return self.render_partial(node)
        text = node.astext()
        kept = self.rendered.get(id(node))
        if kept is not None and kept[0] is node and kept[1] == text:
            return dict(kept[2])
        parts = self.render_partial(node)
        self.rendered[id(node)] = (node, text, dict(parts))
        return parts


def render_titles_once(app: Sphinx) -> None:
    """builder-inited: an HTML builder renders each page title once a write (:class:`TitleRenderer`)."""
    render_partial = getattr(app.builder, "render_partial", None)
    if render_partial is not None and not isinstance(render_partial, TitleRenderer):
        app.builder.render_partial = TitleRenderer(render_partial)


def forget_rendered_titles(app: Sphinx, builder) -> None:
    """write-started: titles may have changed since the last write (the live preview's builder lives on)."""
    if isinstance(getattr(builder, "render_partial", None), TitleRenderer):
        builder.render_partial.rendered.clear()


def restore(app: Sphinx, exception: BaseException | None) -> None:
    restore_parents(app)


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_sidebar_window", 12, "html", int)
    app.connect("write-started", skip_quiet_parents)
    app.connect("builder-inited", render_titles_once)
    app.connect("write-started", forget_rendered_titles)
    app.connect("html-page-context", take_over_navigation, priority=400)
    app.connect("html-page-context", fill_navigation, priority=600)
    app.connect("build-finished", restore)
