"""Kinds of evidence: every cited source labelled from the vocabulary, the label on each entry, the summary."""

from __future__ import annotations

import re
import shutil

import pytest
from citedhealth.evidence import VOCABULARY, summary_sentence
from conftest import DOCS, built_page
from pybtex.database import parse_file
from sphinx.util.console import strip_colors

ARTICLE = "articles/vitamin-d-and-bones"
DOSSIER = DOCS.parent.parent / "shared" / "references" / "README.md"


@pytest.mark.sphinx("html", testroot="citing")
def test_each_entry_shows_its_kind_of_evidence_and_the_references_are_summed_up(app):
    app.build()
    assert app.warning.getvalue() == ""
    page = built_page(app.outdir, ARTICLE)
    entries = page.select("div.citation")
    by_number = {entry.select_one(".label").get_text(strip=True): entry for entry in entries}
    # In citation order: smith (trial), jones and lee (reviews; jones's label in odd case and spacing), agency.
    assert [by_number[n].select_one(".ch-evidence").get_text() for n in ("[1]", "[2]", "[3]", "[4]")] == [
        "Evidence: randomised controlled trial",
        "Evidence: systematic review or meta-analysis",
        "Evidence: systematic review or meta-analysis",
        "Evidence: consumer health information",
    ]
    assert len(entries) == 4
    # The label is inside the entry's paragraph, which the citation preview copies.
    assert all(entry.select_one(":scope > p .ch-evidence") for entry in entries)
    summary = page.select_one("p.ch-evidence-summary")
    assert summary.get_text() == (
        "This article cites 2 systematic reviews or meta-analyses, 1 randomised controlled trial"
        " and 1 source of consumer health information."
    )
    # Above the references, in the References section.
    references = page.find("section", id="references")
    assert references.select_one("p.ch-evidence-summary") is summary
    assert summary.find_next("div", class_="citation") is entries[0]
    # Another article sums up only its own works.
    other = built_page(app.outdir, "articles/second-article")
    assert other.select_one("p.ch-evidence-summary").get_text() == (
        "This article cites 1 systematic review or meta-analysis."
    )


@pytest.mark.sphinx("typst", testroot="citing")
def test_the_label_and_the_summary_reach_the_pdf(app):
    from pypdf import PdfReader

    app.build()
    assert strip_colors(app.warning.getvalue()) == ""
    reader = PdfReader(app.outdir / "vitamin-d-and-bones.pdf")
    # pypdf may break a line inside a word ("meta-\nanalyses"): compare the words alone.
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).replace("-\n", "-").split())
    assert "This article cites 2 systematic reviews or meta-analyses" in text
    assert text.count("Evidence: systematic review or meta-analysis") == 2
    assert "Evidence: randomised controlled trial" in text


@pytest.mark.sphinx("html", testroot="evidence-labels")
def test_a_cited_entry_without_a_label_or_with_one_outside_the_vocabulary_fails_at_its_line(app):
    app.build()
    bib = app.srcdir / "references.bib"
    choices = "; ".join(VOCABULARY)
    warnings = [line for line in strip_colors(app.warning.getvalue()).splitlines() if "bib-evidence" in line]
    assert warnings == [
        f"{bib}:10: WARNING: cited bibliography entry 'unlabelled2020' has no evidence label: add "
        f"'evidence = {{...}}' with one of: {choices} [citedhealth.bib-evidence]",
        f"{bib}:24: WARNING: bibliography entry 'misspelt2021' has evidence label 'randomized controlled trial', "
        f"which is not one of: {choices} (did you mean 'randomised controlled trial'?) [citedhealth.bib-evidence]",
        f"{bib}:33: WARNING: bibliography entry 'twolabels2021' has evidence label 'narrative review; guideline', "
        f"which is not one of: {choices} (did you mean 'narrative review'?) [citedhealth.bib-evidence]",
    ]
    # What the build still shows: the labelled entry's kind, the others' count as unstated.
    page = built_page(app.outdir, "articles/labels")
    assert [e.get_text() for e in page.select(".ch-evidence")] == ["Evidence: randomised controlled trial"]
    assert page.select_one(".ch-evidence-summary").get_text() == (
        "This article cites 1 randomised controlled trial and 3 sources of unstated kind."
    )


def test_an_entry_cited_nowhere_needs_no_label(make_app, tmp_path, rootdir):
    srcdir = tmp_path / "docs"
    shutil.copytree(rootdir / "test-bib-uncited", srcdir)
    bib = srcdir / "references.bib"
    bib.write_text(re.sub(r", evidence = \{[^}]*\}", "", bib.read_text(encoding="utf-8")), encoding="utf-8")
    app = make_app("html", srcdir=srcdir)
    app.build()
    warnings = strip_colors(app.warning.getvalue())
    uncited = re.search(r"entry '(\w+)' is cited nowhere", warnings).group(1)
    assert f"'{uncited}' has no evidence label" not in warnings
    assert warnings.count("has no evidence label") == 1  # the cited one


def test_summary_counts_in_the_vocabularys_order_with_plurals():
    labels = ["narrative review", "guideline", "guideline", "consumer health information", "laboratory or animal study"]
    assert summary_sentence(labels) == (
        "This article cites 2 guidelines, 1 narrative review, 1 laboratory or animal study"
        " and 1 source of consumer health information."
    )
    assert summary_sentence(["observational study"] * 3) == "This article cites 3 observational studies."


def test_every_source_of_the_site_is_labelled_as_the_dossier_says():
    """docs/references.bib against the dossier's table "Kind of evidence of each source"."""
    if not DOSSIER.is_file():
        pytest.fail(f"the reference dossier is missing: {DOSSIER}")
    text = DOSSIER.read_text(encoding="utf-8")
    table = text[text.index("## Kind of evidence of each source") :]
    kinds = dict(re.findall(r"^\| `([\w-]+)` \| ([^|]+?) \|", table, re.MULTILINE))
    assert len(kinds) == 12
    entries = parse_file(DOCS / "references.bib").entries
    assert {key: entry.fields["evidence"] for key, entry in entries.items()} == kinds
    assert set(kinds.values()) <= set(VOCABULARY)
