"""The output follows the sources: deleted documents' pages go, pages showing a changed structure are rewritten.

Contract, for every builder that writes one file per document (HTML and the
like):

- **Deleted documents leave the output.** Each build records, beside the
  doctrees, the output files it owes the project's documents
  (:data:`MANIFEST`, one per builder and output folder). A file recorded by
  an earlier build whose document is gone is removed at the end of the
  build: the page itself and its copied source. The topic pages, the A–Z
  page (:mod:`.library`) and the feed (:mod:`.feed`) are on record too, so
  the page of a topic taken out of ``conf.py`` leaves the output. The search index and the
  sitemap are made from the current documents (Sphinx prunes the index to
  ``env.all_docs``; ``metadata.py`` lists ``found_docs``). Files the build
  never recorded are left alone: the output folder may hold what is not ours.
- **A changed structure rewrites every page.** Every page shows the site's
  structure: the sidebar shows the topics and, on an article, articles of
  its topic by title (:mod:`.navigation`), and the previous/next links
  follow the toctrees. When a document is added, deleted or retitled, an
  article's topics change, or a toctree changes, every page is written again, not just
  the pages Sphinx would rewrite (the changed page and its toctree parents,
  sphinx-doc/sphinx#5908 and #14327), so no page keeps an old title or a link
  to a page that is gone. A build whose structure is the last one's (an
  edit of an article's text) writes what Sphinx would write.

The search index follows too: Sphinx's ``IndexBuilder.prune`` (sphinx/search/
__init__.py) keeps a word whose every document it pruned, as an empty entry,
so an index updated across builds held words a clean build does not (found
here; not yet reported upstream). :func:`prune_dropping_empty_words` wraps
it to drop them.

The manifest is written before the first page (the union of what the last
build recorded and what this one will write) and again, exact, at the end,
so a build killed in between leaves nothing untracked.

Which pages are out of date is what Sphinx's HTML builder finds
(``StandaloneHTMLBuilder.get_outdated_docs``, sphinx/builders/html/
__init__.py): a document not yet in the environment, or one whose source
(or the newest template) is newer than its page. :func:`outdated_pages` is
a copy of it that compares the same two modification times with the same
``os.stat`` on the same files, named as strings instead of a ``Path`` and a
``_StrPath`` per document (at 1000 articles 30 ms of every build, down to
5); the HTML builders that keep Sphinx's method and its output names get it
(:func:`check_pages_by_name`), others keep theirs. The upstream-contract
table pins it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from sphinx import addnodes
from sphinx.locale import __
from sphinx.search import IndexBuilder
from sphinx.util import logging
from sphinx.util._timestamps import _format_rfc3339_microseconds
from sphinx.util.osutil import _last_modified_time

from . import changes, search
from .common import app_state, keeps_methods, write_atomically
from .topics import catalog

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

MANIFEST = "citedhealth-outputs-{builder}.json"


def structure_record(env: BuildEnvironment, books, docname: str) -> int:
    """What every page shows of *docname*: its title, its topics (an article), its toctrees (the docnames
    they include, in order, and their options), as a number (its SHA-256)."""
    digest = hashlib.sha256(docname.encode("utf-8", "surrogatepass"))
    if docname in env.all_docs:
        title = env.titles.get(docname)
        text = title.astext() if title is not None else ""
        digest.update(f"\x1dtitle\x1f{text}".encode("utf-8", "surrogatepass"))
    # The sidebar shows each article's topics (navigation.py).
    entry = books.entries.get(docname)
    if entry is not None:
        digest.update(f"\x1dtopics\x1f{entry.topics!r}".encode("utf-8", "surrogatepass"))
    if docname in env.toctree_includes:
        digest.update(f"\x1dincludes\x1f{env.toctree_includes[docname]!r}".encode("utf-8", "surrogatepass"))
        toc = env.tocs.get(docname)
        if toc is not None:
            for toctree in toc.findall(addnodes.toctree):
                digest.update(b"\x1dtoctree\x1f")
                digest.update(repr(sorted(toctree.attributes.items())).encode("utf-8", "surrogatepass"))
    return int.from_bytes(digest.digest(), "big")


def structure_docnames(env: BuildEnvironment, books) -> set[str]:
    """The documents whose :func:`structure_record` counts: every one read, every article, every toctree's page."""
    return set(env.all_docs) | books.entries.keys() | env.toctree_includes.keys()


#: The digest is the sum of the documents' records (modulo 2**256) with their count: a change to one
#: document's record changes it, and a build that changed few documents adds up only theirs (see
#: structure_digest).
MODULUS = 1 << 256


