"""docutils' walks without recursion, NodeMatcher searches on them (matchers.py): upstream's nodes, in its order."""

from __future__ import annotations

import contextlib
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


WALKED_CLASSES = [
    nodes.Node,
    nodes.Element,
    nodes.Text,
    nodes.inline,
    nodes.paragraph,
    nodes.section,
    nodes.footnote,
    addnodes.pending_xref,
    nodes.TextElement,
    nodes.document,
]


def numbered(doc: nodes.document) -> nodes.document:
    """*doc* with a serial number on every element, so two copies' walks can be compared node for node."""
    for number, node in enumerate(doc.findall(nodes.Element)):
        node["serial"] = number
    return doc


def label(node: nodes.Node) -> str:
    return f"{node.tagname}:{node.get('serial', '')}" if isinstance(node, nodes.Element) else f"#text:{node}"


@contextlib.contextmanager
def docutils_walks():
    """docutils' own walks on Node for the length of the block (they recurse through the method on Node)."""
    ours = nodes.Node._fast_findall, nodes.Node._superfast_findall
    nodes.Node._fast_findall = matchers.upstream_fast_findall
    nodes.Node._superfast_findall = matchers.upstream_superfast_findall
    try:
        yield
    finally:
        nodes.Node._fast_findall, nodes.Node._superfast_findall = ours


def walks(start: nodes.Node) -> list[list[int]]:
    return [[id(n) for n in start.findall()]] + [[id(n) for n in start.findall(cls)] for cls in WALKED_CLASSES]


def test_docutils_walks_are_replaced_and_yield_docutils_nodes_in_docutils_order():
    matchers.install()
    assert nodes.Node._fast_findall is matchers.fast_findall
    assert nodes.Node._superfast_findall is matchers.superfast_findall
    doc = document()
    checked = 0
    for start in [doc, *doc.findall(nodes.Node)]:
        ours = walks(start)
        with docutils_walks():
            assert ours == walks(start)
        checked += sum(map(len, ours))
    assert checked > 500


def mutate(node: nodes.Node, rng: random.Random, serials: list[int]) -> None:
    """One of the changes transforms make to a tree while they walk it, chosen by *rng*."""

    def new(tag: type[nodes.Element]) -> nodes.Element:
        serials[0] += 1
        return tag("", nodes.Text(f"new {serials[0]}"), serial=f"new{serials[0]}")

    parent = node.parent
    action = rng.randrange(8)
    if action == 0 and parent is not None:
        parent.remove(node)
    elif action == 1 and parent is not None and isinstance(node, nodes.Element):
        replacement = new(nodes.inline)
        replacement += node.children
        node.replace_self(replacement)
    elif action == 2 and isinstance(node, nodes.Element):
        node += new(nodes.emphasis)
    elif action == 3 and parent is not None:
        parent.insert(parent.index(node) + 1, new(nodes.strong))
    elif action == 4 and parent is not None and parent.index(node) + 1 < len(parent):
        del parent[parent.index(node) + 1]
    elif action == 5 and isinstance(node, nodes.Element):
        node.children = [new(nodes.literal)]
        node.children[0].parent = node
    elif action == 6 and isinstance(node, nodes.Element) and node.children:
        node.clear()


def test_trees_changed_during_a_walk_are_walked_as_docutils_walks_them():
    # Transforms remove, replace and add nodes while they walk (for node in
    # doc.findall(X): node.replace_self(...)): the same nodes must come next.
    matchers.install()
    pickled = pickle.dumps(numbered(document()))
    walked = 0
    for seed in range(60):
        results = []
        for walk in ("ours", "docutils"):
            doc = pickle.loads(pickled)
            rng, serials = random.Random(seed), [0]
            cls = WALKED_CLASSES[seed % len(WALKED_CLASSES)] if seed % 3 else None
            seen = []
            with contextlib.nullcontext() if walk == "ours" else docutils_walks():
                for node in doc.findall(cls) if cls else doc.findall():
                    seen.append(label(node))
                    if rng.random() < 0.4:
                        mutate(node, rng, serials)
            results.append((seen, doc.pformat()))
        assert results[0] == results[1], seed
        walked += len(results[0][0])
    assert walked > 600


def test_a_tree_deeper_than_pythons_recursion_limit():
    import sys

    # Built from the leaf up: docutils' own lookup of a node's document recurses up the tree.
    root = nodes.section("", nodes.Text("deep"))
    for _ in range(sys.getrecursionlimit() + 100):
        root = nodes.section("", root)
    matchers.install()
    assert len(list(root.findall(nodes.section))) == sys.getrecursionlimit() + 101
    assert [str(n) for n in root.findall(nodes.Text)] == ["deep"]


def build_dangling(make_app, tmp_path, name, quick=True):
    from citedhealth.matchers import QuickDanglingReferences
    from sphinx.transforms.references import SphinxDanglingReferences

    srcdir = tmp_path / name / "src"
    srcdir.mkdir(parents=True)
    (srcdir / "conf.py").write_text(
        'extensions = ["myst_parser", "citedhealth.matchers"]\n'
        'source_suffix = {".rst": "restructuredtext", ".md": "markdown"}\n',
        encoding="utf-8",
    )
    (srcdir / "index.rst").write_text(
        "Home\n====\n\n.. toctree::\n\n   plain\n   dangling\n\nA target_ never used.\n\n.. _target: https://example.org\n"
        ".. _unused:\n\nText.\n",
        encoding="utf-8",
    )
    (srcdir / "plain.md").write_text(
        "# Plain\n\n(here)=\n## Here\n\nA [link](https://example.org).\n", encoding="utf-8"
    )
    (srcdir / "dangling.rst").write_text("Dangling\n========\n\nA `nowhere`_ reference.\n", encoding="utf-8")
    app = make_app("html", srcdir=srcdir, builddir=tmp_path / name / "build", freshenv=True)
    if not quick:
        transforms = app.registry.get_transforms()
        transforms[transforms.index(QuickDanglingReferences)] = SphinxDanglingReferences
    app.build()
    return app


def test_dangling_references_are_reported_and_pages_made_as_sphinx_does(make_app, tmp_path, monkeypatch):
    walked: list[str] = []
    real_walk = nodes.document.walk

    def counting_walk(self, visitor):
        if isinstance(self, nodes.document) and type(visitor).__name__ == "DanglingReferencesVisitor":
            walked.append(str(self["source"]).rsplit("/", 1)[-1])
        return real_walk(self, visitor)

    monkeypatch.setattr(nodes.Node, "walk", counting_walk)
    ours = build_dangling(make_app, tmp_path, "ours")
    ours_walked, walked[:] = sorted(walked), []
    upstream = build_dangling(make_app, tmp_path, "upstream", quick=False)
    assert sorted(walked) == ["dangling.rst", "index.rst", "plain.md"]
    assert ours_walked == ["dangling.rst"]  # the only document with a reference left to resolve

    def warnings(app):
        return sorted(
            line.split("src/", 1)[-1]
            for line in app.warning.getvalue().splitlines()
            if "already registered" not in line
        )

    assert warnings(ours) == warnings(upstream)
    assert any('Unknown target name: "nowhere"' in line for line in warnings(ours))
    for page in ("index.html", "plain.html", "dangling.html"):
        assert (ours.outdir / page).read_bytes() == (upstream.outdir / page).read_bytes(), page
