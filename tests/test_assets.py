"""Page assets: pygments.css only on pages with highlighted code; search highlighting on demand."""

from __future__ import annotations

import pytest
from conftest import built_page


def stylesheets(app, pagename: str) -> list[str]:
    page = built_page(app.outdir, pagename)
    return [link["href"].split("?")[0] for link in page.select('link[rel="stylesheet"]')]


@pytest.mark.sphinx("html", testroot="code-highlighting", freshenv=True)
def test_pygments_css_only_where_code_is_highlighted(app):
    app.build()
    assert app.warning.getvalue() == ""
    assert "_static/pygments.css" not in stylesheets(app, "plain")
    assert "_static/pygments.css" not in stylesheets(app, "index")
    assert "_static/pygments.css" in stylesheets(app, "block")
    assert "_static/pygments.css" in stylesheets(app, "inline")
    # Pages without a doctree of their own keep it (search results show code).
    assert "_static/pygments.css" in stylesheets(app, "search")
    # Every other stylesheet stays.
    assert set(stylesheets(app, "block")) - set(stylesheets(app, "plain")) == {"_static/pygments.css"}


def scripts(app, pagename: str) -> list[str]:
    page = built_page(app.outdir, pagename)
    return [script["src"].split("?")[0] for script in page.select("script[src]")]


@pytest.mark.sphinx("html", testroot="code-highlighting", freshenv=True)
def test_search_highlighting_scripts_only_on_the_search_page(app):
    app.build()
    assert app.warning.getvalue() == ""
    for pagename in ("plain", "block", "index"):
        assert "_static/doctools.js" not in scripts(app, pagename)
        assert "_static/sphinx_highlight.js" not in scripts(app, pagename)
        assert "_static/documentation_options.js" in scripts(app, pagename)
    assert {"_static/doctools.js", "_static/sphinx_highlight.js", "_static/searchtools.js"} <= set(
        scripts(app, "search")
    )