def structure_digest(env: BuildEnvironment) -> str:
    """What every page shows of the whole site: documents, their titles, articles' topics, toctrees and their order.

    The site's structure is the set of its documents' records, so the digest
    adds them up, in no order: the last build's sum, kept in memory
    (:mod:`.changes`), changes by the records of the documents changed since
    (read again, added, removed), which are all that can differ. With none
    kept (a new process), or the topics' list changed, every record is
    worked out, as :func:`full_structure_digest` does; tests compare the two."""
    books = catalog(env)
    record = changes.tracked(env, "outputs.structure")
    pending = record.begin(books.topics)
    if pending is not None and isinstance(record.value, tuple):
        shares: dict[str, int] = record.parts
        total = record.value[0]
        for docname in pending:
            total -= shares.pop(docname, 0)
            # Whether it counts now (read, an article, a toctree's page) is looked at again too.
            if docname in env.all_docs or docname in books.entries or docname in env.toctree_includes:
                shares[docname] = structure_record(env, books, docname)
                total += shares[docname]
        total, count = total % MODULUS, len(shares)
    else:
        shares = {docname: structure_record(env, books, docname) for docname in structure_docnames(env, books)}
        total, count = sum(shares.values()) % MODULUS, len(shares)
        record.parts = shares
    record.settle(books.topics, (total, count))
    return f"{count}:{total:064x}"


def full_structure_digest(env: BuildEnvironment) -> str:
    """:func:`structure_digest` worked out from every document (what a new process does)."""
    books = catalog(env)
    shares = [structure_record(env, books, docname) for docname in structure_docnames(env, books)]
    return f"{len(shares)}:{sum(shares) % MODULUS:064x}"


def rewrite_all_on_new_structure(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """env-updated: every document is written again when the structure every page shows has changed."""
    digest = structure_digest(env)
    # One record per builder: the HTML and PDF builders share the environment
    # (`make pdf` uses the HTML build's doctrees), and a change one of them saw
    # must still rewrite the other's pages at its next build.
    seen = getattr(env, "citedhealth_structure", None)
    if not isinstance(seen, dict):
        seen = env.citedhealth_structure = {}
    previous = seen.get(app.builder.name)
    seen[app.builder.name] = digest
    if previous is None or previous == digest:
        return []  # a first build writes everything anyway
    return sorted(env.found_docs)


def writes_per_document(app: Sphinx) -> bool:
    builder = app.builder
    return bool(getattr(builder, "out_suffix", "")) and hasattr(builder, "get_outfilename")


def manifest_path(app: Sphinx) -> Path:
    name = MANIFEST.format(builder=app.builder.name)
    return Path(app.doctreedir) / name


def output_names(app: Sphinx, pagenames) -> list[str]:
    """Each page's output file, relative to the output folder, as the builder's ``get_outfilename`` names it.

    ``StandaloneHTMLBuilder.get_output_path`` (sphinx/builders/html/__init__.py)
    is ``Path(outdir, pagename + out_suffix)``: for the builders that keep it
    (``html``, not ``dirhtml``, which overrides it) the relative name is that
    string, made without a ``Path`` per page (2,000 of them at 1000 articles
    were a tenth of a second of every build). Any other builder is asked page
    by page. The upstream-contract table (citedhealth/upstream.py) pins it.
    """
    from sphinx.builders.html import StandaloneHTMLBuilder

    builder = app.builder
    kind = type(builder)
    if (
        kind.get_outfilename is StandaloneHTMLBuilder.get_outfilename
        and kind.get_output_path is StandaloneHTMLBuilder.get_output_path
    ):
        suffix = builder.out_suffix
        return [pagename + suffix for pagename in pagenames]
    outdir = Path(app.outdir)
    return [Path(builder.get_outfilename(pagename)).relative_to(outdir).as_posix() for pagename in pagenames]


def owed_files(app: Sphinx) -> dict[str, str]:
    """Output file (relative to the output folder) -> its document ("" for the generated pages and the feed)."""
    from . import feed, library

    builder = app.builder
    owed = dict.fromkeys(output_names(app, library.generated_pages(app)), "")
    for name in feed.outputs(app):
        owed[name] = ""
    docnames = sorted(app.env.found_docs)
    owed.update(zip(output_names(app, docnames), docnames, strict=True))
    if getattr(app.config, "html_copy_source", False) and builder.format == "html":
        # Where StandaloneHTMLBuilder copies each source (its handle_page).
        suffix = app.config.html_sourcelink_suffix
        for docname in docnames:
            source = app.env.doc2path(docname, base=False)
            owed[f"_sources/{source}{suffix}"] = docname
    return owed


def owed_set(app: Sphinx) -> set[str]:
    """The names of :func:`owed_files`, each document's kept from the last build and redone only for the
    documents changed since (:mod:`.changes`): a doc2path per document was most of its cost."""
    from . import feed, library

    env, builder, config = app.env, app.builder, app.config
    copy_source = bool(getattr(config, "html_copy_source", False)) and builder.format == "html"
    # Names relative to the output folder: the folder itself is not part of them.
    key = (builder.name, type(builder), builder.out_suffix, copy_source, config.html_sourcelink_suffix)
    record = changes.tracked(env, "outputs.owed")
    pending = record.begin(key)
    shares: dict[str, tuple[str, ...]] | None = record.parts.get("shares")
    names: set[str] | None = record.parts.get("names")
    if pending is None or shares is None or names is None:
        shares, names, pending = {}, set(), env.found_docs
    for docname in pending:
        names.difference_update(shares.pop(docname, ()))
    present = sorted(docname for docname in pending if docname in env.found_docs)
    for docname, name in zip(present, output_names(app, present), strict=True):
        files = (name, f"_sources/{env.doc2path(docname, base=False)}{config.html_sourcelink_suffix}")
        shares[docname] = files if copy_source else files[:1]
        names.update(shares[docname])
    record.parts.update(shares=shares, names=names)
    record.settle(key, None)
    return names | set(output_names(app, library.generated_pages(app))) | set(feed.outputs(app))


#: The manifest last read or written by this process: (its file's identity, size and time; its content).
#: Written by renaming a new file into place, so a manifest of the same identity is the same text.
_MANIFEST_READ: list = [None, None]


def file_signature(path: Path) -> tuple | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns


def read_manifest(app: Sphinx) -> dict:
    path = manifest_path(app)
    signature = file_signature(path)
    if signature is not None and _MANIFEST_READ[0] == signature:
        data = _MANIFEST_READ[1]
    else:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"outdir": str(app.outdir), "files": []}
        if signature is not None and signature == file_signature(path):
            _MANIFEST_READ[:] = [signature, data]
    if not isinstance(data, dict) or data.get("outdir") != str(app.outdir):
        return {"outdir": str(app.outdir), "files": []}
    return data


