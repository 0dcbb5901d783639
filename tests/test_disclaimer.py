"""The {disclaimer} directive and the exactly-one-per-article rule."""

from __future__ import annotations

import pytest
from citedhealth.disclaimer import CLASSES, DEFAULT_TEXT, disclaimer, placement_problems
from conftest import built_page
from docutils import nodes
from docutils.utils import new_document
from sphinx.util.console import strip_colors


@pytest.mark.sphinx("html", testroot="disclaimer", freshenv=True)
def test_disclaimer_renders_the_configured_text_as_a_warning_admonition(app):
    app.build()
    assert app.warning.getvalue() == ""
    boxes = built_page(app.outdir, "articles/sample-article").select("div.ch-disclaimer")
    assert len(boxes) == 1
    box = boxes[0]
    assert {"admonition", "warning"} <= set(box["class"])
    assert box["role"] == "note"
    assert box["aria-label"] == "Disclaimer"
    assert box.select_one("p.admonition-title").get_text() == "Disclaimer"
    assert " ".join(box.find_all("p")[1].get_text().split()) == DEFAULT_TEXT


@pytest.mark.sphinx("html", testroot="disclaimer-custom-text", freshenv=True)
def test_disclaimer_text_comes_from_the_config_value(app):
    app.build()
    assert app.warning.getvalue() == ""
    box = built_page(app.outdir, "articles/sample-article").select_one("div.ch-disclaimer")
    assert "Talk to your own doctor first." in box.get_text()
    assert DEFAULT_TEXT not in box.get_text()


@pytest.mark.sphinx("html", testroot="disclaimer-missing", freshenv=True)
def test_article_without_disclaimer_is_an_error_naming_the_file(app):
    app.build()
    warnings = app.warning.getvalue()
    path = app.srcdir / "articles" / "sample-article.md"
    assert (
        f"{path}:10: WARNING: article has no disclaimer: add a {{disclaimer}} directive [citedhealth.disclaimer]"
        in warnings
    )


@pytest.mark.sphinx("html", testroot="disclaimer-twice", freshenv=True)
def test_second_disclaimer_is_an_error_naming_file_and_line(app):
    app.build()
    warnings = app.warning.getvalue()
    path = app.srcdir / "articles" / "sample-article.md"
    assert (
        f"{path}:15: WARNING: article has more than one disclaimer: keep exactly one [citedhealth.disclaimer]"
        in warnings
    )
    assert warnings.count("citedhealth.disclaimer") == 1


@pytest.mark.sphinx("typst", testroot="disclaimer", freshenv=True)
def test_disclaimer_is_a_warning_box_in_the_pdf(app):
    app.build()
    assert app.warning.getvalue() == ""
    typ = next(app.outdir.glob("*.typ")).read_text(encoding="utf-8")
    # The warning box's colours (typst_translator.BOX_STYLES), titled "Disclaimer".
    box = typ.index('fill: rgb("#fef3e0"), stroke: (left: 3pt + rgb("#f39c12"))')
    assert typ.index('#strong[#"Disclaimer"]', box) < typ.index("medical advice", box)


@pytest.mark.sphinx("html", testroot="disclaimer-placement", freshenv=True)
def test_a_disclaimer_a_reader_might_miss_or_not_see_is_an_error_naming_file_and_line(app):
    app.build()
    articles = app.srcdir / "articles"
    tail = "[citedhealth.disclaimer]"
    first = "the disclaimer must come first, right after the title and the byline"
    warnings = strip_colors(app.warning.getvalue()).splitlines()
    # This module's warnings; the sanitizer and the page audit add their own about the same markup.
    assert sorted(line for line in warnings if line.endswith(tail)) == sorted(
        [
            f"{articles / 'after-a-paragraph.md'}:12: WARNING: {first} {tail}",
            f"{articles / 'at-the-end.md'}:16: WARNING: {first} {tail}",
            f"{articles / 'after-raw-html.md'}:12: WARNING: {first} {tail}",
            f"{articles / 'after-raw-html.md'}:10: WARNING: raw markup before the disclaimer could hide it:"
            f" move the disclaimer first {tail}",
            f"{articles / 'in-a-quote.md'}:10: WARNING: the disclaimer must stand on its own at the top of the"
            f" article, not inside a block quote {tail}",
            f"{articles / 'in-an-admonition.md'}:12: WARNING: the disclaimer must stand on its own at the top of the"
            f" article, not inside a note {tail}",
            f"{articles / 'raw-html-inside.md'}:11: WARNING: raw markup inside the disclaimer could hide it:"
            f" write plain text {tail}",
            f"{articles / 'raw-html-inside.md'}:10: WARNING: the disclaimer has no text {tail}",
        ]
    )
    # The sanitizer refuses the hiding markup itself, wherever it stands.
    assert (
        f"{articles / 'raw-html-inside.md'}:11: WARNING: raw HTML not allowed: style= on <span> is not an allowed"
        " attribute [citedhealth.raw-html]"
    ) in warnings
    # A target (an anchor nobody sees) may come before it.
    assert "first-after-a-target" not in app.warning.getvalue()


def test_placement_rules_on_small_doctrees():
    from citedhealth.articles import article_byline

    def article(*blocks):
        document = new_document("test")
        section = nodes.section()
        section += nodes.title(text="Title")
        section += article_byline()
        for block in blocks:
            section += block
        document += section
        return document

    def box(*children):
        node = disclaimer(classes=list(CLASSES))
        node += nodes.title(text="Disclaimer")
        node += children or (nodes.paragraph(text="Not advice."),)
        return node

    good = box()
    assert placement_problems(article(nodes.target(), nodes.comment(), good, nodes.paragraph(text="x")), good) == []
    late = box()
    assert [m for m, _ in placement_problems(article(nodes.paragraph(text="x"), late), late)] == [
        "the disclaimer must come first, right after the title and the byline"
    ]
    hidden = box()
    raw = nodes.raw("", "<style>.ch-disclaimer{display:none}</style>", format="html")
    assert [m for m, _ in placement_problems(article(raw, hidden), hidden)] == [
        "the disclaimer must come first, right after the title and the byline",
        "raw markup before the disclaimer could hide it: move the disclaimer first",
    ]
    restyled = box()
    restyled["classes"].append("hidden")
    assert [m for m, _ in placement_problems(article(restyled), restyled)] == [
        "the disclaimer takes no classes: hidden"
    ]
    empty = box(nodes.paragraph(text="  "))
    assert [m for m, _ in placement_problems(article(empty), empty)] == ["the disclaimer has no text"]
    nested = box()
    container = nodes.container()
    container += nested
    assert [m for m, _ in placement_problems(article(container), nested)] == [
        "the disclaimer must stand on its own at the top of the article, not inside a container"
    ]
