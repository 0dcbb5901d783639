"""NodeMatcher searches (matchers.py): Sphinx's results, in Sphinx's order, from docutils' quick walks."""

from __future__ import annotations

import pickle
import random
from typing import Any

from citedhealth import matchers
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document
from sphinx import addnodes
from sphinx.util.nodes import NodeMatcher

SOURCE = """\
Title
=====

A paragraph with *emphasis*, ``literal`` and a reference_ [#note]_.

.. _reference: https://example.org

.. [#note] A footnote with **strong** text.

- item one
- item *two*

Section
-------

Text |sub| and a second footnote [#other]_.

.. |sub| replace:: substituted

.. [#other] The other.
"""


def document() -> nodes.document:
    doc = new_document("test.rst", get_default_settings(Parser))
    Parser().parse(SOURCE, doc)
    rng = random.Random(3)
    for node in list(doc.findall(nodes.Element)):
        if rng.random() < 0.3:
            node["translatable"] = rng.random() < 0.5
    doc += nodes.inline("", "marked", translatable=True)
    doc += addnodes.pending_xref("", nodes.Text("x"), refdomain="std")
    return doc


MATCHERS = [
    NodeMatcher(nodes.inline, translatable=Any),
    NodeMatcher(nodes.footnote, nodes.footnote_reference),
    NodeMatcher(nodes.Element, translatable=True),
    NodeMatcher(translatable=Any),
    NodeMatcher(nodes.Text),
    NodeMatcher(addnodes.pending_xref, refdomain="std"),
    NodeMatcher(nodes.paragraph, nodes.strong, nodes.emphasis, translatable=False),
]


def test_the_same_nodes_in_the_same_order_as_sphinxs():
    matchers.install()
    doc = document()
    checked = 0
    for matcher in MATCHERS:
        for start in [doc, *list(doc.findall(nodes.Element))[:25]]:
            ours = list(matcher.findall(start))
            sphinx = list(matchers.upstream_findall(matcher, start))
            assert [id(node) for node in ours] == [id(node) for node in sphinx]
            checked += len(ours)
    assert checked > 100
    assert NodeMatcher.findall is matchers.findall


def test_a_pickled_tree_searched_after_changes():
    # Sphinx's transforms remove what they find while searching: same results either way.
    matchers.install()
    for remove in (False, True):
        results = []
        for search in (matchers.findall, matchers.upstream_findall):
            doc = pickle.loads(pickle.dumps(document()))
            found = []
            for node in search(NodeMatcher(nodes.inline, translatable=Any), doc):
                found.append(node.astext())
                if remove:
                    node.parent.remove(node)
                    node.parent += node.children if node.parent else []
            results.append(found)
        assert results[0] == results[1] and results[0]