def write_manifest(app: Sphinx, files: set[str]) -> None:
    write_atomically(manifest_path(app), json.dumps({"outdir": str(app.outdir), "files": sorted(files)}, indent=0))


# app_state(app).outputs_pending: (the files on record as the manifest stands,
# the files this build owes), from write-started to build-finished. The
# documents do not change in between, so both handlers share one computation;
# the manifest is written only when what it records changes (an edit of an
# article's text changes nothing in it).


def record_before_writing(app: Sphinx, builder) -> None:
    """write-started: what the last build left, and what this one will write, are all on record."""
    state = app_state(app)
    state.outputs_pending = None
    if not writes_per_document(app):
        return
    recorded = set(read_manifest(app)["files"])
    owed = owed_set(app)
    if not owed <= recorded:
        recorded |= owed
        write_manifest(app, recorded)
    state.outputs_pending = (recorded, owed)


def remove_pages_of_deleted_documents(app: Sphinx, exception: BaseException | None) -> None:
    """build-finished: files on record that no current document owes are removed."""
    state = app_state(app)
    pending = getattr(state, "outputs_pending", None)
    state.outputs_pending = None
    if exception is not None or not writes_per_document(app):
        return
    if pending is None:  # no write-started (a build that wrote nothing): as the files stand
        recorded, owed = set(read_manifest(app)["files"]), set(owed_files(app))
    else:
        recorded, owed = pending
    outdir = Path(app.outdir).resolve()
    for rel in sorted(recorded - owed):
        target = (outdir / rel).resolve()
        if target.is_relative_to(outdir):
            target.unlink(missing_ok=True)
    if recorded != owed:
        write_manifest(app, owed)


_sphinx_prune = IndexBuilder.prune


def prune_dropping_empty_words(self: IndexBuilder, docnames) -> None:
    """Sphinx's prune, then no word is left that no document holds (as in a clean build's index).

    An indexer :mod:`.search` marked (its words hold only titled documents)
    is pruned by :func:`prune_bounded`, the same result at the cost of what
    changed."""
    docnames = set(docnames)
    if getattr(self, search.BOUNDED_MARK, False):
        prune_bounded(self, docnames)
        return
    _sphinx_prune(self, docnames)
    for mapping in (self._mapping, self._title_mapping):
        for word in [word for word, names in mapping.items() if not names]:
            del mapping[word]


def prune_bounded(indexer: IndexBuilder, docnames: set[str]) -> None:
    """Sphinx's ``IndexBuilder.prune(docnames)``, then emptied words dropped, for a marked indexer.

    The per-document tables are cut as Sphinx cuts them; each word's set
    loses the titled documents not kept (equal to intersecting it with the
    kept ones, since a marked indexer's words hold only titled documents),
    visiting only the sets that hold one."""
    gone = set(indexer._titles).difference(docnames)
    new_titles, new_alltitles, new_filenames = {}, {}, {}
    for docname in docnames:
        if docname in indexer._titles:
            new_titles[docname] = indexer._titles[docname]
            new_alltitles[docname] = indexer._all_titles[docname]
            new_filenames[docname] = indexer._filenames[docname]
    indexer._titles = new_titles
    indexer._filenames = new_filenames
    indexer._all_titles = new_alltitles
    if not gone:
        return
    for mapping in (indexer._mapping, indexer._title_mapping):
        emptied = []
        for word, names in mapping.items():
            if not names.isdisjoint(gone):
                names.difference_update(gone)
                if not names:
                    emptied.append(word)
        for word in emptied:
            del mapping[word]


