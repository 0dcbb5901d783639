"""docutils' walks without a generator per node, and Sphinx's NodeMatcher and dangling-references pass on them.

Contract: docutils' quick walks (``Node._fast_findall``, behind
``findall(SomeClass)``, and ``Node._superfast_findall``, behind
``findall()``) yield the nodes docutils' own yield, in the same order, and
behave the same when the tree changes under a walk: each level of the tree
is walked with an iterator over the live list of children, as docutils'
``for`` loop does, and a node's children are looked up only after the node
has been yielded and the caller resumes. Only the cost differs, and the
depth of tree they can walk (no recursion).

Why: docutils' versions recurse, one generator per node, and every node
found climbs back through a generator per level of the tree. Each document
is walked some forty times (transforms, post-transforms, our checks,
Sphinx's collectors and writers), and those walks were the largest single
item of a cold build at 1000 articles: 10.8% of all its samples, in
``_fast_findall`` itself. The walks here take less than half the time
(0.06 ms instead of 0.10 to 0.15 ms for a whole article's doctree). Leaning on
docutils' internals: the two methods are replaced on ``docutils.nodes.Node``
(see ``upstream.py``); nothing upstream is wrong (not reported upstream: a
candidate to offer docutils, with these tests).

``NodeMatcher(...).findall(node)`` yields the nodes Sphinx's yields,
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

#: docutils' own, kept for upstream.py's fingerprint and the tests.
upstream_fast_findall = docutils_nodes.Node.__dict__["_fast_findall"]
upstream_superfast_findall = docutils_nodes.Node.__dict__["_superfast_findall"]


def fast_findall(self: nodes.Node, cls: type) -> Iterator[nodes.Node]:
    """docutils' ``Node._fast_findall``: *self* and every node under it that is a *cls*, in document order."""
    if isinstance(self, cls):
        yield self
    levels = [iter(self.children)]
    while levels:
        # Resumes the level's iterator where it stopped, as docutils' for loop does.
        for child in levels[-1]:
            if isinstance(child, cls):
                yield child
            if child.children:
                levels.append(iter(child.children))
                break
        else:
            levels.pop()


def superfast_findall(self: nodes.Node) -> Iterator[nodes.Node]:
    """docutils' ``Node._superfast_findall``: *self* and every node under it, in document order."""
    return fast_findall(self, object)


fast_findall.__wrapped__ = upstream_fast_findall
superfast_findall.__wrapped__ = upstream_superfast_findall

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
    docutils_nodes.Node._fast_findall = fast_findall
    docutils_nodes.Node._superfast_findall = superfast_findall
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
