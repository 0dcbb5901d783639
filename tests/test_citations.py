"""The bibliography style: numbered in order of citation, DOI, PubMed and PMC links."""

from __future__ import annotations

import shutil

import pytest
from conftest import built_page


@pytest.mark.sphinx("html", testroot="citations", freshenv=True)
def test_entries_are_numbered_in_citation_order_with_doi_and_pubmed_links(app):
    app.build()
    assert app.warning.getvalue() == ""
    page = built_page(app.outdir, "articles/sample-article")
    entries = page.select("div.citation")
    labels = [e.select_one("span.label").get_text(strip=True) for e in entries]
    assert labels == ["[1]", "[2]"]
    first, second = entries
    assert "A trial of something" in first.get_text()  # cited first, so numbered first
    hrefs = [a["href"] for a in first.select("a.reference.external")]
    assert hrefs == [
        "https://doi.org/10.1000/test.2020.1",
        "https://pubmed.ncbi.nlm.nih.gov/12345678/",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC1234567/",
    ]
    # No PMID in the second entry: no PubMed link is invented.
    assert [a["href"] for a in second.select("a.reference.external")] == ["https://doi.org/10.1000/test.2021.2"]


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_each_article_has_its_own_bibliography_numbered_from_one(app):
    app.build()
    assert app.warning.getvalue() == ""
    for slug, first_title in [("first-article", "A trial of something"), ("second-article", "A review of things")]:
        page = built_page(app.outdir, f"articles/{slug}")
        entries = page.select("div.citation")
        assert [e.select_one("span.label").get_text(strip=True) for e in entries] == ["[1]", "[2]"]
        assert first_title in entries[0].get_text()
        # Every citation on the page links to an entry on the same page.
        for link in page.select("span.bibtex-citation a"):
            assert link["href"].startswith("#") and page.find(id=link["href"][1:]) in entries


# -- Rebuilds: bibliographies of pages not read again are kept -------------------------


def build_copy(make_app, srcdir):
    # Sphinx's test application swaps the default theme for "basic" after the
    # environment is set up, so the next application would see a changed
    # configuration and read everything again; naming the theme keeps it stable.
    app = make_app("html", srcdir=srcdir, confoverrides={"html_theme": "basic"})
    formatted = []
    domain_class = type(app.env.get_domain("cite"))
    original = domain_class.get_formatted_entries

    def recording(self, bibliography_key, *args):
        formatted.append(bibliography_key.docname)
        return original(self, bibliography_key, *args)

    domain_class.get_formatted_entries = recording
    try:
        app.build()
    finally:
        domain_class.get_formatted_entries = original
        app.cleanup()
    return app, formatted


def test_a_rebuild_formats_only_the_bibliographies_of_pages_it_read(make_app, tmp_path, rootdir):
    srcdir = tmp_path / "docs"
    shutil.copytree(rootdir / "test-two-articles", srcdir)
    app, formatted = build_copy(make_app, srcdir)
    assert sorted(formatted) == ["articles/first-article", "articles/second-article"]
    first = srcdir / "articles" / "first-article.md"
    first.write_text(first.read_text(encoding="utf-8").replace("A claim", "An edited claim"), encoding="utf-8")
    app, formatted = build_copy(make_app, srcdir)
    assert app.warning.getvalue() == ""
    assert formatted == ["articles/first-article"]
    # The kept bibliography still resolves and numbers exactly as a clean build does.
    clean = tmp_path / "clean"
    shutil.copytree(srcdir, clean, ignore=shutil.ignore_patterns("_build"))
    clean_app, _ = build_copy(make_app, clean)
    for slug in ("first-article", "second-article"):
        kept = built_page(app.outdir, f"articles/{slug}").select_one("main")
        fresh = built_page(clean_app.outdir, f"articles/{slug}").select_one("main")
        assert kept == fresh


def test_an_edited_bibliography_reaches_every_page_that_cites_it(make_app, tmp_path, rootdir):
    srcdir = tmp_path / "docs"
    shutil.copytree(rootdir / "test-two-articles", srcdir)
    build_copy(make_app, srcdir)
    bib = srcdir / "references.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("A Review of Things", "A Revised Review"), encoding="utf-8")
    app, _ = build_copy(make_app, srcdir)
    assert app.warning.getvalue() == ""
    for slug in ("first-article", "second-article"):
        entries = built_page(app.outdir, f"articles/{slug}").select("div.citation")
        # The style writes titles in sentence case.
        assert any("A revised review" in entry.get_text() for entry in entries), slug
        assert not any("A review of things" in entry.get_text() for entry in entries), slug


