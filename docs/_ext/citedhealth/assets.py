"""Page assets: a page loads only the stylesheets it uses.

Contract: in HTML, a page whose doctree holds no highlighted code (no literal
block, no ``code`` role with a language) does not link ``pygments.css``, the
syntax-highlighting colours Sphinx adds to every page (about 20 KB, 2 KB
gzipped, of an article page's 30 KiB budget). Pages with code, and pages
without a doctree (search, the general index), keep it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docutils import nodes

if TYPE_CHECKING:
    from sphinx.application import Sphinx

PYGMENTS_CSS = "_static/pygments.css"


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


def setup(app: Sphinx) -> None:
    app.connect("html-page-context", drop_unused_pygments_css)
