"""Per-article PDFs: the LaTeX our extension writes, and the PDFs a reader downloads."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from citedhealth.pdf import PdfError, build_pdfs
from conftest import DATA, DOCS, extension_env, sphinx_build
from pybtex.database import parse_file
from pypdf import PdfReader
from pypdf.generic import IndirectObject

SLUG = "can-acupuncture-help-with-nerve-pain"
SEED = DATA / "seed-acupuncture-nerve-pain.txt"
SEED_PICTURE_CAPTION = "What can acupuncture do for neck pain Can Help With Neck Pain?"
SECTIONS = [
    "Introduction",
    "Understanding Acupuncture",
    "The Science Behind Acupuncture",
    "The Effectiveness of Acupuncture for Nerve Pain",
    "Pain Reduction",
    "Improved Nerve Function",
    "Considerations and Precautions",
    "Conclusion",
    "References",
]


def letters(text: str) -> str:
    """Only letters and digits, lower case: PDF text breaks lines and hyphenates words anywhere."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def resolve(obj):
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def link_annotations(reader: PdfReader) -> list[dict]:
    links = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = resolve(annotation)
            if annotation.get("/Subtype") == "/Link":
                links.append(annotation)
    return links


# -- Unit: the LaTeX our extension writes --------------------------------------


@pytest.mark.sphinx("latex", testroot="two-articles", freshenv=True)
def test_each_article_becomes_its_own_howto_document(app):
    app.build()
    assert app.warning.getvalue() == ""
    assert sorted(p.name for p in app.outdir.glob("*.tex")) == ["first-article.tex", "second-article.tex"]
    assert [entry[:5] for entry in app.config.latex_documents] == [
        ("articles/first-article", "first-article.tex", "", "", "howto"),
        ("articles/second-article", "second-article.tex", "", "", "howto"),
    ]
    tex = (app.outdir / "first-article.tex").read_text(encoding="utf-8")
    assert r"\title{A First Article}" in tex
    assert r"\author{Test Author}" in tex
    assert r"\date{Published 10 January 2026\\Last reviewed 1 February 2026\\Next review due 1 February 2027}" in tex
    assert r"\hypersetup{pdfsubject={A sample article for tests.}" in tex


@pytest.mark.sphinx("latex", testroot="two-articles", freshenv=True)
def test_bibliography_stays_under_the_articles_references_heading(app):
    app.build()
    assert app.warning.getvalue() == ""
    tex = (app.outdir / "first-article.tex").read_text(encoding="utf-8")
    references = tex.index(r"\section{References}")
    bibliography = tex.index(r"\begin{chreferences}")
    assert references < bibliography < tex.index(r"\end{document}")
    # Nothing between the heading and the list but its label; no list of Sphinx's own.
    assert r"\subsection" not in tex[references:bibliography]
    assert "sphinxthebibliography" not in tex
    assert re.search(r"\\bibitem\[1\]\{articles/first-article:[^}]+\}\n", tex)


# -- The real article's PDF ------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_build(site):
    """``make pdf`` of the real docs/, as part of the session's ``make site`` build."""
    return site.builddir, site.pdf_outcome


@pytest.fixture(scope="module")
def reader(pdf_build) -> PdfReader:
    builddir, _ = pdf_build
    return PdfReader(builddir / "pdf" / f"{SLUG}.pdf")


@pytest.fixture(scope="module")
def pdf_text(reader) -> str:
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\[\d+(?:,\s*\d+)*\]", "", text)  # citation numbers are markup, not the author's words


def test_one_pdf_per_article(pdf_build):
    builddir, outcome = pdf_build
    articles = sorted(p.stem for p in (DOCS / "articles").glob("*.md"))
    assert sorted(outcome) == articles
    assert sorted(p.stem for p in (builddir / "pdf").glob("*.pdf")) == articles


def test_every_seed_sentence_is_in_the_pdf(pdf_text):
    text = letters(pdf_text)
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = [line.removeprefix("Disclaimer: ") for line in lines if not line.startswith(SEED_PICTURE_CAPTION)]
    sentences = [s for line in lines for s in re.split(r"(?<=[.?!])\s+", line)]
    missing = [s for s in sentences if letters(s) not in text]
    assert not missing, "seed sentences missing from the PDF:\n" + "\n".join(missing)


def test_disclaimer_and_editorial_notes_are_in_the_pdf(pdf_text):
    source = (DOCS / "articles" / f"{SLUG}.md").read_text(encoding="utf-8")
    topics = re.findall(r"^```\{editorial-note\} (.+)$", source, flags=re.MULTILINE)
    assert len(topics) >= 3
    text = letters(pdf_text)
    assert letters("Disclaimer This article is for informational purposes only") in text
    for topic in topics:
        assert letters(f"Editorial note: {topic}") in text, topic


