"""Parallel builds only when they pay.

Contract: with ``-j N``, Sphinx 9 reads and writes in worker processes however
few documents there are, and each worker receives and sends back a pickled
copy of the whole environment: a cost that grows with the size of the site.
Editing one article among 200 then costs more in parallel than serially.
When a build reads, or writes, at most ``SERIAL_UP_TO`` documents (5, the
threshold Sphinx 7 used), this module has Sphinx do that phase in the main
process. A cold build, or one that rewrites many pages, stays parallel. The
output is the same either way; only the time differs.

A parallel read merges what its workers read only once they have all read.
Sphinx's ``Builder._read_parallel`` (sphinx/builders/__init__.py) forks a
worker per chunk of documents (15 chunks of 70 for 1000 articles with
``-j 2``); each worker sends back the whole environment, pickled, and the main
process merges each one as it arrives. A worker forked after some merges
inherits and sends back every document merged so far: at 1000 articles the
chunks came to 58 MB of pickles, which the main process spent 19 s
unpickling while a core stood idle, longer than the read took on that core.
Here the main process keeps each chunk's pickle and merges them all, in chunk
order, after the last worker is done: every worker is forked from the
environment as it was before the read, so each sends back only what it read
(10.5 MB in all), and the main process does not stop the workers' forks while
it merges. Before the first fork, the main process reads the first document
itself, as a serial read does: each worker then inherits what reading sets
up once per process, instead of making it again (its first document took
86 ms, its next ones 37 ms; now 52 ms), and sends that one document back too.
``Builder.read`` and the merge itself (``merge_info_from``) are
Sphinx's; the order of merging no longer depends on which worker finished
first. Not reported upstream.

A parallel write uses every core, and each writer resolves its own pages.
Sphinx's ``Builder._write_parallel`` resolves each document in the main
process (``get_and_resolve_doctree``, ``write_doc_serialized``: the search
index and the images are the main process's) and forks ``-j`` minus one
workers to write the pages: with ``-j 2``, one. At 1000 articles the main
process resolved for 31 s while the one worker wrote behind it, and it held
every resolved doctree until its writer was done: freeing them (docutils
nodes point to their parents, so only the cycle collector can) cost it 9 s
of garbage collection. Here (:func:`write_in_parallel`) there are as many
writers as ``-j`` says, and each resolves, serialises (picks images, feeds
the search index) and writes its chunk of pages. What ``write_doc_serialized``
changed comes back to the main process: the images picked, and the search
index the writer fed, which started empty (``FED_PER_PAGE``, ``FED_PER_WORD``:
``IndexBuilder.feed``'s own mappings), merged in chunk order, so the index
is the one the main process would have fed. ``doctree-resolved`` fires in the
writer; the main process then emits ``citedhealth-resolved-in-worker`` with
the chunk's pages (diagnostics.py records them as written). Only builders
whose ``write_doc_serialized`` is the HTML builder's or does nothing resolve
in the writers (:func:`resolves_in_writers`); for any other, the main process
resolves, as Sphinx does (:func:`write_resolved_here`). The environment,
alive until the build ends, is frozen for the garbage collector before the
first fork (:func:`gc.freeze`), and readers and writers collect their
garbage only every so many documents, not whenever Python would
(``garbage.WorkerCollections``). ``garbage.thaw`` hands the environment back
at ``build-finished``. Chunks are in order (:func:`write_chunks`: of equal
size but for a short first one, so a writer starts early, and short last
ones, so the writers end together), each written by one worker, as Sphinx
does; a page's HTML does not depend on which worker wrote it or when. Not
reported upstream.
"""

from __future__ import annotations

import functools
import gc
import os
import pickle
from typing import TYPE_CHECKING

from sphinx.builders import _write_docname
from sphinx.locale import __
from sphinx.util import logging
from sphinx.util.build_phase import BuildPhase
from sphinx.util.display import status_iterator
from sphinx.util.parallel import ParallelTasks, make_chunks

