r"""The bibliography style: numbered in order of first citation, with DOI and PubMed links.

Contract: registers the pybtex formatting style ``citedhealth``
(``bibtex_default_style = "citedhealth"`` in ``conf.py``). It is pybtex's
``unsrt`` (Vancouver-like: entries numbered in the order the article first
cites them, which is what medical journals use) plus links for the fields our
checked bibliography carries that ``unsrt`` ignores: ``pmid`` (``unsrt`` only
knows ``pubmed``) and ``pmcid``. The DOI link comes from ``unsrt`` itself.

Every article has its own bibliography, numbered from 1 in the order *that
article* first cites each work. sphinxcontrib-bibtex orders a bibliography by
first citation across the whole project (``BibtexDomain.get_all_cited_keys``
walks every document in toctree order), so an article citing B before A
would list A first if an earlier article cited A first. ``ArticleBibtexDomain``
puts the bibliography's own document first in that walk.

Two articles citing the same work therefore both list it, which sphinxcontrib-bibtex reports as
``bibtex.duplicate_citation`` (and, for the numbers, ``duplicate_label``).
Those are not ambiguities here: it resolves each citation to the bibliography
on the citing page first (``BibtexDomain.resolve_xref``), so this module
silences those two subtypes. A key listed twice on one page still fails the
build (``bibtex.duplicate_local_citation``).

It also renders the LaTeX escapes a ``.bib`` file needs for LaTeX's special
characters, which pybtex's own decoding leaves as stray backslashes or
swallows: ``\{`` and ``\}`` (literal braces), ``\$``, ``\,`` (a thin
space, printed as a no-break space), ``\textasciicircum{}``, ``\^{}``, ``\~{}``, ``\textbackslash{}``.
``\%``, ``\&``, ``\#``, ``\_``, ``\textasciitilde{}`` and Unicode (β ≥ µ é,
dashes, curly quotes) already work. Fields read raw (``doi``, ``url`` ...)
are left alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pybtex.database import Entry
from pybtex.plugin import register_plugin
from pybtex.richtext import BaseMultipartText, String
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.template import field, href, join, optional, sentence
from sphinxcontrib.bibtex.domain import BibtexDomain

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

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


class CitedHealthStyle(UnsrtStyle):
    """``unsrt`` with PubMed and PubMed Central links from ``pmid`` and ``pmcid``."""

    def format_entry(self, label, entry, bib_data=None):
        fields = {name: value if name.lower() in RAW_FIELDS else protect(value) for name, value in entry.fields.items()}
        protected = Entry(entry.type, fields=fields, persons=entry.persons)
        protected.key = entry.key
        formatted = super().format_entry(label, protected, bib_data=bib_data)
        formatted.text = restore(formatted.text)
        return formatted

    def format_pubmed(self, e):
        url = join["https://pubmed.ncbi.nlm.nih.gov/", field("pmid", raw=True), "/"]
        return href(url)[join["PMID: ", field("pmid", raw=True)]]

    def format_pmcid(self, e):
        url = join["https://pmc.ncbi.nlm.nih.gov/articles/", field("pmcid", raw=True), "/"]
        return href(url)[join["PMCID: ", field("pmcid", raw=True)]]

    def format_web_refs(self, e):
        return sentence[
            optional[self.format_url(e), optional[" (visited on ", field("urldate"), ")"]],
            optional[self.format_doi(e)],
            optional[self.format_pubmed(e)],
            optional[self.format_pmcid(e)],
        ]


class ArticleBibtexDomain(BibtexDomain):
    """sphinxcontrib-bibtex's ``cite`` domain, numbering each bibliography in its own page's citation order."""

    def get_sorted_entries(self, bibliography_key, docnames):
        own = bibliography_key.docname
        return super().get_sorted_entries(bibliography_key, [own, *(d for d in docnames if d != own)])


#: Warnings that per-article bibliographies raise by design (see the module docstring).
EXPECTED_BIBTEX_WARNINGS = ["bibtex.duplicate_citation", "bibtex.duplicate_label"]


def allow_per_article_bibliographies(app: Sphinx, config: Config) -> None:
    config.suppress_warnings = [*config.suppress_warnings, *EXPECTED_BIBTEX_WARNINGS]


def setup(app: Sphinx) -> None:
    # pybtex finds styles through its plugin registry; registering again on a
    # second Sphinx application in the same process is harmless.
    register_plugin("pybtex.style.formatting", STYLE_NAME, CitedHealthStyle, force=True)
    app.add_domain(ArticleBibtexDomain, override=True)
    app.connect("config-inited", allow_per_article_bibliographies)
