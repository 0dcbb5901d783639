"""The warm Sphinx process behind the live preview: one Sphinx application, kept in memory.

Contract: :mod:`citedhealth.preview.server` forks it from a fork server that
has already imported Sphinx and the third-party extensions (so a new one is
ready in milliseconds), and runs this file with :func:`runpy.run_path` as
``__preview_worker__`` with ``CONNECTION`` (a :mod:`multiprocessing`
connection) and ``OPTIONS`` (the Sphinx application's arguments) in its
globals. It imports nothing of ``citedhealth``: Sphinx loads our extension
from ``conf.py``, fresh from disk in each new process. It answers each
``{"cmd": "build", "fresh": bool, "changed": [path, ...]}`` with
``{"ok": bool, "errors": [...], "broken": bool, "read": int, "seconds": float}``, and
may send ``{"early": relative path, "dir": folder}`` before it (the early
page, below), after which it waits for ``{"cmd": "served"}`` (up to
:data:`EARLY_SERVED_WAIT`) before it builds the rest; what Sphinx prints
goes to the terminal.

**The early page.** When the save changed one document the environment
already holds, and the last build was good, the page the author is looking
at is rendered first, in a forked child of the warm process
(:func:`render_early_page`), and sent to the server before the build goes
on: the browser shows it while the rest of the site (other pages' sidebars
and lists, the search index, the PDF) is built. The child does for that one
document what the build does: the same reading and ``env-updated`` handlers
(every one, checks included), resolving and writing, and the same page
audit (``citedhealth.audit``); it shows nothing, and any warning or error in
it means no early page (the build reports it). The fork leaves the warm
application untouched, and the build then runs as it would have. The
server serves the early page only until the build ends: a good build's
publication replaces it if the build wrote it differently, a failed build's
withdraws it (``preview/publish.py``).

The first build creates the application (``fresh`` means a new environment, no
pickle: the server asks for it after a change to Python code, which cannot be
reloaded in place). Later builds reuse it, and the module makes the warm
state as good as a new one's:

- sphinxcontrib-bibtex parses the ``.bib`` files only when the builder starts;
  we run that step again before each build, and when the bibliography changed
  every page that cites or lists an entry is read again (a new application
  would re-read only the pages with a ``{bibliography}``);
- the pages read by a build that failed are read again by the next one, so
  their warnings come back until they are fixed, and no page written by a
  failed build survives a good one;
- per-build counters (warnings, status, once-only warnings) are reset;
- doctrees Sphinx keeps in memory from earlier builds are dropped;
- the saved environment, pickled in a forked child (``citedhealth.envsave``),
  is not waited for at the end of a build but before the next (:func:`save_later`).
- the search index stays in memory from build to build (``citedhealth.search``
  does it in any process that builds twice) and is written by a forked child
  while the build's last steps run (:func:`save_later` turns it on);
- the theme's static files are copied by the first build and again only when
  a copy was touched (:func:`copy_theme_static_files_once`).

The warm builds' caches of pure functions are our extension's own, one per
process: pybtex's plugin look-ups (``citedhealth.plugins``) and the search
index's stemmer (``citedhealth.search``).

Errors are the build's warnings (``-W`` makes them errors) and exceptions,
each with the file and line it concerns where known.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import re
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from functools import partial
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging as sphinx_logging
from sphinx.util.console import strip_escape_sequences
from sphinx.util.docutils import docutils_namespace, patch_docutils
from sphinx.util.fileutil import _template_basename

# "path:line: WARNING: message" as Sphinx's warning stream writes it; the
# location is absent for warnings about no file in particular.
_WARNING_LINE = re.compile(r"^(?:(?P<location>.+?): )?(?P<level>WARNING|ERROR|CRITICAL|SEVERE): (?P<message>.*)$")


def split_location(location: str | None) -> tuple[str | None, int | None]:
    """``"/docs/a.md:12"`` → ``("/docs/a.md", 12)``."""
    if not location:
        return None, None
    path, _, line = location.rpartition(":")
    if path and line.isdigit():
        return path, int(line)
    return location, None


class WarningCapture:
    """Sphinx's warning stream: shown on the terminal, kept as structured errors."""

    def __init__(self, terminal) -> None:
        self.terminal = terminal
        self.errors: list[dict] = []

    def flush(self) -> None:
        self.terminal.flush()

    def write(self, text: str) -> int:
        self.terminal.write(text)
        self.terminal.flush()
        for line in strip_escape_sequences(text).splitlines():
            match = _WARNING_LINE.match(line)
            if match:
                file, lineno = split_location(match["location"])
                self.errors.append({"file": file, "line": lineno, "message": match["message"]})
            elif line.strip() and self.errors:
                # The rest of a multi-line warning (docutils prints the source).
                self.errors[-1]["message"] += "\n" + line
        return len(text)


