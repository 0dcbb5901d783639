"""A directive making a node that only the HTML builder can render."""

from docutils import nodes
from sphinx.util.docutils import SphinxDirective


class shiny_box(nodes.General, nodes.Element):  # noqa: N801
    pass


class ShinyBox(SphinxDirective):
    has_content = True

    def run(self):
        node = shiny_box()
        self.set_source_info(node)
        node += self.parse_content_to_nodes()
        return [node]


def setup(app):
    app.add_node(shiny_box, html=(lambda self, node: None, lambda self, node: None))
    app.add_directive("shiny-box", ShinyBox)
    return {"parallel_read_safe": True}
