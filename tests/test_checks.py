# The special-character test spells out dashes and curly quotes on purpose.
"""Health-content guardrails (checks.py), the overdue-review rule (articles.py) and special characters.

Negative tests match each warning's exact text, file and line; every root
also asserts the number of warnings of its kind, so an extra or a missing
one fails.
"""

from __future__ import annotations

import pickle
import re
import shutil

import pytest
from citedhealth.checks import EVIDENCE, cites, in_own_voice, next_block, prose, raw_html_problems
from citedhealth.notes import editorial_note
from conftest import DOCS, built_page
from docutils import nodes
from sphinx.errors import ConfigError
from sphinx.util.console import strip_colors

ARTICLE = "articles/sample-article"


def warnings_of(app) -> list[str]:
    return strip_colors(app.warning.getvalue()).splitlines()


def ours(app, subtype: str) -> list[str]:
    return [line for line in warnings_of(app) if line.endswith(f"[citedhealth.{subtype}]")]


def article_path(app) -> str:
    return str(app.srcdir / "articles" / "sample-article.md")


def bib_path(app) -> str:
    return str(app.srcdir / "references.bib")


# -- What passes -------------------------------------------------------------


@pytest.mark.sphinx("html", testroot="checks-good", freshenv=True)
def test_a_well_formed_article_passes_every_check(app):
    app.build()
    assert app.warning.getvalue() == ""
    article = built_page(app.outdir, ARTICLE)
    # What the checks had to judge is really there: an evidence paragraph
    # covered by the cited note after it, raw HTML, an image with alt text,
    # a web page cited by its urldate.
    assert any("Research on the other kind is limited." in p.get_text() for p in article.find_all("p"))
    assert article.find("abbr", title="randomised controlled trial") is not None
    assert article.find("img", alt="A black square") is not None
    # (The style puts titles in sentence case.)
    assert "A page about something" in article.select_one("section#references").get_text()


def test_the_real_article_passes_and_gives_the_checks_work(site):
    assert site.returncode == 0, site.stderr
    assert "[citedhealth." not in site.stderr
    doctree_file = site.outdir.parent / "doctrees" / "articles" / "can-acupuncture-help-with-nerve-pain.doctree"
    with doctree_file.open("rb") as stream:
        doctree = pickle.load(stream)
    evidence = [p for p in doctree.findall(nodes.paragraph) if not in_own_voice(p) and EVIDENCE.search(prose(p))]
    # The article reports evidence in several paragraphs; each is cited or
    # followed by a cited editorial note, which is why the build passed.
    assert len(evidence) >= 2
    for paragraph in evidence:
        following = next_block(paragraph)
        assert cites(paragraph) or (isinstance(following, editorial_note) and cites(following))


def test_the_real_bibliography_passes(site):
    assert site.returncode == 0, site.stderr
    assert "bibliography" not in site.stderr.lower()
    assert (DOCS / "references.bib").read_text(encoding="utf-8").count("@") >= 10


# -- Citation needed ---------------------------------------------------------


@pytest.mark.sphinx("html", testroot="citation-needed", freshenv=True)
def test_evidence_without_a_citation_warns_with_file_and_line(app):
    app.build()
    path = article_path(app)
    tail = "but cites nothing, and no editorial note with a citation follows it [citedhealth.citation-needed]"
    assert ours(app, "citation-needed") == [
        f"{path}:13: WARNING: citation needed: the paragraph reports evidence ('study') {tail}",
        f"{path}:15: WARNING: citation needed: the paragraph reports evidence ('Studies') {tail}",
        f"{path}:27: WARNING: citation needed: the paragraph reports evidence ('trial') {tail}",
    ]
    assert len(warnings_of(app)) == 3


# -- Raw HTML ------------------------------------------------------------------


@pytest.mark.sphinx("html", testroot="raw-html", freshenv=True)
def test_unsafe_raw_html_warns_with_file_and_line(app):
    app.build()
    path = article_path(app)
    prefix = "WARNING: raw HTML not allowed in an article:"
    assert ours(app, "raw-html") == [
        f"{path}:16: {prefix} <script> runs code [citedhealth.raw-html]",
        f"{path}:18: {prefix} <img src> 'square.svg' is neither checked nor copied by the build:"
        " use Markdown's image syntax [citedhealth.raw-html]",
        f"{path}:18: {prefix} <img onerror=...> is an inline event handler [citedhealth.raw-html]",
        f"{path}:20: {prefix} <iframe> embeds another page or plugin [citedhealth.raw-html]",
        f"{path}:22: {prefix} <img src> loads 'https://tracker.example/pixel.gif' from another site"
        " [citedhealth.raw-html]",
        f"{path}:24: {prefix} <link href> loads '//cdn.example/x.css' from another site [citedhealth.raw-html]",
        f"{path}:26: {prefix} <span style> loads 'https://images.example/b.png' from another site"
        " [citedhealth.raw-html]",
    ]
    assert len(warnings_of(app)) == 7