# How Sphinx's ConfigError names the place of a syntax error in conf.py.
_CONF_PLACE = re.compile(r"\((?P<file>[^(),]+\.py), line (?P<line>\d+)\)")


def error_from_exception(exc: BaseException, srcdir: Path, confdir: Path | None) -> dict:
    """The file and line to show for an exception: the deepest frame in the sources.

    Frames of the preview itself (it lives under ``docs/_ext`` too) do not count.
    """
    here = Path(__file__).resolve().parent
    message = f"{type(exc).__name__}: {exc}".strip()
    chain = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for link in chain:
        if isinstance(link, SyntaxError) and link.filename:
            return {"file": link.filename, "line": link.lineno, "message": message}
    place = _CONF_PLACE.search(str(exc))
    if place and confdir is not None:
        return {"file": str(confdir / place["file"]), "line": int(place["line"]), "message": message}
    for link in chain:
        frames = [
            frame
            for frame in traceback.extract_tb(link.__traceback__)
            if Path(frame.filename).resolve().is_relative_to(srcdir)
            and not Path(frame.filename).resolve().is_relative_to(here)
        ]
        if frames:
            return {"file": frames[-1].filename, "line": frames[-1].lineno, "message": message}
    return {"file": None, "line": None, "message": message}


class WarmSphinx:
    """One Sphinx application and what it takes to trust it from build to build."""

    def __init__(self, options: dict) -> None:
        self.options = options
        self.srcdir = Path(options["srcdir"]).resolve()
        self.confdir = Path(options["confdir"]).resolve() if options["confdir"] else None
        self.app: Sphinx | None = None
        self.stack = contextlib.ExitStack()
        self.capture = WarningCapture(sys.stderr)
        self.read_last: set[str] = set()
        self.reread: set[str] = set()
        #: A fork made after the last good build, ready to render the next early page (see EarlyChild).
        self.standby: EarlyChild | None = None
        self.last_early: str | None = None
        self.last_ok = False
        self.bib_changed = False

    def _create(self, fresh: bool) -> Sphinx:
        o = self.options
        # Held for the application's whole life, as sphinx-build holds them for one build.
        self.stack.enter_context(patch_docutils(o["confdir"]))
        self.stack.enter_context(docutils_namespace())
        app = Sphinx(
            srcdir=o["srcdir"],
            confdir=o["confdir"],
            outdir=o["outdir"],
            doctreedir=o["doctreedir"],
            buildername=o["builder"],
            # Each build also typesets the PDF of every article it writes, into
            # the output's pdf/ folder, before the build (and so the reload)
            # ends: "Download PDF" serves the page just saved (citedhealth.pdf).
            confoverrides={**o["confoverrides"], "citedhealth_pdf_with_html": True},
            status=sys.stdout if not o["quiet"] else None,
            warning=self.capture,
            freshenv=fresh or o["freshenv"],
            warningiserror=o["warningiserror"],
            tags=o["tags"],
            verbosity=o["verbosity"],
        )
        app.connect("env-before-read-docs", self._note_read)
        app.connect("env-get-outdated", self._outdated)
        copy_theme_static_files_once(app.builder)
        return app

    def _note_read(self, app, env, docnames) -> None:
        self.read_last.update(docnames)

    def _outdated(self, app, env, added, changed, removed) -> list[str]:
        extra = set(self.reread)
        if self.bib_changed and "cite" in env.domains:
            domain = env.get_domain("cite")
            extra |= {ref.docname for ref in domain.citation_refs}
            extra |= {key.docname for key in domain.bibliographies}
        return sorted(d for d in extra if d in env.found_docs and d not in removed)

    def _refresh(self) -> None:
        """Bring state that a new application would make at start-up up to date."""
        app = self.app
        # Sphinx keeps each doctree it unpickles (env._pickled_doctree_cache)
        # and the root document's (env.master_doctree, a cached property) for
        # the life of the environment, and does not drop them when a document
        # is read again: in a warm process the sidebar would be made from the
        # landing page's toctree as it was before an article was deleted.
        # sphinx-build never sees this (one build per process).
        reset_for_a_build(app)
        bibtex = sys.modules.get("sphinxcontrib.bibtex")
        self.bib_changed = False
        if bibtex is not None and "cite" in app.env.domains:
            domain = app.env.get_domain("cite")
            before = domain.data["bibdata"]
            bibtex.builder_inited_cite(app)
            self.bib_changed = domain.data["bibdata"] is not before

    def prepare_standby(self) -> None:
        """After a good build, between builds: fork the child that will render the next early page."""
        if self.app is None or not self.last_ok or not self.options.get("early_dir") or self.standby is not None:
            return
        if self.app.builder.format != "html":
            return
        self.standby = EarlyChild(self.app, Path(self.options["early_dir"]), warm_up=self.warm_up_docname())

    def warm_up_docname(self) -> str | None:
        """The page the standby warms up on: the one saved last, else the newest source (likely saved next).

        A process that rendered no early page yet (a new one, the compacted
        one after a large build) warms up too. Its build may have read no
        document: without a warm-up, the first save's child paid what the
        first page a process reads and writes sets up (at 1000 articles, a
        child rendering in 0.34-0.78 s against 0.17-0.25 s after warming up
        on another article, on a loaded machine), and the copy-on-write."""
        if self.last_early is not None:
            return self.last_early
        env = self.app.env
        newest, stamp = None, -1
        for docname in env.all_docs:
            with contextlib.suppress(OSError):
                mtime = os.stat(env.doc2path(docname)).st_mtime_ns
                if mtime > stamp:
                    newest, stamp = docname, mtime
        return newest

    def early_docname(self, changed: list[str]) -> str | None:
        """The document whose page is rendered first: the one changed document, if the warm state allows it."""
        app = self.app
        if app is None or not changed or self.reread or self.bib_changed or app.builder.format != "html":
            return None
        # A path gone by now that was no document's source is noise: an
        # editor's or a tool's temporary file, written and renamed over the
        # document within the debounce.
        paths = [Path(p) for p in changed]
        paths = [p for p in paths if p.exists() or app.env.path2doc(p) in app.env.all_docs]
        if len(paths) != 1:
            return None
        docname = app.env.path2doc(paths[0])
        if docname is None or docname not in app.env.all_docs or not paths[0].is_file():
            return None  # not a source, or a new one (the site's structure changes): no shortcut
        return docname

    def build(self, fresh: bool, changed: list[str] = (), send_early=None, wait_served=None) -> dict:
        start = time.perf_counter()
        self.capture.errors = []
        self.read_last = set()
        broken = False
        try:
            if self.app is None:
                wait_for_saved_environment()
                self.app = self._create(fresh)
            else:
                self._refresh()
                docname = self.early_docname(list(changed)) if send_early and self.options.get("early_dir") else None
                standby, self.standby = self.standby, None
                if docname is None and standby is not None:
                    standby.discard()
                if docname is not None:
                    source = self.app.env.doc2path(docname)
                    stamp = static_stamp(source)
                    if standby is None:
                        standby = EarlyChild(self.app, Path(self.options["early_dir"]))
                    early = standby.render(docname)
                    self.last_early = docname
                    if early is not None:
                        # The source as the child found it (unless saved again meanwhile,
                        # which the server then tells from a changed stamp).
                        send_early({**early, "source": str(source), "stamp": stamp})
                        if wait_served is not None:
                            # On two cores the rest of the build would compete with
                            # the page's responses: it starts once they are sent.
                            wait_served(EARLY_SERVED_WAIT)
            # The last build's saved environment is complete before this one
            # changes it (see save_later); the early page does not wait for it.
            wait_for_saved_environment()
            save_later()
            try:
                self.app.build(force_all=fresh or self.options["force_all"])
            finally:
                wait_for_search_index(self.app)
            ok = self.app.statuscode == 0 and not self.capture.errors
        except Exception as exc:  # any exception: report it, and the server restarts us
            traceback.print_exc()
            self.capture.errors.append(error_from_exception(exc, self.srcdir, self.confdir))
            ok = False
            broken = True
        self.last_ok = ok
        if ok:
            self.reread.clear()
        else:
            self.reread |= self.read_last
        errors = self.capture.errors
        if not ok and not errors:
            errors = [{"file": None, "line": None, "message": "The build failed (see the terminal)."}]
        return {
            "ok": ok,
            "errors": errors,
            "broken": broken,
            "read": len(self.read_last),
            "seconds": round(time.perf_counter() - start, 4),
        }


