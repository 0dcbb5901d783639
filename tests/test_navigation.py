"""The sidebar: the topics, and on an article a bounded window of its first topic, in Furo's markup.

Built on ``tests/roots/test-library`` (15 articles: 13 in "Alpha topic", more
than the window of 12; 3 in "Beta topic"; none in "Empty topic").
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sphinx.builders.html
from citedhealth import navigation
from conftest import ROOTS, built_page, sphinx_build

#: "Alpha topic"'s articles by title (accents and case aside; a digit sorts first).
ALPHA = [
    "5 Myths About Fruit",
    "Apples and Teeth",
    "Bananas for Cramps",
    "Cherries and Gout",
    "Dates in Pregnancy",
    "Elderberry for Colds",
    "Épaule Gelée: Frozen Shoulder",
    "Figs and Fibre",
    "Grapes and the Heart",
    "Honey for Coughs",
    "Kiwi and Sleep",
    "Lemons and Kidney Stones",
    "Mangoes and Skin",
]
TOPICS = ["Alpha topic", "Beta topic", "Empty topic"]


def copy_root(name: str, destination: Path) -> Path:
    shutil.copytree(ROOTS / f"test-{name}", destination)
    return destination


def build(make_app, srcdir: Path, *, freshenv: bool = False, **overrides):
    app = make_app("html", srcdir=srcdir, freshenv=freshenv, confoverrides=overrides)
    try:
        app.build()
    finally:
        # Docutils' registries are global: clear them for the next application.
        app.cleanup()
    assert app.warning.getvalue() == ""
    return app


def tree(outdir: Path, pagename: str):
    return built_page(outdir, pagename).select_one(".sidebar-tree")


def top_level(outdir: Path, pagename: str) -> list[str]:
    return [li.find("a").get_text() for li in tree(outdir, pagename).select("li.toctree-l1")]


def opened(outdir: Path, pagename: str) -> list[str]:
    return [a.get_text() for a in tree(outdir, pagename).select("li.toctree-l2 > a")]


def mtimes(outdir: Path) -> dict[str, int]:
    return {str(p.relative_to(outdir)): p.stat().st_mtime_ns for p in outdir.rglob("*.html")}


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """A clean strict build of the library root; its output folder."""
    folder = tmp_path_factory.mktemp("library")
    result = sphinx_build(copy_root("library", folder / "docs"), folder / "_build")
    assert result.returncode == 0, result.stderr
    return folder / "_build" / "html"


def test_an_article_opens_its_first_topic_on_the_twelve_nearest_titles(library):
    assert top_level(library, "articles/honey") == ["Articles A–Z", *TOPICS]
    # Honey is 10th of Alpha's 13: the window of 12 around it drops the first title.
    assert opened(library, "articles/honey") == [*ALPHA[1:13], "All articles on Alpha topic"]
    # At the start of the list the window starts there too.
    assert opened(library, "articles/five-myths") == [*ALPHA[:12], "All articles on Alpha topic"]
    # Beta's articles: the topic is short, all of it shows.
    assert opened(library, "articles/walking") == [
        "Honey for Coughs",
        "Walking After Meals",
        "Yoga for Back Pain",
        "All articles on Beta topic",
    ]
    links = {a.get_text(): a["href"] for a in tree(library, "articles/walking").select("a")}
    assert links["Honey for Coughs"] == "honey.html"
    assert links["All articles on Beta topic"] == links["Beta topic"] == "../topics/beta-topic.html"
    assert links["Articles A–Z"] == "../a-z.html"


def test_the_current_article_is_marked_as_furo_marks_it(library):
    sidebar = tree(library, "articles/honey")
    [topic] = sidebar.select("li.toctree-l1.current")
    assert topic.find("a").get_text() == "Alpha topic"
    # Furo's collapsible markup, opened: its checkbox is checked.
    assert "has-children" in topic["class"]
    assert topic.select_one("input.toctree-checkbox").has_attr("checked")
    [current] = sidebar.select("li.current-page")
    assert current.find("a").get_text() == "Honey for Coughs"
    assert current.find("a")["href"] == "#" and "current" in current.find("a")["class"]
    # Every other topic closed, with no list of its own.
    assert len(sidebar.select("li.has-children")) == 1


def test_generated_pages_mark_their_own_entry(library):
    [current] = tree(library, "topics/beta-topic").select("li.current-page")
    assert current.find("a").get_text() == "Beta topic"
    [current] = tree(library, "a-z").select("li.current-page")
    assert current.find("a").get_text() == "Articles A–Z"
    assert not tree(library, "index").select("li.current, li.toctree-l2")
    assert top_level(library, "index") == ["Articles A–Z", *TOPICS]


def test_no_page_lists_more_than_a_window_of_articles(library):
    window = 12
    for path in library.rglob("*.html"):
        links = tree(library, str(path.relative_to(library).with_suffix(""))).select("a")
        assert len(links) <= 1 + len(TOPICS) + window + 1, path


def test_sphinx_computes_no_global_toctree_for_the_sidebar(make_app, tmp_path, monkeypatch):
    calls = []
    original = sphinx.builders.html.global_toctree_for_doc

    def counted(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(sphinx.builders.html, "global_toctree_for_doc", counted)
    app = build(make_app, copy_root("library", tmp_path / "docs"), freshenv=True)
    assert (app.outdir / "articles" / "honey.html").is_file()
    assert calls == []


def test_the_window_is_the_nearest_positions():
    assert list(navigation.window(13, 9, 12)) == list(range(1, 13))
    assert list(navigation.window(13, 0, 12)) == list(range(12))
    assert list(navigation.window(13, 12, 12)) == list(range(1, 13))
    assert list(navigation.window(3, 1, 12)) == [0, 1, 2]
    assert list(navigation.window(100, 50, 12)) == list(range(44, 56))


def test_a_body_edit_leaves_a_parent_with_hidden_toctrees_alone(make_app, tmp_path):
    srcdir = copy_root("library", tmp_path / "docs")
    before = mtimes(build(make_app, srcdir, freshenv=True).outdir)
    page = srcdir / "articles" / "kiwi.md"
    page.write_text(page.read_text(encoding="utf-8").replace("Some text", "Some edited text"), encoding="utf-8")
    app = build(make_app, srcdir)
    documents = {f"{p.relative_to(srcdir).with_suffix('.html')}" for p in srcdir.rglob("*.md")}
    after = mtimes(app.outdir)
    # Of the documents' pages, only the edited one is rewritten. Stock Sphinx
    # would rewrite index.html too, as the page whose toctree lists it; nothing
    # on it changed.
    assert {page for page in documents if after[page] != before[page]} == {"articles/kiwi.html"}
    # Sphinx's own record of parents is back for the next build.
    assert "index" in app.env.files_to_rebuild["articles/kiwi"]


def test_a_parent_that_shows_its_toctree_is_rewritten(make_app, tmp_path):
    srcdir = copy_root("navigation-nested", tmp_path / "docs")
    before = mtimes(build(make_app, srcdir, freshenv=True).outdir)
    page = srcdir / "section" / "child-a.md"
    page.write_text(page.read_text(encoding="utf-8").replace("The text", "The edited text"), encoding="utf-8")
    after = mtimes(build(make_app, srcdir).outdir)
    assert {page for page in after if after[page] != before.get(page)} >= {"section/child-a.html", "section/index.html"}


# -- Furo's markup, written without Furo's parse -------------------------------------


def test_our_sidebar_markup_is_what_furo_makes_of_the_toctree(make_app, tmp_path):
    """furo.navigation.get_navigation_tree, of the pinned Furo, on our toctree gives byte for byte our markup."""
    from furo.navigation import get_navigation_tree

    app = build(make_app, copy_root("library", tmp_path / "docs"), freshenv=True)
    # An article (current in its topic's window), another, a topic page, the A–Z page, the landing page.
    for pagename in ["articles/honey", "articles/five-myths", "topics/beta-topic", "a-z", "index"]:
        groups = navigation.sidebar_entries(app, pagename)
        ours = navigation.furo_markup(groups)
        assert ours == get_navigation_tree(navigation.toctree_markup(groups)), pagename
        # And it is what the page carries.
        assert ours in (app.outdir / f"{pagename}.html").read_text(encoding="utf-8"), pagename


@pytest.mark.parametrize("title", ['Say "Ah"', 'Tom\'s "Aches" & <Pains>', "Plain"])
def test_escaping_is_what_furo_writes(title):
    from furo.navigation import get_navigation_tree

    child = navigation.Entry(title, None, current=True)
    groups = ([navigation.Entry("A", "a.html")], [navigation.Entry(title, "t.html", True, [child])])
    assert navigation.furo_markup(groups) == get_navigation_tree(navigation.toctree_markup(groups))


def test_page_titles_are_rendered_once_a_write_and_the_pages_are_the_same(make_app, tmp_path, monkeypatch):
    """Each page's previous, next and parent titles come from navigation.TitleRenderer: a title
    shown on several pages is rendered once, and every page is what Sphinx alone makes."""
    from docutils import nodes

    rendered: list[str] = []
    render_partial = sphinx.builders.html.StandaloneHTMLBuilder.render_partial

    def counting(self, node):
        if isinstance(node, nodes.title):
            rendered.append(node.astext())
        return render_partial(self, node)

    monkeypatch.setattr(sphinx.builders.html.StandaloneHTMLBuilder, "render_partial", counting)
    outputs = {}
    counts = {}
    for name in ("kept", "sphinx"):
        srcdir = tmp_path / name / "docs"
        shutil.copytree(ROOTS / "test-two-articles", srcdir)
        app = make_app("html", srcdir=srcdir, builddir=tmp_path / name / "build", freshenv=True)
        assert isinstance(app.builder.render_partial, navigation.TitleRenderer)
        if name == "sphinx":
            app.builder.render_partial = app.builder.render_partial.render_partial
        rendered.clear()
        app.build()
        assert app.statuscode == 0, app.warning.getvalue()
        counts[name] = list(rendered)
        outputs[name] = {p.relative_to(app.outdir): p.read_bytes() for p in Path(app.outdir).rglob("*.html")}
    assert outputs["kept"] == outputs["sphinx"]
    # Sphinx renders the landing page's title as every article's parent, and each article's as its
    # neighbour's previous or next: kept, each title is rendered once.
    assert len(counts["kept"]) == len(set(counts["kept"])) < len(counts["sphinx"])
    assert set(counts["kept"]) == set(counts["sphinx"])
