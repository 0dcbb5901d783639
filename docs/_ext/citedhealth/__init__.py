"""Cited Health's Sphinx extension: what a cited health article needs beyond stock Sphinx.

One module per concern; each has a ``setup(app)`` that registers its part:

- :mod:`.disclaimer`: the ``{disclaimer}`` directive and the one-per-article check;
- :mod:`.notes`: the ``{editorial-note}`` directive;
- :mod:`.articles`: front matter, the article byline, meta description, the
  landing page's article list;
- :mod:`.citations`: the bibliography style (Vancouver-like numbering, DOI and
  PubMed links);
- :mod:`.checks`: health-content guardrails (bibliography hygiene, citation
  needed, raw HTML, images);
- :mod:`.recovery`: a build after a killed or crashed one starts afresh.

Register it in ``conf.py`` as ``"citedhealth"`` with ``docs/_ext`` on ``sys.path``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import articles, checks, citations, disclaimer, notes, recovery

if TYPE_CHECKING:
    from sphinx.application import Sphinx

__version__ = "0.1.0"


def setup(app: Sphinx) -> dict[str, object]:
    app.setup_extension("myst_parser")
    app.setup_extension("sphinxcontrib.bibtex")
    for module in (articles, citations, disclaimer, notes, checks, recovery):
        module.setup(app)
    return {
        "version": __version__,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
