"""Which documents changed since a site-wide handler last looked: so its work costs what a build changed, not the site.

Contract: an ``env-updated`` handler that works out something from every
document (the catalog of articles, the structure digest, the overdue
reviews) keeps its result in a :class:`Tracked` record (:func:`tracked`),
one per handler and environment, held in memory only (never pickled: a new
process, or a new environment, starts with none). Between two of the
handler's calls, every document whose data may have changed is noted in
the record's ``pending`` set:

- each document purged (``env-purge-doc``: Sphinx purges every document it
  reads again, adds or removes, before reading, in serial and parallel
  builds alike, and so does ``preview/worker.render_early_page``);
- each document Sphinx set out to read (``env-before-read-docs``, early,
  before :mod:`.paths` leaves an unreadable one out of the build and of
  ``found_docs`` without purging it).

Nothing else changes what Sphinx keeps per document (``env.metadata``,
``env.titles``, ``env.tocs``, ``env.toctree_includes``, ``found_docs``).
A handler then redoes only the pending documents' share of its result
(:meth:`Tracked.settle` when done); with ``pending`` None (no result yet in
this process) it works everything out, as a first build does. A handler
takes the pending set with :meth:`Tracked.begin`, which leaves None behind
until it settles: one that raises halfway leaves a record the next build
works out whole, never a result half brought up to date.
Whatever else a result depends on (configuration values, the parsed
``.bib``) the handler keeps in ``key`` and compares itself.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment


@dataclass
class Tracked:
    """One handler's result for one environment, and the documents changed since it was made."""

    #: Documents changed since :meth:`settle`; None before the first (work everything out).
    pending: set[str] | None = None
    #: What the result depends on beside the documents (configuration, the parsed .bib...).
    key: object = None
    value: object = None
    #: Extra state the handler keeps beside its result (per-document shares of it).
    parts: dict = field(default_factory=dict)

    def begin(self, key: object) -> set[str] | None:
        """The documents to bring up to date, if the result can be (same *key*), else None.

        The record is unusable from here until :meth:`settle`: an update that
        raises halfway leaves nothing to build on."""
        pending = self.pending if self.key == key else None
        self.pending = None
        return pending

    def settle(self, key: object, value: object) -> None:
        self.key, self.value = key, value
        self.pending = set()


_RECORDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def tracked(env: BuildEnvironment, name: str) -> Tracked:
    """The record *name* keeps for *env* (made empty the first time)."""
    records = _RECORDS.get(env)
    if records is None:
        records = _RECORDS[env] = {}
    record = records.get(name)
    if record is None:
        record = records[name] = Tracked()
    return record


def note(env: BuildEnvironment, docnames) -> None:
    """Mark *docnames* changed in every record of *env* that has a result."""
    for record in _RECORDS.get(env, {}).values():
        if record.pending is not None:
            record.pending.update(docnames)


def note_purged(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    note(env, (docname,))


def note_to_read(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    note(env, docnames)


def setup(app: Sphinx) -> None:
    # Before paths.leave_out_unreadable (500) takes a document out of the list.
    app.connect("env-before-read-docs", note_to_read, priority=50)
    app.connect("env-purge-doc", note_purged, priority=50)
