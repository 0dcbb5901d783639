"""The live preview's publication: only good builds reach the served folder, and no response mixes two.

Contract: :class:`Publisher` copies a finished build from the staging folder
Sphinx writes into to the folder the server serves, only what changed (in
content: a page written again as it was is not copied, and reloads no
browser), each file through a hidden partial file and an atomic rename; files the build no
longer has are removed. :class:`PublishGate`, an ASGI middleware in front of
the static files, holds HTTP requests while a publication copies (and a
publication waits for the requests being answered), so a response never
reads a file mid-copy or mixes two builds; while a build runs
(``Publisher.settled`` clear) a request waits for it, up to
:data:`HOLD_SECONDS`, so it gets the page as just saved. WebSocket traffic
(the reload channel) passes through.

The early page: when a save changed one document, the worker renders its page
first and the server publishes that one file before the build goes on
(:meth:`Publisher.publish_early`). While the rest of the build runs, requests
for that page, for the theme's and the site's static files (``_static/``:
a build that reads one changed document does not change them) and for the
preview's client script are answered at once; every other request still
waits for the build. When the build ends well, its publication copies the
early page again only if the build wrote it differently; when it fails, the
early page is withdrawn and the last good one is served again
(:meth:`Publisher.withdraw_early`), as for any failed build.

No Sphinx here: :mod:`.server` decides when a build is good and calls
:meth:`Publisher.publish`; tests drive both classes in-process
(``tests/test_preview_app.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from collections.abc import Iterable

    from starlette.types import ASGIApp, Receive, Scope, Send

#: Longest a request waits for a build under way before it gets the last good build.
HOLD_SECONDS = 2.0


class Publisher:
    """Copies good builds from the staging folder into the served folder.

    New requests wait while a copy runs, and a copy waits for the requests
    being answered, so no response mixes two builds or reads a file mid-copy.
    """

    def __init__(self, staging: Path, served: Path, skip: Iterable[Path] = ()) -> None:
        self.staging = staging
        self.served = served
        self.skip = {p.resolve() for p in skip}
        self.snapshot: dict[str, tuple[int, int]] | None = None
        self.open = asyncio.Event()
        self.open.set()
        # Clear while a build runs: requests wait for it (up to HOLD_SECONDS)
        # rather than get the page from before the save.
        self.settled = asyncio.Event()
        self.settled.set()
        self.active = 0
        self.idle = asyncio.Condition()
        #: Set and cleared at once by an early publication: it wakes the requests waiting for the build.
        self.news = asyncio.Event()
        #: Pages published early in the build under way: relative path -> the
        #: hidden copy of the page they replaced (None: there was none).
        self.early: dict[str, Path | None] = {}
        #: Early pages the last publication replaced because the build wrote them otherwise (a bug if any).
        self.early_differed: list[str] = []
        #: URL path -> how many requests for it wait for the build under way (wait_for_build).
        self.held: dict[str, int] = {}

    def _scan(self) -> dict[str, tuple[int, int]]:
        files = {}
        for root, dirs, names in os.walk(self.staging):
            dirs[:] = [d for d in dirs if (Path(root) / d).resolve() not in self.skip]
            for name in names:
                path = Path(root, name)
                stat = path.stat()
                files[path.relative_to(self.staging).as_posix()] = (stat.st_size, stat.st_mtime_ns)
        return files

    def _copy(self) -> list[str]:
        files = self._scan()
        if self.snapshot is None:
            # First publication: the served folder becomes a mirror of the build.
            old = {
                p.relative_to(self.served).as_posix() for p in self.served.rglob("*") if p.is_file() or p.is_symlink()
            }
            previous: dict = dict.fromkeys(old)
        else:
            previous = self.snapshot
        changed = []
        early, self.early = self.early, {}
        self.early_differed = []
        for rel, key in files.items():
            target = self.served / rel
            if rel not in early and previous.get(rel) == key:
                continue
            if same_bytes(self.staging / rel, target):
                # Written again as it was (Sphinx rewrites the pages whose
                # toctree holds a changed page), or as published early: served already.
                continue
            if rel in early:
                self.early_differed.append(rel)
            elif previous.get(rel) == key:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.preview-partial")
            shutil.copy2(self.staging / rel, partial)
            os.replace(partial, target)
            changed.append(rel)
        for rel in previous.keys() - files.keys():
            with contextlib.suppress(FileNotFoundError):
                (self.served / rel).unlink()
            changed.append(rel)
        for backup in early.values():
            if backup is not None:
                backup.unlink(missing_ok=True)
        self.snapshot = files
        return changed

    async def _exclusively(self, copy, *args):
        """Run *copy* in a thread while no request is answered (new ones wait; it waits for those under way)."""
        self.open.clear()
        try:
            async with self.idle:
                await self.idle.wait_for(lambda: self.active == 0)
            return await asyncio.to_thread(copy, *args)
        finally:
            self.open.set()

    async def publish(self) -> list[str]:
        """Copy what changed; return the paths (relative to the served folder) that did."""
        return await self._exclusively(self._copy)

    def _copy_early(self, folder: Path, rel: str) -> None:
        target = self.served / rel
        if rel not in self.early:
            backup = target.with_name(f".{target.name}.preview-before")
            try:
                os.replace(target, backup)
            except FileNotFoundError:
                backup = None
            self.early[rel] = backup
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.preview-partial")
        shutil.copy2(folder / rel, partial)
        os.replace(partial, target)

    async def publish_early(self, folder: Path, rel: str) -> None:
        """Serve *folder*/*rel*, one page the build under way rendered first, before the build ends."""
        await self._exclusively(self._copy_early, folder, rel)
        # Requests waiting for the build look again: theirs may be answered now.
        self.news.set()
        self.news.clear()

    def _withdraw(self) -> list[str]:
        early, self.early = self.early, {}
        for rel, backup in early.items():
            target = self.served / rel
            if backup is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(backup, target)
        return list(early)

    async def withdraw_early(self) -> list[str]:
        """The build failed: serve again the pages its early pages replaced; return their paths."""
        if not self.early:
            return []
        return await self._exclusively(self._withdraw)

    async def wait_for_build(self, path: str) -> None:
        """Until the build under way ends, or publishes *path* early, or HOLD_SECONDS pass."""
        deadline = asyncio.get_running_loop().time() + HOLD_SECONDS
        self.held[path] = self.held.get(path, 0) + 1
        try:
            while not self.settled.is_set() and not self.answers_at_once(path):
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    return
                waits = [asyncio.ensure_future(self.settled.wait()), asyncio.ensure_future(self.news.wait())]
                try:
                    await asyncio.wait(waits, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for wait in waits:
                        wait.cancel()
        finally:
            # With no await between this and __aenter__ (the gate's next step), a
            # request is always counted as held or as being answered.
            self.held[path] -= 1
            if not self.held[path]:
                del self.held[path]

    async def early_answered(self, timeout: float) -> bool:
        """Until every request that waited for what was published early has been answered, or *timeout* passes.

        The server waits for this before it lets the build go on (see
        :mod:`.worker`): on two cores the saved page is served sooner when the
        rest of the build does not compete with its responses. False if the
        time ran out."""

        def answered() -> bool:
            return self.active == 0 and not any(self.answers_at_once(path) for path in self.held)

        try:
            async with self.idle:
                await asyncio.wait_for(self.idle.wait_for(answered), timeout)
        except TimeoutError:
            return False
        return True

    def answers_at_once(self, path: str) -> bool:
        """Whether a request for URL *path* is answered during a build, without waiting for it."""
        if not self.early:
            return False
        rel = served_file(path)
        return rel in self.early or rel.startswith(("_static/", "_preview/"))

    async def __aenter__(self) -> None:
        await self.open.wait()
        self.active += 1

    async def __aexit__(self, *exc) -> None:
        self.active -= 1
        async with self.idle:
            self.idle.notify_all()


def same_bytes(one: Path, other: Path) -> bool:
    try:
        return one.stat().st_size == other.stat().st_size and one.read_bytes() == other.read_bytes()
    except OSError:
        return False


def served_file(path: str) -> str:
    """The served file a URL path names, relative to the served folder: ``/a/`` -> ``a/index.html``."""
    rel = unquote(path).lstrip("/")
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    return rel


class PublishGate:
    """ASGI middleware: HTTP requests are answered only between two publications.

    A request that comes while a build runs waits for it, up to HOLD_SECONDS
    (a build that takes longer does not stall the site), unless it asks for
    what the build published early (:meth:`Publisher.answers_at_once`); none
    is answered while a publication copies files.
    """

    def __init__(self, app: ASGIApp, publisher: Publisher) -> None:
        self.app = app
        self.publisher = publisher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.publisher.wait_for_build(scope["path"])
        async with self.publisher:
            await self.app(scope, receive, send)