#: Longest the build waits for its early page; a slower one is given up (the build still serves the page).
EARLY_TIMEOUT = 3.0
#: Longest the build waits, after sending its early page, for the server to say it was served.
EARLY_SERVED_WAIT = 0.25


def fork_early_page(app: Sphinx, docname: str, early_root: Path) -> dict | None:
    """Render *docname*'s page in a forked child; ``{"early": path, "dir": folder}``, or None if it could not be.

    The build waits for the child: on two cores the page comes soonest when
    nothing else competes with it."""
    return EarlyChild(app, early_root).render(docname)


class EarlyChild:
    """A fork of the warm process that renders one early page when asked (:func:`render_early_page`).

    The worker forks one after each good build (:meth:`WarmSphinx.prepare_standby`),
    which *warm_up* renders the page last saved (:meth:`WarmSphinx.warm_up_docname`) into a scratch folder while
    the author is still typing, so that the copy-on-write of what rendering
    touches is paid between builds, not after the next save; the next save
    of one document then only asks. The child resets what a warm build resets
    (:meth:`WarmSphinx._refresh`, but for the bibliography, which the parent
    checks: a changed ``.bib`` gets no early page). Its fork leaves the warm
    application untouched."""

    def __init__(self, app: Sphinx, early_root: Path, warm_up: str | None = None) -> None:
        early_root.mkdir(parents=True, exist_ok=True)
        self.early_root = early_root
        places = Path(app.builder.outdir), Path(app.doctreedir)
        commands_read, self.commands = os.pipe()
        self.answers, answers_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns
            # No collection in a short-lived child: one pass over the warm
            # process's heap would touch, and so copy, every page of it (at
            # 1000 articles, 0.2 s and 160 MB).
            gc.disable()
            os.close(self.commands)
            os.close(self.answers)
            status = 1
            try:
                quiet = os.open(os.devnull, os.O_WRONLY)
                os.dup2(quiet, 1)
                os.dup2(quiet, 2)
                if warm_up is not None:
                    with contextlib.suppress(Exception):
                        scratch = Path(tempfile.mkdtemp(prefix="warm-up-", dir=early_root))
                        render_early_page(app, warm_up, scratch, places)
                    shutil.rmtree(scratch, ignore_errors=True)
                command = read_line(commands_read, None)
                if command:
                    request = json.loads(command)
                    reset_for_a_build(app)
                    relative = render_early_page(app, request["docname"], Path(request["dir"]), places)
                    if relative is not None:
                        os.write(answers_write, json.dumps({"early": relative, "dir": request["dir"]}).encode() + b"\n")
                        status = 0
            except BaseException:
                pass
            finally:
                os._exit(status)
        os.close(commands_read)
        os.close(answers_write)

    def render(self, docname: str) -> dict | None:
        folder = Path(tempfile.mkdtemp(prefix="page-", dir=self.early_root))
        answer = b""
        try:
            os.write(self.commands, json.dumps({"docname": docname, "dir": str(folder)}).encode() + b"\n")
            answer = read_line(self.answers, time.monotonic() + EARLY_TIMEOUT)
        except OSError:
            pass
        finally:
            if not answer:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            self.discard()
        if not answer:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return json.loads(answer)

    def discard(self) -> None:
        """Let the child go (it exits on the end of its commands) and reap it when it has."""
        for end in (self.commands, self.answers):
            with contextlib.suppress(OSError):
                os.close(end)
        EARLY_CHILDREN.append(self.pid)
        reap_early_children()


