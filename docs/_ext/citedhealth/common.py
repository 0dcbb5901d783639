"""Helpers shared by the modules: which documents are articles, our logger, front matter's extent, file writes.

State, by how long it lives (one way for each):

- **Per document, kept between builds**: in ``env.metadata[docname]``
  under a ``citedhealth_`` key (``readability.py``'s reading level,
  ``articles.py``'s article-list flag). Sphinx drops it when the document
  is read again or deleted, and merges it from parallel readers.
- **Site-wide, kept between builds**: an ``env.citedhealth_*`` attribute,
  set only in main-process events (``env-get-outdated``, ``env-updated``),
  so parallel readers never need to merge it (``outputs.py``'s structure
  digest, ``citing.py``'s base URL, ``topics.py``'s catalog entries
  ``env.citedhealth_catalog_entries``); ``citations.py`` keeps its
  references grouped by page in the ``cite`` domain's data, and
  ``search.py`` pickles the search index's mappings beside the doctrees.
- **For one application, never pickled**: :func:`app_state`, a namespace
  that lives and dies with the Sphinx application (``checks.py``'s .bib
  findings, ``audit.py``'s own inline code, ``parallel.py``'s job count,
  ``pdf.py``'s compile queue, ``library.py``'s pending page keys,
  ``navigation.py``'s set-aside ``files_to_rebuild``, ``outputs.py``'s
  files on record and owed from ``write-started`` to ``build-finished``,
  ``search.py``'s last dumped search index).
- **Derived from the environment, for one build**: ``topics.catalog(env)``,
  one record per article made once a build from ``env.metadata``.
- **Derived from the environment, kept in memory from build to build of one
  process, never pickled**: :func:`.changes.tracked` records (the catalog,
  the structure digest's per-document shares, the articles' review due
  dates), brought up to date from the documents changed since, and the
  ``cite`` domain's counts of what each page cites (``citations.py``'s
  ``settle``): a new process works them out whole.

One helper each: :func:`write_atomically` for every file a build keeps
beside the doctrees (or a reader must never see half of);
:func:`front_matter_end` for where a Markdown source's front matter ends
(``articles.read_front_matter`` parses it; ``articles.parse_iso_date`` is
the one date parser).
"""

from __future__ import annotations

import os
import tempfile
import weakref
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util import logging

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

#: Every warning we emit has this type, so ``suppress_warnings`` and tests can
#: name it (``citedhealth.disclaimer`` and so on).
WARNING_TYPE = "citedhealth"

logger = logging.getLogger("citedhealth")

_APP_STATE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def app_state(app: Sphinx) -> SimpleNamespace:
    """Our modules' state for *app*'s builds, never pickled, gone with the application (see the docstring).

    Each module keeps its values under names of its own (``bib_fields``,
    ``own_code``, ...); nothing is set on Sphinx's own objects."""
    state = _APP_STATE.get(app)
    if state is None:
        state = _APP_STATE[app] = SimpleNamespace()
    return state


def node_line(node: nodes.Node) -> int:
    """The node's source line, or its nearest ancestor's (MyST leaves some nodes, inline ones most, without one)."""
    while node is not None:
        if getattr(node, "line", None):
            return node.line
        node = node.parent
    return 1


def is_article(env: BuildEnvironment, docname: str) -> bool:
    """True if *docname* lives in the configured articles folder."""
    folder = env.config.citedhealth_articles_dir.strip("/")
    return docname.startswith(folder + "/")


def article_docnames(env: BuildEnvironment) -> list[str]:
    """All articles of the project, sorted by docname (their slug)."""
    return sorted(d for d in env.found_docs if is_article(env, d))


#: Sphinx's other writers, for which our page-only nodes (byline, Download
#: link) render their text or nothing: one table, used by every such node.
OTHER_WRITERS = ("text", "man", "texinfo")


def other_writers(visitors: tuple) -> dict[str, tuple]:
    """``app.add_node`` keywords giving *visitors* to each of :data:`OTHER_WRITERS`."""
    return dict.fromkeys(OTHER_WRITERS, visitors)


def admonition_visitors(box_kind: str) -> dict[str, tuple]:
    """Translator functions for an admonition-like node of ours, per builder.

    HTML: a ``<div role="note">`` named by the node's title, so screen readers
    announce "Disclaimer, note"; the node's classes give it its look.
    Typst (the PDF): a box of *box_kind* (``warning``, ``note``: see
    ``typst_translator.BOX_STYLES``), so the PDF box matches the HTML box; the
    title child becomes the box's heading.
    Other builders: a plain admonition.
    """

    def visit_html(self, node):
        title = next(iter(node.findall(nodes.title)), None)
        label = title.astext() if title is not None else ""
        self.body.append(self.starttag(node, "div", role="note", **{"aria-label": label}))

    def depart_html(self, node):
        self.body.append("</div>\n")

    def visit_typst(self, node):
        self.body.append(self.box(node, box_kind))
        raise nodes.SkipNode

    def visit_other(self, node):
        self.visit_admonition(node)

    def depart_other(self, node):
        self.depart_admonition(node)

    other = (visit_other, depart_other)
    return {
        "html": (visit_html, depart_html),
        "typst": (visit_typst, None),
        "text": other,
        "man": other,
        "texinfo": other,
    }


def front_matter_end(source: str) -> int | None:
    """The 1-based line of the ``---`` closing *source*'s front matter, or None if it has none.

    Front matter opens on the first line with ``---`` (trailing spaces allowed),
    as MyST-Parser reads it, and ends at the next such line."""
    lines = source.splitlines()
    if not lines or lines[0].rstrip() != "---":
        return None
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() == "---":
            return number
    return None


def write_if_changed(path: Path, text: str) -> None:
    """Write *text* to *path* unless it already holds it: unchanged files keep their mtime for make-like tools."""
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


#: The process's umask (reading it means setting it: once, at import).
UMASK = os.umask(0o022)
os.umask(UMASK)


def keeps_methods(builder, base: type, *names: str) -> bool:
    """Whether *builder* is a *base* whose class keeps *base*'s own methods *names* (none overridden).

    Our shortcuts for Sphinx's methods (out-of-date checks, output names, the
    search index) hold only where those are Sphinx's; a builder that
    overrides one keeps Sphinx's way."""
    kind = type(builder)
    return isinstance(builder, base) and all(getattr(kind, name) is getattr(base, name) for name in names)


def write_atomically(path: Path, data: str | bytes) -> None:
    """Write *data* (text, as UTF-8, or bytes) to *path*.

    A reader, or a build killed midway, sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(temporary, 0o666 & ~UMASK)  # mkstemp makes it private; give it the usual mode
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