from .common import app_state
from .garbage import WorkerCollections

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docutils import nodes
    from sphinx.application import Sphinx
    from sphinx.builders import Builder
    from sphinx.environment import BuildEnvironment

logger = logging.getLogger(__name__)

SERIAL_UP_TO = 5
#: How much lower the write workers' scheduling priority is than the main process's (see the module docstring).
WRITER_NICENESS = 5


def read_few_serially(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    # Sphinx decides on a parallel read from app.parallel right after this event.
    if app.parallel > 1 and len(docnames) <= SERIAL_UP_TO:
        app_state(app).jobs = app.parallel
        app.parallel = 1


def restore_jobs(app: Sphinx, env: BuildEnvironment) -> None:
    state = app_state(app)
    jobs = getattr(state, "jobs", None)
    if jobs is not None:
        app.parallel = jobs
        del state.jobs


def write_few_serially(app: Sphinx) -> None:
    """Wrap the builder's write_documents, the one place that knows how many pages it writes."""
    builder = app.builder
    write_documents = builder.write_documents

    def write(docnames):
        if len(docnames) <= SERIAL_UP_TO:
            builder.parallel_ok = False
        return write_documents(docnames)

    builder.write_documents = write


def even_chunks(items: Sequence[str], nproc: int) -> list[list[str]]:
    """About as many chunks as Sphinx's ``make_chunks`` makes, but a multiple of *nproc*, of equal sizes.

    Workers take chunks as they come free; with 7 chunks for 2 workers (200
    articles) the last one ran alone while a core stood idle. Chunks of equal
    size, in a number the workers share evenly, end together."""
    count = len(make_chunks(items, nproc))
    count = max(nproc, -(-count // nproc) * nproc)
    count = min(count, len(items)) or 1
    size, extra = divmod(len(items), count)
    chunks, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        chunks.append(list(items[start:end]))
        start = end
    return [chunk for chunk in chunks if chunk]


#: The first chunk a parallel write hands out, and the most the last ones hold (see write_chunks).
FIRST_WRITE_CHUNK = 8


def write_chunks(items: Sequence[str], nproc: int) -> list[list[str]]:
    """:func:`even_chunks` for a parallel write, with its first chunk short and its last ones quartered.

    The main process resolves each chunk before a writer can take it: with
    62 articles a chunk (1000 articles, ``-j 2``) the writers waited about a
    second for the first one while a core stood idle. And once the main
    process has resolved the last chunk, the writers finish what they hold
    one chunk each: the shorter those are, the less time one core waits for
    the other at the end. So the first chunk holds :data:`FIRST_WRITE_CHUNK`
    documents, and the last ``nproc`` chunks of the even split are cut in
    four. Order and contents are unchanged; only where the cuts fall."""
    chunks = even_chunks(items, nproc)
    if len(chunks) <= nproc:
        return chunks
    head, middle, tail = chunks[0], chunks[1:-nproc], chunks[-nproc:]
    first = [head[:FIRST_WRITE_CHUNK], head[FIRST_WRITE_CHUNK:]]
    quartered = []
    for chunk in tail:
        size = -(-len(chunk) // 4)
        quartered += [chunk[start : start + size] for start in range(0, len(chunk), size)]
    return [chunk for chunk in (*first, *middle, *quartered) if chunk]


def in_start_order(chunks: list[list[str]], nproc: int) -> list[tuple[int, list[str]]]:
    """*chunks*, numbered, in the order to hand them to ``ParallelTasks`` so that they start in their order.

    ``ParallelTasks.add_task`` starts a task at once while fewer than *nproc*
    run, and queues the rest; each time a task ends, ``_join_one`` starts the
    queued task added last (``dict.popitem``). Handed over in chunk order,
    chunks 0 and 1 (``-j 2``) ran first and then the last, the one before it,
    and so on: a write's short last chunks (:func:`write_chunks`) ran early and
    its long second one last, while a core stood idle, and the search index,
    merged in chunk order, waited for the end. So the first *nproc* chunks are
    handed over in order and the others reversed. Leaning on Sphinx's
    internals (see ``upstream.py``); a test checks the order the chunks start in."""
    numbered = list(enumerate(chunks))
    return numbered[:nproc] + numbered[nproc:][::-1]


def read_in_parallel(builder: Builder, docnames: list[str], nproc: int) -> None:
    """Sphinx's ``Builder._read_parallel``, with every chunk merged after all are read (see the module docstring)."""
    # As Sphinx does: clear all outdated documents at once, before any fork.
    for docname in docnames:
        builder.events.emit("env-purge-doc", builder.env, docname)
        builder.env.clear_doc(docname)
    # The first document is read here, as a serial read would, before any fork:
    # what reading makes once per process (docutils' option parsers, which
    # docsettings.py keeps, MyST-Parser's and pybtex's set-up, imports done on
    # first use) is then made once and inherited by every worker. Each worker
    # spent about 50 ms more on its first document than on the next.
    first, docnames = docnames[0], docnames[1:]
    builder.read_doc(first, _cache=False)
    chunks = even_chunks(docnames, nproc)
    progress = status_iterator(chunks, __("reading sources... "), "purple", len(chunks), builder.config.verbosity)

    def read_process(docs: list[str]) -> bytes:
        builder.env._app = builder._app
        collector = WorkerCollections()
        for docname in docs:
            builder.read_doc(docname, _cache=False)
            collector.document_done()
        return pickle.dumps(builder.env, pickle.HIGHEST_PROTOCOL)

    read: dict[int, bytes] = {}

    def keep(index: int, docs: list[str], otherenv: bytes) -> None:
        read[index] = otherenv
        next(progress)

    tasks = ParallelTasks(nproc)
    for index, chunk in in_start_order(chunks, nproc):
        tasks.add_task(read_process, chunk, functools.partial(keep, index))
    tasks.join()
    for index, chunk in enumerate(chunks):
        builder.env.merge_info_from(chunk, pickle.loads(read.pop(index)), builder._app)
    logger.info("")


#: What ``IndexBuilder.feed`` sets for each page it is given: per-page values, then word -> pages.
FED_PER_PAGE = ("_titles", "_filenames", "_all_titles", "_index_entries")
FED_PER_WORD = ("_mapping", "_title_mapping")
#: The event the main process emits for each chunk its writers resolved (``doctree-resolved``
#: fired in the writer's process): ``(app, docnames)``.
RESOLVED_IN_WORKER = "citedhealth-resolved-in-worker"


def resolves_in_writers(builder: Builder) -> bool:
    """Whether the writers may resolve their own pages: what ``write_doc_serialized`` does is known.

    Sphinx runs ``write_doc_serialized`` in the main process ("must be
    called in the main process"). The base builder's does nothing; the HTML
    builder's picks images (``builder.images``) and feeds the search index,
    which the writers hand back (:func:`write_in_parallel`). Any other
    override might keep state we cannot hand back: that builder's pages are
    resolved in the main process, as Sphinx does."""
    from sphinx.builders import Builder
    from sphinx.builders.html import StandaloneHTMLBuilder

    method = type(builder).write_doc_serialized
    return method in (Builder.write_doc_serialized, StandaloneHTMLBuilder.write_doc_serialized)


def write_first_page(builder: Builder, docnames: Sequence[str], nproc: int):
    """As Sphinx does, the first page written here (which compiles the templates before any fork); then
    the environment frozen (see the module docstring), and the tasks, chunks and progress of the others."""
    firstname, docnames = docnames[0], docnames[1:]
    _write_docname(firstname, env=builder.env, builder=builder, tags=builder.tags)
    gc.freeze()
    chunks = write_chunks(docnames, nproc)
    progress = status_iterator(chunks, __("writing output... "), "darkgreen", len(chunks), builder.config.verbosity)
    return ParallelTasks(nproc), chunks, progress


def write_in_parallel(builder: Builder, docnames: Sequence[str], nproc: int) -> None:
    """Sphinx's ``Builder._write_parallel`` with ``-j`` writers, not one fewer, each resolving its own pages.

    *nproc* is what Sphinx's ``write_documents`` passes (``-j`` minus one); the
    writers are as many as ``-j``. See the module docstring."""
    nproc = max(nproc, builder._app.parallel)
    if not resolves_in_writers(builder):
        write_resolved_here(builder, docnames, nproc)
        return
    indexer = getattr(builder, "indexer", None)

    def write_process(docs: list[str]) -> tuple[dict | None, dict]:
        collector = WorkerCollections()
        if indexer is not None:
            # Feed an empty index: what this chunk adds is then all it holds.
            for name in FED_PER_PAGE + FED_PER_WORD:
                setattr(indexer, name, {})
        images = dict(builder.images)
        for docname in docs:
            builder.phase = BuildPhase.RESOLVING
            doctree = builder.env.get_and_resolve_doctree(docname, builder, tags=builder.tags)
            builder.write_doc_serialized(docname, doctree)
            builder.phase = BuildPhase.WRITING
            builder.write_doc(docname, doctree)
            del doctree
            collector.document_done()
        fed = None if indexer is None else {name: getattr(indexer, name) for name in FED_PER_PAGE + FED_PER_WORD}
        return fed, {uri: name for uri, name in builder.images.items() if uri not in images}

    tasks, chunks, progress = write_first_page(builder, docnames, nproc)
    done: dict[int, tuple[list[str], dict | None, dict]] = {}
    merged = 0

    def on_chunk_done(index: int, docs: list[str], result: tuple[dict | None, dict]) -> None:
        # Merged in chunk order, as the main process fed them before: the
        # index's lists of entries keep the order of the pages.
        nonlocal merged
        done[index] = (docs, *result)
        while merged in done:
            docs, fed, images = done.pop(merged)
            merged += 1
            if fed is not None:
                for name in FED_PER_PAGE:
                    getattr(indexer, name).update(fed[name])
                for name in FED_PER_WORD:
                    mapping = getattr(indexer, name)
                    for word, pages in fed[name].items():
                        mapping.setdefault(word, set()).update(pages)
            builder.images.update(images)
            builder.events.emit(RESOLVED_IN_WORKER, docs)
        next(progress)

    for index, chunk in in_start_order(chunks, nproc):
        tasks.add_task(write_process, chunk, functools.partial(on_chunk_done, index))
    tasks.join()
    logger.info("")


def write_resolved_here(builder: Builder, docnames: Sequence[str], nproc: int) -> None:
    """As Sphinx does: the main process resolves every page and the writers write them (niced)."""

    def write_process(docs: list[tuple[str, nodes.document]]) -> None:
        os.nice(WRITER_NICENESS)
        builder.phase = BuildPhase.WRITING
        for docname, doctree in docs:
            builder.write_doc(docname, doctree)

    tasks, chunks, progress = write_first_page(builder, docnames, nproc)

    def on_chunk_done(args: list[tuple[str, nodes.document]], result: None) -> None:
        next(progress)

    builder.phase = BuildPhase.RESOLVING
    for chunk in chunks:
        arg = []
        for docname in chunk:
            doctree = builder.env.get_and_resolve_doctree(docname, builder, tags=builder.tags)
            builder.write_doc_serialized(docname, doctree)
            arg.append((docname, doctree))
        tasks.add_task(write_process, arg, on_chunk_done)
    tasks.join()
    logger.info("")


def merge_after_reading(app: Sphinx) -> None:
    """builder-inited: the builder reads with :func:`read_in_parallel` and writes with :func:`write_in_parallel`."""
    builder = app.builder
    if hasattr(builder, "_read_parallel"):
        builder._read_parallel = functools.partial(read_in_parallel, builder)
    if hasattr(builder, "_write_parallel"):
        builder._write_parallel = functools.partial(write_in_parallel, builder)


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", merge_after_reading)
    app.connect("env-before-read-docs", read_few_serially)
    app.connect("env-updated", restore_jobs)
    app.connect("builder-inited", write_few_serially)
