"""Per-article PDFs through Typst: tagged, PDF/UA-1 with PDF/A-2a; the Download link.

Contract:

- The ``typst`` builder (``sphinx-build -b typst -d _build/doctrees docs
  _build/pdf``, which ``make pdf`` runs: the HTML build's doctrees, no
  environment of its own) writes, for each article ``<slug>`` (a document
  under ``citedhealth_articles_dir``), ``<slug>.typ`` (see
  :mod:`.typst_translator`) and ``<slug>.pdf`` into its output folder. Other
  documents get no PDF. The PDF is compiled in-process by the ``typst``
  package (no subprocess, no network, no Typst packages), with
  ``citedhealth_pdf_standards`` (PDF/UA-1 and PDF/A-2a: tagged, the document
  language from ``language``, title with DisplayDocTitle, outline from the
  headings), only the fonts built into the pinned ``typst`` wheel (never the
  machine's), and ``SOURCE_DATE_EPOCH`` (when set, else the article's last review)
  as its date, never the clock, so the same
  pins give byte-identical PDFs anywhere.
- Problems are ``citedhealth.pdf`` warnings naming the file and line, and the
  article then has no PDF (an older one is removed, so none looks current):
  a node the PDF cannot render (:mod:`.typst_translator`), a character no
  font of its role has (``citedhealth.pdf-font``; body, italic, bold and
  code are checked separately: Typst's PDF/UA-1 export would refuse it), a
  Typst error.
- Incremental: an article is translated again when the builder finds it
  outdated (never built, its doctree changed since its PDF, or the shared
  inputs changed: configuration, Typst's version, PDF standards), and
  compiled again only when what the PDF is made from changed: its ``.typ``
  text, the bytes of its images, the Typst version and standards. The
  template is part of every ``.typ``, so a template change recompiles all.
  A PDF is written under a temporary name and renamed once complete. PDFs
  (and ``.typ`` files) of articles that no longer exist are removed. The
  record of what was typeset (``typst-pdf.json``) lives beside the doctrees.
- HTML: each article shows a "Download PDF" link to
  ``<citedhealth_pdf_dir>/<slug>.pdf`` under its byline. With
  ``citedhealth_pdf_with_html`` (the live preview sets it), the HTML build
  also typesets each article it writes into that folder of its own output,
  so the link serves the PDF of the page just saved.
- Putting the PDFs into the built site is a command of its own, outside
  Sphinx: :mod:`.publish`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import json
import os
import re
from pathlib import Path
from types import MethodType
from typing import TYPE_CHECKING, ClassVar

from docutils import nodes
from sphinx.builders import Builder
from sphinx.util._serialise import stable_hash
from sphinx.util.display import status_iterator
from sphinx.util.osutil import relative_uri
from sphinx.util.parallel import ParallelTasks

from .articles import article_authors, article_byline, join_names, parse_iso_date
from .common import (
    WARNING_TYPE,
    app_state,
    article_docnames,
    is_article,
    logger,
    other_writers,
    write_atomically,
    write_if_changed,
)
from .parallel import SERIAL_UP_TO, even_chunks
from .typst_translator import BODY_FONTS, CODE_FONTS, SOURCE_LINE, TypstTranslator, preamble, string

if TYPE_CHECKING:
    from collections.abc import Iterable, Set

    from sphinx.application import Sphinx

#: What the last builds typeset, kept beside the doctrees (not in the output
#: folder, which holds only what readers get): {outdir: {"shared": key,
#: "articles": {slug: {"key": compile key, "doctree": stamp}}}}.
RECORD = "typst-pdf.json"


def typst_version() -> str:
    return importlib.metadata.version("typst")


@functools.cache
def compiler(root: str | None):
    """One Typst compiler per project root and process: it loads the fonts once and
    keeps Typst's caches warm between articles (3 to 4 times faster than
    ``typst.compile``, which makes a new one per call; the PDF bytes are the same)."""
    import typst

    return typst.Compiler(root=root, ignore_system_fonts=True)


# -- Fonts: which characters each role's fonts can show -------------------------

#: A role's fonts and the variant it uses: (fonts, weight, style).
FONT_ROLES = {
    "body": (BODY_FONTS, "regular", "normal"),
    "italic": (BODY_FONTS, "regular", "italic"),
    "bold": (BODY_FONTS, "bold", "normal"),
    "bold italic": (BODY_FONTS, "bold", "italic"),
    "code": (CODE_FONTS, "regular", "normal"),
}

MISSING_GLYPH = re.compile(r'the text `"(.*?)"` could not be displayed')


@functools.cache
def has_glyph(role: str, char: str) -> bool:
    """True if the fonts of *role* show *char*: asked of Typst itself, under PDF/UA-1,
    which refuses a glyph no font has (the fonts are built into the wheel and
    carry no file to read a character map from)."""
    import typst

    fonts, weight, style = FONT_ROLES[role]
    source = (
        '#set document(title: "probe")\n'
        f"#set text(font: ({''.join(string(f) + ', ' for f in fonts)}), weight: {string(weight)}, "
        f"style: {string(style)}, fallback: false)\n#{string(char)}\n"
    )
    try:
        compiler(None).compile(input=source.encode(), pdf_standards=["ua-1"])
    except typst.TypstError as error:
        if MISSING_GLYPH.search(error.message):
            return False
        raise
    return True


def font_role(text: nodes.Text) -> str:
    """Which font role sets *text* in the PDF."""
    bold = italic = False
    for ancestor in ancestors(text):
        if isinstance(ancestor, (nodes.literal, nodes.literal_block, nodes.doctest_block)):
            return "code"
        if isinstance(ancestor, (nodes.strong, nodes.title, nodes.rubric)):
            bold = True
        if isinstance(ancestor, (nodes.emphasis, nodes.title_reference, nodes.subtitle)):
            italic = True
    return {(False, False): "body", (False, True): "italic", (True, False): "bold", (True, True): "bold italic"}[
        (bold, italic)
    ]


def ancestors(node: nodes.Node) -> Iterable[nodes.Node]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def font_problems(doctree: nodes.document) -> list[tuple[nodes.Node, str]]:
    """A problem for each text holding characters its role's fonts lack."""
    problems = []
    for text in doctree.findall(nodes.Text):
        if str(text).isascii():
            continue  # every role's fonts have the printable ASCII characters
        if any(isinstance(a, (nodes.comment, nodes.raw, nodes.substitution_definition)) for a in ancestors(text)):
            continue
        role = font_role(text)
        chars = {c for c in str(text) if not c.isspace() and ord(c) > 0x7E}
        missing = sorted(c for c in chars if not has_glyph(role, c))
        if missing:
            shown = ", ".join(f"{char!r} (U+{ord(char):04X})" for char in missing)
            fonts = ", ".join(FONT_ROLES[role][0])
            problems.append(
                (text.parent, f"the PDF font {fonts} ({role}) has no glyph for {shown}: the PDF cannot show it")
            )
    return problems


