"""Editorial notes: the project's own words beside an author's claim.

Contract: ``{editorial-note}`` holds MyST content (citations included) and
renders as an admonition titled ``citedhealth_note_title`` ("Editorial note")
with the class ``ch-editorial-note``: its own colour and icon in HTML, a
``note`` box in the PDF, never the disclaimer's warning look. An optional
argument adds a topic to the title ("Editorial note: the cited meta-analysis").
Notes never replace the author's text: they stand beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from .common import admonition_visitors

if TYPE_CHECKING:
    from sphinx.application import Sphinx


class editorial_note(nodes.Admonition, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """An editorial note: a title followed by body elements."""


class EditorialNoteDirective(SphinxDirective):
    """``{editorial-note} [topic]``: a labelled note in the project's voice."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True

    def run(self) -> list[nodes.Node]:
        self.assert_has_content()
        title = self.config.citedhealth_note_title
        if self.arguments:
            title = f"{title}: {self.arguments[0]}"
        node = editorial_note(classes=["admonition", "ch-editorial-note"])
        self.set_source_info(node)
        heading = nodes.title(text=title)
        # The directive's place, which Sphinx's ApplySourceWorkaround would give it after logging a debug
        # message whose text it builds whatever the log level (about 1% of reading an article).
        heading.source, heading.line = node.source, node.line
        node += heading
        node += self.parse_content_to_nodes()
        return [node]


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_note_title", "Editorial note", "env", str)
    app.add_node(editorial_note, **admonition_visitors("note"))
    app.add_directive("editorial-note", EditorialNoteDirective)
