"""Raw HTML in the sources (sanitizer.py): nh3's allowlist, self-contained fragments, safe URLs.

Negative tests match each warning's exact text, file and line; the unit tests
feed single fragments to :func:`fragment_problems`, including tricks that a
non-browser parser reads differently from a browser.
"""

from __future__ import annotations

import pytest
from citedhealth.sanitizer import ALLOWED_TAGS, fragment_problems, sanitize
from conftest import built_page
from sphinx.util.console import strip_colors

ARTICLE = "articles/sample-article"
NOT_SELF_CONTAINED = (
    "it is not self-contained: an element or comment left open (or closed too early) swallows or wraps"
    " the text around it; open and close everything within the same {}"
)


def warnings_of(app) -> list[str]:
    return strip_colors(app.warning.getvalue()).splitlines()


def ours(app, subtype: str) -> list[str]:
    return [line for line in warnings_of(app) if line.endswith(f"[citedhealth.{subtype}]")]


@pytest.mark.sphinx("html", testroot="raw-html", freshenv=True)
def test_raw_html_the_sanitizer_would_change_fails_with_file_and_line(app):
    app.build()
    path = app.srcdir / "articles" / "sample-article.md"
    prefix = "WARNING: raw HTML not allowed:"
    tail = "[citedhealth.raw-html]"
    assert ours(app, "raw-html") == [
        f"{path}:16: {prefix} <script> is not an allowed element {tail}",
        f"{path}:18: {prefix} <img> is not an allowed element: use Markdown's image syntax {tail}",
        f"{path}:20: {prefix} <base> is not an allowed element {tail}",
        f"{path}:22: {prefix} <a href> 'java\\tscript:alert(1)' is not an http, https or mailto URL {tail}",
        f"{path}:22: {prefix} <a href> '../page.html' is a link the build cannot check: use a Markdown link {tail}",
        f"{path}:24: {prefix} a browser parses it differently from how it reads: Expected closing tag."
        f" Unexpected end of file {tail}",
        f"{path}:24: {prefix} {NOT_SELF_CONTAINED.format('block')} {tail}",
        f"{path}:24: {prefix} hidden= on <div> is not an allowed attribute {tail}",
        f"{path}:28: {prefix} a browser parses it differently from how it reads: End tag (div) seen too early."
        f" Expected other end tag {tail}",
        f"{path}:30: {prefix} a browser parses it differently from how it reads: Incorrect comment {tail}",
        f"{path}:32: {prefix} style= on <span> is not an allowed attribute {tail}",
        f"{path}:34: {prefix} <meta> is not an allowed element {tail}",
    ]
    # What is refused is not published either, should the build not be strict.
    page = built_page(app.outdir, ARTICLE)
    article = page.select_one("[role=main]")
    for tag in ("script", "img", "base", "meta"):
        assert article.find(tag) is None, tag
    assert page.find("base") is None
    assert page.find("meta", attrs={"http-equiv": "refresh"}) is None
    raw_links = [a for a in article.select("p a") if not a.get("class")]  # Sphinx's own links have classes
    assert [a.get("href") for a in raw_links] == ["https://example.org/", None, None]
    assert article.find(attrs={"hidden": True}) is None
    assert article.find(style=True) is None


@pytest.mark.sphinx("html", testroot="raw-html-allowed", freshenv=True)
def test_allowed_raw_html_builds_clean_and_renders(app):
    app.build()
    assert app.warning.getvalue() == ""
    article = built_page(app.outdir, ARTICLE).select_one("[role=main]")
    assert article.find("sub").get_text() == "2"
    assert article.find("kbd").get_text() == "Ctrl"
    assert article.find("abbr", title="randomised controlled trial").get_text() == "RCT"
    assert article.select_one("em small").get_text() == "emphasis"
    assert article.find("a", href="mailto:editor@example.org") is not None
    assert article.find("a", href="#references") is not None
    assert [th.get_text() for th in article.select("table th")] == ["Dose", "Effect"]
    assert article.select_one("details summary").get_text() == "Why this dose"
    assert article.find("ol", start="3") is not None