# -- One article to Typst, and Typst to PDF ----------------------------------------


def source_location(node: nodes.Node, docname: str, env) -> tuple[str, int | None]:
    """(docname, line) of *node*, or of its nearest ancestor that knows its line."""
    for candidate in (node, *ancestors(node)):
        line = getattr(candidate, "line", None)
        if line:
            return docname, line
    return docname, None


def translate(builder: Builder, docname: str, doctree: nodes.document) -> tuple[str, dict[str, str], list]:
    """The article's Typst source, the images it uses (Typst path -> source path) and its problems."""
    env = builder.env
    translator = TypstTranslator(doctree, builder, docname)
    # The Typst renderings other modules register with app.add_node(..., typst=...),
    # attached as Sphinx's SphinxComponentRegistry.create_translator does; done
    # here because the live preview translates under the HTML builder.
    for name, (visit, depart) in builder._registry.translation_handlers.get("typst", {}).items():
        setattr(translator, f"visit_{name}", MethodType(visit, translator))
        if depart:
            setattr(translator, f"depart_{name}", MethodType(depart, translator))
    doctree.walkabout(translator)
    # Characters no font has are found when Typst refuses them (compile_failed):
    # probing each character beforehand cost every worker process a tenth of a second.
    problems = translator.problems
    metadata = env.metadata.get(docname, {})
    keywords = [k.strip() for k in str(metadata.get("keywords", "")).split(",") if k.strip()]
    title = translator.title or (env.titles[docname].astext() if docname in env.titles else docname)
    author = join_names(article_authors(metadata)) or builder.config.author
    source = (
        preamble(
            title=title,
            author=author,
            description=str(metadata.get("description", "")),
            keywords=keywords,
            language=builder.config.language or "en",
        )
        + "\n"
        + translator.astext()
    )
    return source, translator.images_used, problems


