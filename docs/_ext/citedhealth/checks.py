"""Health-content guardrails: bibliography hygiene, citation needed, images.

Contract: every breach is a warning of type ``citedhealth`` whose location names
the file and the line, so the strict build (``-n -W --keep-going``) fails on it
and tests can match it. What Sphinx, MyST and sphinxcontrib-bibtex already
report with file and line under ``-n -W`` (an unknown citation key, a broken
``{ref}``/``{doc}``/Markdown link or ``#anchor``, a missing image file that
has alt text) is left to them; this module adds only what they miss.

Bibliography (every file of ``bibtex_bibfiles``), checked on every build:

- ``citedhealth.encoding``: a file with a byte that is not UTF-8, at that
  byte's line. pybtex would stop the build with a traceback naming no file;
  the build goes on without the file (so its citations are unknown keys).

- ``citedhealth.bib-malformed``: an entry pybtex cannot parse (syntax error,
  a field given twice, a name pybtex cannot split). sphinxcontrib-bibtex would stop
  with a traceback and no file; we name the entry's line and let the build go
  on without it (see :func:`quiet_pybtex`).
- ``citedhealth.bib-duplicate``: a key defined twice, at the second
  definition's line (sphinxcontrib-bibtex names the file but no line).
- ``citedhealth.bib-no-link``: an entry with no ``doi``, no ``pmid`` and no
  ``url``, so a reader cannot check it.
- ``citedhealth.bib-link``: a field the style would link that is not safe to
  link: a ``url`` that is not ``http(s)://host...`` (``javascript:``,
  ``data:``, ``//host``...), or a ``doi``, ``pmid``, ``pmcid`` or ``eprint``
  not of its identifier's shape. :mod:`.citations` shows such a field as text,
  never as a link, even where warnings do not fail the build.
- ``citedhealth.bib-incomplete``: a cited entry lacking ``author``, ``title``
  or ``year``. For a web page (an entry with ``url``), ``urldate`` stands in
  for ``year``: pages often state no date of publication, and Vancouver style
  then dates them by when they were consulted. (For entry types with
  required fields, such as ``@article``, pybtex also warns, at the
  ``{bibliography}`` directive; this check names the entry's own line and
  covers types without required fields, such as ``@misc``.)
- ``citedhealth.bib-uncited``: an entry that no ``{cite}`` role cites, in any
  document (entries cited only through ``{footcite}`` count as uncited).

Cost: linear in the files' size (entries are cut by one pass that counts
lines as it goes), and on a build where the files did not change, one hash
of their bytes: what the files alone say (every finding above but
``bib-uncited``, which depends on the documents) is kept in
``citedhealth-bib-check.json`` beside the doctrees, keyed by that hash and
this module's source, and reported again from there on every build: a
warning fails every build until its cause is fixed.

Articles (documents under ``citedhealth_articles_dir``), checked when read:

- ``citedhealth.citation-needed``: a block of text that reports evidence (it
  mentions a study, studies, a trial, a meta-analysis, a review, research or
  "published in") with no citation in it and no cited editorial note
  directly after it. Every text block counts: paragraphs (in lists, quotes,
  table cells, admonitions, footnotes), headings, captions, definition
  terms, lines of line blocks. A citation is a ``{cite}`` role of the
  checked bibliography; a footnote (or ``{footcite}``, or a docutils
  citation) is not. Text is normalised before matching (:func:`normalise`:
  NFKC, format characters and combining marks dropped, lookalike letters
  mapped through Unicode's confusables, dashes and spaces unified), so
  "study" with a Cyrillic dze (U+0455) for its s, or with a soft hyphen
  (U+00AD) inside, is found.
  Blocks inside editorial notes and the disclaimer are the project's own
  voice and are not checked one by one.
Every document, checked when read:

- ``citedhealth.image``: an image without alt text (Sphinx falls back to the
  file name, useless to a screen reader), or loaded from another site.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pybtex.errors
from confusable_homoglyphs import confusables
from docutils import nodes
from pybtex.database.input.bibtex import Parser
from sphinx import addnodes

from .bibstyle import IDENTIFIER_SHAPES, LINKED_IDENTIFIERS, web_url
from .common import WARNING_TYPE, app_state, is_article, logger, node_line, write_atomically
from .disclaimer import disclaimer
from .notes import editorial_note

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

#: Words that make a paragraph report evidence.
EVIDENCE = re.compile(
    r"\b(stud(?:y|ies)|trials?|meta[-\s]?analys[ie]s|reviews?|research|published\s+in)\b",
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
    after it, and each error is found at its own entry. Linear in the file's
    size: lines are counted from one entry to the next, never from the top.
    """
    starts = list(ENTRY_START.finditer(text))
    entries = []
    line, counted_to = 1, 0
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        line += text.count("\n", counted_to, match.start())
        counted_to = match.start()
        entries.append(BibEntry(match.group(2), match.group(1).lower(), line, text[match.start() : end]))
    return entries


