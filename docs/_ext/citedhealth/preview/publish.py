"""The live preview's publication: only good builds reach the served folder, and no response mixes two.

Contract: :class:`Publisher` copies a finished build from the staging folder
Sphinx writes into to the folder the server serves, only what changed, each
file through a hidden partial file and an atomic rename; files the build no
longer has are removed. :class:`PublishGate`, an ASGI middleware in front of
the static files, holds HTTP requests while a publication copies (and a
publication waits for the requests being answered), so a response never
reads a file mid-copy or mixes two builds; while a build runs
(``Publisher.settled`` clear) a request waits for it, up to
:data:`HOLD_SECONDS`, so it gets the page as just saved. WebSocket traffic
(the reload channel) passes through.

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

    def _scan(self) -> dict[str, tuple[int, int]]:
        files = {}
        for root, dirs, names in os.walk(self.staging):
            dirs[:] = [d for d in dirs if (Path(root) / d).resolve() not in self.skip]
            for name in names:
                path = Path(root, name)
                stat = path.stat()
                files[path.relative_to(self.staging).as_posix()] = (stat.st_size, stat.st_mtime_ns)
        return files

    def _copy(self) -> int:
        files = self._scan()
        if self.snapshot is None:
            # First publication: the served folder becomes a mirror of the build.
            old = {
                p.relative_to(self.served).as_posix() for p in self.served.rglob("*") if p.is_file() or p.is_symlink()
            }
            previous: dict = dict.fromkeys(old)
        else:
            previous = self.snapshot
        changed = 0
        for rel, key in files.items():
            if previous.get(rel) == key:
                continue
            target = self.served / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.preview-partial")
            shutil.copy2(self.staging / rel, partial)
            os.replace(partial, target)
            changed += 1
        for rel in previous.keys() - files.keys():
            with contextlib.suppress(FileNotFoundError):
                (self.served / rel).unlink()
            changed += 1
        self.snapshot = files
        return changed

    async def publish(self) -> int:
        """Copy what changed; return how many files did."""
        self.open.clear()
        try:
            async with self.idle:
                await self.idle.wait_for(lambda: self.active == 0)
            return await asyncio.to_thread(self._copy)
        finally:
            self.open.set()

    async def __aenter__(self) -> None:
        await self.open.wait()
        self.active += 1

    async def __aexit__(self, *exc) -> None:
        self.active -= 1
        async with self.idle:
            self.idle.notify_all()


class PublishGate:
    """ASGI middleware: HTTP requests are answered only between two publications.

    A request that comes while a build runs waits for it, up to HOLD_SECONDS
    (a build that takes longer does not stall the site); none is answered
    while a publication copies files.
    """

    def __init__(self, app: ASGIApp, publisher: Publisher) -> None:
        self.app = app
        self.publisher = publisher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.publisher.settled.wait(), HOLD_SECONDS)
        async with self.publisher:
            await self.app(scope, receive, send)