def compile_key(source: str, images: dict[str, str], srcdir: Path, standards: list[str]) -> str:
    """What the PDF is made from: the Typst text, its images' bytes, Typst's version, the standards."""
    digest = hashlib.sha256()
    for part in (typst_version(), json.dumps(standards), source):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    for path in sorted(images.values()):
        digest.update(path.encode() + b"\0" + (srcdir / path).read_bytes() + b"\0")
    return digest.hexdigest()


def timestamp(metadata: dict) -> int:
    """The PDF's date: SOURCE_DATE_EPOCH when set, else the article's last review (midnight UTC).

    Never the clock: the PDF is a function of the sources, so an incremental
    build gives the bytes a clean build gives, today or next week."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return int(epoch)
    for field in ("last_reviewed", "date_published"):
        day = parse_iso_date(str(metadata.get(field, "")))
        if day is not None:
            return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
    return 0


def compile_pdf(source: str, srcdir: Path, target: Path, standards: list[str], when: int) -> None:
    """Compile *source* into *target*, which appears only complete; raise ``typst.TypstError``."""
    data = compiler(str(srcdir)).compile(input=source.encode("utf-8"), pdf_standards=list(standards), timestamp=when)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, data)


def report(problems: list, docname: str, env) -> None:
    for node, message in problems:
        subtype = "pdf-font" if message.startswith("the PDF font") else "pdf"
        logger.warning(message, location=source_location(node, docname, env), type=WARNING_TYPE, subtype=subtype)


def typst_error_place(error: Exception, source: str) -> tuple[str, int | None]:
    """A Typst error's message (with the ``.typ`` line) and the article's line it comes from.

    The translator puts a ``// source line N`` comment before every block it
    writes; the nearest one above the ``.typ`` line Typst names gives the source line."""
    message = getattr(error, "message", str(error))
    match = re.search(r"\.typ:(\d+):", getattr(error, "diagnostic", ""))
    if not match:
        return f"Typst could not make the PDF: {message}", None
    typ_line = int(match.group(1))
    line = None
    for text in reversed(source.splitlines()[:typ_line]):
        marker = re.search(re.escape(SOURCE_LINE) + r"(\d+)$", text)
        if marker:
            line = int(marker.group(1))
            break
    return f"Typst could not make the PDF: {message} (.typ line {typ_line})", line


def make_article_pdf(
    builder: Builder,
    docname: str,
    doctree: nodes.document,
    pdfdir: Path,
    record: dict,
    *,
    keep_source: bool = False,
    queue: CompileQueue | None = None,
) -> str:
    """Translate and, if anything changed, compile one article; return "built", "cached", "queued" or "failed".

    With *keep_source*, the ``.typ`` is written beside the PDF (when its text
    changed). With a *queue*, the compile runs there (see :class:`CompileQueue`)."""
    import typst

    env = builder.env
    slug = docname.rsplit("/", 1)[-1]
    pdf = pdfdir / f"{slug}.pdf"
    source, images, problems = translate(builder, docname, doctree)
    if problems:
        report(problems, docname, env)
        pdf.unlink(missing_ok=True)
        record.pop(slug, None)
        return "failed"
    if keep_source:
        write_if_changed(pdfdir / f"{slug}.typ", source)
    standards = list(builder.config.citedhealth_pdf_standards)
    srcdir = Path(builder.srcdir)
    when = timestamp(env.metadata.get(docname, {}))
    key = compile_key(source, images, srcdir, standards) + f"@{when}"
    if record.get(slug, {}).get("key") == key and pdf.is_file():
        return "cached"
    if queue is not None:
        queue.submit(docname, source, srcdir, pdf, standards, when, record, key, doctree)
        return "queued"
    try:
        compile_pdf(source, srcdir, pdf, standards, when)
    except typst.TypstError as error:
        compile_failed(error, docname, source, pdf, record, doctree)
        return "failed"
    record[slug] = {"key": key}
    return "built"


def compile_failed(error, docname: str, source: str, pdf: Path, record: dict, doctree=None) -> None:
    """Report why Typst refused the article: each text with characters its font lacks, else Typst's error."""
    refused = MISSING_GLYPH.search(getattr(error, "message", str(error)))
    problems = font_problems(doctree) if doctree is not None and refused else []
    if problems:
        report(problems, docname, None)
    else:
        message, line = typst_error_place(error, source)
        logger.warning(message, location=(docname, line), type=WARNING_TYPE, subtype="pdf")
    pdf.unlink(missing_ok=True)
    record.pop(pdf.stem, None)