def bib_files(app: Sphinx) -> list[Path]:
    # sphinxcontrib-bibtex resolves bibtex_bibfiles against the conf.py folder.
    return [(Path(app.confdir) / name).resolve() for name in app.config.bibtex_bibfiles or []]


def undecodable_line(data: bytes, encoding: str) -> tuple[int, str] | None:
    """None if *data* decodes as *encoding*; else the line of the first bad byte and what is wrong."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        name = "UTF-8" if codecs.lookup(encoding).name.startswith("utf-8") else encoding
        return line, f"byte 0x{data[error.start]:02x} at column {column} is not {name}"
    return None


BIB_CHECK_CACHE = "citedhealth-bib-check.json"


def bib_findings(paths: list[Path], encoding: str) -> dict:
    """What the checks of the files alone find in *paths*: warnings, malformed keys, field problems, undecodable files.

    A pure function of the files' bytes, so :func:`check_bib_syntax` keeps it
    beside the doctrees, keyed by their hash, and an unchanged bibliography
    costs one hash, not a pybtex parse per entry.
    """
    warnings: list[tuple[str, str, str]] = []
    malformed: set[str] = set()
    #: path -> [key, line] or [key, line, link problems, no link at all, cited fields lacking], per well-formed entry.
    fields: dict[str, list[list]] = {}
    undecodable: list[str] = []
    seen: dict[str, str] = {}
    for path in paths:
        if not path.is_file():
            continue
        data = path.read_bytes()
        bad = undecodable_line(data, encoding)
        if bad is not None:
            warnings.append(
                (f"undecodable file: {bad[1]}; the build goes on without it", f"{path}:{bad[0]}", "encoding")
            )
            undecodable.append(str(path))
            continue
        text = data.decode(encoding)
        entries = split_entries(text)
        parser = Parser(encoding=encoding)  # one per file: @string macros carry over
        for entry in entries:
            where = f"{path}:{entry.line}"
            if entry.kind in NON_ENTRIES:
                continue
            # Keys are case-insensitive, in BibTeX as in pybtex.
            if entry.key.lower() in seen:
                warnings.append(
                    (
                        f"duplicate bibliography key {entry.key!r}: first defined at {seen[entry.key.lower()]}",
                        where,
                        "bib-duplicate",
                    )
                )
                continue
            seen[entry.key.lower()] = where
            # Capture pybtex's errors rather than let them raise at the first one.
            with pybtex.errors.capture() as errors:
                parser.parse_string(entry.text)
            for error in errors:
                malformed.add(entry.key.lower())
                warnings.append(
                    (
                        f"malformed bibliography entry {entry.key or '(no key)'!r}: {reason(error)}",
                        where,
                        "bib-malformed",
                    )
                )
            parsed = parser.data.entries.get(entry.key)
            if errors or parsed is None:
                continue  # reported as malformed: its fields are not judged
            problems = [
                link_problems(parsed),
                not any(parsed.fields.get(name, "").strip() for name in LINK_FIELDS),
                [name for name in CITED_FIELDS if not has_field(parsed, name)],
            ]
            # Most entries have nothing wrong: stored as [key, line] alone, the cache stays small.
            fields.setdefault(str(path), []).append([entry.key, entry.line, *(problems if any(problems) else [])])
    return {"warnings": warnings, "malformed": sorted(malformed), "fields": fields, "undecodable": undecodable}


def cached_bib_findings(app: Sphinx) -> dict:
    """:func:`bib_findings`, from the cache beside the doctrees when the files are byte for byte the same."""
    paths = bib_files(app)
    encoding = app.config.bibtex_encoding
    # This module's own source is part of the key: new code, new findings.
    digest = hashlib.sha256(Path(__file__).read_bytes() + f"\x00{encoding}".encode())
    for path in paths:
        digest.update(f"\x00{path}\x00".encode())
        digest.update(path.read_bytes() if path.is_file() else b"\x00missing")
    key = digest.hexdigest()
    cache = Path(app.doctreedir) / BIB_CHECK_CACHE
    try:
        stored = json.loads(cache.read_text(encoding="utf-8"))
        if stored.get("key") == key:
            return stored["findings"]
    except (OSError, ValueError, AttributeError):
        pass  # no cache yet, or an unreadable one: work it out
    findings = bib_findings(paths, encoding)
    write_atomically(cache, json.dumps({"key": key, "findings": findings}))
    return findings


def check_bib_syntax(app: Sphinx) -> None:
    """Undecodable files, duplicate keys and malformed entries, with their lines, before sphinxcontrib-bibtex parses.

    Reported on every build, from the cache when the files did not change:
    a warning fails every build until its cause is fixed.
    """
    findings = cached_bib_findings(app)
    for message, where, subtype in findings["warnings"]:
        warn(message, where, subtype)
    state = app_state(app)  # read later in the same build
    state.bib_malformed = set(findings["malformed"])
    state.bib_fields = findings["fields"]
    state.bib_undecodable = findings["undecodable"]


def hide_undecodable_bib_files(app: Sphinx) -> None:
    """Keep sphinxcontrib-bibtex from the files :func:`check_bib_syntax` found undecodable.

    pybtex reads a file with strict decoding, and a stray byte ends the
    build in a ``UnicodeDecodeError`` traceback naming no file. The warning
    with the file and line is out already; for sphinxcontrib-bibtex's parse
    (its ``builder-inited`` handler, ``builder_inited_cite``) the file is left
    out of ``bibtex_bibfiles``, and put back right after (:func:`show_bib_files`)
    so the configuration Sphinx stores is the author's.
    """
    undecodable = set(getattr(app_state(app), "bib_undecodable", ()))
    if not undecodable:
        return
    app_state(app).bibfiles = app.config.bibtex_bibfiles
    app.config.bibtex_bibfiles = [
        name for name in app.config.bibtex_bibfiles if str((Path(app.confdir) / name).resolve()) not in undecodable
    ]


def show_bib_files(app: Sphinx) -> None:
    state = app_state(app)
    if hasattr(state, "bibfiles"):
        app.config.bibtex_bibfiles = state.bibfiles
        del state.bibfiles


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
    show_bib_files(app)
    if getattr(app_state(app), "bib_malformed", 0):
        return
    for error in errors:
        if str(error).startswith("repeated bibliography entry"):
            continue  # reported by check_bib_syntax with its line
        path = error.get_filename() or bib_files(app)[0]
        warn(f"malformed bibliography: {error}", f"{path}:{getattr(error, 'lineno', None) or 1}", "bib-malformed")


def check_bib_entries(app: Sphinx, env: BuildEnvironment) -> None:
    """Links, fields of cited entries, and entries nobody cites; once all documents are read.

    What each entry's fields lack or hold wrong was worked out with the syntax
    check (:func:`bib_findings`, cached with it); only who cites what is
    looked at here, on every build.
    """
    domain = env.get_domain("cite")
    loaded = domain.bibdata.bibfiles  # the files sphinxcontrib-bibtex parsed (an undecodable one is not)
    # What the roles name, and what the bibliographies list (sphinxcontrib-bibtex
    # fills those in on env-updated, before us): the latter holds the bare key
    # of an entry cited with a :keyprefix:. The domain keeps them counted per
    # page, so a build counts again only the pages it read (citations.py).
    cited = domain.cited_keys()
    fields = getattr(app_state(app), "bib_fields", {})
    for path in bib_files(app):
        if path not in loaded:
            continue
        for key, line, *problems in fields.get(str(path), ()):
            if not problems and key in cited:
                continue  # the usual case, and the only one on a large sound bibliography: nothing to say
            link, no_link, lacking = problems or ((), False, ())
            where = f"{path}:{line}"
            for problem in link:
                warn(f"bibliography entry {key!r}: {problem}", where, "bib-link")
            if no_link:
                warn(
                    f"bibliography entry {key!r} has no DOI, no PMID and no URL: add one so readers can check it",
                    where,
                    "bib-no-link",
                )
            if key not in cited:
                warn(f"bibliography entry {key!r} is cited nowhere", where, "bib-uncited")
                continue
            if lacking:
                warn(
                    f"cited bibliography entry {key!r} lacks {', '.join(repr(n) for n in lacking)}",
                    where,
                    "bib-incomplete",
                )


def link_problems(entry) -> list[str]:
    """What is wrong with the fields the style turns into links (see :mod:`.citations`, which never links them)."""
    problems = []
    for name in ("url", *LINKED_IDENTIFIERS):
        value = entry.fields.get(name)
        if value is None:
            continue
        if name == "url" and web_url(value) is None:
            problems.append(f"url {value!r} is not an http(s) address; it is shown without a link")
        elif name != "url" and not LINKED_IDENTIFIERS[name].fullmatch(value.strip()):
            problems.append(f"{name} {value!r} is not {IDENTIFIER_SHAPES[name]}; it is shown without a link")
    return problems


def has_field(entry, name: str) -> bool:
    if name == "author":
        return bool(entry.persons.get("author"))
    if name == "year" and not entry.fields.get("year", "").strip():
        # A web page often states no date of publication; Vancouver then
        # dates it by when it was consulted, so ``urldate`` stands in.
        return bool(entry.fields.get("url", "").strip() and entry.fields.get("urldate", "").strip())
    return bool(entry.fields.get(name, "").strip())


# -- Where a node is -------------------------------------------------------------


# -- Citation needed -------------------------------------------------------------


def is_citation(node: nodes.Node) -> bool:
    """A ``{cite}`` role (sphinxcontrib-bibtex's ``cite`` domain): a work of the checked bibliography.

    Footnotes, ``{footcite}`` and docutils' own citations are not: their text
    is whatever the author wrote ("Trust me."), checked by nothing.
    """
    return isinstance(node, addnodes.pending_xref) and node.get("refdomain") == "cite"


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


def in_own_voice(node: nodes.Node, bibliography_keys: Collection[str] = ()) -> bool:
    """True inside an editorial note, the disclaimer, the byline, a bibliography or the document's metadata.

    A footnote is the author's prose like any other text, unless it is one
    that ``{footcite}`` made from a bibliography entry (named after its key).
    """
    if OWN_VOICE_CLASSES & set(node.get("classes", [])):
        return True
    parent = node.parent
    while parent is not None:
        if isinstance(parent, editorial_note | disclaimer | nodes.citation | nodes.docinfo):
            return True
        if OWN_VOICE_CLASSES & set(parent.get("classes", [])):
            return True
        if isinstance(parent, nodes.footnote) and any(name in bibliography_keys for name in parent["names"]):
            return True
        parent = parent.parent
    return False


def prose(node: nodes.Node) -> str:
    """The text a reader reads in *node*: raw HTML's markup does not count."""
    return "".join(text.astext() for text in node.findall(nodes.Text) if not isinstance(text.parent, nodes.raw))


#: Unicode categories dropped before matching: format characters (soft hyphen,
#: zero-width space and joiners, BOM, bidirectional controls...) and combining
#: marks, none of which a reader sees as a letter of its own.
INVISIBLE_CATEGORIES = {"Cf", "Mn", "Me"}


@functools.cache
def latin_lookalike(character: str) -> str:
    """The ASCII letter *character* looks like (Cyrillic a, U+0430; Greek omicron, U+03BF ...), else *character*.

    From Unicode's confusables list (UTS #39) as the maintained
    ``confusable-homoglyphs`` package ships it.
    """
    if character.isascii():
        return character
    if unicodedata.category(character) == "Pd":  # hyphens and dashes, U+2010 to U+2015 and more
        return "-"
    if unicodedata.category(character).startswith("Z"):  # every kind of space
        return " "
    found = confusables.is_confusable(character, greedy=True, preferred_aliases=["latin"])
    for homoglyph in found[0]["homoglyphs"] if found else ():
        if homoglyph["c"].isascii() and homoglyph["c"].isalpha():
            return homoglyph["c"]
    return character


def normalise(text: str) -> str:
    """*text* as a reader reads it, in ASCII where it looks like ASCII, for matching evidence words.

    NFKC first (fullwidth and ligature letters, compatibility spaces), then
    NFD so accents come apart from their letters; format characters and
    combining marks dropped; lookalike letters, dashes and spaces mapped.
    """
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text))
    kept = (c for c in decomposed if unicodedata.category(c) not in INVISIBLE_CATEGORIES)
    return "".join(map(latin_lookalike, kept))


