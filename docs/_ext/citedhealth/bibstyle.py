r"""The bibliography style: numbered in order of first citation, with DOI and PubMed links.

Contract: registers the pybtex formatting style ``citedhealth``
(``bibtex_default_style = "citedhealth"`` in ``conf.py``). It is pybtex's
``unsrt`` (Vancouver-like: entries numbered in the order the article first
cites them, which is what medical journals use) plus links for the fields our
checked bibliography carries that ``unsrt`` ignores: ``pmid`` (``unsrt`` only
knows ``pubmed``) and ``pmcid``. The DOI link comes from ``unsrt`` itself.
Each entry ends with its kind of evidence (the ``evidence`` field, see
:mod:`.evidence`) as an inline node of class ``ch-evidence``
(:class:`EntryBackend`). Only safe links are made (:func:`web_url`,
:func:`identifier_url`).

It also renders the LaTeX escapes a ``.bib`` file needs for LaTeX's special
characters, which pybtex's own decoding leaves as stray backslashes or
swallows: ``\{`` and ``\}`` (literal braces), ``\$``, ``\,`` (a thin
space, printed as a no-break space), ``\textasciicircum{}``, ``\^{}``, ``\~{}``, ``\textbackslash{}``.
``\%``, ``\&``, ``\#``, ``\_``, ``\textasciitilde{}`` and Unicode (β ≥ µ é,
dashes, curly quotes) already work. Fields read raw (``doi``, ``url`` ...)
are left alone.

Scale: a work formats the same under the same label on every page, so
``CitedHealthStyle`` memoises formatted entries (and takes back the previous
build's from the pickled environment, :mod:`.citations`).

This module is pybtex's side only; how sphinxcontrib-bibtex's domain lists
and resolves citations is :mod:`.citations`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote, urlsplit

from docutils import nodes as docutils_nodes
from pybtex.database import Entry
from pybtex.plugin import register_plugin
from pybtex.richtext import BaseMultipartText, String, Tag, Text
from pybtex.style import FormattedEntry
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.template import field, href, join, optional, sentence, words
from pybtex_docutils import Backend as DocutilsBackend

from .evidence import LABEL_CLASS, entry_label

if TYPE_CHECKING:
    from sphinx.application import Sphinx

STYLE_NAME = "citedhealth"

#: Fields the style reads raw, as written: never decoded, so never touched.
RAW_FIELDS = {"doi", "url", "pmid", "pmcid", "eprint", "urldate"}

# LaTeX escapes pybtex mis-decodes, each with what it must print. Characters
# pybtex's parser would read as LaTeX (braces, backslash) travel through it as
# private-use placeholders and are put back in the formatted text.
PLACEHOLDERS = {"\ue000": "{", "\ue001": "}", "\ue002": "\\", "\ue003": "$"}
ESCAPES = [
    (re.compile(r"\\textbraceleft(?:\{\}|\s+|(?![A-Za-z]))|\\\{"), "\ue000"),
    (re.compile(r"\\textbraceright(?:\{\}|\s+|(?![A-Za-z]))|\\\}"), "\ue001"),
    (re.compile(r"\\textbackslash(?:\{\}|\s+|(?![A-Za-z]))"), "\ue002"),
    (re.compile(r"\\textdollar(?:\{\}|\s+|(?![A-Za-z]))|\\\$"), "\ue003"),
    (re.compile(r"\\textasciicircum(?:\{\}|\s+|(?![A-Za-z]))|\\\^\{\}"), "^"),
    (re.compile(r"\\~\{\}"), "~"),
    # LaTeX's thin space: a no-break space, which every font has (TeX Gyre Termes
    # lacks the narrow one, U+202F) and which keeps "50 %" on one line.
    (re.compile(r"\\,"), "\u00a0"),
]


def protect(latex: str) -> str:
    """*latex* with the escapes pybtex mis-decodes replaced by what they print."""
    for pattern, replacement in ESCAPES:
        latex = pattern.sub(replacement, latex)
    return latex


def restore(text):
    """The formatted *text* with each placeholder turned back into its character."""
    if isinstance(text, String):
        value = text.value
        for placeholder, character in PLACEHOLDERS.items():
            value = value.replace(placeholder, character)
        return String(value)
    if isinstance(text, BaseMultipartText):
        return text._create_similar(restore(part) for part in text.parts)
    return text


#: Identifier fields the style links, each with the shape it must have to be linked.
LINKED_IDENTIFIERS = {
    "doi": re.compile(r"10\.\d{4,9}/\S+"),
    "pmid": re.compile(r"\d{1,9}"),
    "pmcid": re.compile(r"PMC\d{1,9}"),
    "eprint": re.compile(r"[\w.\-/]+"),
}
IDENTIFIER_SHAPES = {
    "doi": "a DOI (10.NNNN/...)",
    "pmid": "a PubMed ID (digits)",
    "pmcid": "a PubMed Central ID (PMC and digits)",
    "eprint": "an arXiv identifier",
}
#: Where each identifier's link goes; the identifier is percent-encoded into the path.
IDENTIFIER_URLS = {
    "doi": "https://doi.org/{}",
    "pmid": "https://pubmed.ncbi.nlm.nih.gov/{}/",
    "pmcid": "https://pmc.ncbi.nlm.nih.gov/articles/{}/",
    "eprint": "https://arxiv.org/abs/{}",
}


def web_url(value: str) -> str | None:
    """*value* as a link target if it is an http(s) address with a host, else None.

    Only these two schemes: ``javascript:``, ``data:``, ``file:``,
    scheme-relative ``//host`` and relative paths are never linked. Characters
    a URL may not hold raw (spaces, quotes, angle brackets, controls) are
    percent-encoded.
    """
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc or not url.isprintable():
        return None
    return quote(url, safe=URL_SAFE)


#: What ``quote`` keeps in a web address: RFC 3986's reserved and unreserved characters, and ``%``.
URL_SAFE = ":/?#[]@!$&'()*+,;=-._~%"


def identifier_url(name: str, value: str) -> str | None:
    """The link of an identifier field, or None if it does not have the identifier's shape."""
    value = value.strip()
    if not LINKED_IDENTIFIERS[name].fullmatch(value):
        return None
    return IDENTIFIER_URLS[name].format(quote(value, safe="/:;()._-"))


