"""Sphinx's code-block post-transforms, not run on pages that hold no code.

Contract: every page is what Sphinx's ``HighlightLanguageTransform`` and
``TrimDoctestFlagsTransform`` make of it. :class:`QuickHighlightLanguage`
and :class:`QuickTrimDoctestFlags` stand in for them in Sphinx's list of
post-transforms and differ in one step: a page with no literal block, no
doctest block and no ``highlight`` directive's node is left as it is.

Why: at 1000 articles, the highlight transform's walk of every node with a
visitor (``walkabout``) and the doctest transform's two searches cost about
3 ms of each article's resolution, in the main process, which resolves every
page of a parallel write alone; an article has no code. Both transforms act
only on those three kinds of node (the visitor does nothing on any other
node, and keeps no state across pages), so on a page without them they
change nothing. Leaning on Sphinx's internals: both classes are subclassed and
swapped in ``app.registry.post_transforms`` (see ``upstream.py``); nothing
upstream is wrong (not reported upstream).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms.code import HighlightLanguageTransform, TrimDoctestFlagsTransform

if TYPE_CHECKING:
    from sphinx.application import Sphinx

#: The nodes either transform reads or changes.
CODE_NODES = (nodes.literal_block, nodes.doctest_block, addnodes.highlightlang)


def holds_code(document: nodes.document) -> bool:
    """Whether *document* holds a node either transform acts on (one walk, docutils' quick one)."""
    return any(isinstance(node, CODE_NODES) for node in document.findall())


class QuickHighlightLanguage(HighlightLanguageTransform):
    """Sphinx's ``HighlightLanguageTransform``, skipping pages without code."""

    def apply(self, **kwargs) -> None:
        if holds_code(self.document):
            super().apply(**kwargs)


class QuickTrimDoctestFlags(TrimDoctestFlagsTransform):
    """Sphinx's ``TrimDoctestFlagsTransform``, skipping pages without code."""

    def apply(self, **kwargs) -> None:
        if holds_code(self.document):
            super().apply(**kwargs)


def setup(app: Sphinx) -> None:
    # Sphinx registers its transforms in its own setup, before any extension's.
    post_transforms = app.registry.get_post_transforms()
    for upstream, quick in (
        (HighlightLanguageTransform, QuickHighlightLanguage),
        (TrimDoctestFlagsTransform, QuickTrimDoctestFlags),
    ):
        post_transforms[post_transforms.index(upstream)] = quick