class CompileQueue:
    """Typst compiles run in a background thread while the HTML build goes on writing.

    Typst releases the GIL while it compiles (typst-py), so in the live
    preview the saved article's PDF is typeset while Sphinx writes the page,
    the search index and the static files. :meth:`finish` waits for every
    compile and reports failures, from the main thread, before the build ends
    (``html-collect-pages``, in the builder's write step, so a failure is a
    warning of the page's own, as if compiled in place)."""

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        # One thread: compiles of one Compiler run one at a time.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citedhealth-typst")
        self.pending: list = []

    def submit(self, docname, source, srcdir, pdf, standards, when, record, key, doctree=None) -> None:
        future = self.executor.submit(compile_pdf, source, srcdir, pdf, standards, when)
        self.pending.append((future, docname, source, pdf, record, key, doctree))

    def finish(self) -> None:
        import typst

        pending, self.pending = self.pending, []
        for future, docname, source, pdf, record, key, doctree in pending:
            try:
                future.result()
            except typst.TypstError as error:
                compile_failed(error, docname, source, pdf, record, doctree)
            else:
                record[pdf.stem] = {"key": key}
        self.executor.shutdown(wait=True)


def remove_deleted(pdfdir: Path, slugs: set[str], suffixes: tuple[str, ...] = (".pdf", ".typ")) -> None:
    """Remove the outputs of articles that no longer exist."""
    try:
        entries = list(os.scandir(pdfdir))
    except OSError:
        return
    for entry in entries:
        stem, suffix = os.path.splitext(entry.name)
        if suffix in suffixes and stem not in slugs and entry.is_file():
            os.unlink(entry.path)