def is_text_block(node: nodes.Node) -> bool:
    """A block of text a reader reads: a paragraph, a heading, a caption, a term, a line of a line block...

    Every text element that is not inline and not fixed text (code, raw
    markup, comments), nor a label (the numbers of footnotes and citations).
    """
    return isinstance(node, nodes.TextElement) and not isinstance(
        node, nodes.Inline | nodes.FixedTextElement | nodes.label
    )


def check_citation_needed(docname: str, doctree: nodes.document, bibliography_keys: Collection[str] = ()) -> None:
    for block in doctree.findall(is_text_block):
        if in_own_voice(block, bibliography_keys) or cites(block):
            continue
        match = EVIDENCE.search(normalise(prose(block)))
        if not match:
            continue
        following = next_block(block)
        if isinstance(following, editorial_note) and cites(following):
            continue
        warn(
            f"citation needed: the {block_kind(block)} reports evidence ({' '.join(match.group(0).split())!r}) "
            "but cites nothing, and no editorial note with a citation follows it",
            (docname, node_line(block)),
            "citation-needed",
        )


def block_kind(block: nodes.Node) -> str:
    """What the author calls *block*, for the message."""
    if isinstance(block, nodes.title):
        return "heading"
    if isinstance(block, nodes.paragraph) and isinstance(block.parent, nodes.entry):
        return "table cell"
    names = {nodes.caption: "caption", nodes.term: "term", nodes.line: "line", nodes.rubric: "heading"}
    return names.get(type(block), "paragraph")


# -- Images ------------------------------------------------------------------------

EXTERNAL_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


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
        check_citation_needed(docname, doctree, app.env.get_domain("cite").bibdata.data.entries)


def setup(app: Sphinx) -> None:
    # Before sphinxcontrib-bibtex parses the files (its handler has the
    # default priority, 500), so a malformed entry is named before it fails.
    app.connect("builder-inited", check_bib_syntax, priority=400)
    app.connect("builder-inited", hide_undecodable_bib_files, priority=401)
    app.connect("builder-inited", quiet_pybtex, priority=499)
    app.connect("builder-inited", loud_pybtex, priority=501)
    app.connect("env-updated", check_bib_entries)
    app.connect("doctree-read", check_document)