@pytest.mark.parametrize(
    ("html", "problems"),
    [
        ('<a href="https://example.org/" title="x">a link</a>', []),
        (
            '<img src="https://cdn.example/a.png" srcset="https://cdn.example/b.png 2x" alt="">',
            ["<img src> loads", "<img srcset> loads"],
        ),
        ('<a href="other-page.html">x</a>', ["<a href> 'other-page.html' is a link the build cannot check"]),
        ('<a href="#top">x</a> <a href="mailto:a@example.org">y</a>', []),
        ("<style>@import 'https://fonts.example/f.css';</style>", ["<style> loads"]),
        ('<video poster="http://x.example/p.jpg"></video>', ["<video poster> loads"]),
        ("<object data='x.swf'></object>", ["<object> embeds"]),
        ('<div ONCLICK="go()">x</div>', ["<div onclick=...> is an inline event handler"]),
    ],
)
def test_raw_html_audit(html, problems):
    found = raw_html_problems(html)
    assert len(found) == len(problems)
    for problem, expected in zip(found, problems, strict=True):
        assert problem.startswith(expected)


# -- Images --------------------------------------------------------------------


@pytest.mark.sphinx("html", testroot="images", freshenv=True)
def test_images_without_alt_text_or_from_another_site_warn(app):
    app.build()
    path = article_path(app)
    assert ours(app, "image") == [
        f"{path}:13: WARNING: image has no alt text: square.svg [citedhealth.image]",
        f"{path}:15: WARNING: image has no alt text: square.svg [citedhealth.image]",
        f"{path}:18: WARNING: image loads from another site: https://images.example/x.png:"
        " save it under docs/ instead [citedhealth.image]",
    ]
    assert len(warnings_of(app)) == 3


# -- Bibliography ----------------------------------------------------------------


@pytest.mark.sphinx("html", testroot="bib-duplicate", freshenv=True)
def test_duplicate_key_warns_at_its_second_definition(app):
    app.build()
    bib = bib_path(app)
    assert warnings_of(app) == [
        f"{bib}:9: WARNING: duplicate bibliography key 'smith2020trial': first defined at {bib}:1"
        " [citedhealth.bib-duplicate]"
    ]
    # The first definition is the one the article shows.
    assert "A trial of something" in built_page(app.outdir, ARTICLE).select_one("section#references").get_text()


@pytest.mark.sphinx("html", testroot="bib-malformed", freshenv=True)
def test_malformed_entries_warn_at_their_lines_and_the_build_goes_on(app):
    app.build()
    bib = bib_path(app)
    assert warnings_of(app) == [
        f"{bib}:9: WARNING: malformed bibliography entry 'broken2020':"
        " it ends before its braces or quotes close [citedhealth.bib-malformed]",
        f"{bib}:16: WARNING: malformed bibliography entry 'twice2020':"
        " entry with key twice2020 has a duplicate title field [citedhealth.bib-malformed]",
        # As in BibTeX, the unclosed brace swallows the rest of the file, so
        # the entry after it is lost: sphinxcontrib-bibtex names the citation.
        f'{article_path(app)}:13: WARNING: could not find bibtex key "jones2021review" [bibtex.key_not_found]',
    ]
    # No traceback: the build went on, and the entry before the broken one renders.
    assert "A trial of something" in built_page(app.outdir, ARTICLE).select_one("section#references").get_text()


@pytest.mark.sphinx("html", testroot="bib-no-link", freshenv=True)
def test_entry_without_doi_pmid_or_url_warns(app):
    app.build()
    assert warnings_of(app) == [
        f"{bib_path(app)}:24: WARNING: bibliography entry 'nolink2020' has no DOI, no PMID and no URL:"
        " add one so readers can check it [citedhealth.bib-no-link]"
    ]


@pytest.mark.sphinx("html", testroot="bib-incomplete", freshenv=True)
def test_cited_entry_lacking_author_title_or_year_warns(app):
    app.build()
    bib = bib_path(app)
    assert warnings_of(app) == [
        f"{bib}:9: WARNING: cited bibliography entry 'noyear2020' lacks 'year' [citedhealth.bib-incomplete]",
        f"{bib}:15: WARNING: cited bibliography entry 'bare2020' lacks 'author', 'title', 'year'"
        " [citedhealth.bib-incomplete]",
    ]


