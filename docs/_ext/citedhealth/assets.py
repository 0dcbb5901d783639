"""Page assets: a page loads only what it uses.

Contract, in HTML:

- A page whose doctree holds no highlighted code (no literal block, no
  ``code`` role with a language) does not link ``pygments.css``, the
  syntax-highlighting colours Sphinx adds to every page (about 20 KB, 2 KB
  gzipped, of an article page's 30 KiB budget).
- A page with a doctree does not load ``doctools.js`` and
  ``sphinx_highlight.js`` (3.6 KB gzipped): they only highlight the words of
  a search that led to the page. Our ``citedhealth.js`` loads both when a
  search left its terms (Sphinx's search page stores them in localStorage;
  older links carry ``?highlight=``).

Pages without a doctree (search, the general index) keep everything.

- Our own stylesheets and scripts (every ``.css`` and ``.js`` in
  ``html_static_path``, but ``*.min.*``) reach the site minified by rcssmin
  and rjsmin; the sources keep their comments. The minified copies go to
  ``<doctreedir>/citedhealth-static``, added last to ``html_static_path``, so
  Sphinx copies them over the originals and versions each link (``?v=``) by
  what is served. ``citedhealth_minify_static = False`` turns this off.
  (Comments and indentation were a third of ``citedhealth.js`` and
  ``citedhealth.css``: 1.0 KB of a 200-article site's 30 KiB page budget,
  gzipped.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import rcssmin
import rjsmin
from docutils import nodes

from .common import write_if_changed

if TYPE_CHECKING:
    from sphinx.application import Sphinx

PYGMENTS_CSS = "_static/pygments.css"
#: Loaded on demand by _static/citedhealth.js, in this order.
SEARCH_HIGHLIGHT_JS = ("_static/doctools.js", "_static/sphinx_highlight.js")


def has_highlighted_code(doctree: nodes.document) -> bool:
    return any(
        isinstance(node, nodes.literal_block) or "highlight" in node.get("classes", ())
        for node in doctree.findall(nodes.Element)
    )


def drop_unused_pygments_css(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if doctree is None or has_highlighted_code(doctree) or "css_files" not in context:
        return
    # A new list: the builder's own list serves every page.
    context["css_files"] = [css for css in context["css_files"] if str(getattr(css, "filename", css)) != PYGMENTS_CSS]


def defer_search_highlighting(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if doctree is None or "script_files" not in context:
        return
    context["script_files"] = [
        js for js in context["script_files"] if str(getattr(js, "filename", js)) not in SEARCH_HIGHLIGHT_JS
    ]


MINIFIERS = {".css": rcssmin.cssmin, ".js": rjsmin.jsmin}
MINIFIED_FOLDER = "citedhealth-static"


def minify_own_static_files(app: Sphinx) -> None:
    """builder-inited: minified copies of the project's CSS and JS, copied by Sphinx over the originals."""
    if app.builder.format != "html" or not app.config.citedhealth_minify_static:
        return
    target = Path(app.doctreedir, MINIFIED_FOLDER)
    made: set[Path] = set()
    for entry in app.config.html_static_path:
        folder = Path(app.confdir, entry)
        if not folder.is_dir():
            continue
        for source in sorted(folder.rglob("*")):
            minify = MINIFIERS.get(source.suffix)
            if minify is None or ".min." in source.name or not source.is_file():
                continue
            copy = target / source.relative_to(folder)
            write_if_changed(copy, minify(source.read_text(encoding="utf-8")))
            made.add(copy)
    for stale in [p for p in target.rglob("*") if p.is_file() and p not in made] if target.is_dir() else []:
        stale.unlink()
    if made:
        app.config.html_static_path = [*app.config.html_static_path, str(target)]


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_minify_static", True, "html", bool)
    app.connect("builder-inited", minify_own_static_files)
    app.connect("html-page-context", drop_unused_pygments_css)
    app.connect("html-page-context", defer_search_highlighting)
