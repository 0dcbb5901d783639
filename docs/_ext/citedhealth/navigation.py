"""Furo's navigation sidebar, worked out once per site structure instead of once per page.

Contract: every HTML page gets the same ``furo_navigation_tree`` that Furo
computes itself, byte for byte (``tests/test_navigation.py`` builds test
projects with and without this module's cache and compares every page).

Why: Furo asks Sphinx, for each page it writes, for the whole site's toctree
(``titles_only``, all depths), then parses the result with BeautifulSoup to
add its collapsible sidebar. Sphinx copies every document's full section tree
to make it, so at 200 articles that is about 0.1 s a page: an edit of one
article, which writes three pages (the article, the landing page with its
list, the search page), spent a third of its time redrawing the same sidebar.

How: the sidebar depends on the toctrees and the titles, not on the page,
except for two things, which this module adds itself:

- links are relative to the page's folder: one tree is kept per folder, made
  for a page that is not in the navigation (a name no document can have);
- the current page's entry is marked ``current`` (with ``current-page`` on its
  item, ``current`` on its list, and its link made ``#``).

Trees are kept in ``<doctreedir>/citedhealth-navigation.pickle`` under a
fingerprint of everything they depend on (toctree nodes and includes, every
document's title entry, section numbers, the HTML configuration and tags
hashes Sphinx itself uses to rewrite all pages, and the Sphinx, Furo and
translator versions). Any change makes a new set. Marking the current page
is done only where the result is certain: a flat navigation (no entry with
children) holding the page once. Anything else (nested toctrees, a page
listed twice) takes Furo's own path. ``citedhealth_navigation_cache = False``
in ``conf.py`` turns the cache off.

Sphinx also rewrites every page whose toctree includes a page it writes,
because "the TOC of the included file could have changed". When the
fingerprint is the previous build's (no title, toctree or section number
changed anywhere) and all of a page's toctrees are hidden (they show nothing
in its body: the landing page's is), nothing on that page can have changed,
and it is not rewritten for that reason. Pages with a visible toctree are.
The landing page's article list has its own trigger (``articles.py``).
"""

from __future__ import annotations

import hashlib
import html
import inspect
import os
import pickle
import posixpath
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import sphinx
from sphinx import addnodes
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.environment.adapters.toctree import global_toctree_for_doc
from sphinx.util import logging

if TYPE_CHECKING:
    from collections.abc import Callable

    from sphinx.application import Sphinx

logger = logging.getLogger(__name__)

#: The arguments Furo passes to ``toctree()`` for its sidebar (furo/__init__.py,
#: ``_compute_navigation_tree``). Any other call is passed through untouched.
FURO_NAVIGATION = {"collapse": False, "titles_only": True, "maxdepth": -1, "includehidden": True}
CACHE_FILE = "citedhealth-navigation.pickle"
#: Bump when the way trees are made or marked changes.
CACHE_VERSION = 1
#: A document name no source file can produce (Sphinx names never hold NUL):
#: the neutral page each folder's tree is made for.
NEUTRAL_PAGE = "\0citedhealth-navigation"