# What it wraps, as functools.wraps records it (inspect.unwrap, citedhealth/upstream.py's fingerprint).
prune_dropping_empty_words.__wrapped__ = _sphinx_prune


# -- Out-of-date pages ------------------------------------------------------------

logger = logging.getLogger(__name__)


def outdated_pages(builder):
    """``StandaloneHTMLBuilder.get_outdated_docs``, each document's two files named as strings (see the docstring).

    Everything before the loop is Sphinx's, as it is; the loop asks the same
    questions of the same files (``get_output_path`` is
    ``Path(outdir, docname + out_suffix)``, ``env.doc2path`` the source
    under ``srcdir``)."""
    from sphinx._cli.util.colour import bold
    from sphinx.builders.html._build_info import BuildInfo

    build_info_path = builder.outdir / ".buildinfo"
    try:
        build_info = BuildInfo.load(build_info_path)
    except ValueError as exc:
        logger.warning(__("Failed to read build info file: %r"), exc)
    except OSError:
        # ignore errors on reading
        pass
    else:
        if builder.build_info != build_info:
            # log the mismatch and backup the old build info
            build_info_backup = build_info_path.with_name(".buildinfo.bak")
            try:
                shutil.move(build_info_path, build_info_backup)
                builder.build_info.dump(build_info_path)
            except OSError:
                pass  # ignore errors
            else:
                # only log on success
                msg = __("build_info mismatch, copying .buildinfo to .buildinfo.bak")
                logger.info(bold(__("building [html]: ")) + msg)

            yield from builder.env.found_docs
            return

    if builder.templates:
        template_mtime = int(builder.templates.newest_template_mtime() * 10**6)
        try:
            old_mtime = _last_modified_time(build_info_path)
        except Exception:
            pass
        else:
            # Let users know they have a newer template
            if template_mtime > old_mtime:
                logger.info(
                    bold("building [html]: ")
                    + __("template %s has been changed since the previous build, all docs will be rebuilt"),
                    builder.templates.newest_template_name(),
                )
    else:
        template_mtime = 0
    env = builder.env
    all_docs = env.all_docs
    outdir = os.fspath(builder.outdir)
    suffix = builder.out_suffix
    for docname in env.found_docs:
        if docname not in all_docs:
            logger.debug("[build target] did not in env: %r", docname)
            yield docname
            continue
        target_name = os.path.join(outdir, docname + suffix)
        try:
            target_mtime = _last_modified_time(target_name)
        except OSError:
            target_mtime = 0
        try:
            doc_mtime = _last_modified_time(source_path(env, docname))
            srcmtime = max(doc_mtime, template_mtime)
            if srcmtime > target_mtime:
                logger.debug(
                    "[build target] target_name %r(%s), template(%s), docname %r(%s)",
                    target_name,
                    _format_rfc3339_microseconds(target_mtime),
                    _format_rfc3339_microseconds(template_mtime),
                    docname,
                    _format_rfc3339_microseconds(doc_mtime),
                )
                yield docname
        except OSError:
            # source doesn't exist anymore
            pass


def source_path(env: BuildEnvironment, docname: str) -> str:
    """``env.doc2path(docname)`` as a string: the same file (``Project.doc2path`` joins srcdir and this name)."""
    filename = env.project._docname_to_path.get(docname)
    if filename is None:  # Sphinx's fallback for a document it did not find: its own answer
        return os.fspath(env.doc2path(docname))
    return os.path.join(env.srcdir, filename)


def check_pages_by_name(app: Sphinx) -> None:
    """builder-inited: an HTML builder keeping Sphinx's out-of-date check and output names gets outdated_pages."""
    from sphinx.builders.html import StandaloneHTMLBuilder

    builder = app.builder
    if not keeps_methods(builder, StandaloneHTMLBuilder, "get_outdated_docs", "get_output_path"):
        return
    builder.get_outdated_docs = functools.partial(outdated_pages, builder)


def setup(app: Sphinx) -> None:
    IndexBuilder.prune = prune_dropping_empty_words
    app.connect("builder-inited", check_pages_by_name)
    app.connect("env-updated", rewrite_all_on_new_structure)
    app.connect("write-started", record_before_writing)
    app.connect("build-finished", remove_pages_of_deleted_documents, priority=700)
