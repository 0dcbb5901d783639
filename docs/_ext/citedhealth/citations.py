"""The bibliography style: numbered in order of first citation, with DOI and PubMed links.

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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.template import field, href, join, optional, sentence
from sphinxcontrib.bibtex.domain import BibtexDomain

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

STYLE_NAME = "citedhealth"


class CitedHealthStyle(UnsrtStyle):
    """``unsrt`` with PubMed and PubMed Central links from ``pmid`` and ``pmcid``."""

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
