"""The {disclaimer} directive and the exactly-one-per-article rule."""

from __future__ import annotations

import pytest
from citedhealth.disclaimer import DEFAULT_TEXT
from conftest import built_page


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
        f"{path}:9: WARNING: article has no disclaimer: add a {{disclaimer}} directive [citedhealth.disclaimer]"
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
