"""Page assets: pygments.css only where code is highlighted; search highlighting on demand; our CSS and JS minified."""

from __future__ import annotations

import zlib

import pytest
import rcssmin
import rjsmin
from conftest import DOCS, built_page


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


# -- Our own CSS and JS, minified in the site ------------------------------------------


@pytest.mark.parametrize(("name", "minify"), [("citedhealth.js", rjsmin.jsmin), ("citedhealth.css", rcssmin.cssmin)])
def test_our_css_and_js_are_served_minified_and_versioned_by_what_is_served(html_site, name, minify):
    source = (DOCS / "_static" / name).read_text(encoding="utf-8")
    served = (html_site.outdir / "_static" / name).read_bytes()
    assert "/*" in source  # the source keeps its comments...
    assert served.decode("utf-8") == minify(source)  # ...the site gets rcssmin's or rjsmin's output
    assert len(served) < 0.8 * len(source.encode("utf-8"))
    # The page's link carries Sphinx's checksum of the served file, so a
    # browser cache can never pair the page with an older copy.
    page = html_site.page("articles/can-acupuncture-help-with-nerve-pain")
    links = [tag.get("href") or tag.get("src") for tag in page.select("link[rel=stylesheet], script[src]")]
    assert f"_static/{name}?v={zlib.crc32(served):08x}" in [link.removeprefix("../") for link in links]
