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
import sys
import time

import pytest
from citedhealth.bibstyle import identifier_url, web_url
from citedhealth.checks import (
    EVIDENCE,
    bib_findings,
    cites,
    in_own_voice,
    is_citation,
    next_block,
    normalise,
    prose,
    split_entries,
)
from citedhealth.notes import editorial_note
from conftest import DOCS, REPO, built_page
from docutils import nodes
from sphinx import addnodes
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


def test_the_real_article_passes_and_gives_the_checks_work(html_site):
    assert html_site.returncode == 0, html_site.stderr
    assert "[citedhealth." not in html_site.stderr
    doctree_file = html_site.outdir.parent / "doctrees" / "articles" / "can-acupuncture-help-with-nerve-pain.doctree"
    with doctree_file.open("rb") as stream:
        doctree = pickle.load(stream)
    evidence = [p for p in doctree.findall(nodes.paragraph) if not in_own_voice(p) and EVIDENCE.search(prose(p))]
    # The article reports evidence in several paragraphs; each is cited or
    # followed by a cited editorial note, which is why the build passed.
    assert len(evidence) >= 2
    for paragraph in evidence:
        following = next_block(paragraph)
        assert cites(paragraph) or (isinstance(following, editorial_note) and cites(following))


def test_the_real_bibliography_passes(html_site):
    assert html_site.returncode == 0, html_site.stderr
    assert "bibliography" not in html_site.stderr.lower()
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
    # The audit of the written page (audit.py) names the same image again, as a browser would load it.
    assert ours(app, "page-audit") == [
        f"{path}: WARNING: page articles/sample-article.html: <img src> loads 'https://images.example/x.png'"
        " from another site [citedhealth.page-audit]"
    ]
    assert len(warnings_of(app)) == 4


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
    # The DOI, read raw, keeps its underscore and percent sign in the text; in
    # the link the percent sign is percent-encoded, as the DOI Handbook's URL
    # encoding asks ("%1" alone is no valid URL escape).
    assert article.select_one("div.citation a.reference.external")["href"] == "https://doi.org/10.1000/test_2020%251"


# -- Citation needed: what counts as text, and as a citation -------------------------


@pytest.mark.sphinx("html", testroot="citation-needed-hidden", freshenv=True)
def test_evidence_in_any_text_block_or_disguised_letters_needs_a_citation_and_a_footnote_is_none(app):
    app.build()
    path = article_path(app)
    tail = "but cites nothing, and no editorial note with a citation follows it [citedhealth.citation-needed]"
    expected = [
        (13, "paragraph", "study"),  # cited only by a footnote ("Trust me.")
        (17, "paragraph", "study"),  # Cyrillic dze (U+0455) for s
        (19, "paragraph", "study"),  # a soft hyphen inside
        (21, "paragraph", "Research"),  # a zero-width space inside
        (23, "paragraph", "trial"),  # fullwidth letters
        (25, "paragraph", "meta-analysis"),  # a non-breaking hyphen
        (27, "heading", "study"),
        (29, "table cell", "trial"),
        (36, "term", "review"),
        (39, "paragraph", "Research"),  # in a block quote
        (42, "paragraph", "Published in"),  # in an admonition
        (48, "caption", "study"),
    ]
    assert ours(app, "citation-needed") == [
        f"{path}:{line}: WARNING: citation needed: the {kind} reports evidence ({word!r}) {tail}"
        for line, kind, word in expected
    ]
    assert len(warnings_of(app)) == len(expected)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("a study", "study"),
        ("a \u0455tudy", "study"),  # Cyrillic dze
        ("A \u0405\u0422UDY", "STUDY"),  # Cyrillic capital dze and te
        ("a \u0455t\u057dd\u0443", "study"),  # Cyrillic dze, Armenian se, Cyrillic u
        ("a stu\u00addy", "study"),  # soft hyphen
        ("a stu\u200bdy", "study"),  # zero-width space
        ("a stu\u200ddy", "study"),  # zero-width joiner
        ("a \ufeffstudy", "study"),  # BOM
        ("a stu\u202edy", "study"),  # right-to-left override
        ("a s\u0336tudy", "study"),  # combining long stroke overlay
        ("a \uff53\uff54\uff55\uff44\uff59", "study"),  # fullwidth
        ("\uff32\uff25\uff33\uff25\uff21\uff32\uff23\uff28", "RESEARCH"),
        ("a tri\u0430l", "trial"),  # Cyrillic a
        ("a meta\u2010analysis", "meta-analysis"),  # hyphen
        ("a meta\u2013analysis", "meta-analysis"),  # en dash
        ("a meta analysis", "meta analysis"),
        ("published\u00a0in", "published in"),  # no-break space
        ("a revi\u0435w", "review"),  # Cyrillic ie
        ("a r\u0435vi\u0435w", "review"),
    ],
)
def test_evidence_words_are_found_under_any_disguise(text, word):
    match = EVIDENCE.search(normalise(text))
    assert match is not None
    assert match.group(0) == word