class NavigationCache:
    """One HTML build's sidebar trees: loaded from and saved to the doctree folder."""

    def __init__(self, app: Sphinx):
        self.app = app
        self.path = Path(app.doctreedir) / CACHE_FILE
        self.fingerprint: str | None = None
        self.trees: dict[str, str] = {}
        self.dirty = False
        self.hits = self.misses = self.fallbacks = 0

    # -- What the trees depend on ---------------------------------------------------

    def compute_fingerprint(self) -> str:
        app, env, builder = self.app, self.app.env, self.app.builder
        digest = hashlib.sha256()

        def feed(*parts: object) -> None:
            for part in parts:
                digest.update(repr(part).encode("utf-8", "surrogatepass"))
                digest.update(b"\x1f")

        import furo  # the theme is Furo; this module only runs with it

        translator = app.registry.get_translator_class(builder) or builder.default_translator_class
        build_info = getattr(builder, "build_info", None)
        feed(
            CACHE_VERSION,
            sphinx.__version__,
            furo.__version__,
            builder.name,
            getattr(builder, "link_suffix", None),
            getattr(builder, "out_suffix", None),
            f"{translator.__module__}.{translator.__qualname__}",
            translator_source_digest(translator),
            getattr(build_info, "config_hash", None),
            getattr(build_info, "tags_hash", None),
            sorted(builder.tags),
            app.config.root_doc,
        )
        for docname in sorted(env.toctree_includes):
            feed(docname, env.toctree_includes[docname])
            toc = env.tocs.get(docname)
            if toc is not None:
                for toctree in toc.findall(addnodes.toctree):
                    feed(sorted(toctree.attributes.items()))
        for docname in sorted(env.all_docs):
            toc = env.tocs.get(docname)
            # A titles-only tree shows each document's first toc entry (its title).
            first = toc[0][0] if toc is not None and len(toc) and len(toc[0]) else toc
            feed(docname, str(env.titles.get(docname)), str(first), env.toc_secnumbers.get(docname))
        return digest.hexdigest()

    def start(self) -> bool:
        """Before writing: whether the saved trees' fingerprint is this build's (the navigation is unchanged)."""
        self.fingerprint = self.compute_fingerprint()
        saved = load_saved(self.path)
        if saved.get("fingerprint") == self.fingerprint:
            self.trees = dict(saved.get("trees", {}))
            return True
        self.trees, self.dirty = {}, True
        return False

    def save(self) -> None:
        if not self.dirty or self.fingerprint is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside, then renamed: a killed build leaves the old file or the new one.
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{CACHE_FILE}.")
        try:
            with os.fdopen(handle, "wb") as stream:
                pickle.dump({"fingerprint": self.fingerprint, "trees": self.trees}, stream, pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.dirty = False

    # -- Trees ----------------------------------------------------------------------

    def neutral_tree(self, folder: str) -> str:
        """Furo's sidebar for a page in *folder* that is not in the navigation."""
        tree = self.trees.get(folder)
        if tree is None:
            self.misses += 1
            tree = self.trees[folder] = furo_tree(self.render_toctree(posixpath.join(folder, NEUTRAL_PAGE)))
            self.dirty = True
        else:
            self.hits += 1
        return tree

    def render_toctree(self, docname: str) -> str:
        """What ``context["toctree"](**FURO_NAVIGATION)`` returns for *docname* (Sphinx's ``_get_local_toctree``)."""
        builder = self.app.builder
        toctree = global_toctree_for_doc(self.app.env, docname, builder, tags=builder.tags, **FURO_NAVIGATION)
        return builder.render_partial(toctree)["fragment"]

    def tree_for(self, pagename: str, page_toctree: Callable[..., str]) -> str:
        folder = posixpath.dirname(pagename)
        neutral = self.neutral_tree(folder)
        if pagename not in self.app.env.all_docs or not listed(self.app.env, pagename):
            return neutral
        href = self.app.builder.get_relative_uri(posixpath.join(folder, NEUTRAL_PAGE), pagename)
        marked = mark_current(neutral, href)
        if marked is None:
            self.fallbacks += 1
            return furo_tree(page_toctree(**FURO_NAVIGATION))
        return marked


def load_saved(path: Path) -> dict:
    """The saved trees and their fingerprint; nothing if the file is missing or damaged (they are made again)."""
    try:
        with path.open("rb") as stream:
            saved = pickle.load(stream)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError, TypeError, ImportError):
        return {}
    return saved if isinstance(saved, dict) else {}


def furo_tree(toctree_html: str) -> str:
    from furo.navigation import get_navigation_tree

    return get_navigation_tree(toctree_html)


def translator_source_digest(translator: type) -> str:
    """Our own translator's code is part of what the trees depend on (a library's has its version)."""
    try:
        return hashlib.sha256(inspect.getsource(inspect.getmodule(translator)).encode()).hexdigest()
    except (OSError, TypeError):
        return ""


def listed(env, docname: str) -> bool:
    """Whether *docname* is an entry of the navigation: included by a toctree reachable from the root document."""
    return docname in included_documents(env)