def test_a_key_listed_twice_on_a_page_fails_every_build_until_fixed(make_app, tmp_path, rootdir):
    srcdir = tmp_path / "docs"
    shutil.copytree(rootdir / "test-two-articles", srcdir)
    first = srcdir / "articles" / "first-article.md"
    first.write_text(first.read_text(encoding="utf-8") + "\n## More references\n\n```{bibliography}\n```\n")
    lines = first.read_text(encoding="utf-8").splitlines()
    line = len(lines) - lines[::-1].index("```{bibliography}")  # the second bibliography, where the key repeats
    expected = (
        f'{first}:{line}: WARNING: duplicate local citation for key "smith2020trial" [bibtex.duplicate_local_citation]'
    )
    for _ in range(2):  # a cold build, then one that reads nothing again
        app, _ = build_copy(make_app, srcdir)
        assert expected in app.warning.getvalue()


def test_a_change_of_tooltip_settings_formats_every_bibliography_again(make_app, tmp_path, rootdir):
    srcdir = tmp_path / "docs"
    shutil.copytree(rootdir / "test-two-articles", srcdir)
    build_copy(make_app, srcdir)
    conf = srcdir / "conf.py"
    conf.write_text(conf.read_text(encoding="utf-8") + "bibtex_tooltips = False\n", encoding="utf-8")
    app, formatted = build_copy(make_app, srcdir)
    assert app.warning.getvalue() == ""
    assert sorted(formatted) == ["articles/first-article", "articles/second-article"]
    page = built_page(app.outdir, "articles/first-article")
    assert page.select("span.bibtex-citation a") and not page.select("span.bibtex-citation a[title]")


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_writing_pages_leaves_the_environments_citation_nodes_empty(app):
    """The live preview writes pages again from the same environment: the stored nodes must stay as read."""
    app.build()
    assert app.warning.getvalue() == ""
    stored = [
        node
        for bibliography in app.env.get_domain("cite").bibliographies.values()
        for node in bibliography.citation_nodes.values()
    ]
    assert stored and all(len(node.children) == 0 for node in stored)
    # While the pages got the filled-in entries.
    entries = built_page(app.outdir, "articles/first-article").select("div.citation")
    assert [e.select_one("span.label").get_text(strip=True) for e in entries] == ["[1]", "[2]"]


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_the_environment_stores_each_distinct_citation_target_once(app):
    app.build()
    targets = [target for ref in app.env.get_domain("cite").citation_refs for target in ref.targets]
    assert len(targets) == 4  # two articles, each citing two works once
    assert len({id(target) for target in targets}) == len(set(targets)) == 2


def test_a_rebuild_groups_only_the_references_of_pages_it_read(make_app, tmp_path, rootdir):
    """The references kept grouped by page in the saved environment: a new application regroups only the pages it
    read again (the other groups are the very lists it loaded), and the result is a grouping made afresh."""
    from citedhealth.citations import REFS_KEY

    srcdir = tmp_path / "docs"
    shutil.copytree(rootdir / "test-two-articles", srcdir)
    build_copy(make_app, srcdir)
    first = srcdir / "articles" / "first-article.md"
    first.write_text(first.read_text(encoding="utf-8").replace("A claim", "An edited claim"), encoding="utf-8")
    app = make_app("html", srcdir=srcdir, confoverrides={"html_theme": "basic"})
    domain = app.env.get_domain("cite")
    loaded = dict(domain.data[REFS_KEY])
    assert set(loaded) == {"articles/first-article", "articles/second-article"}
    app.build()
    assert app.warning.getvalue() == ""
    groups = domain.refs_by_page()
    assert groups["articles/second-article"] is loaded["articles/second-article"]  # kept as loaded
    assert groups["articles/first-article"] is not loaded["articles/first-article"]  # grouped again
    afresh: dict[str, list] = {}
    for ref in domain.citation_refs:
        afresh.setdefault(ref.docname, []).append(ref)
    assert groups == afresh
    assert all(group[i] is afresh[docname][i] for docname, group in groups.items() for i in range(len(group)))
    targets = [target for ref in domain.citation_refs for target in ref.targets]
    assert len({id(target) for target in targets}) == len(set(targets))  # still one object per distinct target

    # Groups that do not account for every reference are all made again.
    domain.data[REFS_KEY] = {"articles/second-article": []}
    domain._refs_by_page = None
    assert domain.refs_by_page() == afresh


