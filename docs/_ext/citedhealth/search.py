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

The index is also not read back in the process that wrote it. Sphinx's
``StandaloneHTMLBuilder.load_indexer`` (sphinx/builders/html/__init__.py)
parses ``searchindex.js`` at the start of every writing phase (about 0.2 s
at 1000 articles, two megabytes), into the five mappings
``IndexBuilder.load`` sets. In a process that builds again (the live
preview's warm worker), the index it dumped last time is still in memory,
as those very mappings: when the file is the one it wrote (same inode, size,
modification and change times), the new indexer takes them over instead of
parsing the file, then prunes the documents to be written, as Sphinx does.
A new process (every ``make html``) finds the same mappings pickled beside
the saved environment (:func:`pickle_path`, ``citedhealth-search-index-<builder>.pickle``
in the doctree folder), written right after the file they were dumped to,
with that file's stamp and the environment version Sphinx's ``load`` checks:
when both still match, it unpickles them instead of parsing the file (at 1000
articles 0.04 s instead of 0.12 s). Anything else (another process wrote the
file, a build failed before the dump or before the pickle, the pickle is
missing or unreadable) reads the file as Sphinx does. The index written is
the same (``tests/test_search.py`` compares it with a fresh process's).

And the prunes cost what the build changes. Sphinx's ``IndexBuilder.prune``
intersects every word's set of documents with the documents kept: every
posting of the site, twice a build (at 1000 articles 0.05 and 0.03 s).
Every document a word's set holds is also a key of the indexer's titles
(``load`` makes both from one list, ``feed`` sets the title before the
words, ``prune`` cuts both alike), so removing the titled documents not
kept from the words that hold one leaves the same sets; an indexer is
marked (:data:`BOUNDED_MARK`) when that holds, which is when its mappings
came from a load (the file, the pickle, or this process's last dump), and
``outputs.prune_bounded`` then stands in for Sphinx's prune (through
``outputs.prune_dropping_empty_words``, which also drops emptied words),
and :func:`bounded_terms` for ``IndexBuilder.get_terms`` (the sorted
document numbers of each word, without testing each posting).

And in the live preview the index is written beside the build's last steps.
With :data:`DUMP_IN_CHILD` set (the warm worker sets it), a serial build's
``dump_search_index`` prunes the index as Sphinx's does, then forks: the
child, a copy-on-write snapshot, runs Sphinx's own dump (through its
temporary file) while this process goes on with the ``build-finished``
handlers, on the other core; at 1000 articles that dump is about half a
second. The build waits for the child in its last ``build-finished``
handler (:func:`wait_for_dump`), so the file is complete when the build
ends, and a child that fails fails the build. (With ``-j``, Sphinx already
runs the dump in a worker process of its own.)
"""

from __future__ import annotations

import functools
import gc
import os
import pickle
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from sphinx.errors import SphinxError

from .common import app_state, keeps_methods, write_atomically

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


# -- The index kept in memory between builds of one process ---------------------------

#: What ``IndexBuilder.load`` sets from the file; the rest of the indexer's
#: state lives in the environment, untouched by a load.
LOADED = ("_filenames", "_titles", "_all_titles", "_mapping", "_title_mapping")
#: The environment's own mappings behind a fresh IndexBuilder's (its __init__).
ENV_MAPPINGS = (
    "_search_index_filenames",
    "_search_index_titles",
    "_search_index_all_titles",
    "_search_index_mapping",
    "_search_index_title_mapping",
)

# app_state(app).search_index: (the written file's stamp, the mappings it was dumped from), or None.


def file_stamp(path) -> tuple | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def index_path(builder):
    return builder.outdir / builder.searchindex_filename


def pickle_path(app: Sphinx, builder) -> Path:
    """Where the mappings of *builder*'s last dumped index are pickled for the next process."""
    return Path(app.doctreedir) / f"citedhealth-search-index-{builder.name}.pickle"


def load_pickled(app: Sphinx, builder) -> dict | None:
    """The mappings pickled beside the environment, if they are those of the index file as it stands; else None."""
    # Unpickling makes a few hundred thousand sets and strings and no garbage:
    # no collection need walk them meanwhile (as garbage.py does for the environment).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with open(pickle_path(app, builder), "rb") as stream:
            stored = pickle.load(stream)
    except Exception:  # missing, half-written by a killed build, from another version: read the file
        return None
    finally:
        if collecting:
            gc.enable()
    if (
        not isinstance(stored, dict)
        or stored.get("stamp") is None
        or stored.get("stamp") != file_stamp(index_path(builder))
        # What IndexBuilder.load checks of the file (its envversion is the environment's version).
        or stored.get("envversion") != builder.env.version
        or set(stored.get("mappings", ())) != set(LOADED)
    ):
        return None
    return stored["mappings"]


def save_pickled(app: Sphinx, builder, mappings: dict) -> None:
    """Pickle *mappings*, just dumped to the index file, with that file's stamp; none if the file is gone."""
    path = pickle_path(app, builder)
    stamp = file_stamp(index_path(builder))
    if stamp is None:
        path.unlink(missing_ok=True)
        return
    data = {"stamp": stamp, "envversion": builder.env.version, "mappings": mappings}
    write_atomically(path, pickle.dumps(data, pickle.HIGHEST_PROTOCOL))


#: Set on an indexer whose every word's documents are keys of its titles (see the module docstring).
BOUNDED_MARK = "_citedhealth_docnames_bounded"


def is_env_backed(builder) -> bool:
    """Whether any of the indexer's mappings is still the environment's own (it never loaded all of them)."""
    pairs = zip(LOADED, ENV_MAPPINGS, strict=True)
    return any(getattr(builder.indexer, name) is getattr(builder.env, env_name, None) for name, env_name in pairs)


def mark_bounded(indexer) -> None:
    """Mark *indexer* (its mappings just loaded) for ``outputs.prune_bounded`` and :func:`bounded_terms`,
    dropping any empty word once."""
    for mapping in (indexer._mapping, indexer._title_mapping):
        for word in [word for word, names in mapping.items() if not names]:
            del mapping[word]
    setattr(indexer, BOUNDED_MARK, True)
    indexer.get_terms = functools.partial(bounded_terms, indexer)


def bounded_terms(indexer, fn2index: dict[str, int]) -> tuple[dict, dict]:
    """``IndexBuilder.get_terms`` for a marked indexer: the same sorted document numbers, without a test per posting.

    Sphinx skips a word's documents that ``fn2index`` (made by ``freeze``
    from the indexer's titles) lacks; a marked indexer's words hold only
    titled documents, so none is skipped. Should one be missing after all,
    Sphinx's own method answers."""
    terms: tuple[dict, dict] = ({}, {})
    try:
        number = fn2index.__getitem__
        for found, mapping in zip(terms, (indexer._mapping, indexer._title_mapping), strict=True):
            for word, names in mapping.items():
                if len(names) == 1:
                    (name,) = names
                    found[word] = number(name)
                else:
                    found[word] = sorted(map(number, names))
    except KeyError:
        return type(indexer).get_terms(indexer, fn2index)
    return terms


def load_indexer(app: Sphinx, builder, docnames) -> None:
    """``StandaloneHTMLBuilder.load_indexer``, taking over the mappings dumped to the very file (see the docstring)."""
    state = app_state(app)
    kept, state.search_index = getattr(state, "search_index", None), None
    if kept is not None and file_stamp(index_path(builder)) == kept[0]:
        mappings = kept[1]
    else:
        mappings = load_pickled(app, builder)
    if mappings is None:
        type(builder).load_indexer(builder, docnames)
        if not is_env_backed(builder):  # the file loaded (and was pruned by Sphinx's prune)
            mark_bounded(builder.indexer)
        return
    for name, value in mappings.items():
        setattr(builder.indexer, name, value)
    mark_bounded(builder.indexer)
    # What load_indexer does after loading: drop the documents about to be written.
    builder.indexer.prune(set(builder.env.all_docs).difference(docnames))


#: Write the index in a forked child (see the module docstring); the preview's warm worker sets it.
DUMP_IN_CHILD = False


class SearchIndexNotWrittenError(SphinxError):
    category = "The search index could not be written"


def dump_search_index(app: Sphinx, builder) -> None:
    """``StandaloneHTMLBuilder.dump_search_index``, then the mappings it wrote are kept for the next build
    (in memory for this process, pickled beside the environment for a new one)."""
    state = app_state(app)
    state.search_index = None
    indexer = builder.indexer
    if DUMP_IN_CHILD and indexer is not None and hasattr(os, "fork") and app.parallel <= 1:
        # What Sphinx's dump does first, done here: the mappings kept are the ones written.
        indexer.prune(builder.env.all_docs)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: Sphinx's own dump, then leave without running the parent's exit code
            code = 1
            try:
                type(builder).dump_search_index(builder)
                save_dumped(app, builder)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        state.search_dump = (pid, os.getpid())
        return
    type(builder).dump_search_index(builder)
    save_dumped(app, builder)
    keep_dumped(app, builder)


def dumped_mappings(builder) -> dict | None:
    """The mappings the index file was just written from, or None if they are the environment's own.

    An indexer that never loaded a file works on the environment's own
    mappings (pickled with it): those are never handed on, nor pickled apart."""
    indexer = builder.indexer
    if indexer is None or is_env_backed(builder) or not getattr(indexer, BOUNDED_MARK, False):
        return None
    return {name: getattr(indexer, name) for name in LOADED}


def save_dumped(app: Sphinx, builder) -> None:
    """Pickle the mappings just dumped beside the environment, for the next process (or drop a stale pickle)."""
    if builder.indexer is None:
        return
    mappings = dumped_mappings(builder)
    if mappings is None:
        pickle_path(app, builder).unlink(missing_ok=True)
        return
    save_pickled(app, builder, mappings)


def keep_dumped(app: Sphinx, builder) -> None:
    """Keep the indexer's mappings with the stamp of the file just written from them."""
    mappings = dumped_mappings(builder)
    if mappings is None:
        return
    stamp = file_stamp(index_path(builder))
    if stamp is not None:
        app_state(app).search_index = (stamp, mappings)


def wait_for_dump(app: Sphinx, exception: BaseException | None = None) -> None:
    """build-finished, last: the index a forked child writes is complete, or the build fails."""
    state = app_state(app)
    pending, state.search_dump = getattr(state, "search_dump", None), None
    if pending is None or pending[1] != os.getpid():
        return
    _, status = os.waitpid(pending[0], 0)
    if os.waitstatus_to_exitcode(status) != 0:
        state.search_index = None
        raise SearchIndexNotWrittenError(
            f"writing the search index {index_path(app.builder)} failed (the traceback is above)"
        )
    if exception is None:
        keep_dumped(app, app.builder)


def keep_index_in_memory(app: Sphinx) -> None:
    """builder-inited: the HTML builders (not one that loads or dumps its own way) keep their index in memory."""
    from sphinx.builders.html import StandaloneHTMLBuilder
    from sphinx.search import js_index

    builder = app.builder
    if (
        not keeps_methods(builder, StandaloneHTMLBuilder, "load_indexer", "dump_search_index")
        or builder.indexer_format is not js_index
    ):
        return
    app_state(app).search_index = None
    builder.load_indexer = functools.partial(load_indexer, app, builder)
    builder.dump_search_index = functools.partial(dump_search_index, app, builder)


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", keep_index_in_memory)
    # After the handlers it runs beside (the audit is the last, at 800), before the diagnostics (850).
    app.connect("build-finished", wait_for_dump, priority=840)
    app.connect("doctree-resolved", cache_stemming)
