"""The search index: each word stemmed once a build, not once a page.

Contract: ``searchindex.js`` is what Sphinx writes, byte for byte; only the
time to make it changes.

Why: Sphinx's ``IndexBuilder.feed`` (sphinx/search/__init__.py) memoises the
language's ``stem`` inside each call, so every page stems its words anew
(Snowball's English stemmer, in pure Python). At 1000 articles that was about
half a million stems, the largest single cost of writing the site, and it
runs in the main process even with ``-j``, while the pages are written in
workers. Stemming is a pure function of the word, so one cache for the whole
build gives the same index. Not reported upstream.

How: when the first page is resolved for writing (``doctree-resolved``, in
the process that feeds the index), the HTML builder's indexer exists
(``StandaloneHTMLBuilder.prepare_writing`` makes it), and its language
object's ``stem`` is replaced, on that object only, by a cached one. The
cache lives as long as the process, one per language and options, so the
live preview's warm process stems a word once for all its builds.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from docutils import nodes
    from sphinx.application import Sphinx

#: Distinct words a site holds are in the tens of thousands; bounded all the same.
STEM_CACHE_SIZE = 1 << 17
CACHED_MARK = "_citedhealth_cached_stem"
#: (language class, its options) -> that language's cached stem, for the process's life.
STEMMERS: dict[tuple, Callable[[str], str]] = {}


def cached_stem(language) -> Callable[[str], str]:
    key = (type(language), tuple(sorted((str(k), str(v)) for k, v in (language.options or {}).items())))
    stem = STEMMERS.get(key)
    if stem is None:
        stem = STEMMERS[key] = functools.lru_cache(maxsize=STEM_CACHE_SIZE)(language.stem)
    return stem


def cache_stemming(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    indexer = getattr(app.builder, "indexer", None)
    language = getattr(indexer, "lang", None)
    if language is None or getattr(language, CACHED_MARK, False):
        return
    language.stem = cached_stem(language)
    setattr(language, CACHED_MARK, True)


def setup(app: Sphinx) -> None:
    app.connect("doctree-resolved", cache_stemming)
