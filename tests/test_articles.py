"""Front matter, the byline, the meta description and the article list."""

from __future__ import annotations

import pytest
from conftest import built_page


@pytest.mark.sphinx("html", testroot="disclaimer", freshenv=True)
def test_article_has_byline_and_meta_description_from_front_matter(app):
    app.build()
    assert app.warning.getvalue() == ""
    article = built_page(app.outdir, "articles/sample-article")
    assert article.find("h1").get_text().rstrip("¶") == "A Sample Article"
    byline = " ".join(article.select_one(".ch-byline").get_text().split())
    assert byline == (
        "By Test Author · Published 10 January 2026 · Last reviewed 1 February 2026 · Next review due 1 February 2027"
    )
    assert article.find("meta", attrs={"name": "description"})["content"] == "A sample article for tests."


@pytest.mark.sphinx("html", testroot="front-matter-invalid", freshenv=True)
def test_invalid_front_matter_warns_with_file_and_line(app):
    app.build()
    warnings = app.warning.getvalue()
    path = app.srcdir / "articles" / "sample-article.md"
    expected = [
        f"{path}:1: WARNING: front matter lacks 'description' [citedhealth.front-matter]",
        f"{path}:4: WARNING: front matter 'date_published' is not an ISO 8601 date (YYYY-MM-DD): '10/01/2026'"
        " [citedhealth.front-matter]",
        f"{path}:6: WARNING: front matter 'next_review_due' must fall after 'last_reviewed' [citedhealth.front-matter]",
    ]
    for line in expected:
        assert line in warnings
    assert warnings.count("[citedhealth.front-matter]") == len(expected)


@pytest.mark.sphinx("html", testroot="article-list", freshenv=True)
def test_article_list_links_every_article_with_its_description(app):
    app.build()
    assert app.warning.getvalue() == ""
    items = built_page(app.outdir, "index").select("ul.ch-article-list > li")
    assert len(items) == 1
    link = items[0].find("a")
    assert link.get_text() == "A Sample Article"
    assert link["href"] == "articles/sample-article.html"
    assert items[0].select_one(".ch-article-description").get_text() == "A sample article for tests."


@pytest.mark.sphinx("html", testroot="article-list", freshenv=True)
def test_article_list_follows_a_new_article_on_incremental_build(app):
    app.build()
    (app.srcdir / "articles" / "second-article.md").write_text(
        (app.srcdir / "articles" / "sample-article.md")
        .read_text(encoding="utf-8")
        .replace("A Sample Article", "A Second Article"),
        encoding="utf-8",
    )
    app.build()
    titles = [a.get_text() for a in built_page(app.outdir, "index").select("ul.ch-article-list > li a")]
    assert titles == ["A Sample Article", "A Second Article"]


@pytest.mark.sphinx("html", testroot="article-list", freshenv=True)
def test_landing_page_is_not_read_again_for_an_edit_its_list_does_not_show(app):
    app.build()
    source = app.srcdir / "articles" / "sample-article.md"
    read_at = app.env.all_docs["index"]
    # An edit to the article's text: the list shows nothing of it.
    source.write_text(source.read_text(encoding="utf-8").replace("Some text.", "Some other text."), encoding="utf-8")
    app.build()
    assert app.env.all_docs["index"] == read_at
    # A new description: the list shows it.
    source.write_text(
        source.read_text(encoding="utf-8").replace("A sample article for tests.", "A new description."),
        encoding="utf-8",
    )
    app.build()
    assert built_page(app.outdir, "index").select_one(".ch-article-description").get_text() == "A new description."
