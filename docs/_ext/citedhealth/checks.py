"""Health-content guardrails: bibliography hygiene, citation needed, raw HTML, images.

Contract: every breach is a warning of type ``citedhealth`` whose location names
the file and the line, so the strict build (``-n -W --keep-going``) fails on it
and tests can match it. What Sphinx, MyST and sphinxcontrib-bibtex already
report with file and line under ``-n -W`` (an unknown citation key, a broken
``{ref}``/``{doc}``/Markdown link or ``#anchor``, a missing image file that
has alt text) is left to them; this module adds only what they miss.

Bibliography (every file of ``bibtex_bibfiles``), checked on every build:

- ``citedhealth.bib-malformed``: an entry pybtex cannot parse (syntax error,
  a field given twice, a name pybtex cannot split). sphinxcontrib-bibtex would stop
  with a traceback and no file; we name the entry's line and let the build go
  on without it (see :func:`quiet_pybtex`).
- ``citedhealth.bib-duplicate``: a key defined twice, at the second
  definition's line (sphinxcontrib-bibtex names the file but no line).
- ``citedhealth.bib-no-link``: an entry with no ``doi``, no ``pmid`` and no
  ``url``, so a reader cannot check it.
- ``citedhealth.bib-incomplete``: a cited entry lacking ``author``, ``title``
  or ``year``. For a web page (an entry with ``url``), ``urldate`` stands in
  for ``year``: pages often state no date of publication, and Vancouver style
  then dates them by when they were consulted. (For entry types with
  required fields, such as ``@article``, pybtex also warns, at the
  ``{bibliography}`` directive; this check names the entry's own line and
  covers types without required fields, such as ``@misc``.)
- ``citedhealth.bib-uncited``: an entry that no ``{cite}`` role cites, in any
  document (entries cited only through ``{footcite}`` count as uncited).

Articles (documents under ``citedhealth_articles_dir``), checked when read:

- ``citedhealth.citation-needed``: a paragraph that reports evidence (it
  mentions a study, studies, a trial, a meta-analysis, a review, research or
  "published in") with no citation in it and no cited editorial note
  directly after it. Paragraphs inside editorial notes and the disclaimer
  are the project's own voice and are not checked one by one.
- ``citedhealth.raw-html``: raw HTML holding ``<script>``, an inline event
  handler (``on...=``), an embedding element (``<iframe>``, ``<object>``,
  ``<embed>`` ...) or anything loaded from another site (``src``, ``srcset``,
  ``<link href>``, ``url(...)`` in styles): the site promises readers no
  third-party requests. Links (``<a href>``) to other sites are allowed;
  links and images to the site's own files are not, since in raw HTML the
  build can neither check a link nor copy an image (Markdown does both).

Every document, checked when read:

- ``citedhealth.image``: an image without alt text (Sphinx falls back to the
  file name, useless to a screen reader), or loaded from another site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pybtex.errors
from docutils import nodes
from pybtex.database.input.bibtex import Parser

from .common import WARNING_TYPE, is_article, logger
from .disclaimer import disclaimer
from .notes import editorial_note

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

#: Words that make a paragraph report evidence.
EVIDENCE = re.compile(
    r"\b(stud(?:y|ies)|trials?|meta-?analys[ie]s|reviews?|research|published\s+in)\b",
    re.IGNORECASE,
)
#: Fields of which an entry needs one, so a reader can check it.
LINK_FIELDS = ("doi", "pmid", "url")
#: Fields a cited entry must have.
CITED_FIELDS = ("author", "title", "year")
#: pybtex commands that are not bibliography entries.
NON_ENTRIES = {"string", "preamble", "comment"}


def warn(message: str, location: str | tuple[str, int], subtype: str) -> None:
    logger.warning(message, location=location, type=WARNING_TYPE, subtype=subtype)


# -- Bibliography ------------------------------------------------------------


@dataclass
class BibEntry:
    """Where an entry starts in its file, and its source text."""

    key: str
    kind: str
    line: int
    text: str


ENTRY_START = re.compile(r"^[ \t]*@[ \t]*(\w+)[ \t]*[{(][ \t]*([^,\s{}()]*)", re.MULTILINE)


def split_entries(text: str) -> list[BibEntry]:
    """Cut a .bib file's text into its entries, each from its ``@`` to the next.

    Cutting first means one unclosed brace spoils one entry, not every entry
    after it, and each error is found at its own entry.
    """
    starts = list(ENTRY_START.finditer(text))
    entries = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        line = text.count("\n", 0, match.start()) + 1
        entries.append(BibEntry(match.group(2), match.group(1).lower(), line, text[match.start() : end]))
    return entries


def bib_files(app: Sphinx) -> list[Path]:
    # sphinxcontrib-bibtex resolves bibtex_bibfiles against the conf.py folder.
    return [(Path(app.confdir) / name).resolve() for name in app.config.bibtex_bibfiles or []]


def read_bib(path: Path, encoding: str) -> list[BibEntry]:
    return split_entries(path.read_text(encoding=encoding)) if path.is_file() else []


def check_bib_syntax(app: Sphinx) -> None:
    """Duplicate keys and malformed entries, with their lines, before sphinxcontrib-bibtex parses."""
    seen: dict[str, str] = {}
    app.citedhealth_bib_malformed = set()  # keys; read later in the same build
    for path in bib_files(app):
        parser = Parser(encoding=app.config.bibtex_encoding)  # one per file: @string macros carry over
        for entry in read_bib(path, app.config.bibtex_encoding):
            where = f"{path}:{entry.line}"
            if entry.kind in NON_ENTRIES:
                continue
            # Keys are case-insensitive, in BibTeX as in pybtex.
            if entry.key.lower() in seen:
                warn(
                    f"duplicate bibliography key {entry.key!r}: first defined at {seen[entry.key.lower()]}",
                    where,
                    "bib-duplicate",
                )
                continue
            seen[entry.key.lower()] = where
            # Capture pybtex's errors rather than let them raise at the first one.
            with pybtex.errors.capture() as errors:
                parser.parse_string(entry.text)
            for error in errors:
                app.citedhealth_bib_malformed.add(entry.key.lower())
                warn(
                    f"malformed bibliography entry {entry.key or '(no key)'!r}: {reason(error)}", where, "bib-malformed"
                )


def reason(error: Exception) -> str:
    """pybtex's message without its line, which counts from the entry, not the file."""
    message = error.args[0] if error.args else str(error)
    if message == "premature end of file":
        return "it ends before its braces or quotes close"
    return message


