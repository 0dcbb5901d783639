"""Front matter, the byline, the meta description and the article list."""

from __future__ import annotations

import pytest
from citedhealth.articles import read_front_matter, typed_value
from conftest import built_page
from sphinx.util.console import strip_colors


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
def test_article_list_links_the_recently_reviewed_with_description_and_date(app):
    app.build()
    assert app.warning.getvalue() == ""
    items = built_page(app.outdir, "index").select("ul.ch-article-list > li")
    assert len(items) == 1
    link = items[0].find("a")
    assert link.get_text() == "A Sample Article"
    assert link["href"] == "articles/sample-article.html"
    assert items[0].select_one(".ch-article-description").get_text() == "A sample article for tests."
    assert items[0].select_one(".ch-last-reviewed").get_text() == "Last reviewed 1 February 2026"


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


# -- Typed front matter ---------------------------------------------------------


@pytest.mark.sphinx("html", testroot="front-matter-types", freshenv=True)
def test_front_matter_of_the_wrong_type_warns_at_the_field(app):
    app.build()
    path = app.srcdir / "articles" / "sample-article.md"
    prefix = f"{path}:"
    tail = "[citedhealth.front-matter]"
    assert strip_colors(app.warning.getvalue()).splitlines() == [
        f"{prefix}11: WARNING: front matter gives 'summary' twice {tail}",
        f"{prefix}3: WARNING: front matter 'description' must be text, not null (~) {tail}",
        f"{prefix}4: WARNING: front matter 'author' must be text, not null (null) {tail}",
        f"{prefix}9: WARNING: front matter 'reviewed_by' must be text, not a number (42) {tail}",
        f"{prefix}5: WARNING: front matter 'date_published' is not an ISO 8601 date (YYYY-MM-DD): 'yes' {tail}",
        f"{prefix}6: WARNING: front matter 'last_reviewed' is not an ISO 8601 date (YYYY-MM-DD): '2026-2-1' {tail}",
        f"{prefix}8: WARNING: front matter 'keywords' must be a list of words or comma-separated text,"
        f" not an empty list {tail}",
    ]
    # Even where warnings do not fail the build, no page shows what YAML made of a null.
    page = built_page(app.outdir, "articles/sample-article")
    assert "None" not in page.get_text()
    assert "null" not in page.get_text()
    assert page.select_one(".ch-author") is None
    assert page.find("meta", attrs={"name": "description"}) is None
    byline = " ".join(page.select_one(".ch-byline").get_text().split())
    assert byline == "Next review due 1 February 2027"


@pytest.mark.sphinx("html", testroot="front-matter-types", freshenv=True)
def test_quoted_strings_dates_and_keyword_lists_are_accepted(app):
    app.build()
    assert "typed-well" not in app.warning.getvalue()
    page = built_page(app.outdir, "articles/typed-well")
    byline = " ".join(page.select_one(".ch-byline").get_text().split())
    assert byline == (
        "By Test Author · Published 10 January 2026 · Last reviewed 1 February 2026 · Next review due 1 February 2027"
    )
    # A YAML list of keywords reaches the metadata as one comma-separated text.
    assert app.env.metadata["articles/typed-well"]["keywords"] == "acupuncture, nerve pain"


@pytest.mark.parametrize(
    ("yaml_value", "kind", "problem"),
    [
        ("null", "text", "must be text, not null (null)"),
        ("~", "text", "must be text, not null (~)"),
        ("", "text", "must be text, not null"),
        ("yes", "text", "must be text, not a yes/no value (yes)"),
        ("false", "text", "must be text, not a yes/no value (false)"),
        ("42", "text", "must be text, not a number (42)"),
        ("4.2", "text", "must be text, not a number (4.2)"),
        ("'  '", "text", "is empty"),
        ("[a, b]", "text", "must be text, not a list"),
        ("{name: A}", "text", "must be text, not a mapping"),
        ("2026-01-10", "text", "must be text, not a date (2026-01-10)"),
        ("A Name", "text", None),
        ("2026-01-10", "date", None),
        ("'2026-01-10'", "date", None),
        ("2026-1-10", "date", "is not an ISO 8601 date (YYYY-MM-DD): '2026-1-10'"),
        ("2026-01-10 10:00:00", "date", "is not an ISO 8601 date (YYYY-MM-DD): '2026-01-10 10:00:00'"),
        ("'2026-02-30'", "date", "is not an ISO 8601 date (YYYY-MM-DD): '2026-02-30'"),
        ("yes", "date", "is not an ISO 8601 date (YYYY-MM-DD): 'yes'"),
        ("null", "date", "is not an ISO 8601 date (YYYY-MM-DD): 'null'"),
        ("20260110", "date", "is not an ISO 8601 date (YYYY-MM-DD): '20260110'"),
        ("[2026-01-10]", "date", "is not an ISO 8601 date (YYYY-MM-DD): 'a list'"),
        ("[]", "list", "must be a list of words or comma-separated text, not an empty list"),
        ("[a, 1]", "list", "must be a list of words (text), and one item is not"),
        ("[a, '']", "list", "must be a list of words (text), and one item is not"),
        ("' , '", "list", "is empty"),
        ("null", "list", "must be a list of words or comma-separated text, not null (null)"),
        ("[a, b]", "list", None),
        ("a, b", "list", None),
    ],
)
def test_typed_value(yaml_value, kind, problem):
    front = read_front_matter(f"---\nfield: {yaml_value}\n---\n")
    assert front.lines == {"field": 2}
    _, found = typed_value(kind, front.values["field"], front.written.get("field"))
    assert found == problem


def test_front_matter_lines_follow_multiline_values():
    front = read_front_matter("---\ntitle: A\ndescription: >\n  folded\n  text\nauthor: B\n---\nbody\n")
    assert front.lines == {"title": 2, "description": 3, "author": 6}
    assert front.values["description"] == "folded text\n"


def test_front_matter_that_is_not_yaml_is_reported_at_its_line():
    front = read_front_matter("---\ntitle: A\nauthor: [unclosed\n---\n")
    assert len(front.errors) == 1
    message, line = front.errors[0]
    assert message.startswith("front matter is not valid YAML: ")
    assert line == 3  # the line of the unclosed list
