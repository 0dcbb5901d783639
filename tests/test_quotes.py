"""Smart quotes (quotes.py): Sphinx's own, without educating text they cannot change."""

from __future__ import annotations

import shutil

from citedhealth import quotes
from citedhealth.quotes import QuickSmartQuotes
from conftest import ROOTS, built_page
from docutils.utils import smartquotes
from sphinx.transforms import SphinxSmartQuotes


def build(make_app, tmp_path, name, transform=None, **confoverrides):
    srcdir = tmp_path / name / "src"
    shutil.copytree(ROOTS / "test-smart-quotes", srcdir)
    builddir = tmp_path / name / "build"
    app = make_app("html", srcdir=srcdir, builddir=builddir, freshenv=True, confoverrides=confoverrides)
    if transform is not None:
        transforms = app.registry.get_transforms()
        transforms[transforms.index(QuickSmartQuotes)] = transform
    app.build()
    # A second application in one process warns that docutils' node classes are registered already.
    assert [line for line in app.warning.getvalue().splitlines() if "is already registered" not in line] == []
    return app


def test_pages_are_what_sphinxs_own_transform_makes(make_app, tmp_path):
    ours = build(make_app, tmp_path, "ours")
    sphinx = build(make_app, tmp_path, "sphinx", transform=SphinxSmartQuotes)
    assert QuickSmartQuotes in ours.registry.get_transforms()
    assert SphinxSmartQuotes not in ours.registry.get_transforms()
    page = "articles/sample-article.html"
    assert (ours.outdir / page).read_bytes() == (sphinx.outdir / page).read_bytes()
    for name in ("searchindex.js", "index.html"):
        assert (ours.outdir / name).read_bytes() == (sphinx.outdir / name).read_bytes()

    html = built_page(ours.outdir, "articles/sample-article")
    text = html.get_text()
    # Educated where Sphinx educates ...
    assert "“Double quotes,” ‘single quotes’, the patients’ notes and the ’90s." in text
    assert "An en dash – an em dash — an ellipsis… and a spaced one … too." in text
    assert "“emphasised”" in text and "“strong”" in text
    title = html.select_one("div.ch-editorial-note p.admonition-title").get_text()
    assert title == "Editorial note: what “neuropathy” means"
    assert any("Bell’s “Palsy” in a heading" in heading.get_text() for heading in html.select("h2"))
    # ... and not in code or literal blocks (MyST hands escaped quotes on as plain ones, as Sphinx educates them).
    assert any(code.get_text() == 'print("it\'s")' for code in html.select("code"))
    assert 'A literal block: "straight" -- kept.' in text
    assert "Escaped “quotes” and a backslash \\ in text." in text


def test_blocks_with_nothing_to_educate_are_left_alone(make_app, tmp_path, monkeypatch):
    educated: list[list[str]] = []
    educate = smartquotes.educate_tokens

    def counting(tokens, *args, **kwargs):
        tokens = list(tokens)
        educated.append([text for _, text in tokens])
        return educate(tokens, *args, **kwargs)

    monkeypatch.setattr(smartquotes, "educate_tokens", counting)
    build(make_app, tmp_path, "count")
    blocks = ["".join(texts) for texts in educated]
    assert all(quotes.ACTIVE.search(block) for block in blocks)
    assert not any("A plain paragraph with nothing to educate" in block for block in blocks)
    assert not any("hyphens in well-being" in block for block in blocks)
    assert any("Double quotes" in block for block in blocks)


def test_smartquotes_false_still_turns_them_off(make_app, tmp_path):
    app = build(make_app, tmp_path, "off", smartquotes=False)
    text = built_page(app.outdir, "articles/sample-article").get_text()
    assert "\"Double quotes,\" 'single quotes'" in text