@pytest.mark.parametrize("text", ["a studio", "the trail", "a reviewer", "researcher", "no evidence here"])
def test_words_that_only_look_like_evidence_words_are_not(text):
    assert EVIDENCE.search(normalise(text)) is None


def test_only_a_cite_role_is_a_citation():
    cite = addnodes.pending_xref("", refdomain="cite", reftype="p", reftarget="key")
    footnote = nodes.footnote_reference("[1]", "1", refid="f1")
    docutils_citation = nodes.citation_reference("[x]", "x", refid="x")
    footcite = addnodes.pending_xref("", refdomain="footcite", reftarget="key")
    assert is_citation(cite)
    assert not is_citation(footnote)
    assert not is_citation(docutils_citation)
    assert not is_citation(footcite)


# -- Bibliography: linear cost, safe links, undecodable files, findings on every build -------


def test_split_entries_names_each_entry_line_in_linear_time():
    entry = "@article{{key{0},\n  title = {{T}},\n  year = {{2020}}\n}}\n\n"
    text = "".join(entry.format(index) for index in range(17_000))
    started = time.perf_counter()
    entries = split_entries(text)
    elapsed = time.perf_counter() - started
    assert [e.line for e in entries[:3]] == [1, 6, 11]
    assert entries[-1].line == 16_999 * 5 + 1
    assert entries[-1].key == "key16999"
    # The quadratic version took tens of seconds here.
    assert elapsed < 2.0, elapsed


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://example.org/a", "https://example.org/a"),
        ("http://example.org/", "http://example.org/"),
        ("  HTTPS://example.org/x  ", "HTTPS://example.org/x"),
        ('https://example.org/a b"c<d>', "https://example.org/a%20b%22c%3Cd%3E"),
        ("https://example.org/?q=1&r=%20#x", "https://example.org/?q=1&r=%20#x"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        (" javascript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("vbscript:x", None),
        ("file:///etc/passwd", None),
        ("//evil.example/x", None),
        ("/local/path", None),
        ("https:///no-host", None),
        ("https://example.org/\x00", None),
        ("", None),
    ],
)
def test_only_http_and_https_addresses_become_links(url, link):
    assert web_url(url) == link


@pytest.mark.parametrize(
    ("name", "value", "link"),
    [
        ("doi", "10.1000/xyz.1", "https://doi.org/10.1000/xyz.1"),
        ("doi", "10.1000/a<b>#c?d", "https://doi.org/10.1000/a%3Cb%3E%23c%3Fd"),
        ("doi", "javascript:alert(1)", None),
        ("doi", "https://doi.org/10.1000/x", None),
        ("pmid", "29198932", "https://pubmed.ncbi.nlm.nih.gov/29198932/"),
        ("pmid", '1" onmouseover="x', None),
        ("pmcid", "PMC5927830", "https://pmc.ncbi.nlm.nih.gov/articles/PMC5927830/"),
        ("pmcid", "javascript:x", None),
    ],
)
def test_identifiers_link_only_to_their_registry(name, value, link):
    assert identifier_url(name, value) == link


