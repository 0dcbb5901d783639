"""The {editorial-note} directive."""

from __future__ import annotations

import pytest
from conftest import built_page


@pytest.mark.sphinx("html", testroot="editorial-note", freshenv=True)
def test_editorial_note_renders_in_its_own_style(app):
    app.build()
    assert app.warning.getvalue() == ""
    page = built_page(app.outdir, "articles/sample-article")
    notes = page.select("div.ch-editorial-note")
    assert len(notes) == 1
    note = notes[0]
    assert "admonition" in note["class"]
    # Its own look: never the disclaimer's warning style.
    assert "warning" not in note["class"] and "ch-disclaimer" not in note["class"]
    assert note["role"] == "note"
    assert note.select_one("p.admonition-title").get_text() == "Editorial note: what the trial showed"
    assert note["aria-label"] == "Editorial note: what the trial showed"
    # Citations inside a note resolve like any other.
    link = note.select_one("span.bibtex-citation a")
    assert page.find(id=link["href"].removeprefix("#")) is not None


@pytest.mark.sphinx("typst", testroot="editorial-note", freshenv=True)
def test_editorial_note_is_a_note_box_in_the_pdf(app):
    app.build()
    assert app.warning.getvalue() == ""
    typ = next(app.outdir.glob("*.typ")).read_text(encoding="utf-8")
    # The note box's colours (typst_translator.BOX_STYLES), never the disclaimer's warning look.
    box = typ.index('fill: rgb("#f6f3fc"), stroke: (left: 3pt + rgb("#5b3fa6"))')
    assert typ.index('#strong[#"Editorial note: what the trial showed"]', box) == typ.index("#strong[", box)
