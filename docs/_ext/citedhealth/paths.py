"""What the build reads from disk stays inside the source folder, and is text it can decode.

Contract (every document, not only articles):

- ``{include}``, ``{literalinclude}`` (and its ``:diff:`` file), images
  (Markdown's ``![]()``, ``{image}``, ``{figure}``) and downloads
  (``{download}``, and Markdown links to files) must name a file inside the
  source folder (``docs/``), after following ``..``, symbolic links and
  absolute paths (which Sphinx reads relative to the source folder). Anything
  else is a ``citedhealth.path`` warning at the directive's or the node's file
  and line, and the file is not published: an include or literal include
  is refused before the file is read; an image or download is taken out of
  the page before Sphinx's collectors copy it (``doctree-read``, ahead of
  them). docutils' standard include files (``<isonum.txt>``) are outside too.
- ``{raw}`` and ``{csv-table}`` take no ``:file:`` or ``:url:``: they would
  paste a file of the build machine, or a page of another site, into the
  page unchecked (``citedhealth.path``).
- A source document that is a symbolic link to a file outside the source
  folder is a ``citedhealth.path`` warning, and is left out of the build.
- A source document, an included file or a literal include with a byte that
  is not UTF-8 (``source_encoding``, or the directive's ``:encoding:``) is a
  ``citedhealth.encoding`` warning naming that file and the bad byte's line.
  Sphinx 9 would stop with a ``UnicodeDecodeError`` traceback naming no file
  (it reads sources strictly, in ``Builder.read_doc``); the document is left
  out of this build instead, so the others are still checked. (The
  bibliography's own check is in :mod:`.checks`.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from docutils import nodes
from docutils.parsers.rst.directives.misc import Raw
from docutils.parsers.rst.directives.tables import CSVTable
from sphinx import addnodes
from sphinx.directives.code import LiteralInclude
from sphinx.directives.other import Include
from sphinx.util.docutils import SphinxDirective

from .checks import undecodable_line
from .common import WARNING_TYPE, logger, node_line

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment


def outside(path: str | Path, srcdir: str | Path) -> bool:
    """True unless *path*, with symbolic links and ``..`` resolved, lies inside *srcdir*."""
    real = Path(os.path.realpath(path))
    return not real.is_relative_to(Path(os.path.realpath(srcdir)))


def encoding_problem(path: str | Path, encoding: str) -> tuple[str, str] | None:
    """("file:line", what is wrong) if *path* holds a byte that is not *encoding*; else None."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None  # a missing file is Sphinx's or MyST's to report
    bad = undecodable_line(data, encoding)
    return None if bad is None else (f"{path}:{bad[0]}", f"undecodable file: {bad[1]}")


def warn(message: str, location, subtype: str = "path") -> None:
    logger.warning(message, location=location, type=WARNING_TYPE, subtype=subtype)


def refused(directive: SphinxDirective, argument: str, encoding: str | None) -> bool:
    """Warn and return True if *argument*, a path given to *directive*, must not be read."""
    if argument.startswith("<") and argument.endswith(">"):
        warn(f"{directive.name} of {argument}: docutils' standard files are outside the source folder",
             directive.get_location())  # fmt: skip
        return True
    # Sphinx's own resolution: absolute paths from the source folder, others from the document's folder.
    _, path = directive.env.relfn2path(argument)
    if outside(path, directive.env.srcdir):
        warn(
            f"{directive.name} of {argument!r} reads a file outside the source folder ({os.path.realpath(path)}): "
            "keep what the site publishes under docs/",
            directive.get_location(),
        )
        return True
    problem = encoding_problem(path, encoding or directive.config.source_encoding)
    if problem is not None:
        warn(problem[1], problem[0], "encoding")
        return True
    return False


class ContainedInclude(SphinxDirective):
    """``include``, refused for a file outside the source folder or not UTF-8, before it is read.

    Wraps, rather than subclasses, Sphinx's ``sphinx.directives.other.Include``:
    MyST hands any subclass of docutils' ``Include`` to its own
    ``myst_parser.mocking.MockIncludeDirective``, which reads the file without
    calling the directive's ``run``. This class is no such subclass, so it runs,
    checks, then hands over to the one that would have run: MyST's mock in a
    Markdown document (leaning on MyST's internals: ``MockState._renderer``
    and the mock's constructor, as in MyST-Parser 5.2's
    ``DocutilsRenderer.run_directive``), Sphinx's ``Include`` in reStructuredText.
    """

    required_arguments = Include.required_arguments
    optional_arguments = Include.optional_arguments
    final_argument_whitespace = Include.final_argument_whitespace
    has_content = Include.has_content
    option_spec: ClassVar[dict] = Include.option_spec

    def run(self) -> list[nodes.Node]:
        argument = "".join(line.strip() for line in self.arguments[0].splitlines())
        if refused(self, argument, self.options.get("encoding")):
            return []
        renderer = getattr(self.state, "_renderer", None)
        if renderer is not None:
            from myst_parser.mocking import MockIncludeDirective

            mock = MockIncludeDirective(
                renderer, self.name, Include, self.arguments, self.options, self.content, self.lineno
            )
            return mock.run()
        directive = Include(
            self.name,
            self.arguments,
            self.options,
            self.content,
            self.lineno,
            self.content_offset,
            self.block_text,
            self.state,
            self.state_machine,
        )
        return directive.run()