def test_a_citation_repeated_on_a_page_resolves_as_the_first_and_an_unknown_key_warns_each_time(make_app, tmp_path):
    # citations.ArticleBibtexDomain.resolve_xref remembers a page's resolved references by target;
    # a repeat must render as the first, and a reference with an unknown key is never remembered.
    from conftest import ROOTS
    from sphinx.util.console import strip_colors

    srcdir = tmp_path / "src"
    shutil.copytree(ROOTS / "test-citations", srcdir)
    article = srcdir / "articles" / "sample-article.md"
    text = article.read_text(encoding="utf-8")
    text = text.replace(
        "A claim {cite:p}`smith2020trial`.",
        "A claim {cite:p}`smith2020trial`. Again {cite:p}`smith2020trial`. Unknown {cite:p}`nosuch2020`."
        "\nUnknown again {cite:p}`nosuch2020`.",
    )
    article.write_text(text, encoding="utf-8")
    app = make_app("html", srcdir=srcdir, builddir=tmp_path / "build", freshenv=True)
    app.build()
    warnings = [line for line in strip_colors(app.warning.getvalue()).splitlines() if "nosuch2020" in line]
    # One warning per reference, each naming the file and the line (MyST gives the paragraph's).
    assert warnings == [f'{article}:13: WARNING: could not find bibtex key "nosuch2020" [bibtex.key_not_found]'] * 2
    page = built_page(app.outdir, "articles/sample-article")
    cites = [span for span in page.select("span.bibtex-citation") if "[1]" in span.get_text()]
    assert len(cites) == 2
    # The same markup, but each its own id: the bibliography's back-references point at each one.
    assert cites[0]["id"] != cites[1]["id"]
    del cites[0]["id"], cites[1]["id"]
    assert str(cites[0]) == str(cites[1]) and cites[0].find("a")["href"].startswith("#")


def build_citing(make_app, tmp_path, name, quick=True, **confoverrides):
    from citedhealth.citations import ArticleBibtexDomain
    from conftest import ROOTS

    srcdir = tmp_path / name / "src"
    shutil.copytree(ROOTS / "test-citations", srcdir)
    article = srcdir / "articles" / "sample-article.md"
    text = article.read_text(encoding="utf-8").replace(
        "A claim {cite:p}`smith2020trial`.",
        "A claim {cite:p}`smith2020trial`. Two {cite:p}`jones2021review,smith2020trial`. "
        "Text {cite:t}`smith2020trial`. With text {cite:p}`{see}smith2020trial{p. 3}`.",
    )
    article.write_text(text, encoding="utf-8")
    app = make_app(
        "html", srcdir=srcdir, builddir=tmp_path / name / "build", freshenv=True, confoverrides=confoverrides
    )
    quick_reference = ArticleBibtexDomain.quick_reference
    if not quick:
        ArticleBibtexDomain.quick_reference = lambda *args: None
    try:
        app.build()
    finally:
        ArticleBibtexDomain.quick_reference = quick_reference
    domain = app.env.get_domain("cite")
    assert isinstance(domain, ArticleBibtexDomain)
    return app, domain


def test_quick_references_are_upstreams(make_app, tmp_path):
    # citations.ArticleBibtexDomain.quick_reference makes the common {cite:p} directly, checked against upstream's.
    # The site's configuration: tooltips off (with them on, upstream's path is taken).
    ours, domain = build_citing(make_app, tmp_path, "ours", bibtex_tooltips=False)
    upstream, _ = build_citing(make_app, tmp_path, "upstream", quick=False, bibtex_tooltips=False)
    assert not domain._quick_off and domain._quick_checked == {1, 2}
    page = "articles/sample-article.html"
    assert (ours.outdir / page).read_bytes() == (upstream.outdir / page).read_bytes()
    html = built_page(ours.outdir, "articles/sample-article")
    assert "[1, 2]" in html.get_text()
    assert "[see 1, p. 3]" in html.get_text()  # pre- and post-text: upstream's path


def test_a_reference_style_quick_references_do_not_match_turns_them_off(make_app, tmp_path):
    style = {"bibtex_reference_style": "author_year", "bibtex_tooltips": False}
    ours, domain = build_citing(make_app, tmp_path, "ours", **style)
    upstream, _ = build_citing(make_app, tmp_path, "upstream", quick=False, **style)
    assert domain._quick_off
    page = "articles/sample-article.html"
    assert (ours.outdir / page).read_bytes() == (upstream.outdir / page).read_bytes()
