"""The live preview server: sphinx-autobuild's server, watcher and browser reload, a warm builder.

Contract: ``python -m citedhealth.preview SOURCEDIR OUTPUTDIR [sphinx-build
options] [--host H] [--port P]`` (the command line of ``sphinx-autobuild``)
serves OUTPUTDIR and rebuilds on every save under SOURCEDIR (and ``--watch``
folders), with these guarantees:

- **Warm.** Builds run in a Sphinx application kept in a worker process
  (:mod:`.worker`), not a new ``sphinx-build`` per save. A change to Python
  code (``conf.py``, the extension) or a build that raised an exception
  cannot be trusted to a warm application: the next build runs in a new
  process with a new environment, forked from a fork server that has
  already imported Sphinx (not our extension), so it takes well under a
  second.
- **Staged.** Sphinx writes into a staging folder (OUTPUTDIR's sibling
  ``<name>.preview-staging``); only a good build is published into OUTPUTDIR
  (:mod:`.publish`: file by file with atomic renames, while new requests
  wait and none is being answered). A half-written page is never served,
  and after a failed build the last good pages stay served. A request that
  comes during a build waits for it (up to two seconds), so it gets the page
  as saved.
- **The saved page first.** When a save changed one document, its page is
  rendered first (:mod:`.worker`, in a fork of the warm process) and served
  before the rest of the build, which starts once the requests held for the
  page are answered (up to :data:`EARLY_ANSWER_WAIT`); the build's own
  publication then stands (it replaces the early page if it wrote it
  differently, and withdraws it if the build failed).
- **Errors in the browser.** Each served HTML page gets a script
  (``/_preview/client.js``, through sphinx-autobuild's injector) that connects to ``/websocket-reload``
  and says which page it shows, as of which generation; after each
  publication the server sends ``{"generation": n, "errors": [...],
  "reload": bool}``. ``reload`` is true when that page changed since (or
  something every page loads: :data:`SHOWN_BY_EVERY_PAGE`), so a save
  reloads the pages it changed, once; errors (file, line, message) are drawn
  over the page; the terminal shows them too.
- **Debounced.** Changes are grouped until the files have been quiet for
  ``--debounce-ms`` (default 5 ms: an editor's save, even through a
  temporary file and a rename, takes well under that); changes during a build make one build
  after it.

``/_preview/status`` answers the same status as JSON, plus the build count,
for tests and the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import importlib.util
import json
import multiprocessing
import os
import runpy
import shutil
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
import watchfiles
from sphinx.cmd.build import _parse_confoverrides
from sphinx_autobuild.__main__ import _get_sphinx_build_parser
from sphinx_autobuild.filter import IgnoreFilter
from sphinx_autobuild.middleware import JavascriptInjectorMiddleware
from sphinx_autobuild.server import RebuildServer
from sphinx_autobuild.utils import find_free_port, show_message
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..upstream import PREVIEW_ONLY, version_problems
from .publish import Publisher, PublishGate, served_file
from .worker import static_stamp

if TYPE_CHECKING:
    from collections.abc import Iterable

    from starlette.types import ASGIApp, Receive, Scope, Send

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"
CLIENT_JS = (HERE / "client.js").read_text(encoding="utf-8")

#: Imported once by the fork server that every Sphinx process is forked from:
#: Sphinx, the third-party extensions and what they load lazily. None of ours,
#: which each new process imports fresh from disk.
PRELOAD = [
    "sphinx.application",
    "sphinx.builders.html",
    "sphinx.search.en",
    "sphinx.writers.html5",
    "sphinx.util.docutils",
    "myst_parser",
    "myst_parser.parsers.sphinx_",
    "myst_parser.sphinx_ext.main",
    "sphinxcontrib.bibtex",
    "pybtex.database.input.bibtex",
    "pybtex.style.formatting.unsrt",
    "pybtex.backends.plaintext",
    "furo",
    "pygments.lexers",
    "pygments.formatters.html",
]

#: Files editors write beside the one being saved, and Python's byte code: no build.
EDITOR_NOISE = [r"\.sw[a-p]x?$", r"~$", r"/\.#[^/]*$", r"/4913$", r"/__pycache__/", r"\.pyc$"]


class Worker:
    """One worker process (:mod:`.worker`), forked from the fork server: start, build, stop."""

    def __init__(self, context: multiprocessing.context.ForkServerContext, options: dict) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=runpy.run_path,
            args=(str(WORKER),),
            kwargs={"init_globals": {"CONNECTION": child, "OPTIONS": options}, "run_name": "__preview_worker__"},
            daemon=True,
        )
        self.process.start()
        child.close()

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def _send(self, command: dict) -> None:
        try:
            self.connection.send(command)
        except (EOFError, OSError) as exc:
            raise RuntimeError(f"the preview's Sphinx process stopped (exit code {self.process.exitcode})") from exc

    def _receive(self) -> dict:
        try:
            return self.connection.recv()
        except (EOFError, OSError) as exc:
            raise RuntimeError(f"the preview's Sphinx process stopped (exit code {self.process.exitcode})") from exc

    async def build(self, fresh: bool, changed: Iterable[Path] = (), on_early=None) -> dict:
        """The build's answer; an early page it sends first goes to *on_early*, then the build goes on.

        The worker waits for ``{"cmd": "served"}`` after an early page (up to
        ``worker.EARLY_SERVED_WAIT``) before it builds the rest: *on_early*
        returns once the requests waiting for the page are answered."""
        await asyncio.to_thread(self._send, {"cmd": "build", "fresh": fresh, "changed": [str(p) for p in changed]})
        while True:
            message = await asyncio.to_thread(self._receive)
            if "early" not in message:
                return message
            try:
                if on_early is not None:
                    await on_early(message)
                else:
                    await asyncio.to_thread(shutil.rmtree, message["dir"], True)
            finally:
                await asyncio.to_thread(self._send, {"cmd": "served"})

    async def stop(self) -> None:
        if self.alive:
            self.process.kill()
        await asyncio.to_thread(self.process.join)
        self.connection.close()


#: Longest the rest of a build waits for the answers to the requests held for its early page (seconds).
EARLY_ANSWER_WAIT = 0.1

#: After a good build that read at least this many documents, a new process loads the saved environment.
COMPACT_AFTER_READING = 200

#: Changes that every page may show: what pages load from Sphinx's folders for them (CSS, scripts, fonts, images).
SHOWN_BY_EVERY_PAGE = ("_static/", "_images/")
#: A file that one page loads, and that page (Sphinx's search page loads the search index).
LOADED_BY = {"searchindex.js": "search.html"}


def page_of(text: str) -> tuple[str, int] | None:
    """``{"page": "/a/b.html", "generation": n}`` from the client -> ``("a/b.html", n)``."""
    try:
        said = json.loads(text)
        return served_file(str(said["page"])), int(said["generation"])
    except (ValueError, TypeError, KeyError):
        return None


class StatusInjector(JavascriptInjectorMiddleware):
    """sphinx-autobuild's injector, with our client: it knows the page's generation."""

    def __init__(self, app: ASGIApp, preview: PreviewServer) -> None:
        super().__init__(app, ws_url="")
        self.preview = preview

    @property
    def script(self) -> bytes:
        # Read once when the response starts and once at its end: the
        # PublishGate keeps the generation from changing in between. A script
        # file of the site's own origin, not inline code: each page's
        # Content-Security-Policy (citedhealth/audit.py) runs no inline script
        # it does not know.
        return f'\n<script src="/_preview/client.js?generation={self.preview.generation}"></script>\n'.encode()

    @script.setter
    def script(self, value: bytes) -> None:
        pass  # the parent's __init__ sets a fixed script; ours is made per page


class PreviewServer(RebuildServer):
    """sphinx-autobuild's RebuildServer with a warm builder, a quicker debounce and error status."""

    def __init__(self, paths, ignore_filter, *, options: dict, publisher: Publisher, debounce_ms: int) -> None:
        super().__init__(paths, ignore_filter, change_callback=self.request)
        self.options = options
        self.publisher = publisher
        self.debounce_ms = debounce_ms
        self.pending: set[Path] = set()
        self.wake = asyncio.Event()
        #: Each open page's socket -> (its served path, its generation), once it said so.
        self.sockets: dict[WebSocket, tuple[str, int] | None] = {}
        #: Served path -> the generation that last changed it; and the last that changed every page.
        self.changed_at: dict[str, int] = {}
        self.everything_changed_at = 0
        #: Early pages of the build under way -> (their source, its stamp when the page was made).
        self.early_sources: dict[str, tuple[str | None, list[int] | None]] = {}
        self.worker: Worker | None = None
        self.forkserver: multiprocessing.context.ForkServerContext | None = None
        self.untrusted = False
        #: The next build starts a new process from the saved environment (see _build).
        self.compact = False
        # Unique across restarts of the server, so open pages reload after one.
        self.generation = int(time.time() * 1000)
        self.builds = 0
        self.errors: list[dict] = []
        self.last_build_seconds: float | None = None

    # -- Watching ---------------------------------------------------------------

    async def watch(self) -> None:
        async for changes in watchfiles.awatch(
            *self.paths,
            watch_filter=lambda _, path: not self.ignore(path),
            step=self.debounce_ms,
        ):
            self.request(Path(path).resolve() for _, path in changes)

    def request(self, changed_paths: Iterable[Path]) -> None:
        self.pending.update(changed_paths)
        self.wake.set()

    # -- Building ---------------------------------------------------------------

    def _needs_new_process(self, changed: set[Path]) -> bool:
        """Python code changed (conf.py, the extension): no warm application can load it anew."""
        return self.untrusted or any(p.suffix == ".py" for p in changed)

    def _context(self) -> multiprocessing.context.ForkServerContext:
        if self.forkserver is None:
            self.forkserver = multiprocessing.get_context("forkserver")
            self.forkserver.set_forkserver_preload([name for name in PRELOAD if importlib.util.find_spec(name)])
        return self.forkserver

    async def build(self, changed: set[Path]) -> None:
        self.publisher.settled.clear()
        try:
            await self._build(changed)
        finally:
            self.publisher.settled.set()

    async def _build(self, changed: set[Path]) -> None:
        fresh = self.worker is None or not self.worker.alive or self._needs_new_process(changed)
        compacting, self.compact = self.compact and not fresh, False
        if changed:
            names = ", ".join(sorted(self._relative(p) for p in changed)[:5])
            show_message(f"Detected changes ({names}){'; new Sphinx process' if fresh else ''}")
        elif compacting:
            show_message("A new Sphinx process takes over from the saved environment (compact in memory)")
        start = time.perf_counter()
        if fresh or compacting:
            if self.worker is not None:
                await self.worker.stop()
            self.worker = await asyncio.to_thread(Worker, self._context(), self.options)
        try:
            # The first build may reuse a saved environment, as sphinx-build would.
            result = await self.worker.build(fresh=fresh and self.builds > 0, changed=changed, on_early=self._early)
        except (RuntimeError, ConnectionError, ValueError) as exc:  # the worker died or garbled its answer
            result = {"ok": False, "broken": True, "errors": [{"file": None, "line": None, "message": str(exc)}]}
        self.untrusted = result.get("broken", False)
        self.last_build_seconds = time.perf_counter() - start
        if result["ok"] and not compacting and result.get("read", 0) >= COMPACT_AFTER_READING:
            # A process that read many documents holds them scattered in its
            # heap, among what the reading left behind; the early page's fork
            # then copies much of it (at 1000 articles, on a loaded machine,
            # 2.7-4.4 s from save to served against 0.33-0.43 s). One that
            # loads the saved environment holds it compactly: the next build
            # starts one, as a restart of the preview would.
            self.compact = True
            self.wake.set()
        if result["ok"]:
            # Only a good build is published, the first one too: a failed
            # build's pages are what no clean build would write. Until there
            # is a good build, a request gets the last good pages of an
            # earlier run (the served folder keeps them), or a page that
            # says the build failed; the overlay says what is wrong.
            first = self.publisher.snapshot is None
            self._note_changes(await self.publisher.publish(), everything=first)
            for page in self.publisher.early_differed:
                # The early page is the build's page for the same source; a difference is
                # our bug, unless the source was saved again after the early page was made.
                source, stamp = self.early_sources.get(page, (None, None))
                now = static_stamp(Path(source)) if source is not None else None
                if now is not None and list(now) == stamp:
                    show_message(f"The build wrote {page} otherwise than its early page; serving the build's")
        else:
            # A page published early by a build that failed is withdrawn.
            self._note_changes(await self.publisher.withdraw_early())
        self.early_sources = {}
        # The status changes all at once, after the publication.
        self.builds += 1
        errors = [] if result["ok"] else [{**e, "file": self._relative(e["file"])} for e in result["errors"]]
        self.errors = sorted(errors, key=lambda e: (e["file"], e["line"] or 0))
        self._report(result)
        await self.broadcast()

    async def _early(self, message: dict) -> None:
        """The worker rendered the changed document's page first: serve it now, and reload who shows it."""
        folder = Path(message["dir"])
        try:
            await self.publisher.publish_early(folder, message["early"])
            self.early_sources[message["early"]] = (message.get("source"), message.get("stamp"))
            self._note_changes([message["early"]])
            await self.broadcast()
            # The rest of the build waits until the requests held for this page are answered.
            await self.publisher.early_answered(EARLY_ANSWER_WAIT)
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)
        show_message(f"Serving {message['early']} early; building the rest")

    def _note_changes(self, paths: list[str], everything: bool = False) -> None:
        """A new generation, if anything changed, and which pages it changes (see :meth:`reloads`)."""
        if not paths and not everything:
            return
        self.generation += 1
        for path in paths:
            if path.startswith(SHOWN_BY_EVERY_PAGE):
                everything = True
            self.changed_at[LOADED_BY.get(path, path)] = self.generation
        if everything:
            self.everything_changed_at = self.generation

    def reloads(self, page: str, generation: int) -> bool:
        """Whether a browser showing *page* (a served path), as of *generation*, must reload it.

        A page reloads when it changed, or when something every page may load
        changed (:data:`SHOWN_BY_EVERY_PAGE`), since its generation; not when
        only other pages, the search index or downloads did."""
        return max(self.everything_changed_at, self.changed_at.get(page, 0)) > generation

    def _relative(self, path: Path | str | None) -> str:
        if path is None:
            return ""
        with contextlib.suppress(ValueError):
            return Path(path).resolve().relative_to(Path.cwd()).as_posix()
        return str(path)

    def _report(self, result: dict) -> None:
        if result["ok"]:
            show_message(f"Built in {self.last_build_seconds:.3f} s; serving {self.options['url']}")
            return
        lines = [f"Build failed ({len(self.errors)} error(s)); still serving the last good build:"]
        for error in self.errors:
            where = error["file"]
            if where and error["line"]:
                where = f"{where}:{error['line']}"
            lines.append(f"  {where + ': ' if where else ''}{error['message']}")
        show_message("\n".join(lines))

    def status(self) -> dict:
        return {"generation": self.generation, "errors": self.errors, "builds": self.builds}

    def status_for(self, page: tuple[str, int] | None) -> str:
        """The status a browser gets: with ``reload`` true if the page it shows changed."""
        reload = page is not None and self.reloads(*page)
        return json.dumps({**self.status(), "reload": reload})

    async def broadcast(self) -> None:
        for socket, page in list(self.sockets.items()):
            with contextlib.suppress(Exception):
                await socket.send_text(self.status_for(page))

    async def build_loop(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            changed, self.pending = self.pending, set()
            await self.build(changed)

    # -- The ASGI parts -----------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, _app):
        if not self.options["no_initial"]:
            show_message("Starting initial build")
            await self.build(set())
        tasks = [asyncio.create_task(self.main()), asyncio.create_task(self.build_loop())]
        show_message(f"Serving on {self.options['url']}; waiting for changes")
        yield
        self.should_exit.set()
        tasks[1].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.worker is not None:
            await self.worker.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        socket = WebSocket(scope, receive, send)
        await socket.accept()
        self.sockets[socket] = None
        try:
            await socket.send_text(self.status_for(None))
            # Then the client says which page it shows, as of which generation.
            async for text in socket.iter_text():
                self.sockets[socket] = page_of(text)
                await socket.send_text(self.status_for(self.sockets[socket]))
        except WebSocketDisconnect:
            pass
        finally:
            self.sockets.pop(socket, None)

    async def status_endpoint(self, _request) -> JSONResponse:
        return JSONResponse(self.status())

    async def client_endpoint(self, request) -> Response:
        """The client script, knowing the generation of the page that loads it."""
        generation = request.query_params.get("generation", "")
        code = CLIENT_JS.replace("__GENERATION__", generation if generation.isdigit() else "0")
        return Response(code, media_type="text/javascript", headers={"Cache-Control": "no-store"})


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, dict]:
    """sphinx-autobuild's command line (Sphinx's options plus its own), and the worker's options."""
    # Not public API of sphinx-autobuild, but its exact command line, pinned in requirements.txt.
    parser = _get_sphinx_build_parser()
    parser.prog = "python -m citedhealth.preview"
    parser.add_argument("--debounce-ms", type=int, default=5, help="quiet time that ends a burst of saves")
    args = parser.parse_args(argv)
    if args.pre_build or args.post_build or args.use_make_mode or args.filenames:
        parser.error("--pre-build, --post-build, -M and file names are not supported by the warm builder")
    srcdir = Path(args.sourcedir).resolve(strict=True)
    outdir = Path(args.outputdir).resolve()
    staging = outdir.with_name(outdir.name + ".preview-staging")
    early = outdir.with_name(outdir.name + ".preview-early")
    doctreedir = Path(args.doctreedir).resolve() if args.doctreedir else staging / ".doctrees"
    confdir = None if args.noconfig else Path(args.confdir or srcdir).resolve()
    options = {
        "srcdir": str(srcdir),
        "confdir": str(confdir) if confdir else None,
        "outdir": str(staging),
        "early_dir": str(early),
        "doctreedir": str(doctreedir),
        "builder": args.builder,
        "confoverrides": _parse_confoverrides(parser, args.define, args.htmldefine, args.nitpicky),
        "freshenv": args.freshenv,
        "force_all": args.force_all,
        "warningiserror": args.warningiserror,
        "tags": args.tags,
        "verbosity": args.verbosity,
        "quiet": args.quiet or args.really_quiet,
        "no_initial": args.no_initial_build,
        "cwd": os.getcwd(),
    }
    return args, options


