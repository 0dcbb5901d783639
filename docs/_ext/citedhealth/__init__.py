"""Cited Health's Sphinx extension: what a cited health article needs beyond stock Sphinx.

One module per concern; each has a ``setup(app)`` that registers its part:

- :mod:`.disclaimer`: the ``{disclaimer}`` directive and the one-per-article check;
- :mod:`.notes`: the ``{editorial-note}`` directive;
- :mod:`.articles`: front matter, the article byline, the landing page's
  topics and recently reviewed articles;
- :mod:`.metadata`: meta description, OpenGraph, schema.org JSON-LD, sitemap;
- :mod:`.accessibility`: HTML markup that assistive technology can read
  (valid ARIA on bibliographies and navigation captions);
- :mod:`.bibstyle`: the pybtex bibliography style (Vancouver-like numbering, DOI
  and PubMed links, only safe links, the kind of evidence);
- :mod:`.citations`: per-article bibliographies on sphinxcontrib-bibtex's domain,
  linear in the number of articles;
- :mod:`.evidence`: the kind of evidence of each source (``evidence`` in the
  ``.bib``): its vocabulary and check, the summary above the references;
- :mod:`.citing`: "Cite this article", the article's ``.bib`` and ``.ris``,
  Google Scholar's ``citation_*`` tags;
- :mod:`.readability`: the reading level of the author's own text (textstat);
- :mod:`.review`: the review footer, and ``make review-status`` (a command);
- :mod:`.topics`: the site's topics, the required ``topics`` front-matter field,
  and the catalog of articles every listing reads;
- :mod:`.library`: one page per topic, and the A–Z page;
- :mod:`.feed`: the Atom feed of articles by last review, linked from every page;
- :mod:`.new_article`: ``make new-article`` (a command, not registered here);
- :mod:`.pdf`: the ``typst`` builder (one tagged PDF/UA-1 PDF per article), the Download link;
- :mod:`.publish`: ``python -m citedhealth.publish`` puts the PDFs into the built site (a command, not registered here);
- :mod:`.typst_translator`: an article's doctree as Typst markup (used by :mod:`.pdf`);
- :mod:`.checks`: health-content guardrails (bibliography hygiene, citation
  needed, images);
- :mod:`.sanitizer`: raw HTML in the sources only as self-contained markup an
  allowlist sanitizer (nh3) keeps whole;
- :mod:`.audit`: every written page audited as a browser parses it, and its
  Content-Security-Policy;
- :mod:`.outputs`: pages of deleted documents leave the output; a changed structure rewrites every page;
- :mod:`.changes`: which documents changed since a site-wide handler last looked (its work costs what changed);
- :mod:`.lazybib`: bibliography entries kept packed in the pickled environment until used;
- :mod:`.paths`: what the build reads stays inside the source folder and decodes as UTF-8;
- :mod:`.envsave`: the saved environment is pickled in a forked child while pages are written;
- :mod:`.recovery`: a build after a killed or crashed one starts afresh;
- :mod:`.diagnostics`: a document's warnings are reported again in every build until it is fixed;
- :mod:`.assets`: a page links only the stylesheets it uses;
- :mod:`.garbage`: fewer garbage collections while building, none at exit;
- :mod:`.navigation`: a sidebar bounded in size (topics, and a window of the article's topic);
- :mod:`.parallel`: with ``-j``, a build that reads or writes a few documents does so serially;
  many are read with one merge at the end, and written by as many workers as ``-j`` says;
- :mod:`.quotes`: Sphinx's smart quotes, without educating text they cannot change;
- :mod:`.highlight`: Sphinx's code-block post-transforms, not run on pages without code;
- :mod:`.search`: the search index stems each word once a build, not once a page;
- :mod:`.docsettings`: each document's docutils settings from a parser made once, not once a document;
- :mod:`.latex`: pybtex's LaTeX decoding skipped for text it would leave as it is;
- :mod:`.matchers`: Sphinx's ``NodeMatcher`` searches and the dangling-references pass on quick walks;
- :mod:`.plugins`: pybtex finds its plugins in one index of the installed packages;
- :mod:`.upstream`: every reach into another project's internals, and the
  versions checked (not registered: read by setup and the tests);
- :mod:`.preview`: the warm builder behind ``make livehtml`` (a command, not registered here).

Register it in ``conf.py`` as ``"citedhealth"`` with ``docs/_ext`` on ``sys.path``.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx

__version__ = "0.1.0"


#: Our modules, each with a ``setup(app)`` registering its part, in any order:
#: where one module's work must follow another's, event priorities say so
#: (``pdf``'s Download link, doctree-read at 600, goes under the byline
#: ``articles`` adds at the default 500; ``citing``'s Scholar tags, at 490,
#: come before ``metadata``'s). tests/test_registration.py builds with the
#: list reversed and rotated and compares the output.
MODULES = (
    "accessibility",
    "articles",
    "assets",
    "audit",
    "bibstyle",
    "changes",
    "checks",
    "citations",
    "citing",
    "diagnostics",
    "disclaimer",
    "docsettings",
    "envsave",
    "evidence",
    "feed",
    "garbage",
    "highlight",
    "latex",
    "lazybib",
    "library",
    "matchers",
    "metadata",
    "navigation",
    "notes",
    "outputs",
    "parallel",
    "paths",
    "pdf",
    "quotes",
    "readability",
    "recovery",
    "review",
    "sanitizer",
    "search",
    "topics",
)


def source_version() -> int:
    """A number that changes whenever this package's code does.

    Given to Sphinx as our ``env_version``: a build after the extension changed
    starts from a fresh environment, so nothing this code stored or formatted
    in an earlier build (bibliography entries, navigation data, article
    snapshots) outlives the code that made it."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return int(digest.hexdigest()[:12], 16)


def setup(app: Sphinx) -> dict[str, object]:
    # Versions our reaches into other projects were not checked against are
    # refused here, with what to do (citedhealth/upstream.py).
    from .upstream import check_versions

    check_versions(app)
    # sphinxcontrib-bibtex's import looks pybtex plugins up (four lookups):
    # conf.py lists us first, so they read the index. Listed after it, those
    # four scan the installed packages' metadata instead (some 16 ms); every
    # later lookup reads the index either way, with the same result.
    from .plugins import index_pybtex_plugins

    index_pybtex_plugins()
    app.setup_extension("myst_parser")
    app.setup_extension("sphinxcontrib.bibtex")
    # Imported here, not at the top: the package's commands (`python -m
    # citedhealth.publish`, `.review`, `.new_article`, `.preview`) import the
    # package, and need none of the build's modules.
    # Our own event, added before any module connects to it (their order is free):
    # parallel.py emits it for the pages a writer process resolved.
    app.add_event("citedhealth-resolved-in-worker")
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}").setup(app)
    return {
        "version": __version__,
        "env_version": source_version(),
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