def quiet_pybtex(app: Sphinx) -> None:
    """Collect pybtex's errors while sphinxcontrib-bibtex parses, instead of letting them raise.

    In its default strict mode pybtex raises at the first error and
    sphinxcontrib-bibtex stops with a traceback naming no file (or, for a
    repeated key, drops every entry after it). :func:`check_bib_syntax` has
    already named each error with its line; collecting them lets the build go
    on with every well-formed entry and report everything else too.
    """
    pybtex.errors.captured_errors = []


def loud_pybtex(app: Sphinx) -> None:
    """Stop collecting; report anything :func:`check_bib_syntax` did not (so nothing is lost)."""
    errors, pybtex.errors.captured_errors = pybtex.errors.captured_errors or [], None
    if getattr(app, "citedhealth_bib_malformed", 0):
        return
    for error in errors:
        if str(error).startswith("repeated bibliography entry"):
            continue  # reported by check_bib_syntax with its line
        path = error.get_filename() or bib_files(app)[0]
        warn(f"malformed bibliography: {error}", f"{path}:{getattr(error, 'lineno', None) or 1}", "bib-malformed")


def check_bib_entries(app: Sphinx, env: BuildEnvironment) -> None:
    """Links, fields of cited entries, and entries nobody cites; once all documents are read."""
    domain = env.get_domain("cite")
    entries = domain.bibdata.data.entries
    # What the roles name, and what the bibliographies list (sphinxcontrib-bibtex
    # fills those in on env-updated, before us): the latter holds the bare key
    # of an entry cited with a :keyprefix:.
    cited = {target.key for ref in domain.citation_refs for target in ref.targets}
    cited |= {citation.entry.key for citation in domain.citations}
    skip = set(getattr(app, "citedhealth_bib_malformed", set()))  # reported already
    for path in bib_files(app):
        for found in read_bib(path, app.config.bibtex_encoding):
            if found.kind in NON_ENTRIES or found.key not in entries or found.key.lower() in skip:
                continue
            skip.add(found.key.lower())  # a duplicate's second definition is not checked again
            entry = entries[found.key]
            where = f"{path}:{found.line}"
            if not any(entry.fields.get(name, "").strip() for name in LINK_FIELDS):
                warn(
                    f"bibliography entry {found.key!r} has no DOI, no PMID and no URL: add one so readers can check it",
                    where,
                    "bib-no-link",
                )
            if found.key not in cited:
                warn(f"bibliography entry {found.key!r} is cited nowhere", where, "bib-uncited")
                continue
            lacking = [name for name in CITED_FIELDS if not has_field(entry, name)]
            if lacking:
                warn(
                    f"cited bibliography entry {found.key!r} lacks {', '.join(repr(n) for n in lacking)}",
                    where,
                    "bib-incomplete",
                )


