"""The navigation sidebar: the same as Furo's own on every page, from a cache that follows every change.

Each test builds copies of a small Furo project, once with our cache and once
with ``citedhealth_navigation_cache = False`` (Furo's own computation), and
compares the pages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from citedhealth import navigation
from conftest import ROOTS, built_page


def copy_root(name: str, destination: Path) -> Path:
    shutil.copytree(ROOTS / f"test-{name}", destination)
    return destination


def pages(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*.html"))}


def build(make_app, srcdir: Path, *, cache: bool = True, freshenv: bool = False):
    app = make_app("html", srcdir=srcdir, freshenv=freshenv, confoverrides={"citedhealth_navigation_cache": cache})
    try:
        app.build()
    finally:
        # Docutils' registries are global: clear them for the next application.
        app.cleanup()
    assert app.warning.getvalue() == ""
    return app


def furo_reference(make_app, srcdir: Path, destination: Path) -> dict[str, bytes]:
    """The pages of a clean build of a copy of *srcdir* with Furo's own sidebar."""
    shutil.copytree(srcdir, destination, ignore=shutil.ignore_patterns("_build"))
    return pages(build(make_app, destination, cache=False, freshenv=True).outdir)


def sidebar_links(outdir: Path, pagename: str) -> dict[str, str]:
    tree = built_page(outdir, pagename).select_one(".sidebar-tree")
    return {a.get_text(): a["href"] for a in tree.select("a")}


def mtimes(outdir: Path) -> dict[str, int]:
    return {str(p.relative_to(outdir)): p.stat().st_mtime_ns for p in outdir.rglob("*.html")}


def rewritten(outdir: Path, before: dict[str, int]) -> set[str]:
    return {page for page, mtime in mtimes(outdir).items() if before.get(page) != mtime}


def build_edit_build(make_app, tmp_path: Path, root: str, page: str, old: str, new: str):
    """Build a copy of *root*, replace *old* by *new* in *page*, build again.

    Returns the source folder, the second build's application and the pages'
    modification times after the first build."""
    srcdir = copy_root(root, tmp_path / "docs")
    before = mtimes(build(make_app, srcdir, freshenv=True).outdir)
    path = srcdir / page
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return srcdir, build(make_app, srcdir), before


@pytest.mark.parametrize("root", ["navigation", "navigation-nested"])
def test_every_page_has_furos_own_sidebar(make_app, tmp_path, root):
    cached = build(make_app, copy_root(root, tmp_path / "cached"), freshenv=True)
    furo = build(make_app, copy_root(root, tmp_path / "furo"), cache=False, freshenv=True)
    assert pages(cached.outdir) == pages(furo.outdir)
    # Not an empty sidebar on both sides: every page is listed, from every folder.
    for pagename in ("index", "about", "search"):
        assert len(sidebar_links(cached.outdir, pagename)) == 4
    cache = navigation.CACHES[cached]
    if root == "navigation":
        # A flat navigation: no page needed Furo's own path.
        assert cache.fallbacks == 0
        current = built_page(cached.outdir, "guides/second").select(".sidebar-tree li.current-page a")
        assert [a.get_text() for a in current] == ["The Second Guide"]
    else:
        # An entry with children: its pages take Furo's own path, and still match.
        assert cache.fallbacks > 0


def test_the_trees_are_reused_by_the_next_build(make_app, tmp_path):
    srcdir = copy_root("navigation", tmp_path / "docs")
    build(make_app, srcdir, freshenv=True)
    assert (srcdir / "_build" / "doctrees" / navigation.CACHE_FILE).is_file()
    guide = srcdir / "guides" / "second.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\nAn edit of the body.\n", encoding="utf-8")
    app = build(make_app, srcdir)
    cache = navigation.CACHES[app]
    assert cache.misses == 0 and cache.hits > 0
    assert pages(app.outdir) == furo_reference(make_app, srcdir, tmp_path / "reference")


def test_a_retitled_page_is_renamed_in_the_sidebars_sphinx_rewrites(make_app, tmp_path):
    srcdir, app, before = build_edit_build(
        make_app, tmp_path, "navigation", "guides/second.md", "# The Second Guide", "# A Renamed Guide"
    )
    assert navigation.CACHES[app].misses > 0
    # Sphinx rewrites the page and the page whose toctree lists it; both now
    # match a clean build (other pages keep their sidebar until their next
    # rewrite, as in any incremental Sphinx build).
    assert rewritten(app.outdir, before) >= {"guides/second.html", "index.html"}
    reference = furo_reference(make_app, srcdir, tmp_path / "reference")
    for page in ("guides/second.html", "index.html"):
        assert pages(app.outdir)[page] == reference[page]
    assert "A Renamed Guide" in sidebar_links(app.outdir, "index")


def test_a_body_edit_leaves_a_parent_with_hidden_toctrees_alone(make_app, tmp_path):
    srcdir, app, before = build_edit_build(
        make_app, tmp_path, "navigation", "guides/second.md", "More text.", "More text, edited."
    )
    # Of the documents' pages, only the edited one is rewritten. Stock Sphinx
    # would rewrite index.html too, as the page whose toctree lists it; nothing
    # on it changed. (search.html and genindex.html are written by every build.)
    documents = {f"{p.relative_to(srcdir).with_suffix('.html')}" for p in srcdir.rglob("*.md")}
    assert rewritten(app.outdir, before) & documents == {"guides/second.html"}
    assert pages(app.outdir) == furo_reference(make_app, srcdir, tmp_path / "reference")
    # Sphinx's own record of parents is back for the next build.
    assert "index" in app.env.files_to_rebuild["guides/second"]


def test_a_parent_that_shows_its_toctree_is_rewritten(make_app, tmp_path):
    _, app, before = build_edit_build(
        make_app, tmp_path, "navigation-nested", "section/child-a.md", "The text", "The edited text"
    )
    assert {"section/child-a.html", "section/index.html"} <= rewritten(app.outdir, before)


def test_a_damaged_cache_file_is_rebuilt(make_app, tmp_path):
    srcdir = copy_root("navigation", tmp_path / "docs")
    build(make_app, srcdir, freshenv=True)
    cache_file = srcdir / "_build" / "doctrees" / navigation.CACHE_FILE
    cache_file.write_bytes(b"not a pickle")
    guide = srcdir / "guides" / "third.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    app = build(make_app, srcdir)
    assert navigation.CACHES[app].misses > 0
    assert pages(app.outdir) == furo_reference(make_app, srcdir, tmp_path / "reference")
    assert navigation.load_saved(cache_file)["fingerprint"] == navigation.CACHES[app].fingerprint


def test_mark_current_refuses_what_it_cannot_be_sure_of():
    flat = '<ul>\n<li class="toctree-l1"><a class="reference internal" href="a.html">A</a></li>\n</ul>'
    marked = navigation.mark_current(flat, "a.html")
    assert marked == (
        '<ul class="current">\n<li class="toctree-l1 current current-page">'
        '<a class="current reference internal" href="#">A</a></li>\n</ul>'
    )
    assert navigation.mark_current(flat + flat, "a.html") is None  # listed twice
    assert navigation.mark_current(flat, "b.html") is None  # not there
    nested = flat.replace("</a></li>", '</a><ul><li class="toctree-l2"></li></ul></li>')
    assert navigation.mark_current(nested, "a.html") is None