def read_line(fd: int, deadline: float | None) -> bytes:
    """One line from *fd* (b"" at its end or past *deadline*): not the pipe's end, which
    comes only when the child, a copy of a large process, has finished exiting."""
    data = b""
    while not data.endswith(b"\n"):
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return b""
        chunk = os.read(fd, 65536)
        if not chunk:
            return b""
        data += chunk
    return data


def reset_for_a_build(app: Sphinx) -> None:
    """What :meth:`WarmSphinx._refresh` resets before each warm build, but the bibliography."""
    app._warncount = 0
    app.statuscode = 0
    app.env._pickled_doctree_cache.clear()
    app.env.__dict__.pop("master_doctree", None)
    for handler in logging.getLogger(sphinx_logging.NAMESPACE).handlers:
        for flt in handler.filters:
            if isinstance(flt, sphinx_logging.OnceFilter):
                flt.messages.clear()


#: Early-page children not yet reaped (they may still be exiting).
EARLY_CHILDREN: list[int] = []


def reap_early_children(wait: bool = False) -> None:
    for pid in list(EARLY_CHILDREN):
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, 0 if wait else os.WNOHANG)[0] == 0:
                continue
        EARLY_CHILDREN.remove(pid)


def render_early_page(app: Sphinx, docname: str, folder: Path, places: tuple[Path, Path] | None = None) -> str | None:
    """In the forked child: read, resolve, write and audit *docname*'s page into *folder*; its path there.

    The steps are ``Builder.read`` and ``Builder.write``'s for one document
    (``Builder._read_serial``, ``sphinx.builders._write_docname``: contract
    rows in ``citedhealth/upstream.py``), with every handler connected to
    their events; the builder writes into *folder*, where the output's
    ``_static`` and ``_images`` are linked, so the page's references (and
    their checksums) are those of the output. The environment and doctrees
    left behind are the child's alone: it exits."""
    from sphinx.util.build_phase import BuildPhase

    builder, env = app.builder, app.env
    # The build's output and doctree folders (a child that rendered before has pointed both elsewhere).
    staging, doctrees = places or (Path(builder.outdir), Path(app.doctreedir))
    for name in ("_static", "_images"):
        if (staging / name).is_dir():
            (folder / name).symlink_to(staging / name, target_is_directory=True)
    app.outdir = builder.outdir = folder
    builder.doctreedir = folder / ".doctrees"
    # What the build keeps beside the doctrees (records, caches) is read
    # through links, and what a handler writes there replaces the link
    # (common.write_atomically renames), never the build's own file: a
    # child rendering while the next build runs must not write its state.
    state = folder / ".state"
    state.mkdir()
    with os.scandir(doctrees) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                (state / entry.name).symlink_to(entry.path)
    app.doctreedir = state
    # The PDF beside the page is the build's to typeset (its compile thread is
    # not in this child), and so is the search index (Sphinx's index_page
    # feeds no indexer that is None).
    app.config.citedhealth_pdf_with_html = False
    builder.indexer = None
    builder.phase = BuildPhase.READING
    app.events.emit("env-before-read-docs", env, [docname])
    app.events.emit("env-purge-doc", env, docname)
    env.clear_doc(docname)
    builder.read_doc(docname)
    app.events.emit("env-updated", env)
    app.events.emit("write-started", builder)
    builder.phase = BuildPhase.RESOLVING
    doctree = env.get_and_resolve_doctree(docname, builder, tags=builder.tags)
    builder.phase = BuildPhase.WRITING
    builder.write_doc_serialized(docname, doctree)
    builder.write_doc(docname, doctree)
    relative = Path(builder.get_output_path(docname)).relative_to(folder).as_posix()
    audit = sys.modules.get("citedhealth.audit")
    if app._warncount or (audit is not None and audit.problems_of_page(app, relative)):
        return None
    return relative


