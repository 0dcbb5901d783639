"""Cited Health's Sphinx extension: what a cited health article needs beyond stock Sphinx.

One module per concern; each has a ``setup(app)`` that registers its part:

- :mod:`.disclaimer`: the ``{disclaimer}`` directive and the one-per-article check;
- :mod:`.notes`: the ``{editorial-note}`` directive;
- :mod:`.articles`: front matter, the article byline, the landing page's
  article list;
- :mod:`.metadata`: meta description, OpenGraph, schema.org JSON-LD, sitemap;
- :mod:`.accessibility`: HTML markup that assistive technology can read
  (valid ARIA on bibliographies and navigation captions);
- :mod:`.citations`: the bibliography style (Vancouver-like numbering, DOI and
  PubMed links);
- :mod:`.pdf`: one LaTeX document and PDF per article, the Download link;
- :mod:`.checks`: health-content guardrails (bibliography hygiene, citation
  needed, raw HTML, images);
- :mod:`.recovery`: a build after a killed or crashed one starts afresh;
- :mod:`.assets`: a page links only the stylesheets it uses;
- :mod:`.navigation`: Furo's sidebar worked out once per site structure, not once per page;
- :mod:`.parallel`: with ``-j``, a build that reads or writes a few documents does so serially;
- :mod:`.shutdown`: the build's process exits without a final garbage collection;
- :mod:`.preview`: the warm builder behind ``make livehtml`` (a command, not registered here).

Register it in ``conf.py`` as ``"citedhealth"`` with ``docs/_ext`` on ``sys.path``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx

__version__ = "0.1.0"


#: Our modules, each with a ``setup(app)`` registering its part. ``pdf`` comes
#: after ``articles``: it adds the LaTeX rendering of the byline node that
#: ``articles`` registers.
MODULES = (
    "accessibility",
    "articles",
    "assets",
    "checks",
    "citations",
    "disclaimer",
    "metadata",
    "navigation",
    "notes",
    "parallel",
    "pdf",
    "recovery",
    "shutdown",
)


def setup(app: Sphinx) -> dict[str, object]:
    app.setup_extension("myst_parser")
    app.setup_extension("sphinxcontrib.bibtex")
    # Imported here, not at the top, so `python -m citedhealth.pdf` runs its
    # module once, as a script, without the package importing it first.
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}").setup(app)
    return {
        "version": __version__,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
