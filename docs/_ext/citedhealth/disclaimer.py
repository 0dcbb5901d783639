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
- A reader must meet it first, and see it. It must be the first block of
  the article's top section after the title and the byline (only invisible
  nodes, such as targets and comments, may come between), a direct child of
  that section (not inside a list, quote, container or admonition), with no
  raw markup anywhere before it or inside it (raw HTML could hide it or
  draw over it), no classes beyond its own, and some text. Each breach is a
  ``citedhealth.disclaimer`` warning at the line of what is wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from .common import WARNING_TYPE, admonition_visitors, front_matter_end, is_article, logger, node_line

if TYPE_CHECKING:
    from sphinx.application import Sphinx

DEFAULT_TEXT = (
    "This article is for informational purposes only and does not constitute "
    "medical advice. Consult with a healthcare professional before starting any "
    "treatment."
)


class disclaimer(nodes.Admonition, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """The article's disclaimer: a title followed by body elements."""


#: The classes the directive gives the node; any other could restyle or hide it.
CLASSES = ["admonition", "warning", "ch-disclaimer"]


class DisclaimerDirective(SphinxDirective):
    """``{disclaimer}``: the configured disclaimer, or the directive's own content."""

    has_content = True
    option_spec: ClassVar[dict] = {}

    def run(self) -> list[nodes.Node]:
        config = self.config
        node = disclaimer(classes=list(CLASSES))
        self.set_source_info(node)
        heading = nodes.title(text=config.citedhealth_disclaimer_title)
        # The directive's place, which Sphinx's ApplySourceWorkaround would give it after logging a debug
        # message whose text it builds whatever the log level (about 1% of reading an article).
        heading.source, heading.line = node.source, node.line
        node += heading
        if self.content:
            node += self.parse_content_to_nodes()
        else:
            node += nodes.paragraph(text=config.citedhealth_disclaimer_text)
        return [node]


def body_start_line(source: str) -> int:
    """The 1-based line where a Markdown source's body starts, after any front matter."""
    end = front_matter_end(source)
    return 1 if end is None else end + 1


def check_one_disclaimer(app: Sphinx, doctree: nodes.document) -> None:
    """Warn unless an article holds exactly one disclaimer."""
    env = app.env
    if not is_article(env, env.docname):
        return
    found = list(doctree.findall(disclaimer))
    if not found:
        # Named at the first line after the front matter, where it belongs.
        with open(env.doc2path(env.docname), encoding="utf-8", errors="replace") as source:
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
    if found:
        for message, node in placement_problems(doctree, found[0]):
            logger.warning(message, location=(env.docname, node_line(node)), type=WARNING_TYPE, subtype="disclaimer")


def is_preamble(node: nodes.Node) -> bool:
    """What may come before the disclaimer: the title, the byline, and nodes nobody sees."""
    from .articles import article_byline  # articles imports nothing of ours; imported late all the same

    return isinstance(node, nodes.title | article_byline | nodes.Invisible | nodes.system_message)


def placement_problems(doctree: nodes.document, node: disclaimer) -> list[tuple[str, nodes.Node]]:
    """Why a reader might not meet the article's disclaimer first, or not see it: (message, node) pairs."""
    problems = []
    top = doctree.next_node(nodes.section) or doctree
    if node.parent is not top and not isinstance(node.parent, nodes.section | nodes.document):
        where = node.parent.tagname.replace("_", " ")
        problems.append((f"the disclaimer must stand on its own at the top of the article, not inside a {where}", node))
    elif node.parent is not top:
        problems.append(("the disclaimer must come first, right after the title and the byline", node))
    else:
        first = next((child for child in top.children if not is_preamble(child)), None)
        if first is not node:
            problems.append(("the disclaimer must come first, right after the title and the byline", node))
    for raw in doctree.findall(nodes.raw):
        if is_before(raw, node):
            problems.append(("raw markup before the disclaimer could hide it: move the disclaimer first", raw))
    for raw in node.findall(nodes.raw):
        problems.append(("raw markup inside the disclaimer could hide it: write plain text", raw))
    extra = [name for name in node["classes"] if name not in CLASSES]
    if extra:
        problems.append((f"the disclaimer takes no classes: {' '.join(extra)}", node))
    text = "".join(t.astext() for t in node.findall(nodes.Text) if not isinstance(t.parent, nodes.title | nodes.raw))
    if not text.strip():
        problems.append(("the disclaimer has no text", node))
    return problems


def is_before(node: nodes.Node, other: nodes.Node) -> bool:
    """True if *node* comes before *other* in document order (raw nodes hold no elements)."""
    for found in node.document.findall(lambda n: n is node or n is other):
        return found is node
    return False


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_disclaimer_title", "Disclaimer", "env", str)
    app.add_config_value("citedhealth_disclaimer_text", DEFAULT_TEXT, "env", str)
    app.add_node(disclaimer, **admonition_visitors("warning"))
    app.add_directive("disclaimer", DisclaimerDirective)
    app.connect("doctree-read", check_one_disclaimer)