def has_field(entry, name: str) -> bool:
    if name == "author":
        return bool(entry.persons.get("author"))
    if name == "year" and not entry.fields.get("year", "").strip():
        # A web page often states no date of publication; Vancouver then
        # dates it by when it was consulted, so ``urldate`` stands in.
        return bool(entry.fields.get("url", "").strip() and entry.fields.get("urldate", "").strip())
    return bool(entry.fields.get(name, "").strip())


# -- Where a node is -------------------------------------------------------------


def node_line(node: nodes.Node) -> int:
    """The node's source line, or its nearest ancestor's (MyST leaves some nodes without one)."""
    while node is not None:
        if getattr(node, "line", None):
            return node.line
        node = node.parent
    return 1


# -- Citation needed -------------------------------------------------------------


def is_citation(node: nodes.Node) -> bool:
    return isinstance(node, nodes.citation_reference | nodes.footnote_reference) or (
        isinstance(node, nodes.Element) and node.get("refdomain") in {"cite", "footcite"}
    )


def cites(node: nodes.Node) -> bool:
    return any(True for _ in node.findall(is_citation))


def next_block(node: nodes.Node) -> nodes.Node | None:
    """What a reader meets right after *node*: its next sibling, or its container's."""
    while node is not None and not isinstance(node, nodes.section | nodes.document):
        sibling = node.next_node(descend=False, siblings=True, ascend=False)
        while isinstance(sibling, nodes.target | nodes.comment | nodes.system_message):
            sibling = sibling.next_node(descend=False, siblings=True, ascend=False)
        if sibling is not None:
            return sibling
        node = node.parent
    return None


#: What our extension adds to an article, by class: the byline, "Cite this
#: article" (citing.py), the review footer (review.py), the evidence summary
#: (evidence.py). Their words ("Next review due", a title) are no claims.
OWN_VOICE_CLASSES = {"ch-byline", "ch-cite", "ch-review-footer", "ch-evidence-summary"}


def in_own_voice(node: nodes.Node) -> bool:
    """True inside an editorial note, the disclaimer, a bibliography or what our extension adds."""
    if OWN_VOICE_CLASSES & set(node.get("classes", [])):
        return True
    parent = node.parent
    while parent is not None:
        if isinstance(parent, editorial_note | disclaimer | nodes.citation | nodes.footnote):
            return True
        if OWN_VOICE_CLASSES & set(parent.get("classes", [])):
            return True
        parent = parent.parent
    return False


def prose(node: nodes.Node) -> str:
    """The text a reader reads in *node*: raw HTML's markup does not count."""
    return "".join(text.astext() for text in node.findall(nodes.Text) if not isinstance(text.parent, nodes.raw))


