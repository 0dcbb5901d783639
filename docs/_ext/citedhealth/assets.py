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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docutils import nodes

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


def setup(app: Sphinx) -> None:
    app.connect("html-page-context", drop_unused_pygments_css)
    app.connect("html-page-context", defer_search_highlighting)