def test_references_follow_their_heading_at_the_end(pdf_text):
    text = letters(pdf_text)
    assert "bibliography" not in text
    references = text.rindex(letters("References"))
    assert text.index(letters("Neuropathic pain in the general population")) > references


def test_every_entry_has_its_doi_and_pubmed_links(reader):
    uris = {resolve(link["/A"]).get("/URI") for link in link_annotations(reader) if "/A" in link}
    entries = parse_file(DOCS / "references.bib").entries.values()
    for entry in entries:
        if "doi" in entry.fields:
            assert f"https://doi.org/{entry.fields['doi']}" in uris, entry.key
        if "pmid" in entry.fields:
            assert f"https://pubmed.ncbi.nlm.nih.gov/{entry.fields['pmid']}/" in uris, entry.key


def test_internal_links_land_on_named_destinations(reader):
    destinations = set(reader.named_destinations)
    internal = []
    for link in link_annotations(reader):
        action = resolve(link.get("/A")) if "/A" in link else None
        if action is not None and action.get("/S") == "/GoTo":
            internal.append(str(action["/D"]))
        elif "/Dest" in link:
            internal.append(str(link["/Dest"]))
    citations = [d for d in internal if d.startswith("cite.")]
    assert len(citations) >= 12
    assert set(internal) <= destinations


def test_outline_holds_the_article_sections(reader):
    def titles(outline):
        for item in outline:
            if isinstance(item, list):
                yield from titles(item)
            else:
                yield item.title

    assert [t for t in titles(reader.outline) if t in SECTIONS] == SECTIONS


def test_metadata_fields_are_set(reader):
    info = reader.metadata
    assert info.title == "Can Acupuncture Help With Nerve Pain?"
    assert info.author == "Cited Health"
    assert info.subject.startswith("What the research says about acupuncture")
    assert "neuropathic pain" in info["/Keywords"]
    assert info.creation_date is not None


def test_all_fonts_are_embedded(reader):
    fonts = {}
    for page in reader.pages:
        for font in (resolve(page["/Resources"]).get("/Font") or {}).values():
            font = resolve(font)
            fonts[font["/BaseFont"]] = font
    assert fonts
    for name, font in fonts.items():
        if font["/Subtype"] == "/Type0":
            font = resolve(font["/DescendantFonts"][0])
        descriptor = resolve(font["/FontDescriptor"])
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), f"{name} is not embedded"


def test_page_count_is_that_of_an_article_with_no_blank_page(reader):
    assert 2 <= len(reader.pages) <= 4
    for number, page in enumerate(reader.pages, start=1):
        # More than a page number on every page.
        assert len(page.extract_text().split()) > 20, f"page {number} is blank"


def test_latex_log_has_no_undefined_reference_or_missing_character(pdf_build):
    builddir, _ = pdf_build
    log = (builddir / "latex" / f"{SLUG}.log").read_text(encoding="utf-8", errors="replace")
    assert "undefined" not in log.lower()
    assert "Missing character" not in log


def test_unchanged_inputs_reuse_the_pdf(pdf_build):
    builddir, _ = pdf_build
    pdf = builddir / "pdf" / f"{SLUG}.pdf"
    before = pdf.stat().st_mtime_ns
    assert build_pdfs(builddir / "latex", builddir / "pdf") == {SLUG: "cached"}
    assert pdf.stat().st_mtime_ns == before


# -- Failures are loud and name the article --------------------------------------


def test_undefined_reference_fails_naming_the_article(tmp_path):
    shutil.copytree(DOCS, tmp_path / "docs")
    latex = sphinx_build(tmp_path / "docs", tmp_path / "build", "latex")
    assert latex.returncode == 0, latex.stderr
    tex = tmp_path / "build" / "latex" / f"{SLUG}.tex"
    tex.write_text(tex.read_text(encoding="utf-8").replace(r"\end{document}", r"\ref{nowhere}\end{document}"))
    with pytest.raises(PdfError, match=rf"articles/{SLUG}: LaTeX Warning: Reference `nowhere' .* undefined"):
        build_pdfs(tmp_path / "build" / "latex", tmp_path / "build" / "pdf")
    assert not (tmp_path / "build" / "pdf" / f"{SLUG}.pdf").exists()


# -- Two articles: two PDFs, two links ---------------------------------------------