def check_citation_needed(docname: str, doctree: nodes.document) -> None:
    for paragraph in doctree.findall(nodes.paragraph):
        if in_own_voice(paragraph) or cites(paragraph):
            continue
        match = EVIDENCE.search(prose(paragraph))
        if not match:
            continue
        following = next_block(paragraph)
        if isinstance(following, editorial_note) and cites(following):
            continue
        warn(
            f"citation needed: the paragraph reports evidence ({' '.join(match.group(0).split())!r}) "
            "but cites nothing, and no editorial note with a citation follows it",
            (docname, node_line(paragraph)),
            "citation-needed",
        )


# -- Raw HTML ----------------------------------------------------------------------

#: Elements that run code or embed another page.
EMBEDDING = {"iframe", "frame", "frameset", "object", "embed", "applet", "portal"}
#: Attributes whose URL the browser fetches without a click.
FETCHED = {"src", "srcset", "poster", "background", "data", "lowsrc", "dynsrc"}
EXTERNAL_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
#: Elements showing an image that Markdown's image syntax would copy and check.
IMAGES = {"img", "source"}
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)


def is_local(url: str) -> bool:
    """A path into the site (``page.html``, ``../img.png``), not a URL with a scheme, nor ``#anchor``."""
    url = url.strip()
    return bool(url) and not url.startswith("#") and not EXTERNAL_URL.match(url) and not SCHEME.match(url)


class RawHtmlAudit(HTMLParser):
    """Collects what a raw HTML fragment does that an article may not."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_style = False

    def external(self, url: str, what: str) -> bool:
        if EXTERNAL_URL.match(url):
            self.problems.append(f"{what} loads {url.strip()!r} from another site")
            return True
        return False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.problems.append("<script> runs code")
        elif tag in EMBEDDING:
            self.problems.append(f"<{tag}> embeds another page or plugin")
        self.in_style = tag == "style"
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> is an inline event handler")
            elif name in FETCHED:
                for candidate in value.split(",") if name == "srcset" else [value]:
                    url = candidate.strip().split(" ")[0]
                    if not self.external(url, f"<{tag} {name}>") and tag in IMAGES and is_local(url):
                        self.problems.append(
                            f"<{tag} {name}> {url!r} is neither checked nor copied by the build:"
                            " use Markdown's image syntax"
                        )
            elif name == "href" and tag == "link":
                self.external(value, "<link href>")
            elif name == "href" and is_local(value):
                self.problems.append(f"<{tag} href> {value!r} is a link the build cannot check: use a Markdown link")
            elif name == "style":
                self.css(value, f"<{tag} style>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self.css(data, "<style>")

    def css(self, text: str, what: str) -> None:
        for match in CSS_URL.finditer(text):
            self.external(match.group(1) or match.group(2), what)


def raw_html_problems(html: str) -> list[str]:
    audit = RawHtmlAudit()
    audit.feed(html)
    audit.close()
    return audit.problems


def check_raw_html(docname: str, doctree: nodes.document) -> None:
    for raw in doctree.findall(nodes.raw):
        if "html" not in raw.get("format", "").split():
            continue
        for problem in raw_html_problems(raw.astext()):
            warn(
                f"raw HTML not allowed in an article: {problem}",
                (docname, node_line(raw)),
                "raw-html",
            )


# -- Images ------------------------------------------------------------------------


def check_images(docname: str, doctree: nodes.document) -> None:
    for image in doctree.findall(nodes.image):
        uri = image.get("uri", "")
        where = (docname, node_line(image))
        if EXTERNAL_URL.match(uri):
            warn(f"image loads from another site: {uri}: save it under docs/ instead", where, "image")
        if not image.get("alt", "").strip():
            warn(f"image has no alt text: {uri}", where, "image")


def check_document(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    check_images(docname, doctree)
    if is_article(app.env, docname):
        check_citation_needed(docname, doctree)
        check_raw_html(docname, doctree)


def setup(app: Sphinx) -> None:
    # Before sphinxcontrib-bibtex parses the files (its handler has the
    # default priority, 500), so a malformed entry is named before it fails.
    app.connect("builder-inited", check_bib_syntax, priority=400)
    app.connect("builder-inited", quiet_pybtex, priority=499)
    app.connect("builder-inited", loud_pybtex, priority=501)
    app.connect("env-updated", check_bib_entries)
    app.connect("doctree-read", check_document)