class CitedHealthStyle(UnsrtStyle):
    """``unsrt`` with PubMed and PubMed Central links, only safe links, and the kind of evidence.

    Every link the style makes goes through :func:`web_url` or
    :func:`identifier_url`: a ``url`` that is not http(s), or an identifier
    of the wrong shape (a DOI ``javascript:alert(1)``), is shown as text,
    with no link, even where warnings do not fail the build (:mod:`.checks`
    reports it as ``citedhealth.bib-link``).
    """

    def linked(self, e, name: str, label: str, url: str | None):
        text = join[label, field(name, raw=True)]
        return href(url)[text] if url else text

    def format_url(self, e):
        url = field("url", raw=True)
        safe = web_url(e.fields.get("url", ""))
        return words["URL:", href(safe)[url] if safe else url]

    def format_doi(self, e):
        return self.linked(e, "doi", "doi:", identifier_url("doi", e.fields.get("doi", "")))

    def format_eprint(self, e):
        return self.linked(e, "eprint", "arXiv:", identifier_url("eprint", e.fields.get("eprint", "")))

    def format_entry_uncached(self, label, entry, bib_data=None):
        """pybtex's, with the LaTeX escapes it mis-decodes rendered as what they print.

        The entry ends with its kind of evidence (:mod:`.evidence`), tagged so
        that :class:`EntryBackend` makes it an inline node of class
        ``ch-evidence``; other pybtex backends print its text."""
        fields = {name: value if name.lower() in RAW_FIELDS else protect(value) for name, value in entry.fields.items()}
        protected = Entry(entry.type, fields=fields, persons=entry.persons)
        protected.key = entry.key
        formatted = super().format_entry(label, protected, bib_data=bib_data)
        formatted.text = restore(formatted.text)
        kind = entry_label(entry)
        if kind:
            formatted.text = Text(formatted.text, " ", Tag(LABEL_CLASS, f"Evidence: {kind}"))
        return formatted

    def format_pubmed(self, e):
        return self.linked(e, "pmid", "PMID: ", identifier_url("pmid", e.fields.get("pmid", "")))

    def format_pmcid(self, e):
        return self.linked(e, "pmcid", "PMCID: ", identifier_url("pmcid", e.fields.get("pmcid", "")))

    def format_web_refs(self, e):
        return sentence[
            optional[self.format_url(e), optional[" (visited on ", field("urldate"), ")"]],
            optional[self.format_doi(e)],
            optional[self.format_pubmed(e)],
            optional[self.format_pmcid(e)],
        ]

    #: key -> (entry, formatted entry); shared by every instance, as
    #: sphinxcontrib-bibtex makes a new style object for each bibliography.
    #: Keyed by the entry alone: the text does not depend on the label
    #: (``unsrt`` never prints it; tests/test_bibstyle.py checks), and each
    #: article numbers the works it cites in its own order, so a label-keyed
    #: cache formatted the same work again on almost every page.
    _formatted: ClassVar[dict] = {}

    @classmethod
    def remember(cls, entry, formatted) -> None:
        cls._formatted.setdefault(entry.key, (entry, formatted))

    def format_entry(self, label, entry, bib_data=None):
        """pybtex's, memoised while the entry object is the same (a reloaded .bib makes new ones)."""
        if bib_data is not None:
            return self.format_entry_uncached(label, entry, bib_data)
        cached = self._formatted.get(entry.key)
        if cached is None or cached[0] is not entry:
            formatted = self.format_entry_uncached(label, entry)
            self._formatted[entry.key] = (entry, formatted)
            return formatted
        formatted = cached[1]
        if formatted.label == label:
            return formatted
        return FormattedEntry(formatted.key, formatted.text, label)


class EntryBackend(DocutilsBackend):
    """pybtex-docutils' backend, rendering our ``ch-evidence`` tag as ``inline`` with that class.

    Upstream maps a fixed set of tag names (``em``, ``strong`` ...) to docutils
    nodes and drops any other tag's markup; an ``inline`` with a class is the
    standard node every Sphinx builder renders (HTML ``<span class>``, LaTeX
    ``\\DUrole``)."""

    def format_tag(self, tag_name, text):
        if tag_name == LABEL_CLASS:
            return [docutils_nodes.inline("", "", *text, classes=[LABEL_CLASS])]
        return super().format_tag(tag_name, text)


def setup(app: Sphinx) -> None:
    # pybtex finds styles through its plugin registry; registering again on a
    # second Sphinx application in the same process is harmless.
    register_plugin("pybtex.style.formatting", STYLE_NAME, CitedHealthStyle, force=True)