class TypstPdfBuilder(Builder):
    """One tagged PDF per article, through Typst; see the module docstring."""

    name = "typst"
    format = "typst"
    epilog = "The article PDFs are in %(outdir)s."
    supported_image_types: ClassVar[list[str]] = ["image/svg+xml", "image/png", "image/jpeg", "image/gif"]
    supported_remote_images = False
    #: Under -j, write_documents typesets in worker processes (Sphinx's own
    #: parallel write is not used: it resolves every doctree in the main process).
    allow_parallel = True
    default_translator_class = TypstTranslator

    def init(self) -> None:
        self.record_path = Path(self.doctreedir, RECORD)
        try:
            records = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            records = {}
        self.records = records if isinstance(records, dict) else {}
        record = self.records.get(str(Path(self.outdir).resolve()))
        if not isinstance(record, dict) or record.get("shared") != self.shared_key():
            record = {"shared": self.shared_key(), "articles": {}}
        self.record = record
        self.outcome: dict[str, str] = {}
        # A build killed while writing a PDF leaves its temporary file
        # (common.write_atomically's ".<name>.<random>.tmp"): never a PDF.
        outdir = Path(self.outdir)
        for partial in outdir.glob(".*.tmp") if outdir.is_dir() else ():
            partial.unlink(missing_ok=True)

    def shared_key(self) -> str:
        """What every article's translation depends on beyond its own doctree."""
        config = {item.name: item.value for item in self.config if not item.name.startswith("html_")}
        # Sphinx's own stable hash (sets and dicts in sorted order, whatever the
        # hash seed), as its HTML builder hashes the configuration for .buildinfo.
        # Private (sphinx.util._serialise); a rename fails the import loudly.
        return hashlib.sha256(f"{typst_version()}\0{stable_hash(config)}".encode()).hexdigest()

    def doctree_stamp(self, docname: str) -> list[int] | None:
        try:
            status = Path(self.doctreedir, f"{docname}.doctree").stat()
        except OSError:
            return None
        return [status.st_mtime_ns, status.st_size]

    def get_target_uri(self, docname: str, typ: str | None = None) -> str:
        # The page's path on the site, as the HTML builder names it: a link to
        # another page becomes its public address under html_baseurl.
        return f"{docname}.html"

    def get_outdated_docs(self) -> Iterable[str]:
        articles = self.record.get("articles", {})
        for docname in article_docnames(self.env):
            slug = docname.rsplit("/", 1)[-1]
            entry = articles.get(slug)
            if (
                entry is None
                or entry.get("doctree") != self.doctree_stamp(docname)
                or not Path(self.outdir, f"{slug}.pdf").is_file()
            ):
                yield docname

    def prepare_writing(self, docnames: Set[str]) -> None:
        pass

    def write_documents(self, docnames: Set[str]) -> None:
        """Each article resolved, translated and (if changed) typeset.

        In parallel (``-j``, more than a few articles), each worker process does
        all three for its share: resolving (mostly citations) and Typst cost
        about the same, and there is a process per core, so a compile thread
        (Typst releases the GIL) would find no idle core.
        The main process then never runs Typst before forking, so no worker
        inherits the compiler's threads half-made. Warnings come back to the
        main process (Sphinx's ParallelTasks collects them)."""
        chosen = sorted(d for d in docnames if is_article(self.env, d))
        if self.parallel_ok and len(chosen) > SERIAL_UP_TO:
            tasks = ParallelTasks(self._app.parallel)
            chunks = even_chunks(chosen, self._app.parallel)
            progress = status_iterator(chunks, "writing output... ", "darkgreen", len(chunks), self.config.verbosity)

            def merge(chunk: list[str], results: dict) -> None:
                self.note_results(results)
                # doctree-resolved fired in the worker: diagnostics.py notes the pages written.
                self.events.emit("citedhealth-resolved-in-worker", chunk)
                next(progress)

            for chunk in chunks:
                tasks.add_task(self.write_articles, chunk, merge)
            tasks.join()
            logger.info("")
        else:
            for docname in status_iterator(
                chosen, "writing output... ", "darkgreen", len(chosen), self.config.verbosity
            ):
                self.note_results(self.write_articles([docname]))

    def write_articles(self, docnames: list[str]) -> dict[str, tuple[str, dict | None]]:
        """Make the PDFs of *docnames*; return {slug: (state, record entry or None)}."""
        results = {}
        articles = self.record.setdefault("articles", {})
        for docname in docnames:
            doctree = self.env.get_and_resolve_doctree(docname, self, tags=self.tags)
            self.post_process_images(doctree)
            slug = docname.rsplit("/", 1)[-1]
            entries = {slug: dict(articles[slug])} if slug in articles else {}
            state = make_article_pdf(self, docname, doctree, Path(self.outdir), entries, keep_source=True)
            entry = entries.get(slug)
            if entry is not None:
                entry["doctree"] = self.doctree_stamp(docname)
            results[slug] = (state, entry)
        return results

    def note_results(self, results: dict[str, tuple[str, dict | None]]) -> None:
        articles = self.record.setdefault("articles", {})
        for slug, (state, entry) in results.items():
            self.outcome[slug] = state
            if entry is None:
                articles.pop(slug, None)
            else:
                articles[slug] = entry

    def write_doc(self, docname: str, doctree: nodes.document) -> None:  # pragma: no cover (write_documents does it)
        raise NotImplementedError

    def finish(self) -> None:
        slugs = {d.rsplit("/", 1)[-1] for d in article_docnames(self.env)}
        remove_deleted(Path(self.outdir), slugs)
        self.record["articles"] = {s: e for s, e in self.record.get("articles", {}).items() if s in slugs}
        self.records[str(Path(self.outdir).resolve())] = self.record
        write_atomically(self.record_path, json.dumps(self.records, indent=1, sort_keys=True) + "\n")
        built = sorted(s for s, state in self.outcome.items() if state == "built")
        if built:
            logger.info(f"typeset {len(built)} PDF(s): {', '.join(built[:10])}{' ...' if len(built) > 10 else ''}")


# -- The Download link, and PDFs beside the HTML (the live preview) ---------------------


class pdf_download(nodes.General, nodes.Element):  # noqa: N801
    """The article's "Download PDF" link (HTML only): ``slug``."""