@pytest.mark.sphinx("html", testroot="bib-uncited", freshenv=True)
def test_entry_cited_nowhere_warns(app):
    app.build()
    assert warnings_of(app) == [
        f"{bib_path(app)}:9: WARNING: bibliography entry 'jones2021review' is cited nowhere [citedhealth.bib-uncited]"
    ]


# -- Overdue review -----------------------------------------------------------------


@pytest.mark.sphinx("html", testroot="overdue-review", freshenv=True)
def test_overdue_review_is_reported_without_failing_by_default(app):
    app.build()
    assert app.warning.getvalue() == ""
    status = strip_colors(app.status.getvalue())
    assert (
        f"{article_path(app)}:7: note: article is overdue for review: next_review_due 2027-02-01 is before 2027-03-01"
        " (set citedhealth_overdue_review_is_error to fail the build on it)"
    ) in status.splitlines()


@pytest.mark.sphinx(
    "html", testroot="overdue-review", freshenv=True, confoverrides={"citedhealth_overdue_review_is_error": True}
)
def test_overdue_review_is_a_warning_where_configured(app):
    app.build()
    assert warnings_of(app) == [
        f"{article_path(app)}:7: WARNING: article is overdue for review: next_review_due 2027-02-01"
        " is before 2027-03-01 [citedhealth.overdue-review]"
    ]


@pytest.mark.sphinx(
    "html",
    testroot="overdue-review",
    freshenv=True,
    confoverrides={"citedhealth_today": "2027-02-01", "citedhealth_overdue_review_is_error": True},
)
def test_review_due_today_is_not_overdue(app):
    app.build()
    assert app.warning.getvalue() == ""
    assert "overdue for review" not in app.status.getvalue()


def test_a_today_that_is_no_date_stops_the_build_at_once(make_app, rootdir, tmp_path):
    srcdir = tmp_path / "overdue-review"
    shutil.copytree(rootdir / "test-overdue-review", srcdir)
    with pytest.raises(ConfigError, match="citedhealth_today must be a YYYY-MM-DD date, not '1 March 2027'"):
        make_app("html", srcdir=srcdir, confoverrides={"citedhealth_today": "1 March 2027"})


# -- Special characters -------------------------------------------------------------

LATEX_SPECIALS = "% & # _ $ { } ~ ^ \\".split()
UNICODE = ["β", "≥", "µ", "é", "—", "–", "“", "”", "‘", "’"]


@pytest.mark.sphinx("html", testroot="special-characters", freshenv=True)
def test_special_characters_reach_the_html_intact(app):
    app.build()
    assert app.warning.getvalue() == ""
    article = built_page(app.outdir, ARTICLE)
    title = "Costs of 50 % & #1 snake_case $5 {braces} ~tilde ^caret \\backslash: β ≥ µ é — “quoted” ‘single’ – en"
    assert article.find("h1").get_text().rstrip("¶") == title
    assert article.title.get_text().startswith(title)
    assert article.find("h2").get_text().rstrip("¶") == "Doses of 5 % & #3 a_b $2 {x} ~ ^ \\ β ≥ µ é — “” ‘’ –"
    assert (
        article.find("meta", attrs={"name": "description"})["content"]
        == "Special characters: % & # _ $ { } ~ ^ \\ β ≥ µ é — “” ‘’"
    )
    assert "By Zoë Ñúñez & Co." in article.select_one(".ch-byline").get_text()
    text = next(p for p in article.find_all("p") if p.get_text().startswith("Text:"))
    assert (
        text.get_text() == "Text: 50 % & #2 _under_ $6 {curly} ~wave ^hat \\ back β ≥ µ é — “double” ‘single’ – en [1]."
    )
    # Fold only ASCII whitespace: the no-break space (U+00A0) that `\,` gives is part of the text.
    entry = re.sub(r"[ \t\n]+", " ", article.select_one("div.citation").get_text()).strip()
    assert entry == (
        "[1] Jörg Müller and Zoë Ñúñez. Effects of β-blockers ≥ 50\xa0% & more: #1 _x_ $7 {set} ~ ^ \\ µ café"
        " — “q” ‘s’ – en. Journal of Café & Tea, 2020. doi:10.1000/test_2020%1."
        " Evidence: randomised controlled trial"
    )
    # Every special character of the issue is in the page as a reader sees it.
    for character in LATEX_SPECIALS + UNICODE:
        assert character in title + entry, character
    # The DOI, read raw, keeps its underscore and percent sign.
    assert article.select_one("div.citation a.reference.external")["href"] == "https://doi.org/10.1000/test_2020%1"
