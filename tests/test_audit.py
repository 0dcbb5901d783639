"""Written pages audited as a browser parses them, and their Content-Security-Policy (audit.py).

Unit tests audit small hand-written pages (each with one breach) in a
temporary output folder; a root builds pages whose template and article
carry breaches the sanitizer never sees; the real site passes, and each of
its pages carries the policy first in ``<head>``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from citedhealth.audit import PageAudit, add_policy, audit_pages
from sphinx.util.console import strip_colors

OWN_SCRIPT = '\n  document.body.dataset.theme = "auto";\n'
OWN_STYLE = "display: none;"
DISCLAIMER = '<div class="admonition warning ch-disclaimer" role="note"><p>Not medical advice.</p></div>'


def page(body: str = "", head: str = "", disclaimer: str = DISCLAIMER, policy: bool = True) -> str:
    text = (
        f"<!DOCTYPE html><html><head><meta charset=utf-8><title>t</title>{head}</head><body>"
        f'<script>{OWN_SCRIPT}</script><svg style="{OWN_STYLE}"></svg>'
        f'<article role="main"><section id="s">{disclaimer}<p>Text.</p>{body}</section></article></body></html>'
    )
    return add_policy(text, {OWN_SCRIPT}, {OWN_STYLE}) if policy else text


def audit(tmp_path: Path, text: str, name: str = "articles/a.html", article: bool = True) -> list[str]:
    (tmp_path / "_static").mkdir(exist_ok=True)
    (tmp_path / "_static" / "own.js").write_text("1", encoding="utf-8")
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return PageAudit(tmp_path, path, {OWN_SCRIPT}, {OWN_STYLE}).run(article=article)


@pytest.mark.parametrize(
    "body",
    [
        "",
        '<script src="../_static/own.js"></script>',
        '<a href="https://example.org/">a link to another site is fine</a> <a href="//example.org/">so is this</a>',
        '<form method="get" action="../search.html"><input name="q"></form>',
        '<img src="../_static/own.js" alt="">',
        '<svg><use href="#icon"></use></svg>',
    ],
)
def test_a_page_of_our_own_passes(tmp_path, body):
    assert audit(tmp_path, page(body)) == []


@pytest.mark.parametrize(
    ("body", "head", "expected"),
    [
        (
            '<script src="https://cdn.example/x.js"></script>',
            "",
            "<script src='https://cdn.example/x.js'> is not one of the site's own scripts",
        ),
        (
            '<script src="../_static/missing.js"></script>',
            "",
            "<script src='../_static/missing.js'> is not one of the site's own scripts",
        ),
        (
            '<script src="../../etc/x.js"></script>',
            "",
            "<script src='../../etc/x.js'> is not one of the site's own scripts",
        ),
        ("<script>alert(1)</script>", "", "inline <script> that is not one of the theme's own: 'alert(1)'"),
        ("<svg><script>alert(1)</script></svg>", "", "inline <script> that is not one of the theme's own: 'alert(1)'"),
        ('<p onclick="x()">p</p>', "", "onclick= on <p> runs code (an inline event handler)"),
        ('<a href="java&#x09;script:alert(1)">x</a>', "", "<a href> 'java\\tscript:alert(1)' is a javascript: URL"),
        ('<a href=" \x01JaVaScRiPt:alert(1)">x</a>', "", "<a href> ' \\x01JaVaScRiPt:alert(1)' is a javascript: URL"),
        ('<a href="data:text/html,x">x</a>', "", "<a href> 'data:text/html,x' is a data: URL"),
        (
            '<svg><a xlink:href="javascript:alert(1)"><text>t</text></a></svg>',
            "",
            "<a xlink:href> 'javascript:alert(1)' is a javascript: URL",
        ),
        (
            "",
            '<base href="https://evil.example/">',
            "<base> changes where every relative link and script of the page points",
        ),
        (
            "",
            '<meta http-equiv="refresh" content="0; url=https://evil.example/">',
            "<meta http-equiv='refresh'> a refresh that sends the reader elsewhere",
        ),
        (
            '<form action="https://evil.example/"><input name="q"></form>',
            "",
            "<form action='https://evil.example/'>: the only form allowed is the site's search",
        ),
        (
            '<form method="post" action="../search.html"></form>',
            "",
            "<form action='../search.html'>: the only form allowed is the site's search",
        ),
        (
            '<button formaction="https://evil.example/">go</button>',
            "",
            "formaction= on <button> sends a form elsewhere",
        ),
        ('<iframe src="x.html"></iframe>', "", "<iframe> embeds another page or plugin"),
        ('<object data="x.swf"></object>', "", "<object> embeds another page or plugin"),
        (
            '<img src="https://tracker.example/p.gif" alt="">',
            "",
            "<img src> loads 'https://tracker.example/p.gif' from another site",
        ),
        (
            '<img srcset="a.png 1x, https://cdn.example/b.png 2x" alt="">',
            "",
            "<img srcset> loads 'https://cdn.example/b.png' from another site",
        ),
        ('<img src="/\\evil.example/p.gif" alt="">', "", "<img src> loads '/\\\\evil.example/p.gif' from another site"),
        (
            '<a href="https://example.org/" ping="https://tracker.example/">x</a>',
            "",
            "<a ping> loads 'https://tracker.example/' from another site",
        ),
        (
            "",
            '<link rel="stylesheet" href="//cdn.example/x.css">',
            "<link rel='stylesheet'> loads '//cdn.example/x.css' from another site",
        ),
        (
            "",
            '<link rel="preconnect" href="https://cdn.example">',
            "<link rel='preconnect'> loads 'https://cdn.example' from another site",
        ),
        (
            '<svg><use href="https://evil.example/s.svg#i"></use></svg>',
            "",
            "<use href> loads 'https://evil.example/s.svg#i' from another site",
        ),
        (
            '<svg><animate attributeName="href" to="https://e.example/"></animate></svg>',
            "",
            "<animate> (SVG animation or foreign content) can rewrite links and hide content",
        ),
        (
            "",
            "<style>p{background:\\75 rl(https://evil.example/x.png)}</style>",
            "<style> loads 'https://evil.example/x.png' from another site",
        ),
        (
            "",
            "<style>@import 'https://evil.example/x.css';</style>",
            "<style> loads 'https://evil.example/x.css' from another site",
        ),
        ("<style>p{color:red}</style>", "", "<style> outside <head> (only the theme's styles are allowed)"),
        (
            '<span style="color: red">x</span>',
            "",
            "<span style='color: red'>: an inline style the theme's templates do not write",
        ),
    ],
)
def test_a_breach_is_named(tmp_path, body, head, expected):
    assert expected in audit(tmp_path, page(body, head))


def test_the_policy_must_come_first_and_match_the_page(tmp_path):
    assert audit(tmp_path, page(policy=False)) == ["the Content-Security-Policy is not the first element of <head>"]
    tampered = page().replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
    [problem] = audit(tmp_path, tampered)
    assert problem.startswith("the Content-Security-Policy \"default-src 'self'; script-src 'self' 'unsafe-inline'")
    assert "does not match what the page carries" in problem


@pytest.mark.parametrize(
    ("disclaimer", "expected"),
    [
        ("", "the article page shows 0 disclaimers, not one"),
        (f"<!-- {DISCLAIMER} -->", "the article page shows 0 disclaimers, not one"),
        (f"<template>{DISCLAIMER}</template>", "the article page shows 0 disclaimers, not one"),
        (f"<noscript>{DISCLAIMER}</noscript>", "the article page shows 0 disclaimers, not one"),
        (DISCLAIMER * 2, "the article page shows 2 disclaimers, not one"),
        (f"<div hidden>{DISCLAIMER}</div>", "the disclaimer is hidden by hidden= on <div>"),
        (
            f"<details><summary>More</summary>{DISCLAIMER}</details>",
            "the disclaimer is inside <details>: it must stand in the article's own sections",
        ),
        (
            DISCLAIMER.replace('role="note"', 'role="note" aria-hidden="true"'),
            "the disclaimer is hidden by aria-hidden= on <div>",
        ),
    ],
)
def test_the_disclaimer_is_there_and_visible(tmp_path, disclaimer, expected):
    assert expected in audit(tmp_path, page(disclaimer=disclaimer))


def test_pages_that_are_not_articles_need_no_disclaimer(tmp_path):
    assert audit(tmp_path, page(disclaimer=""), name="index.html", article=False) == []


# -- A build ------------------------------------------------------------------------


def warnings_of(app) -> list[str]:
    return strip_colors(app.warning.getvalue()).splitlines()


def expected_page_audit_warnings(app) -> list[str]:
    article = app.srcdir / "articles" / "sample-article.md"
    index = app.srcdir / "index.md"
    tail = "[citedhealth.page-audit]"
    # Every page, our generated ones (the A–Z, the topic's page) too.
    return [
        f"WARNING: page a-z.html: <script src='https://cdn.example/analytics.js'> is not one of the site's own"
        f" scripts {tail}",
        f"{article}: WARNING: page articles/sample-article.html: <script src='https://cdn.example/analytics.js'>"
        f" is not one of the site's own scripts {tail}",
        f"{article}: WARNING: page articles/sample-article.html: the disclaimer is inside <div>: it must stand in"
        f" the article's own sections {tail}",
        f"WARNING: page genindex.html: <script src='https://cdn.example/analytics.js'> is not one of the site's own"
        f" scripts {tail}",
        f"{index}: WARNING: page index.html: <script src='https://cdn.example/analytics.js'> is not one of the"
        f" site's own scripts {tail}",
        f"WARNING: page search.html: <script src='https://cdn.example/analytics.js'> is not one of the site's own"
        f" scripts {tail}",
        f"WARNING: page topics/pain-and-nerves.html: <script src='https://cdn.example/analytics.js'> is not one of"
        f" the site's own scripts {tail}",
    ]


@pytest.mark.sphinx("html", testroot="page-audit", freshenv=True)
def test_a_build_audits_what_it_wrote_and_names_page_and_document(app):
    app.build()
    tail = "[citedhealth.page-audit]"
    audits = [line for line in warnings_of(app) if line.endswith(tail)]
    assert audits == expected_page_audit_warnings(app)
    # The next build writes nothing, yet names the pages at fault again.
    app.warning.truncate(0)
    app.warning.seek(0)
    audit_pages(app, None)
    assert [line for line in warnings_of(app) if line.endswith(tail)] == audits


@pytest.mark.sphinx("html", testroot="page-audit", freshenv=True, parallel=2)
def test_many_pages_are_audited_in_worker_processes_with_the_same_findings(app, monkeypatch):
    import citedhealth.audit

    # A cold build of many pages audits them in -j processes; this root has
    # seven pages, so the threshold comes down to one.
    monkeypatch.setattr(citedhealth.audit, "PARALLEL_FROM", 1)
    app.build()
    assert app.parallel == 2
    tail = "[citedhealth.page-audit]"
    assert [line for line in warnings_of(app) if line.endswith(tail)] == expected_page_audit_warnings(app)


@pytest.mark.sphinx("html", testroot="raw-html-allowed", freshenv=True)
def test_a_clean_build_records_its_pages_and_audits_only_what_changes(app, monkeypatch):
    app.build()
    assert app.warning.getvalue() == ""
    page = app.outdir / "articles" / "sample-article.html"
    parsed = []
    original_run = PageAudit.run
    monkeypatch.setattr(
        PageAudit, "run", lambda self, article: parsed.append(self.relative) or original_run(self, article)
    )
    audit_pages(app, None)  # nothing written since: nothing parsed
    assert parsed == []
    page.write_text(page.read_text(encoding="utf-8").replace("<p>", '<p onclick="x()">', 1), encoding="utf-8")
    audit_pages(app, None)
    assert [str(relative) for relative in parsed] == ["articles/sample-article.html"]
    assert "page articles/sample-article.html: onclick= on <p> runs code" in app.warning.getvalue()


def test_every_page_of_the_real_site_carries_its_policy_first(html_site):
    assert html_site.returncode == 0, html_site.stderr
    pages = sorted(html_site.outdir.rglob("*.html"))
    assert len(pages) >= 3
    for path in pages:
        head = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").head
        first = head.find(True)
        assert first.name == "meta" and first["http-equiv"] == "Content-Security-Policy", path
        policy = first["content"]
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        assert "default-src 'self'" in policy and "object-src 'none'" in policy and "base-uri 'none'" in policy
        # The one inline script every page carries (Furo's theme switch) is named by its hash.
        assert policy.count("'sha256-") >= 2


def test_the_pages_listed_are_those_rglob_finds_in_its_order(tmp_path):
    from citedhealth.audit import pages_in

    out = tmp_path / "html"
    for name in ["index.html", "a/x.html", "a-b/x.html", "a/b/c.html", ".hidden.html", "_static/s.css", "a/y.htm"]:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(name, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "outside.html").write_text("not followed", encoding="utf-8")
    (out / "linked").symlink_to(elsewhere, target_is_directory=True)
    (out / "page-link.html").symlink_to(out / "index.html")
    expected = [(p.relative_to(out).as_posix(), p.stat()) for p in sorted(out.rglob("*.html"))]
    assert pages_in(out, ".html") == expected
    assert [name for name, _ in expected][:3] == [".hidden.html", "a/b/c.html", "a/x.html"]
