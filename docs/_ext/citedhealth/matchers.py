"""Sphinx's ``NodeMatcher`` searches, walking the tree with docutils' quick walks.

Contract: ``NodeMatcher(...).findall(node)`` yields the nodes Sphinx's yields,
in the same order: every node under *node* (itself first) that the matcher
matches.

Why: Sphinx's version hands the matcher to docutils' ``findall`` as a
condition, and docutils walks with a condition that is no class by calling
``findall`` again, with keywords, on every node: a generator per node.
Three matchers run on every article whatever the site (two i18n transforms,
which find nothing without translations, and the LaTeX builder's footnote
transform), about 1.7% of a cold build at 1000 articles. Here the walk is
docutils' quick one (by the matcher's class when it has one, else with no
condition) and each node is tested with ``NodeMatcher.match``, the same test
docutils would call. Leaning on Sphinx's internals: ``NodeMatcher.findall``
is replaced (see ``upstream.py``); nothing upstream is wrong (not reported
upstream).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sphinx.util.nodes import NodeMatcher

if TYPE_CHECKING:
    from collections.abc import Iterator

    from docutils import nodes
    from sphinx.application import Sphinx

#: Sphinx's own, kept for upstream.py's fingerprint and the tests.
upstream_findall = NodeMatcher.__dict__["findall"]


def findall(self: NodeMatcher, node: nodes.Node) -> Iterator[nodes.Node]:
    """Every node under *node* (itself first) the matcher matches, in document order."""
    classes = self.classes
    candidates = node.findall(classes[0]) if len(classes) == 1 else node.findall()
    match = self.match
    for found in candidates:
        if match(found):
            yield found


findall.__wrapped__ = upstream_findall


def install() -> None:
    NodeMatcher.findall = findall


def setup(app: Sphinx) -> None:
    install()