def create_app(argv: list[str]) -> tuple[Starlette, argparse.Namespace]:
    args, options = parse_args(argv)
    outdir = Path(args.outputdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    staging = Path(options["outdir"])
    staging.mkdir(parents=True, exist_ok=True)
    args.port = args.port or find_free_port()
    options["url"] = f"http://{args.host}:{args.port}"
    early = Path(options["early_dir"])
    shutil.rmtree(early, ignore_errors=True)  # early pages of a run that was stopped mid-build
    ignored = (
        ".git",
        ".venv",
        "node_modules",
        *args.ignore,
        outdir,
        staging,
        early,
        options["doctreedir"],
        args.warnfile,
    )
    ignore = IgnoreFilter(
        [p for p in ignored if p],
        [*EDITOR_NOISE, *args.re_ignore],
    )
    publisher = Publisher(staging, outdir, skip=[Path(options["doctreedir"])])
    preview = PreviewServer(
        [options["srcdir"], *args.additional_watched_dirs],
        ignore,
        options=options,
        publisher=publisher,
        debounce_ms=args.debounce_ms,
    )

    async def not_found(request, exc) -> HTMLResponse:
        """A page the served build lacks: an HTML page, so the overlay shows any build error over it."""
        heading = "Not found" if preview.builds and not preview.errors else "No good build to show yet"
        return HTMLResponse(
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{heading}</title></head>'
            f"<body><h1>{heading}</h1><p>{html.escape(request.url.path)}</p></body></html>\n",
            status_code=404,
        )

    app = Starlette(
        exception_handlers={404: not_found},
        routes=[
            WebSocketRoute("/websocket-reload", preview, name="reload"),
            Route("/_preview/status", preview.status_endpoint),
            Route("/_preview/client.js", preview.client_endpoint),
            Mount("/", app=StaticFiles(directory=outdir, html=True), name="static"),
        ],
        middleware=[Middleware(PublishGate, publisher=publisher), Middleware(StatusInjector, preview=preview)],
        lifespan=preview.lifespan,
    )
    return app, args


def main(argv: list[str] | None = None) -> None:
    # sphinx-autobuild's internals we use were checked against one version (citedhealth/upstream.py).
    problems = version_problems(PREVIEW_ONLY)
    if problems:
        sys.exit("; ".join(problems))
    app, args = create_app(list(sys.argv[1:] if argv is None else argv))
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
