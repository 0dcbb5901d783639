"""Accessible HTML for the markup that docutils and Sphinx write and axe-core rejects.

Contract: registers an HTML translator (for the ``html``, ``dirhtml`` and
``singlehtml`` builders) that differs from Sphinx's in two places only.

- **Bibliography entries.** docutils wraps citations in
  ``<div role="list" class="citation-list">`` and gives each entry
  ``role="doc-biblioentry"``: a list with no list items (axe-core's
  ``aria-required-children``, critical) and a role that DPUB-ARIA 1.1
  deprecates (``aria-deprecated-role``). Each entry is written as a
  ``role="listitem"`` instead, keeping its ``citation`` class and id, so the
  list is a real list and links to the entries still land.
- **Navigation captions.** Sphinx writes a toctree's caption as
  ``<p class="caption" role="heading">`` with no ``aria-level``
  (``aria-required-attr``, critical). It gets ``aria-level="2"``: the caption
  heads a group of pages under the site's title, beside the page's own ``<h1>``.

Both override upstream code (docutils' ``HTMLTranslator.visit_citation``, a
branch of Sphinx's ``HTML5Translator.visit_title``): not reported upstream;
``citedhealth/upstream.py`` pins both, so an upgrade that changes them fails
the fast tests.

Furo's two unlabelled ``<aside>`` landmarks (``landmark-unique``) are named
in ``docs/_templates/page.html``, not here: they are theme markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docutils import nodes
from sphinx import addnodes
from sphinx.writers.html5 import HTML5Translator

if TYPE_CHECKING:
    from sphinx.application import Sphinx

#: The heading level of a navigation caption (the site title is level 1).
CAPTION_LEVEL = "2"
HTML_BUILDERS = ("html", "dirhtml", "singlehtml")


class AccessibleHTMLTranslator(HTML5Translator):
    """Sphinx's HTML5 translator with valid ARIA on citations and navigation captions."""

    def visit_citation(self, node: nodes.citation) -> None:
        if not isinstance(node.previous_sibling(), nodes.citation):
            self.body.append('<div role="list" class="citation-list">\n')
        self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))

    def visit_title(self, node: nodes.title) -> None:
        if isinstance(node.parent, addnodes.compact_paragraph) and node.parent.get("toctree"):
            self.body.append(
                self.starttag(node, "p", "", CLASS="caption", ROLE="heading", **{"aria-level": CAPTION_LEVEL})
            )
            self.body.append('<span class="caption-text">')
            self.context.append("</span></p>\n")
            return
        super().visit_title(node)


def setup(app: Sphinx) -> None:
    for builder in HTML_BUILDERS:
        app.set_translator(builder, AccessibleHTMLTranslator, override=True)
