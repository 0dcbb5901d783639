"""Sphinx's LaTeX build writes again only the articles that changed.

Contract: with one LaTeX document per article (``citedhealth_pdf_per_article``),
a LaTeX build writes an article's ``.tex`` only when

- its ``.tex`` is missing, or is not the file the last clean build wrote;
- the article was read again (its pickled doctree is not the one its ``.tex``
  was made from): an edit, a changed bibliography entry it cites, a changed
  image it includes;
- or something every document depends on changed: the configuration (any
  value but ``html_*`` ones), the project's templates, Sphinx's version or
  our extension's code, any document's title, or any label another page can
  point to.

Otherwise the ``.tex`` on disk is exactly what writing would produce again,
and it is left untouched. The record of what was written
(``latex-written.json`` beside the ``.tex`` files) is kept only after a build
without warnings, so a build that failed is followed by one that writes (and
checks) everything again.

Why: Sphinx's LaTeX builder has no incremental mode (``get_outdated_docs``
returns "all documents"): it assembles, resolves and translates every
document on every build. With 20 articles, writing them was half of
``make pdf`` after a one-line edit; with 200, it would be all of it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import sphinx
from sphinx.util._serialise import stable_hash

if TYPE_CHECKING:
    from sphinx.application import Sphinx

RECORD = "latex-written.json"


def stamp(path: Path) -> list[int] | None:
    """A file's (modification time in ns, size), or None if it is missing."""
    try:
        status = path.stat()
    except OSError:
        return None
    return [status.st_mtime_ns, status.st_size]


def shared_inputs_key(app: Sphinx) -> str:
    """What every article's ``.tex`` depends on beyond its own doctree."""
    env = app.env
    config = {item.name: item.value for item in app.config if not item.name.startswith("html_")}
    digest = hashlib.sha256()
    for part in (
        sphinx.__version__,
        app.registry.get_envversion(app),
        stable_hash(config),
        {docname: str(title) for docname, title in env.titles.items()},
        env.domaindata.get("std", {}).get("labels", {}),
        env.domaindata.get("std", {}).get("anonlabels", {}),
        {docname: metadata.get("myst_slugs") for docname, metadata in env.metadata.items()},
        template_stamps(app),
    ):
        digest.update(repr(sorted(part.items()) if isinstance(part, dict) else part).encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def template_stamps(app: Sphinx) -> dict[str, list[int] | None]:
    """The project's own templates (``templates_path``), which can override Sphinx's LaTeX ones."""
    stamps = {}
    for entry in app.config.templates_path:
        folder = Path(app.confdir, entry)
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            if path.is_file():
                stamps[str(path.relative_to(app.confdir))] = stamp(path)
    return stamps


class LatexWrites:
    """Which article ``.tex`` files one LaTeX build writes, and the record of them."""

    def __init__(self, app: Sphinx):
        self.app = app
        self.path = Path(app.outdir, RECORD)
        self.record: dict = {}

    def doctree_stamp(self, docname: str) -> list[int] | None:
        return stamp(Path(self.app.doctreedir, f"{docname}.doctree"))

    def load(self) -> dict:
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def up_to_date(self, docname: str, target: str, previous: dict) -> bool:
        written = previous.get(target)
        return (
            isinstance(written, dict)
            and written.get("docname") == docname
            and written.get("doctree") == self.doctree_stamp(docname)
            and written.get("tex") == stamp(Path(self.app.outdir, target))
        )

    def select(self, document_data: list) -> list:
        """The entries of ``document_data`` to write; the others' ``.tex`` files stand."""
        previous = self.load()
        # Until this build ends clean, there is no record: a crash or a warning
        # leaves nothing that would let the next build skip a document.
        self.path.unlink(missing_ok=True)
        key = shared_inputs_key(self.app)
        self.record = {"shared": key, "documents": {}}
        if previous.get("shared") != key:
            return list(document_data)
        documents = previous.get("documents", {})
        selected = []
        for entry in document_data:
            docname, target = entry[0], entry[1]
            if self.up_to_date(docname, target, documents):
                self.record["documents"][target] = documents[target]
            else:
                selected.append(entry)
        return selected

    def note_written(self, entries: list) -> None:
        for entry in entries:
            docname, target = entry[0], entry[1]
            self.record["documents"][target] = {
                "docname": docname,
                "doctree": self.doctree_stamp(docname),
                "tex": stamp(Path(self.app.outdir, target)),
            }

    def save(self) -> None:
        temporary = self.path.with_name(f".{RECORD}.tmp")
        temporary.write_text(json.dumps(self.record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)


WRITES: dict[int, LatexWrites] = {}


def write_changed_articles_only(app: Sphinx) -> None:
    """builder-inited: wrap the LaTeX builder's ``write_documents`` to skip unchanged articles."""
    if app.builder.format != "latex" or not app.config.citedhealth_pdf_per_article:
        return
    builder = app.builder
    write_documents = builder.write_documents
    writes = WRITES[id(app)] = LatexWrites(app)

    def write(docnames):
        everything = builder.document_data
        selected = writes.select(everything)
        builder.document_data = selected
        try:
            write_documents(docnames)
        finally:
            builder.document_data = everything
        writes.note_written(selected)

    builder.write_documents = write


def keep_record_if_clean(app: Sphinx, exception: BaseException | None) -> None:
    writes = WRITES.pop(id(app), None)
    # Sphinx counts warnings on the application; without the count, trust nothing.
    if writes is not None and exception is None and getattr(app, "_warncount", 1) == 0 and writes.record:
        writes.save()


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", write_changed_articles_only)
    app.connect("build-finished", keep_record_if_clean)