@pytest.mark.sphinx("html", testroot="bib-unsafe-links", freshenv=True)
def test_unsafe_bibliography_links_warn_at_the_entry_and_never_reach_the_page(app):
    app.build()
    bib = bib_path(app)
    tail = "it is shown without a link [citedhealth.bib-link]"
    assert warnings_of(app) == [
        f"{bib}:1: WARNING: bibliography entry 'script2020': url 'JaVaScRiPt:alert(1)' is not an http(s) address;"
        f" {tail}",
        f"{bib}:8: WARNING: bibliography entry 'doi2020': doi 'javascript:alert(1)' is not a DOI (10.NNNN/...); {tail}",
        f"{bib}:16: WARNING: bibliography entry 'ids2020': url '//evil.example/x' is not an http(s) address; {tail}",
        f"{bib}:16: WARNING: bibliography entry 'ids2020': pmid '1\" onmouseover=\"x' is not a PubMed ID (digits);"
        f" {tail}",
        f"{bib}:16: WARNING: bibliography entry 'ids2020': pmcid 'data:text/html,x' is not a PubMed Central ID"
        f" (PMC and digits); {tail}",
    ]
    # Warnings do not fail this (non-strict) build: the page is written, and still links nothing unsafe.
    page = built_page(app.outdir, ARTICLE)
    links = [a["href"] for a in page.select("section#references a[href]") if a["href"].startswith(("http", "/"))]
    assert links == ["https://example.org/a%20b%22c", "https://doi.org/10.1000/a%3Cb%3E%22c"]
    for anchor in page.find_all(href=True):
        assert not anchor["href"].lower().replace("\t", "").strip().startswith(("javascript:", "data:", "//"))
    assert page.find(attrs={"onmouseover": True}) is None
    entries = page.select("section#references div.citation")
    assert "URL: JaVaScRiPt:alert(1)." in entries[0].get_text()


@pytest.mark.sphinx("html", testroot="bib-not-utf8", freshenv=True)
def test_a_bibliography_that_is_not_utf8_is_a_warning_at_the_bad_byte(app):
    app.build()
    assert warnings_of(app) == [
        f"{bib_path(app)}:2: WARNING: undecodable file: byte 0xef at column 16 is not UTF-8;"
        " the build goes on without it [citedhealth.encoding]",
        f'{article_path(app)}:13: WARNING: could not find bibtex key "smith2020trial" [bibtex.key_not_found]',
    ]
    # The configuration Sphinx keeps is the author's.
    assert app.config.bibtex_bibfiles == ["references.bib"]


def test_bibliography_findings_come_back_on_every_build_and_follow_the_file(make_app, rootdir, tmp_path):
    srcdir = tmp_path / "bib-duplicate"
    shutil.copytree(rootdir / "test-bib-duplicate", srcdir)
    bib = srcdir / "references.bib"
    expected = (
        f"{bib}:9: WARNING: duplicate bibliography key 'smith2020trial': first defined at {bib}:1"
        " [citedhealth.bib-duplicate]"
    )
    for _ in range(2):  # the second build reads nothing again, and reports it all the same
        app = make_app("html", srcdir=srcdir)
        app.build()
        assert [line for line in warnings_of(app) if "[citedhealth." in line] == [expected]
    cache = app.doctreedir / "citedhealth-bib-check.json"
    assert cache.is_file()
    # The cache holds the findings of these very bytes: an edit gives new ones.
    second = "@article{smith2020trial,\n  author  = {Smith, Jane},\n"
    bib.write_text(bib.read_text(encoding="utf-8").replace(second, second.replace("2020", "2021")), encoding="utf-8")
    app = make_app("html", srcdir=srcdir)
    app.build()
    assert [line for line in warnings_of(app) if "[citedhealth." in line] == [
        f"{bib}:9: WARNING: bibliography entry 'smith2021trial' is cited nowhere [citedhealth.bib-uncited]"
    ]


def test_the_benchmark_bibliography_is_valid_unique_and_clean(tmp_path):
    """The generated works of ``make bench``'s bibliography row pass every check of the files alone."""
    if str(REPO / "benchmarks") not in sys.path:
        sys.path.insert(0, str(REPO / "benchmarks"))
    from generate_corpus import library_entries

    works = library_entries(300, seed=1)
    keys = [key for key, _ in works]
    assert len(set(keys)) == len(keys) == 300
    text = "\n".join(bibtex for _, bibtex in works)
    assert len(set(re.findall(r"doi\s*=\s*\{([^}]+)\}", text))) == 300
    assert len(set(re.findall(r"pmid\s*=\s*\{([^}]+)\}", text))) == 300
    bib = tmp_path / "library.bib"
    bib.write_text(text, encoding="utf-8")
    findings = bib_findings([bib], "utf-8-sig")
    assert findings["warnings"] == []
    assert findings["malformed"] == []
    # Every entry sound: stored as its key and line alone.
    assert all(len(item) == 2 for item in findings["fields"][str(bib)])
