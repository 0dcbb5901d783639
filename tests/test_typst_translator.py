"""Every node type an article can hold, in the tagged PDF (``citedhealth.typst_translator``).

``test-typst-nodes`` holds one article with every node type the translator
renders; each case below names one node type, the words of it that must be in
the PDF, and the structure role (or roles) that must tag it. Roots holding
what the PDF refuses (math, a node with no PDF rendering) must fail the
strict build naming the file and line, and leave no PDF.
"""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pytest
from conftest import ROOTS, pdf_build
from pdfua import Severity, validate
from pypdf import PdfReader
from test_pdf import Element, heading_levels, letters, structure

pytestmark = [pytest.mark.pdf]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    builddir = tmp_path_factory.mktemp("typst-nodes")
    result = pdf_build(ROOTS / "test-typst-nodes", builddir)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return builddir / "pdf" / "every-node.pdf"


@pytest.fixture(scope="module")
def pdf(built) -> pikepdf.Pdf:
    return pikepdf.open(built)


@pytest.fixture(scope="module")
def tree(pdf) -> Element:
    return structure(pdf)


@pytest.fixture(scope="module")
def text(built) -> str:
    return letters(" ".join(page.extract_text() for page in PdfReader(built).pages))


@pytest.fixture(scope="module")
def roles(tree) -> set[str]:
    return {e.role for e in tree.walk()} | {e.own_role for e in tree.walk()}


#: node type -> (words that must be in the PDF, roles that must be in its structure tree)
CASES = {
    "section": (["Inline", "Lists", "Blocks", "References"], {"H1", "H2"}),
    "paragraph": (["Plain paragraph with"], {"P"}),
    "emphasis": (["emphasis words"], {"Em"}),
    "strong": (["strong words"], {"Strong"}),
    "literal": (["literal words"], {"Code"}),
    "subscript": (["subscript words"], set()),
    "superscript": (["superscript words"], set()),
    "abbreviation": (["WHO (World Health Organization)"], set()),
    "reference (external)": (["an external link"], {"Link"}),
    "reference (internal, to a target)": (["the lists section"], {"Link"}),
    "footnote": (["The footnote text."], {"Note"}),
    "substitution": (["Substituted text"], set()),
    "bullet_list": (["Bullet one", "Bullet two"], {"L", "LI", "Lbl", "LBody"}),
    "enumerated_list": (["1. Numbered one", "2. Numbered two"], {"L", "LI", "Lbl", "LBody"}),
    "definition_list": (["Term words", "Definition words"], set()),
    "block_quote": (["Quoted words."], {"BlockQuote"}),
    "literal_block": (['print("code words")'], {"Code"}),
    "table": (["Header one", "Header two", "Cell one", "Cell two"], {"Table", "TH", "TD", "TR"}),
    "figure": (["Figure caption words."], {"Figure", "Caption"}),
    "note": (["Note", "Note box words."], set()),
    "warning": (["Warning", "Warning box words."], set()),
    "admonition": (["Custom box title", "Custom box words."], set()),
    "editorial_note": (["Editorial note: a topic", "Editorial words"], set()),
    "disclaimer": (["Disclaimer", "This article is for informational purposes only"], set()),
    "article_byline": (["By Test Author", "Published 10 January 2026"], set()),
    "rubric": (["Rubric words"], set()),
    "topic": (["Topic title", "Topic words."], set()),
    "sidebar": (["Sidebar title", "Sidebar words."], set()),
    "raw (html)": (["Raw HTML words"], set()),
    "line_block": (["Line block one", "Line block two"], set()),
    "title_reference": (["title reference words"], {"Em"}),
    "citation": (["[1] Jane Smith and John Doe", "[2] Ann Jones"], {"L", "Lbl"}),
}


@pytest.mark.parametrize("node_type", list(CASES))
def test_node_type_reaches_the_tagged_pdf(node_type, text, roles):
    words, expected_roles = CASES[node_type]
    for phrase in words:
        assert letters(phrase) in text, phrase
    assert expected_roles <= roles, expected_roles - roles


def test_headings_nest_without_skipped_levels(tree):
    # The article's title, its four sections, and our "Cite this article" (citing.py).
    assert heading_levels(tree) == [1, 2, 2, 2, 2, 2]


def test_table_header_cells_are_tagged_as_headers(tree):
    table = next(e for e in tree.walk() if e.role == "Table")
    cells = [e.role for e in table.walk() if e.role in {"TH", "TD"}]
    assert cells == ["TH", "TH", "TD", "TD"]


def test_figures_and_images_carry_their_alt_text(tree):
    figures = [e for e in tree.walk() if e.role == "Figure"]
    assert [str(f.obj.get("/Alt")) for f in figures] == ["A black square standing alone", "A black square"]


def test_a_link_to_another_page_of_the_site_goes_to_its_public_address(pdf):
    uris = {str(a.A.URI) for page in pdf.pages for a in page.get("/Annots", []) if "/A" in a and "/URI" in a.A}
    assert "https://example.org/site/index.html" in uris
    assert "https://example.org/page" in uris


def test_line_block_keeps_its_lines_apart(built):
    lines = [line.strip() for line in PdfReader(built).pages[-1].extract_text().splitlines()]
    assert "Line block one" in lines and "Line block two" in lines


def test_the_pdfua_checker_finds_nothing(built):
    report = validate(str(built))
    assert not [(f.rule_id, f.message) for f in report.findings if f.severity >= Severity.WARNING]


# -- What the PDF refuses ------------------------------------------------------------


@pytest.mark.parametrize(
    ("root", "slug", "needle", "message"),
    [
        (
            "test-typst-math",
            "with-math",
            "The dose grows as",
            "math cannot go in the PDF yet (Typst's math is not LaTeX's): write it as text [citedhealth.pdf]",
        ),
        (
            "test-typst-unknown-node",
            "with-unknown-node",
            "```{shiny-box}",
            "the PDF has no rendering for the 'shiny_box' node (it would be lost) [citedhealth.pdf]",
        ),
    ],
)
def test_what_the_pdf_cannot_show_fails_naming_file_and_line(root, slug, needle, message, tmp_path):
    result = pdf_build(ROOTS / root, tmp_path)
    source = ROOTS / root / "articles" / f"{slug}.md"
    line = source.read_text(encoding="utf-8")[: source.read_text(encoding="utf-8").index(needle)].count("\n") + 1
    assert result.returncode != 0
    warnings = [w for w in result.stderr.splitlines() if "WARNING" in w]
    assert warnings == [f"{source}:{line}: WARNING: {message}"]
    assert not list((tmp_path / "pdf").glob("*.pdf"))


def test_no_node_is_dropped_silently_raw_for_another_format_aside(built):
    """The .typ holds a rendering for every block: no empty box, no missing text."""
    typ = built.with_suffix(".typ").read_text(encoding="utf-8")
    assert not re.search(r"#par\[\]", typ)
