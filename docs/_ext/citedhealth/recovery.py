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

One build per folder at a time: a build holds a lock on its doctree folder
and one on its output folder (files beside them, :data:`LOCK`) from
before the environment is loaded until it has finished. A second build into
either waits, saying so, for up to :data:`WAIT_SECONDS`, then fails clearly.
So the marker seen at start is always a finished build's or a dead one's,
never that of a build still running beside this one. The locks are
``flock`` locks (through ``filelock``): the system releases them when a
build dies, however it dies.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout
from sphinx.application import ENV_PICKLE_FILENAME
from sphinx.errors import SphinxError

from .common import logger

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

MARKER = "citedhealth-build-in-progress"
#: The lock files: inside the doctree folder, and beside the output folder
#: (not in it: the output folder is what gets published).
LOCK = "citedhealth-build.lock"
#: How long a second build waits for the first.
WAIT_SECONDS = 600.0


class BuildLockTimeoutError(SphinxError):
    category = "Another build is running"


def lock_paths(app: Sphinx) -> list[Path]:
    doctreedir, outdir = Path(app.doctreedir).resolve(), Path(app.outdir).resolve()
    return [doctreedir / LOCK, outdir.parent / f".{outdir.name}.{LOCK}"]


#: One lock object per lock file in this process: builds in one process run
#: one after another, and a test's application that never finished its build
#: must not keep the next one waiting on its own process.
LOCKS: dict[Path, FileLock] = {}


def hold_locks(app: Sphinx) -> None:
    """Take this build's locks (the doctree folder's first, so two builds never wait on each other)."""
    for path in lock_paths(app):
        lock = LOCKS.get(path)
        if lock is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = LOCKS[path] = FileLock(path)
        if lock.is_locked:
            continue  # held by this process
        try:
            lock.acquire(timeout=0)
        except Timeout:
            # On stderr, not Sphinx's log: shown even with -q, and never a warning that -W would fail.
            print(f"another build is using {path.parent}: waiting for it to finish", file=sys.stderr, flush=True)
            try:
                lock.acquire(timeout=WAIT_SECONDS)
            except Timeout:
                raise BuildLockTimeoutError(
                    f"another build has held {path} for {WAIT_SECONDS:.0f} s; "
                    "wait for it to finish, or stop it, then build again"
                ) from None


def release_locks(app: Sphinx, exception: BaseException | None) -> None:
    for path in reversed(lock_paths(app)):
        lock = LOCKS.get(path)
        if lock is not None and lock.is_locked:
            lock.release(force=True)


def lock_again(app: Sphinx, env, added, changed, removed) -> list[str]:
    """A warm application (the live preview) builds again: take the locks it gave up."""
    hold_locks(app)
    return []


def start_build(app: Sphinx, config: Config) -> None:
    """Before the environment loads: wait for builds into the same folders, recover from a dead one, mark this one."""
    hold_locks(app)
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
        f"Build by process {os.getpid()} is running, or was killed or crashed; the next build starts afresh.\n",
        encoding="utf-8",
    )


def finish_build(app: Sphinx, exception: BaseException | None) -> None:
    """The build ended: remove the marker unless it ended with an exception."""
    if exception is None:
        (Path(app.doctreedir) / MARKER).unlink(missing_ok=True)


def setup(app: Sphinx) -> None:
    # First of all: nothing is read from the folders before the locks are held.
    app.connect("config-inited", start_build, priority=100)
    app.connect("env-get-outdated", lock_again, priority=100)
    # Last, after every other handler has written what it writes.
    app.connect("build-finished", finish_build, priority=900)
    app.connect("build-finished", release_locks, priority=1000)
