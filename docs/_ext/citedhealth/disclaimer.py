"""The medical disclaimer: a ``{disclaimer}`` directive and a one-per-article check.

Contract:

- ``{disclaimer}`` with no content renders ``citedhealth_disclaimer_text``
  (a config value, so one edit changes every article); with content, renders
  that content instead. Its title is ``citedhealth_disclaimer_title``.
- It renders as a warning-style admonition in HTML (Furo's ``warning`` colours,
  ``role="note"`` with an accessible name) and as a warning box in the PDF
  (Typst), in the same colours.
- Every article (a document under ``citedhealth_articles_dir``) must hold
  exactly one; otherwise a ``citedhealth.disclaimer`` warning names the file
  and the line (of the second disclaimer, or the first line after the front
  matter for a missing one), and the strict build fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from .common import WARNING_TYPE, admonition_visitors, is_article, logger

if TYPE_CHECKING:
    from sphinx.application import Sphinx

DEFAULT_TEXT = (
    "This article is for informational purposes only and does not constitute "
    "medical advice. Consult with a healthcare professional before starting any "
    "treatment."
)


class disclaimer(nodes.Admonition, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """The article's disclaimer: a title followed by body elements."""


class DisclaimerDirective(SphinxDirective):
    """``{disclaimer}``: the configured disclaimer, or the directive's own content."""

    has_content = True
    option_spec: ClassVar[dict] = {}

    def run(self) -> list[nodes.Node]:
        config = self.config
        node = disclaimer(classes=["admonition", "warning", "ch-disclaimer"])
        self.set_source_info(node)
        node += nodes.title(text=config.citedhealth_disclaimer_title)
        if self.content:
            node += self.parse_content_to_nodes()
        else:
            node += nodes.paragraph(text=config.citedhealth_disclaimer_text)
        return [node]


def body_start_line(source: str) -> int:
    """The 1-based line where a Markdown source's body starts, after any front matter."""
    lines = source.splitlines()
    if lines and lines[0].strip() == "---":
        for number, line in enumerate(lines[1:], start=2):
            if line.strip() == "---":
                return number + 1
    return 1


def check_one_disclaimer(app: Sphinx, doctree: nodes.document) -> None:
    """Warn unless an article holds exactly one disclaimer."""
    env = app.env
    if not is_article(env, env.docname):
        return
    found = list(doctree.findall(disclaimer))
    if not found:
        # Named at the first line after the front matter, where it belongs.
        with open(env.doc2path(env.docname), encoding="utf-8") as source:
            line = body_start_line(source.read())
        logger.warning(
            "article has no disclaimer: add a {disclaimer} directive",
            location=(env.docname, line),
            type=WARNING_TYPE,
            subtype="disclaimer",
        )
    for extra in found[1:]:
        logger.warning(
            "article has more than one disclaimer: keep exactly one",
            location=extra,
            type=WARNING_TYPE,
            subtype="disclaimer",
        )


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_disclaimer_title", "Disclaimer", "env", str)
    app.add_config_value("citedhealth_disclaimer_text", DEFAULT_TEXT, "env", str)
    app.add_node(disclaimer, **admonition_visitors("warning"))
    app.add_directive("disclaimer", DisclaimerDirective)
    app.connect("doctree-read", check_one_disclaimer)
