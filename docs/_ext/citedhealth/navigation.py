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

How (leaning on Furo's internals, furo/__init__.py ``_compute_navigation_tree``,
checked against the pinned Furo by ``tests/test_navigation.py``): before
Furo's ``html-page-context`` handler, the page's ``toctree()`` is wrapped so
that Furo's call for the sidebar (:data:`FURO_NAVIGATION`) returns nothing
and Sphinx computes no global toctree; after it, ``furo_navigation_tree`` is
our HTML passed through Furo's ``furo.navigation.get_navigation_tree`` (which
adds the checkboxes and ``current-page``).

Sphinx also rewrites every page whose toctree includes a page it writes,
because "the TOC of the included file could have changed". A page whose
toctrees are all hidden (the landing page's is) shows nothing of them but
what other triggers already cover (the sidebar and previous/next links: the
structure digest of :mod:`.outputs`; the landing page's lists: ``articles.py``),
so it is not rewritten for that reason. Pages with a visible toctree are.
"""

from __future__ import annotations

import html
import weakref
from typing import TYPE_CHECKING

from sphinx import addnodes
from sphinx.util.osutil import relative_uri

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


def uses_our_navigation(app: Sphinx) -> bool:
    return app.builder.format == "html" and app.config.html_theme == "furo"


def window(count: int, index: int, size: int) -> range:
    """The *size* positions of a list of *count* nearest to *index* (fewer if the list is shorter)."""
    size = max(1, size)
    start = max(0, min(index - size // 2, count - size))
    return range(start, min(count, start + size))


def sidebar_html(app: Sphinx, pagename: str) -> str:
    """The sidebar of *pagename* as toctree-style HTML (what Furo's ``get_navigation_tree`` takes)."""
    builder, env = app.builder, app.env
    base = builder.get_target_uri(pagename)
    books = catalog(env)

    def link(target: str, text: str, level: int, current: bool = False, children: str = "") -> str:
        classes = f"toctree-l{level}" + (" current" if current else "")
        if current and not children:
            anchor = f'<a class="current reference internal" href="#" aria-current="page">{html.escape(text)}</a>'
        else:
            href = relative_uri(base, builder.get_target_uri(target)) or "#"
            anchor = f'<a class="reference internal" href="{html.escape(href)}">{html.escape(text)}</a>'
        return f'<li class="{classes}">{anchor}{children}</li>'

    parts = ["<ul>", link(A_TO_Z_PAGE, A_TO_Z_TITLE, 1, pagename == A_TO_Z_PAGE), "</ul>"]
    parts.append(f'<p class="caption" role="heading" aria-level="2"><span class="caption-text">{CAPTION}</span></p>')
    entry = books.entries.get(pagename)
    opened = entry.topics[0] if entry is not None and entry.topics else None
    parts.append("<ul>")
    for topic in books.topics:
        page = topic_pagename(topic)
        children = ""
        if topic == opened:
            listed = books.by_topic[topic]
            items = [
                link(listed[i].docname, listed[i].title, 2, listed[i].docname == pagename)
                for i in window(len(listed), books.position[pagename], app.config.citedhealth_sidebar_window)
            ]
            items.append(link(page, f"All articles on {topic}", 2))
            children = '<ul class="current">' + "".join(items) + "</ul>"
        parts.append(link(page, topic, 1, current=topic == opened or page == pagename, children=children))
    parts.append("</ul>")
    return "".join(parts)


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
    from furo.navigation import get_navigation_tree

    if "citedhealth_page_toctree" in context:
        context["toctree"] = context.pop("citedhealth_page_toctree")
    context["furo_navigation_tree"] = get_navigation_tree(sidebar_html(app, pagename))


#: env -> Sphinx's own files_to_rebuild, while a filtered one stands in for it during writing.
SET_ASIDE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def skip_quiet_parents(app: Sphinx, builder) -> None:
    """write-started: Sphinx's write step leaves out parents whose toctrees are all hidden (see the module docstring).

    Sphinx reads ``env.files_to_rebuild`` (page -> the pages whose toctrees
    include it) only there while writing (``Builder.write``,
    sphinx/builders/__init__.py); the filtered copy is swapped back for the
    original when the build finishes, before anything reads again.
    """
    env = app.env
    restore_parents(env)
    if not uses_our_navigation(app):
        return
    quiet = {
        docname
        for docname in env.toctree_includes
        if docname in env.tocs and all(node.get("hidden") for node in env.tocs[docname].findall(addnodes.toctree))
    }
    if not quiet:
        return
    SET_ASIDE[env] = env.files_to_rebuild
    env.files_to_rebuild = {
        docname: parents - quiet for docname, parents in env.files_to_rebuild.items() if parents - quiet
    }


def restore_parents(env) -> None:
    original = SET_ASIDE.pop(env, None)
    if original is not None:
        env.files_to_rebuild = original


def restore(app: Sphinx, exception: BaseException | None) -> None:
    restore_parents(app.env)


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_sidebar_window", 12, "html", int)
    app.connect("write-started", skip_quiet_parents)
    app.connect("html-page-context", take_over_navigation, priority=400)
    app.connect("html-page-context", fill_navigation, priority=600)
    app.connect("build-finished", restore)