class ContainedLiteralInclude(LiteralInclude):
    """Sphinx's ``sphinx.directives.code.LiteralInclude``, refused outside the source folder or not UTF-8."""

    def run(self) -> list[nodes.Node]:
        encoding = self.options.get("encoding", self.config.source_encoding)
        for argument in (self.arguments[0], *([self.options["diff"]] if "diff" in self.options else [])):
            if refused(self, argument, encoding):
                return []
        return super().run()


class RawWithoutFiles(Raw):
    """docutils' ``Raw`` (``docutils.parsers.rst.directives.misc.Raw``) without ``:file:`` and ``:url:``."""

    def run(self) -> list[nodes.Node]:
        refusal = refuse_file_options(self)
        return super().run() if refusal is None else refusal


class CSVTableWithoutFiles(CSVTable):
    """docutils' ``CSVTable`` (``docutils.parsers.rst.directives.tables``) without ``:file:`` and ``:url:``."""

    def run(self) -> list[nodes.Node]:
        refusal = refuse_file_options(self)
        return super().run() if refusal is None else refusal


def refuse_file_options(directive) -> list[nodes.Node] | None:
    """[] (nothing rendered) after a warning if *directive* names a file or URL to read; else None."""
    given = [name for name in ("file", "url") if name in directive.options]
    if not given:
        return None
    source, line = directive.state_machine.get_source_and_line(directive.lineno)
    warn(
        f"{directive.name} with :{given[0]}: reads {directive.options[given[0]]!r} into the page unchecked: "
        "write the content in the document",
        (directive.state.document.settings.env.docname, line) if line else source,
    )
    return []


# -- Images and downloads: checked when the document is read, before Sphinx's collectors ---------


def is_remote(uri: str) -> bool:
    # As Sphinx's ImageCollector and DownloadFileCollector tell a URL from a path.
    return uri.startswith("data:") or "://" in uri


def keep_files_inside(app: Sphinx, doctree: nodes.document) -> None:
    """Take out of the page every image and download that names a file outside the source folder.

    An image goes; a download keeps its text but loses its link."""
    env = app.env
    kinds = (
        (nodes.image, "uri", "image", "images", lambda node: node.parent.remove(node)),
        (
            addnodes.download_reference,
            "reftarget",
            "download",
            "downloads",
            lambda node: node.replace_self(nodes.inline("", "", *node.children)),
        ),
    )
    for node_class, attribute, noun, plural, take_out in kinds:
        for node in list(doctree.findall(node_class)):
            name = node.get(attribute, "")
            if not name or is_remote(name):
                continue
            _, path = env.relfn2path(name, env.docname)
            if outside(path, env.srcdir):
                warn(
                    f"{noun} {name!r} is a file outside the source folder ({os.path.realpath(path)}):"
                    f" keep {plural} under docs/",
                    (env.docname, node_line(node)),
                )
                take_out(node)


# -- Sources that are not UTF-8 ---------------------------------------------------------------


def leave_out_unreadable(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Warn about, and leave out of this build, each document to read that is not in ``source_encoding``,
    or that is a symbolic link to a file outside the source folder.

    Left out of ``found_docs`` too, so nothing tries to write it; the next
    build finds it again, and warns again, until it is fixed.
    """
    for docname in list(docnames):
        path = env.doc2path(docname)
        if outside(path, env.srcdir):
            warn(
                f"document is a link to a file outside the source folder ({os.path.realpath(path)}): "
                "the document is left out of the build",
                f"{path}:1",
            )
        else:
            problem = encoding_problem(path, app.config.source_encoding)
            if problem is None:
                continue
            warn(f"{problem[1]}; the document is left out of the build", problem[0], "encoding")
        docnames.remove(docname)
        env.found_docs.discard(docname)


def setup(app: Sphinx) -> None:
    app.add_directive("include", ContainedInclude, override=True)
    app.add_directive("literalinclude", ContainedLiteralInclude, override=True)
    app.add_directive("raw", RawWithoutFiles, override=True)
    app.add_directive("csv-table", CSVTableWithoutFiles, override=True)
    # Ahead of Sphinx's ImageCollector and DownloadFileCollector (priority 500).
    app.connect("doctree-read", keep_files_inside, priority=400)
    app.connect("env-before-read-docs", leave_out_unreadable)