def included_documents(env) -> frozenset[str]:
    cached = INCLUDED.get(env)
    if cached is None or cached[0] is not env.toctree_includes:
        seen: set[str] = set()
        stack = [env.config.root_doc]
        while stack:
            for child in env.toctree_includes.get(stack.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        cached = INCLUDED[env] = (env.toctree_includes, frozenset(seen))
    return cached[1]


INCLUDED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def mark_current(neutral: str, href: str) -> str | None:
    """*neutral* with the entry linking to *href* marked as the current page, as Sphinx and Furo mark it.

    None where that is not certain: an entry with children anywhere (Sphinx
    then marks a whole branch, Furo ticks checkboxes), or the page listed
    other than exactly once as a first-level entry.
    """
    if "has-children" in neutral or "toctree-l2" in neutral:
        return None
    entry = f'<li class="toctree-l1"><a class="reference internal" href="{html.escape(href)}">'
    if neutral.count(entry) != 1:
        return None
    at = neutral.index(entry)
    list_start = neutral.rfind("<ul>", 0, at)
    if list_start < 0 or "</ul>" in neutral[list_start:at]:
        return None
    current = '<li class="toctree-l1 current current-page"><a class="current reference internal" href="#">'
    before, between, after = neutral[:list_start], neutral[list_start + len("<ul>") : at], neutral[at + len(entry) :]
    return before + '<ul class="current">' + between + current + after


# -- Events ---------------------------------------------------------------------------

CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def uses_furo_navigation(app: Sphinx) -> bool:
    # Builders that make their toctree another way (singlehtml) keep Furo's path.
    local_toctree = getattr(type(app.builder), "_get_local_toctree", None)
    return (
        app.config.citedhealth_navigation_cache
        and app.config.html_theme == "furo"
        and local_toctree is StandaloneHTMLBuilder._get_local_toctree
    )


def prepare(app: Sphinx, builder) -> None:
    """write-started: check the saved trees against this build's structure."""
    restore_parents(app.env)
    if not uses_furo_navigation(app):
        CACHES.pop(app, None)
        return
    cache = CACHES.get(app)
    if cache is None:
        cache = CACHES[app] = NavigationCache(app)
    if cache.start():
        skip_quiet_parents(app.env)
    # Make the trees for every folder now, in this process: with -j, pages are
    # written in forked workers, whose trees would not come back to be saved.
    for folder in sorted({posixpath.dirname(docname) for docname in app.env.found_docs}):
        cache.neutral_tree(folder)


#: env -> Sphinx's own files_to_rebuild, while a filtered one stands in for it during writing.
SET_ASIDE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def skip_quiet_parents(env) -> None:
    """Have Sphinx's write step leave out parents whose toctrees are all hidden (see the module docstring).

    Sphinx reads ``env.files_to_rebuild`` (page -> the pages whose toctrees
    include it) only there while writing; the filtered copy is swapped back
    for the original when the build finishes, before anything reads again.
    """
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


def take_over_navigation(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Before Furo (priority 400): its sidebar call to ``toctree()`` returns nothing; we fill it in after."""
    cache = CACHES.get(app)
    page_toctree = context.get("toctree")
    if cache is None or page_toctree is None:
        return

    def toctree(**kwargs):
        if kwargs == FURO_NAVIGATION:
            context["citedhealth_navigation"] = True
            return ""
        return page_toctree(**kwargs)

    context["toctree"] = toctree
    context["citedhealth_page_toctree"] = page_toctree


def fill_navigation(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """After Furo (priority 600): the page's sidebar from the cached tree."""
    cache = CACHES.get(app)
    if cache is None or not context.pop("citedhealth_navigation", False):
        return
    page_toctree = context.pop("citedhealth_page_toctree")
    context["toctree"] = page_toctree
    context["furo_navigation_tree"] = cache.tree_for(pagename, page_toctree)


def save(app: Sphinx, exception: BaseException | None) -> None:
    restore_parents(app.env)
    cache = CACHES.get(app)
    if cache is not None and exception is None:
        cache.save()
        logger.verbose(
            "navigation trees: %d reused, %d made, %d pages by Furo's own path",
            cache.hits,
            cache.misses,
            cache.fallbacks,
        )


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_navigation_cache", True, "html", bool)
    app.connect("write-started", prepare)
    app.connect("html-page-context", take_over_navigation, priority=400)
    app.connect("html-page-context", fill_navigation, priority=600)
    app.connect("build-finished", save)
