"""Recovery from interrupted builds: a build killed partway leaves no trace in the next one.

Contract: while a build runs, a marker file (:data:`MARKER`) sits in the
doctree folder; it is removed when the build finishes without an exception.
If a build starts and finds the marker, the previous build into the same
folders was killed or crashed, so this one starts afresh: it removes the
saved environment before Sphinx loads it, so every document is read and
written again (the HTML builder also copies every asset again and writes a
new search index), and the result equals a clean build. Nothing else is
deleted: the output folder may hold what is not ours.

Why: Sphinx's incremental build trusts what it finds. A build killed
(SIGKILL, out of memory, a closed terminal) while writing leaves pages,
assets or the search index half-written or missing, with a saved
environment that says everything is up to date; the next build then skips
those pages, or fails ("search index couldn't be loaded" followed by a
traceback). A marker costs nothing on a normal build and cannot be fooled
by timestamps.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sphinx.application import ENV_PICKLE_FILENAME

from .common import logger

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

MARKER = "citedhealth-build-in-progress"


def start_build(app: Sphinx, config: Config) -> None:
    """Before the environment is loaded: recover from an unfinished build, then mark this one."""
    doctreedir = Path(app.doctreedir)
    marker = doctreedir / MARKER
    if marker.exists():
        logger.info(
            "the previous build into %s did not finish: building afresh",
            app.outdir,
            color="darkred",
        )
        (doctreedir / ENV_PICKLE_FILENAME).unlink(missing_ok=True)
    doctreedir.mkdir(parents=True, exist_ok=True)
    marker.write_text(
        "A build into this folder is running, or was killed or crashed; the next build starts afresh.\n",
        encoding="utf-8",
    )


def finish_build(app: Sphinx, exception: BaseException | None) -> None:
    """The build ended: remove the marker unless it ended with an exception."""
    if exception is None:
        (Path(app.doctreedir) / MARKER).unlink(missing_ok=True)


def setup(app: Sphinx) -> None:
    app.connect("config-inited", start_build)
    # Last, after every other handler has written what it writes.
    app.connect("build-finished", finish_build, priority=900)
