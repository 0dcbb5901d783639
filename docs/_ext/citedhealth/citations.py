"""The bibliography style: numbered in order of first citation, with DOI and PubMed links.

Contract: registers the pybtex formatting style ``citedhealth``
(``bibtex_default_style = "citedhealth"`` in ``conf.py``). It is pybtex's
``unsrt`` (Vancouver-like: entries numbered in the order the article first
cites them, which is what medical journals use) plus links for the fields our
checked bibliography carries that ``unsrt`` ignores: ``pmid`` (``unsrt`` only
knows ``pubmed``) and ``pmcid``. The DOI link comes from ``unsrt`` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.template import field, href, join, optional, sentence

if TYPE_CHECKING:
    from sphinx.application import Sphinx

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


def setup(app: Sphinx) -> None:
    # pybtex finds styles through its plugin registry; registering again on a
    # second Sphinx application in the same process is harmless.
    register_plugin("pybtex.style.formatting", STYLE_NAME, CitedHealthStyle, force=True)