def add_download_link(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    if not (app.config.citedhealth_pdf_per_article and is_article(env, env.docname)):
        return
    for byline in doctree.findall(article_byline):
        byline.parent.insert(byline.parent.index(byline) + 1, pdf_download(slug=env.docname.rsplit("/", 1)[-1]))
        break


def visit_pdf_download_html(self, node: pdf_download) -> None:
    target = f"{self.config.citedhealth_pdf_dir.strip('/')}/{node['slug']}.pdf"
    href = relative_uri(self.builder.get_target_uri(self.builder.current_docname), target)
    self.body.append(
        f'<p class="ch-download-pdf"><a class="reference external" href="{href}" type="application/pdf" download>'
        "Download PDF</a></p>\n"
    )
    raise nodes.SkipNode


def skip_node(self, node: nodes.Element) -> None:
    raise nodes.SkipNode


def pdf_beside_html(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """With ``citedhealth_pdf_with_html``: typeset the article this HTML build just wrote.

    ``html-page-context`` comes with the resolved doctree, after the builder
    picked its images, and before the page is written: the PDF is in place
    when the build ends, which is when the preview reloads the browser."""
    config = app.config
    if not (config.citedhealth_pdf_with_html and config.citedhealth_pdf_per_article) or doctree is None:
        return
    if not is_article(app.env, pagename):
        return
    pdfdir = Path(app.outdir, config.citedhealth_pdf_dir.strip("/"))
    records = app.env.__dict__.setdefault("citedhealth_preview_pdfs", {})
    state = app_state(app)
    queue = getattr(state, "pdf_queue", None)
    serial = not getattr(app.builder, "parallel_ok", False)
    if queue is None and serial and os.getpid() == getattr(state, "pdf_writing_process", None):
        queue = state.pdf_queue = CompileQueue()
    # A parallel write (-j) compiles in place: in a worker process (forked
    # for a chunk of pages, gone when it is written) no thread would outlive
    # the chunk, and in the main process no Typst thread may be running when
    # Sphinx forks the workers (they would inherit it half-made).
    make_article_pdf(app.builder, pagename, doctree, pdfdir, records, queue=queue)


# This build's :class:`CompileQueue` (HTML builds with PDFs beside) and the
# process that runs its write step are ``pdf_queue`` and
# ``pdf_writing_process`` in :func:`.common.app_state`.


def note_writing_process(app: Sphinx, builder) -> None:
    """write-started: the process whose html-collect-pages waits for the queued compiles."""
    app_state(app).pdf_writing_process = os.getpid()


def wait_for_queued_pdfs(app: Sphinx, exception: BaseException | None) -> None:
    """build-finished: a build that stopped before html-collect-pages still waits for its compiles."""
    finish_pdfs_beside_html(app)


def finish_pdfs_beside_html(app: Sphinx) -> list:
    """html-collect-pages (the last step of the HTML builder's writing): wait for the queued compiles."""
    state = app_state(app)
    queue = getattr(state, "pdf_queue", None)
    if queue is not None:
        state.pdf_queue = None
        queue.finish()
    return []


def articles_missing_their_pdf(app: Sphinx, env, added, changed, removed) -> list[str]:
    """With ``citedhealth_pdf_with_html``: articles whose PDF is not in the output are read and written again.

    A preview started on an environment another build made (``make html``
    shares its doctrees) would otherwise write, and so typeset, only the pages
    that changed, and the others' Download links would find no PDF."""
    config = app.config
    if not (config.citedhealth_pdf_with_html and config.citedhealth_pdf_per_article) or app.builder.format != "html":
        return []
    pdfdir = Path(app.outdir, config.citedhealth_pdf_dir.strip("/"))
    # One listing of the folder, not a stat per article: this runs on every save.
    try:
        present = {entry.name for entry in os.scandir(pdfdir) if entry.is_file()}
    except OSError:
        present = set()
    return [
        docname
        for docname in article_docnames(env)
        if docname not in removed and f"{docname.rsplit('/', 1)[-1]}.pdf" not in present
    ]


def remove_deleted_beside_html(app: Sphinx, exception: BaseException | None) -> None:
    config = app.config
    if exception is None and config.citedhealth_pdf_with_html and app.builder.format == "html":
        slugs = {d.rsplit("/", 1)[-1] for d in article_docnames(app.env)}
        remove_deleted(Path(app.outdir, config.citedhealth_pdf_dir.strip("/")), slugs, (".pdf",))


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_pdf_per_article", True, "env", bool)
    app.add_config_value("citedhealth_pdf_dir", "pdf", "html", str)
    # Tagged PDF/UA-1 (accessible) and PDF/A-2a (archival, also tagged): Typst
    # checks both as it exports, and refuses a PDF that breaks either.
    app.add_config_value("citedhealth_pdf_standards", ["ua-1", "a-2a"], "", list)
    app.add_config_value("citedhealth_pdf_with_html", False, "", bool)
    app.add_builder(TypstPdfBuilder)
    app.connect("doctree-read", add_download_link, priority=600)
    app.connect("html-page-context", pdf_beside_html)
    app.connect("write-started", note_writing_process)
    app.connect("html-collect-pages", finish_pdfs_beside_html)
    app.connect("build-finished", wait_for_queued_pdfs, priority=100)
    app.connect("env-get-outdated", articles_missing_their_pdf)
    app.connect("build-finished", remove_deleted_beside_html)
    app.add_node(pdf_download, html=(visit_pdf_download_html, None), **other_writers((skip_node, None)))
