"""Parallel builds only when they pay.

Contract: with ``-j N``, Sphinx 9 reads and writes in worker processes however
few documents there are, and each worker receives and sends back a pickled
copy of the whole environment: a cost that grows with the size of the site.
Editing one article among 200 then costs more in parallel than serially.
When a build reads, or writes, at most ``SERIAL_UP_TO`` documents (5, the
threshold Sphinx 7 used), this module has Sphinx do that phase in the main
process. A cold build, or one that rewrites many pages, stays parallel. The
output is the same either way; only the time differs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .common import app_state

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

SERIAL_UP_TO = 5


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


def setup(app: Sphinx) -> None:
    app.connect("env-before-read-docs", read_few_serially)
    app.connect("env-updated", restore_jobs)
    app.connect("builder-inited", write_few_serially)
