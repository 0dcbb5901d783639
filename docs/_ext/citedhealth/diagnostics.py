"""A mistake fails every build until it is fixed: each document's warnings are kept and re-reported.

Contract: every warning (or error) logged while a document is read, or while
a builder resolves and writes it, is recorded against that document, with
its message, its ``file:line`` and its type. At the end of each build the
record is updated, and the warnings of every document this build did not
read again (or, for a builder, did not write again) are reported once more,
exactly as they were first printed. So the strict build (``-W``) fails again,
naming the same file and line, for as long as the source is unchanged: after
``make html`` has failed, a second ``make html``, a ``make pdf``, ``make
site`` and a restarted live preview fail too. Once the document is fixed it
is read again and its record is replaced by what that read found.

Why: Sphinx reports a document's warnings only in the build that reads it,
and keeps the environment of a build that failed on warnings, so the next
build finds nothing to do and succeeds (sphinx-doc/sphinx#725, closed as "by
design"; since Sphinx 8.1 ``-W`` finishes the build and keeps the pickled
environment). Starting afresh after every failed build would be correct but
slow at scale; this keeps incremental builds incremental.

How: a :class:`logging.Handler` on Sphinx's logger sees every warning as it
is logged (including those buffered while reading, and those parallel
workers send back). It belongs to a document by the document being read or
resolved at that moment (``env.docname``), else by its location. Warnings
logged outside the reading and writing of documents (configuration, the
bibliography's hygiene checks, the consistency check, the page audit and
other build-finished handlers) are not recorded: the code that logs them
runs in every build anyway.

The record is a JSON file beside the doctrees (:data:`RECORD`), written at
the end of every build that did not raise; it is not in the pickled
environment, because Sphinx pickles the environment before it writes, and
write-time warnings (an unknown citation key, a broken reference) would be
lost. A build that finds a saved environment but no readable record starts
afresh (the environment is removed before Sphinx loads it), so a lost or
damaged record can never hide a warning.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.application import ENV_PICKLE_FILENAME
from sphinx.util import logging as sphinx_logging
from sphinx.util.build_phase import BuildPhase

from .common import logger, write_atomically

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment

#: The record's file name, in the doctree folder.
RECORD = "citedhealth-diagnostics.json"
#: Bumped when the record's layout changes; an old record starts the build afresh.
RECORD_VERSION = 1

Diagnostic = dict  # {"level", "message", "location", "type", "subtype"}


def location_text(app: Sphinx, location: object) -> tuple[str | None, str | None]:
    """(``file:line`` as Sphinx prints it, the docname it belongs to) for a warning's location.

    Mirrors :class:`sphinx.util.logging.SphinxLogRecordTranslator`, which turns
    the same values into text for the terminal.
    """
    env = app.env
    if isinstance(location, tuple):
        docname, line = location
        if not docname:
            return None, None
        path = str(env.doc2path(docname))
        return (f"{path}:{line}" if line else path), docname
    if isinstance(location, nodes.Node):
        text = sphinx_logging.get_node_location(location)
    elif isinstance(location, str) and location:
        if ":" not in location:  # a docname
            return str(env.doc2path(location)), location
        text = location
    else:
        return None, None
    if not text:
        return None, None
    path, colon, line = text.rpartition(":")
    if not colon or not (line.isdigit() or not line):
        path = text
    return text, env.path2doc(path) if path and not path.startswith("<") else None


class _Recorder(logging.Handler):
    """Sees every warning Sphinx logs; keeps those logged while a document is read or written."""

    def __init__(self, diagnostics: Diagnostics) -> None:
        super().__init__(level=logging.WARNING)
        self.diagnostics = diagnostics

    def emit(self, record: logging.LogRecord) -> None:
        self.diagnostics.note(record)


class Diagnostics:
    """The record of one application's documents' warnings, and its update at each build's end."""

    def __init__(self, app: Sphinx) -> None:
        self.app = app
        self.handler = _Recorder(self)
        self.saved: dict = {"read": {}, "write": {}}
        self.loaded = False
        self.window: str | None = None  # "read" or "write" while documents are processed
        self.read_now: set[str] = set()
        self.written_now: set[str] = set()
        self.found: dict[str, dict[str, list[Diagnostic]]] = {"read": {}, "write": {}}
        self.replaying = False

    # -- the record on disk ---------------------------------------------------

    @property
    def path(self) -> Path:
        return Path(self.app.doctreedir) / RECORD

    def load(self, app: Sphinx, config: Config) -> None:
        """Before the environment is loaded: read the record, or start afresh without one."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") != RECORD_VERSION:
                raise ValueError("another layout")
            self.saved = {"read": dict(data["read"]), "write": dict(data["write"])}
        except (OSError, ValueError, KeyError, TypeError):
            self.saved = {"read": {}, "write": {}}
            envfile = Path(app.doctreedir) / ENV_PICKLE_FILENAME
            if envfile.exists():
                logger.info("no record of the last build's warnings: building afresh", color="darkred")
                envfile.unlink()
        self.loaded = True

    def save(self) -> None:
        data = {"version": RECORD_VERSION, **self.saved}
        write_atomically(self.path, json.dumps(data, sort_keys=True, ensure_ascii=False))

    # -- seeing warnings --------------------------------------------------------

    def attach(self) -> None:
        """Hook the recorder onto Sphinx's logger (again: a new application clears its handlers)."""
        sphinx_logger = logging.getLogger(sphinx_logging.NAMESPACE)
        if self.handler not in sphinx_logger.handlers:
            sphinx_logger.addHandler(self.handler)

    def detach(self) -> None:
        logging.getLogger(sphinx_logging.NAMESPACE).removeHandler(self.handler)

    def note(self, record: logging.LogRecord) -> None:
        if self.replaying or self.window is None or getattr(record, "citedhealth_noted", False):
            return
        # Sphinx buffers warnings while reading and writing, then hands the
        # same record to the logger's handlers again: note it once.
        record.citedhealth_noted = True
        app = self.app
        kind, subtype = getattr(record, "type", None), getattr(record, "subtype", None)
        if sphinx_logging.is_suppressed_warning(kind, subtype, app.config.suppress_warnings):
            return
        location, owner = location_text(app, getattr(record, "location", None))
        current = app.env.docname if app.env is not None else ""
        owner = current or owner
        if not owner:
            return
        message = record.msg % record.args if record.args else str(record.msg)
        # Sphinx's translator may already have appended " [type.subtype]" in place.
        suffix = f" [{kind}.{subtype}]" if subtype else f" [{kind}]"
        if kind and message.endswith(suffix):
            message = message[: -len(suffix)]
        self.found[self.window].setdefault(owner, []).append(
            {"level": record.levelno, "message": message, "location": location, "type": kind, "subtype": subtype}
        )

    # -- build events -------------------------------------------------------------

    def start_reading(self, app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
        if not self.loaded:
            self.load(app, app.config)
        self.read_now = set(docnames)
        self.written_now = set()
        self.found = {"read": {}, "write": {}}
        self.window = "read"
        self.attach()

    def stop_reading(self, app: Sphinx, env: BuildEnvironment) -> None:
        self.window = None

    def start_writing(self, app: Sphinx, builder) -> None:
        self.window = "write"
        self.attach()

    def stop_writing(self, app: Sphinx, exception: BaseException | None) -> None:
        self.window = None

    def resolved(self, app: Sphinx, doctree: nodes.document, docname: str) -> None:
        if app.builder.phase in (BuildPhase.RESOLVING, BuildPhase.WRITING):
            self.written_now.add(docname)

    def resolved_in_worker(self, app: Sphinx, docnames: list[str]) -> None:
        """The pages a writer process resolved (parallel.py): doctree-resolved fired there, not here."""
        self.written_now.update(docnames)

    def finish(self, app: Sphinx, exception: BaseException | None) -> None:
        """Update the record with what this build found, and report again what it did not redo."""
        self.window = None
        self.detach()
        if exception is not None:
            # Sphinx removes the environment after an exception; the record goes with it.
            self.path.unlink(missing_ok=True)
            self.saved = {"read": {}, "write": {}}
            return
        found_docs = app.env.found_docs
        builder = app.builder.name
        replay: list[Diagnostic] = []

        old_read = self.saved["read"]
        read = {doc: self.found["read"][doc] for doc in self.read_now if self.found["read"].get(doc)}
        for doc, diagnostics in old_read.items():
            if doc in found_docs and doc not in self.read_now:
                read[doc] = diagnostics
                replay += diagnostics

        old_write = self.saved["write"].get(builder, {})
        written = {doc: self.found["write"][doc] for doc in self.written_now if self.found["write"].get(doc)}
        for doc, diagnostics in old_write.items():
            # A document read again is written again by every builder (its
            # doctree changed), whether or not this process saw it resolved:
            # a builder may resolve in worker processes (pdf.py does).
            if doc in found_docs and doc not in self.written_now and doc not in self.read_now:
                written[doc] = diagnostics
                replay += diagnostics

        self.saved["read"] = read
        self.saved["write"] = {
            name: {doc: d for doc, d in docs.items() if doc in found_docs and doc not in self.read_now}
            for name, docs in self.saved["write"].items()
            if name != builder
        }
        if written:
            self.saved["write"][builder] = written
        self.save()
        self.report(replay)

    def report(self, diagnostics: list[Diagnostic]) -> None:
        """Log the kept warnings again, as they were first printed."""
        self.replaying = True
        try:
            for item in sorted(diagnostics, key=sort_key):
                logger.log(
                    item["level"],
                    item["message"],
                    location=item["location"],
                    type=item["type"],
                    subtype=item["subtype"],
                )
        finally:
            self.replaying = False


def sort_key(item: Diagnostic) -> tuple:
    location = item["location"] or ""
    path, _, line = location.rpartition(":")
    return (path or location, int(line) if line.isdigit() else 0, item["message"])


def setup(app: Sphinx) -> None:
    diagnostics = Diagnostics(app)
    # Early, next to recovery: the environment is removed before Sphinx loads it.
    app.connect("config-inited", diagnostics.load, priority=300)
    # Last: other handlers may change which documents are read.
    app.connect("env-before-read-docs", diagnostics.start_reading, priority=990)
    # First: what env-updated handlers log is not about reading one document.
    app.connect("env-updated", diagnostics.stop_reading, priority=10)
    app.connect("write-started", diagnostics.start_writing, priority=10)
    app.connect("doctree-resolved", diagnostics.resolved, priority=10)
    # A parallel write resolves its pages in the writers (parallel.py).
    app.connect("citedhealth-resolved-in-worker", diagnostics.resolved_in_worker)
    # After every other handler that may still warn about a page (audits),
    # before recovery removes its marker (900).
    app.connect("build-finished", diagnostics.finish, priority=850)
    # What build-finished handlers log (the page audit, the sitemap) comes
    # from code that runs in every build: not recorded, or it would be said twice.
    app.connect("build-finished", diagnostics.stop_writing, priority=0)
