"""Sphinx's ``NodeMatcher`` searches, and the dangling-references pass, on docutils' quick walks.

Contract: ``NodeMatcher(...).findall(node)`` yields the nodes Sphinx's yields,
in the same order: every node under *node* (itself first) that the matcher
matches. Every document is read with Sphinx's ``SphinxDanglingReferences``
doing what it does (:class:`QuickDanglingReferences` stands in for it): its
visitor's walk of every node is skipped only on a document with no
reference left to resolve, where that visitor, which acts on nothing else,
would change nothing.

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
upstream). The dangling-references visitor (``docutils.transforms.references.
DanglingReferences``) dispatches a visit to every node of every document, about
1.4% of a cold build, to act on the references left with a ``refname``, which
MyST documents almost never hold: a quick search for one decides whether the
walk runs (see ``upstream.py``; not reported upstream).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docutils import nodes as docutils_nodes
from sphinx.transforms.references import SphinxDanglingReferences
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


def has_unresolved_reference(document: docutils_nodes.document) -> bool:
    """Whether the dangling-references visitor has anything to act on (its visit_reference's first test)."""
    return any(not node.resolved and node.hasattr("refname") for node in document.findall(docutils_nodes.reference))


class QuickDanglingReferences(SphinxDanglingReferences):
    """Sphinx's ``SphinxDanglingReferences``, without its visitor's walk where no reference is left to resolve."""

    def apply(self, **kwargs) -> None:
        document = self.document
        if has_unresolved_reference(document):
            super().apply(**kwargs)
            return
        # The rest of upstream's apply (unreferenced targets) runs as it is; only the walk is skipped.
        document.walk = lambda visitor: False
        try:
            super().apply(**kwargs)
        finally:
            del document.walk


def setup(app: Sphinx) -> None:
    install()
    # Sphinx registers its transform in its own setup, before any extension's.
    transforms = app.registry.get_transforms()
    transforms[transforms.index(SphinxDanglingReferences)] = QuickDanglingReferences
