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