# -- Single fragments --------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<abbr title="x">RCT</abbr>', []),
        ("<table><tr><td>1</td></tr></table>", []),
        ("<!-- a comment, closed -->", []),
        ('<a href="https://example.org/">x</a> <a href="#top">y</a> <a href="mailto:a@example.org">z</a>', []),
        ("<p>x", []),  # the next block's <p> closes it, in a browser too
        ('<base href="https://evil.example/">', ["<base> is not an allowed element"]),
        ('<a href="javascript:alert(1)">x</a>', ["<a href> 'javascript:alert(1)' is not an http, https or mailto URL"]),
        ('<a href="java&#x09;script:x">x</a>', ["<a href> 'java\\tscript:x' is not an http, https or mailto URL"]),
        ('<a href=" JaVaScRiPt&colon;x">x</a>', ["<a href> ' JaVaScRiPt:x' is not an http, https or mailto URL"]),
        ("<A HREF=vbscript:x>y</A>", ["<a href> 'vbscript:x' is not an http, https or mailto URL"]),
        (
            '<a href="data:text/html,<b>x</b>">x</a>',
            ["<a href> 'data:text/html,<b>x</b>' is not an http, https or mailto URL"],
        ),
        (
            '<a href="//evil.example/">x</a>',
            [
                "<a href> '//evil.example/' is a link the build cannot check: use a Markdown link (or write the scheme: https://)"
            ],
        ),
        ('<meta http-equiv="refresh" content="0;url=https://e.example/">', ["<meta> is not an allowed element"]),
        (
            '<svg onload="alert(1)"><a xlink:href="javascript:x"><text>t</text></a></svg>',
            ["<svg> is not an allowed element", "<text> is not an allowed element"],
        ),
        ("<style>p{background:\\75 rl(https://e.example/x.png)}</style>", ["<style> is not an allowed element"]),
        (
            '<form action="https://e.example/"><button formaction="https://e.example/">go</button></form>',
            ["<form> is not an allowed element", "<button> is not an allowed element"],
        ),
        ("<template><p>hidden</p></template>", ["<template> is not an allowed element"]),
        ("<noscript><p>hidden</p></noscript>", ["<noscript> is not an allowed element"]),
        (
            '<img srcset="https://e.example/a.png 2x" alt="">',
            ["<img> is not an allowed element: use Markdown's image syntax"],
        ),
        (
            '<span class="ch-disclaimer" id="x">fake</span>',
            ["class= on <span> is not an allowed attribute", "id= on <span> is not an allowed attribute"],
        ),
        ("<iframe src=https://e.example/></iframe>", ["<iframe> is not an allowed element"]),
        ("<p>a<!-->b</p>", ["a browser parses it differently from how it reads: Incorrect comment"]),
        ("a<!--b--!>c", ["a browser parses it differently from how it reads: Unexpected ! after -- in comment"]),
        ("<![CDATA[x]]>", ["a browser parses it differently from how it reads: Expected '--' or 'DOCTYPE'. Not found"]),
    ],
)
def test_fragment(html, expected):
    assert fragment_problems(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        "<!--",  # an unclosed comment swallows what follows
        "<div>",
        "<li>item",  # what follows would become part of the item
        "<table><tr><td>cell",
        "<style>",
        "<textarea>",
        "<span>",
        "</div>",
        "<?php echo 1 ?>",
        "<div/>",  # not self-closing in HTML
    ],
)
def test_a_fragment_that_is_not_self_contained_is_refused(html):
    problems = fragment_problems(html)
    assert problems, html
    assert all("parses it differently" in p or "not self-contained" in p or "not an allowed" in p for p in problems)


def test_inline_fragments_of_one_paragraph_are_read_together():
    # "<abbr>" + Markdown text + "</abbr>": balanced as a whole.
    assert fragment_problems('<abbr title="x">x</abbr>', inline=True) == []
    # A block element in a paragraph would close it, and the rest would fall outside.
    assert NOT_SELF_CONTAINED.format("paragraph") in fragment_problems("<div>x</div>", inline=True)


def test_the_sanitizer_keeps_allowed_markup_and_adds_nothing():
    html = '<a href="https://example.org/" title="t">x</a><abbr title="y">z</abbr>'
    assert sanitize(html) == html
    assert {"script", "style", "svg", "math", "form", "img", "iframe", "base", "meta", "link"}.isdisjoint(ALLOWED_TAGS)