def test_two_articles_give_two_pdfs_and_two_download_links(tmp_path, rootdir):
    source = tmp_path / "src"
    shutil.copytree(rootdir / "test-two-articles", source)
    build = tmp_path / "build"
    for builder in ("latex", "html"):
        result = sphinx_build(source, build, builder)
        assert result.returncode == 0, result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "citedhealth.pdf", build / "latex", build / "pdf", "--publish", build / "html" / "pdf"],
        capture_output=True,
        text=True,
        check=False,
        env=extension_env(),
    )
    assert result.returncode == 0, result.stderr
    for slug, title in [("first-article", "A First Article"), ("second-article", "A Second Article")]:
        page_path = build / "html" / "articles" / f"{slug}.html"
        link = BeautifulSoup(page_path.read_text(encoding="utf-8"), "html.parser").select_one("p.ch-download-pdf a")
        assert link.get_text() == "Download PDF"
        pdf = (page_path.parent / link["href"]).resolve()
        assert pdf == (build / "html" / "pdf" / f"{slug}.pdf").resolve()
        assert PdfReader(pdf).metadata.title == title


# -- Special characters --------------------------------------------------------


def test_latex_special_characters_and_unicode_survive_into_the_pdf(tmp_path, rootdir):
    source = tmp_path / "src"
    shutil.copytree(rootdir / "test-pdf-special-characters", source)
    latex = sphinx_build(source, tmp_path / "build", "latex")
    assert latex.returncode == 0, latex.stderr
    assert build_pdfs(tmp_path / "build" / "latex", tmp_path / "build" / "pdf") == {"special-characters": "built"}
    reader = PdfReader(tmp_path / "build" / "pdf" / "special-characters.pdf")
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert reader.metadata.title == "Café, β and ≥: 50% & #1 _ $ { } ~ ^ \\ in a title"
    assert reader.metadata.author == "René Müller"
    assert reader.metadata.subject == "A test of “special” characters — and their ‘escapes’ – in PDFs."
    assert reader.metadata["/Keywords"] == "café, β-endorphin"
    assert "Dosage ≥ 5 µg" in text
    assert (
        "Patients with β-blockers paid 50% & more for trial #1 with a_b, $5, {braces}, a~b, a^b and a\\b"
        " — “quoted” ‘text’ – done" in text
    )
    assert "René Müller and Seán O'Brien. β-endorphin levels ≥ 5 µg/l: 100% & more in the #1 trial_a – “quoted”" in text


# -- Reproducible and resilient --------------------------------------------------

EPOCH = {"SOURCE_DATE_EPOCH": "1764000000"}


def pdf_step(latexdir: Path, pdfdir: Path, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "citedhealth.pdf", str(latexdir), str(pdfdir)],
        env={**extension_env(), **EPOCH},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def clean_latex(tmp_path: Path, name: str) -> Path:
    builddir = tmp_path / name
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-M", "latex", str(DOCS), str(builddir), "-n", "-W", "--keep-going"],
        env={**extension_env(), **EPOCH},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return builddir


@pytest.fixture(scope="module")
def reproducible_pdf(tmp_path_factory) -> bytes:
    builddir = clean_latex(tmp_path_factory.mktemp("reproducible"), "first")
    step = pdf_step(builddir / "latex", builddir / "pdf")
    assert step.wait() == 0, step.stderr.read()
    return (builddir / "pdf" / f"{SLUG}.pdf").read_bytes()


def test_two_clean_builds_give_byte_identical_pdfs(reproducible_pdf, tmp_path):
    builddir = clean_latex(tmp_path, "second")
    step = pdf_step(builddir / "latex", builddir / "pdf")
    assert step.wait() == 0, step.stderr.read()
    second = (builddir / "pdf" / f"{SLUG}.pdf").read_bytes()
    assert hashlib.sha256(second).hexdigest() == hashlib.sha256(reproducible_pdf).hexdigest()


def test_a_pdf_build_killed_partway_then_rerun_gives_the_same_pdf(reproducible_pdf, tmp_path):
    builddir = clean_latex(tmp_path, "killed")
    latexdir, pdfdir = builddir / "latex", builddir / "pdf"
    step = pdf_step(latexdir, pdfdir, start_new_session=True)
    # Kill it while LaTeX is writing: once the first pass has begun its .aux file.
    for _ in range(600):
        if (latexdir / f"{SLUG}.aux").exists() or step.poll() is not None:
            break
        time.sleep(0.01)
    assert step.poll() is None, "the PDF step ended before it could be killed"
    os.killpg(step.pid, signal.SIGKILL)
    step.wait()
    # Nothing that looks like a finished PDF was left behind.
    assert not (pdfdir / f"{SLUG}.pdf").exists()
    rerun = pdf_step(latexdir, pdfdir)
    assert rerun.wait() == 0, rerun.stderr.read()
    assert (pdfdir / f"{SLUG}.pdf").read_bytes() == reproducible_pdf
