"""How a build uses Python's garbage collector: less often while it runs, not at all as it exits.

Contract: our extension's setup raises the collector's first threshold (how
many new container objects trigger a collection) from 700 to 10,000, as
mypy and other tools that build large object graphs do; and, when the
process exits, freezes what is still alive (``gc.freeze``) before the
interpreter tears itself down, so its final collections do not walk it.
Nothing is written or flushed differently: files are closed by the code that
wrote them, ``logging`` and the standard streams flush after this runs, and
objects outside reference cycles are finalised as usual. In a long-lived
process (the live preview) the freeze only happens at the very end. While
Sphinx loads the pickled environment (between ``config-inited`` and
``builder-inited``), the collector is off altogether, and what was loaded
is then frozen (``gc.freeze``) until the build finishes: unpickling makes
objects and no garbage, and the environment lives as long as the build, so
no collection need walk it. A 17,000-entry bibliography's environment
(28 MB, a few million objects) loaded in 2.1 s with the raised threshold
and 0.8 s without any collection, and each later collection walked it all
again (seconds in all). At ``build-finished`` the frozen objects are handed
back to the collector, so a long-lived process can still free them. Each
later build of the same application (the live preview's warm worker builds
one application again and again, and never loads an environment) freezes
what is alive when it starts (``env-get-outdated``, the first event of a
build's reading) until it finishes, in the same way: its collections walk
what the build makes, not the whole site that is kept between builds. At
1000 articles they took 0.1 to 0.3 s of every warm rebuild, and now and then
several seconds.

Why: a build makes and keeps a large graph of cyclic objects (docutils nodes
point to their parents; the environment holds every document's table of
contents and every citation). With the default threshold, loading the
pickled environment of 200 articles spends two thirds of its time in the
collector (0.06 s of 0.09 s), and tearing the interpreter down walks the
whole graph again: 0.14 s after a one-article build, 0.38 s after a
200-article one, measured on the 2-core machine of issue 7. Both grow with
the site; together they were half the time an author waited for a one-line
edit to rebuild at 200 articles.
"""

from __future__ import annotations

import atexit
import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx

#: New container objects between two young-generation collections (Python's default: 700).
YOUNG_THRESHOLD = 10_000
#: Documents a worker process reads, or resolves and writes, between two collections (see WorkerCollections).
WORKER_COLLECT_EVERY = 64


class WorkerCollections:
    """In a forked reader or writer of a parallel build: no automatic collection; one every so many documents.

    A worker reads, or resolves and writes, one chunk of documents, then
    exits. Each document leaves its doctree behind as cyclic garbage (docutils
    nodes point to their parents), which only the collector frees; but most of
    what an automatic collection walks is alive (the document being made) or
    was inherited from the main process, and a collection touches, so copies,
    every page of memory it walks. Measured on a cold build at 1000 articles:
    the readers spent 4 s in automatic collections, the writers 3.5 s (when
    the main process resolved for them), and a full collection every 16
    documents cost more still (0.1 to 0.4 s each). Here the worker freezes
    what it inherited (``gc.freeze``), turns the automatic collections off,
    and collects once every :data:`WORKER_COLLECT_EVERY` documents
    (:meth:`document_done`): none at 1000 articles (about 60 documents a
    chunk; a reader's memory peaked at 125 MB, a writer's at 210 MB), and at
    most that many documents' garbage at a time on a larger site, whose chunks
    are larger (Sphinx's ``make_chunks`` grows them as the square root of the
    site)."""

    def __init__(self, every: int = WORKER_COLLECT_EVERY) -> None:
        self.every = every
        self.done = 0
        gc.disable()
        gc.freeze()

    def document_done(self) -> None:
        self.done += 1
        if self.done % self.every == 0:
            gc.collect()


def freeze_survivors() -> None:
    # atexit handlers run before the interpreter's final collections.
    gc.freeze()


def pause_collector(app: Sphinx, config) -> None:
    gc.disable()


def resume_collector(app: Sphinx) -> None:
    gc.freeze()  # the environment just loaded: alive for the whole build
    gc.enable()


def freeze_what_is_kept(app: Sphinx, env, added, changed, removed) -> list[str]:
    """env-get-outdated: what lives at the start of a build (the environment kept from the last) is frozen."""
    gc.freeze()
    return []


def thaw(app: Sphinx, exception: BaseException | None) -> None:
    gc.unfreeze()


def setup(app: Sphinx) -> None:
    # The environment is loaded after config-inited and before builder-inited.
    app.connect("config-inited", pause_collector, priority=900)
    app.connect("builder-inited", resume_collector, priority=1)
    app.connect("env-get-outdated", freeze_what_is_kept, priority=1)
    app.connect("build-finished", thaw, priority=1000)
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(YOUNG_THRESHOLD, young), middle, old)
    # Once per process, however many Sphinx applications it makes (tests make many).
    atexit.unregister(freeze_survivors)
    atexit.register(freeze_survivors)