def static_stamp(path: Path) -> tuple[int, int] | None:
    """A file's size and modification time (the theme's static copies; the early page's source)."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


def copy_theme_static_files_once(builder) -> None:
    """The theme's static files are copied by the first build, and again only if one was touched.

    Sphinx's ``StandaloneHTMLBuilder.copy_theme_static_files`` copies (and
    renders, for ``_t`` and ``.jinja`` templates) every file of the theme's
    ``static`` folders on every build, about a tenth of a warm article edit.
    In one worker neither the theme's files nor the templates' context (the
    configuration) can change: both are Python-side, and a change to
    ``conf.py`` starts a new worker. What can change is the staging copy: a
    file of ``html_static_path`` of the same name overwrites the theme's
    (and deleting it must bring the theme's back), or anything removes one.
    So each copied file's size and time are kept, and the theme is copied
    again whenever one of them differs. ``html_static_path`` is copied on
    every build, as Sphinx does (an author may edit the site's CSS)."""
    copy = getattr(builder, "copy_theme_static_files", None)
    if copy is None or getattr(builder, "theme", None) is None:
        return
    copied: dict[Path, tuple[int, int] | None] = {}

    def copy_if_touched(context: dict) -> None:
        if copied and all(static_stamp(path) == stamp for path, stamp in copied.items()):
            return
        copy(context)
        copied.clear()
        static_dir = Path(builder.outdir, "_static")
        for entry in builder.theme.get_theme_dirs():
            folder = Path(entry, "static")
            for source in folder.rglob("*") if folder.is_dir() else ():
                relative = source.relative_to(folder)
                if not source.is_file() or any(part.startswith(".") for part in relative.parts):
                    continue
                # A template's output is named as copy_asset_file names it.
                target = static_dir / (_template_basename(relative) or relative)
                copied[target] = static_stamp(target)
        if any(stamp is None for stamp in copied.values()):
            copied.clear()  # not what we thought it writes: copy on every build, as Sphinx does

    builder.copy_theme_static_files = copy_if_touched


def save_later() -> None:
    """The build answers as soon as its pages are written; its saved environment may still be being written.

    ``citedhealth.envsave`` pickles the environment in a forked child while
    pages are written, and a build normally waits for it at its end. Here the
    environment stays in memory for the next build, so the answer (and the
    browser's reload) does not wait: the worker waits before its next build
    and when it exits. Only a worker started after a crash reads the file,
    and it finds the previous complete file or the new one (renamed into
    place)."""
    envsave = sys.modules.get("citedhealth.envsave")
    if envsave is not None:
        envsave.WAIT_AT_BUILD_FINISHED = False
    # The search index too is written by a forked child, beside the build's
    # last steps; the build waits for it before it ends (citedhealth.search).
    search = sys.modules.get("citedhealth.search")
    if search is not None:
        search.DUMP_IN_CHILD = True


def wait_for_search_index(app) -> None:
    """The search index's child is reaped even when the build stopped before ``build-finished``."""
    search = sys.modules.get("citedhealth.search")
    if search is not None and app is not None:
        search.wait_for_dump(app, None)


def wait_for_saved_environment() -> None:
    envsave = sys.modules.get("citedhealth.envsave")
    if envsave is not None:
        envsave.wait_for_saves()


def wait_served(connection, timeout: float) -> None:
    """Until the server says the early page was served, or *timeout* passes.

    A "served" that comes later is read by :func:`serve` as a command it does not know, and ignored."""
    if connection.poll(timeout):
        connection.recv()


def serve(connection, options: dict) -> None:
    """Answer build commands until the server closes the connection."""
    os.chdir(options["cwd"])
    warm = WarmSphinx(options)
    while True:
        try:
            command = connection.recv()
        except EOFError:
            wait_for_saved_environment()
            if warm.standby is not None:
                warm.standby.discard()
            reap_early_children(wait=True)
            return
        if command.get("cmd") == "build":
            fresh, changed = bool(command.get("fresh")), command.get("changed", [])
            connection.send(warm.build(fresh, changed, connection.send, partial(wait_served, connection)))
            warm.prepare_standby()
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == "__preview_worker__":
    serve(CONNECTION, OPTIONS)  # noqa: F821 (given by runpy.run_path's init_globals)
