"""Per-article PDFs (``citedhealth.pdf``, the ``typst`` builder): what a reader downloads.

The real article's PDF comes from the session's ``make site`` build (``site``
in conftest). The structure tree is read with pikepdf, the text with pypdf,
and the PDF/UA-1 subset the ``pdfua`` package checks is run on it.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import shutil
from pathlib import Path

import pikepdf
import pytest
from bs4 import BeautifulSoup
from citedhealth.citing import DOWNLOADS_CLASS
from conftest import DATA, DOCS, ROOTS, pdf_build, sphinx_build
from pdfua import Severity, validate
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
XMP_PDFUA_PART = "{http://www.aiim.org/pdfua/ns/id/}part"
XMP_PDFA_PART = "{http://www.aiim.org/pdfa/ns/id/}part"
XMP_PDFA_CONFORMANCE = "{http://www.aiim.org/pdfa/ns/id/}conformance"


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


# -- Reading the structure tree ---------------------------------------------------


class Element:
    """One structure element: its role (RoleMap applied), children, and the PDF object."""

    def __init__(self, obj: pikepdf.Dictionary, rolemap: dict[str, str]) -> None:
        self.obj = obj
        role = str(obj.S)
        self.role = rolemap.get(role, role).lstrip("/")
        self.own_role = role.lstrip("/")
        self.children: list[Element] = []
        self.annotations: list[pikepdf.Object] = []  # OBJR kids: annotations tied to this element
        kids = obj.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else ([kids] if kids is not None else []):
            if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR":
                self.annotations.append(kid.Obj)
            elif isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                self.children.append(Element(kid, rolemap))

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def structure(pdf: pikepdf.Pdf) -> Element:
    tree = pdf.Root.StructTreeRoot
    rolemap = {str(k): str(v) for k, v in (tree.get("/RoleMap") or {}).items()}
    kids = tree.K if isinstance(tree.K, pikepdf.Array) else [tree.K]
    roots = [Element(kid, rolemap) for kid in kids]
    assert len(roots) == 1, "one Document element"
    return roots[0]


def heading_levels(root: Element) -> list[int]:
    return [int(e.role[1:]) for e in root.walk() if re.fullmatch(r"H[1-6]", e.role)]


# -- The real article's PDF ------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_path(site) -> Path:
    return site.builddir / "pdf" / f"{SLUG}.pdf"


@pytest.fixture(scope="module")
def reader(pdf_path) -> PdfReader:
    return PdfReader(pdf_path)


@pytest.fixture(scope="module")
def pdf(pdf_path) -> pikepdf.Pdf:
    return pikepdf.open(pdf_path)


@pytest.fixture(scope="module")
def tree(pdf) -> Element:
    return structure(pdf)


@pytest.fixture(scope="module")
def pdf_text(reader) -> str:
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\[\d+(?:,\s*\d+)*\]", "", text)  # citation numbers are markup, not the author's words


def test_one_pdf_and_one_typst_source_per_article(site):
    articles = sorted(p.stem for p in (DOCS / "articles").glob("*.md"))
    assert sorted(site.pdf_outcome) == articles
    assert sorted(p.stem for p in (site.builddir / "pdf").glob("*.typ")) == articles
    assert sorted(p.stem for p in (site.outdir / "pdf").glob("*.pdf")) == articles


def test_pdf_declares_pdf_ua_1_and_pdf_a_2a_with_language_and_title(pdf):
    with pdf.open_metadata() as xmp:
        assert xmp[XMP_PDFUA_PART] == "1"
        assert (xmp[XMP_PDFA_PART], xmp[XMP_PDFA_CONFORMANCE]) == ("2", "A")
    assert str(pdf.Root.Lang) == "en"  # conf.py's language
    assert bool(pdf.Root.MarkInfo.Marked) is True
    assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True
    assert str(pdf.docinfo.Title) == "Can Acupuncture Help With Nerve Pain?"


def test_headings_are_nested_without_skipped_levels_as_on_the_page(tree, site):
    levels = heading_levels(tree)
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(after <= before + 1 for before, after in itertools.pairwise(levels)), levels
    page = site.page(f"articles/{SLUG}")
    html_levels = [int(h.name[1]) for h in page.select("article[role=main]")[0].find_all(re.compile(r"^h[1-6]$"))]
    assert levels == html_levels
    # The author's seven sections and our "Cite this article" (citing.py).
    assert levels.count(2) == 8 and levels.count(3) == 2


def test_paragraphs_and_emphasis_are_tagged(tree):
    roles = [e.role for e in tree.walk()]
    assert tree.role == "Document"
    assert roles.count("P") >= 30
    # Our disclaimer and each editorial note: a bold title paragraph, then the text.
    assert sum(1 for e in tree.walk() if e.own_role == "Strong") >= 4


def test_references_are_a_list_with_labels(tree):
    source = (DOCS / "articles" / f"{SLUG}.md").read_text(encoding="utf-8")
    cited = {key.strip() for keys in re.findall(r"\{cite:p\}`([^`]+)`", source) for key in keys.split(",")}
    lists = [e for e in tree.walk() if e.role == "L"]
    assert len(lists) == 1
    items = lists[0].children
    assert len(items) == len(cited) == 12
    for item in items:
        assert item.role == "LI"
        assert [child.role for child in item.children] == ["Lbl", "LBody"]
    # The list comes right after the References heading; only "Cite this article" follows it.
    order = [e for e in tree.walk() if e.role in {"L", "H2"}]
    assert order[-2] is lists[0]
    assert order[-3].role == order[-1].role == "H2"


def test_every_link_annotation_is_tied_to_a_link_element(pdf, tree):
    annotations = [a for page in pdf.pages for a in page.get("/Annots", []) if a.Subtype == "/Link"]
    tied = {a.objgen for e in tree.walk() if e.role == "Link" for a in e.annotations}
    assert len(annotations) >= 40
    assert {a.objgen for a in annotations} == tied
    assert all(e.annotations for e in tree.walk() if e.role == "Link")


def text_runs(page: pikepdf.Page) -> list[tuple[list[str], str]]:
    """(the marked-content tags open around it, op) for each text-showing operator of *page*."""
    runs, stack = [], []
    for operands, operator in pikepdf.parse_content_stream(page):
        name = str(operator)
        if name in {"BDC", "BMC"}:
            stack.append(str(operands[0]))
        elif name == "EMC":
            stack.pop()
        elif name in {"Tj", "TJ", "'", '"'}:
            runs.append((list(stack), name))
    return runs


def test_page_numbers_and_running_heads_are_artifacts(pdf, reader):
    for number, page in enumerate(pdf.pages, start=1):
        runs = text_runs(page)
        # All text is either tagged content or an artifact: nothing unmarked.
        assert all(tags for tags, _ in runs), f"page {number} has unmarked text"
        artifacts = [tags for tags, _ in runs if "/Artifact" in tags]
        assert artifacts, f"page {number}: no artifact (page number)"
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {len(reader.pages)}" in text
        if number > 1:
            assert text.count("Can Acupuncture Help With Nerve Pain?") >= 1  # the running head
    # The running head and page number never reach the structure tree's text:
    # the only H1 is the title on page 1.


def test_pdfua_checker_reports_nothing_at_warning_or_above(pdf_path):
    report = validate(str(pdf_path))
    serious = [f for f in report.findings if f.severity >= Severity.WARNING]
    assert not serious, [(f.rule_id, f.message) for f in serious]


def test_every_sentence_of_the_article_is_in_the_html_and_the_pdf(pdf_text, site):
    text = letters(pdf_text)
    page = site.page(f"articles/{SLUG}")
    main = page.select_one("article[role=main]")
    numbers = re.compile(r"\[\s*\d+(?:\s*,\s*\d+)*\s*\]")  # citation numbers: markup, not words
    html_text = letters(numbers.sub("", main.get_text(" ")))
    # Not the links to files only the site has: the PDF itself, the citation's .bib and .ris.
    blocks = [
        p.get_text(" ")
        for p in main.select("p, li, dt, dd")
        if not p.select_one("a[download]") and DOWNLOADS_CLASS not in p.get("class", [])
    ]
    sentences = [
        s
        for block in blocks
        for s in re.split(r"(?<=[.?!])\s+", numbers.sub("", " ".join(block.split())))
        if letters(s)
    ]
    assert len(sentences) > 60
    missing = [s for s in sentences if letters(s) not in text]
    assert not missing, "HTML sentences missing from the PDF:\n" + "\n".join(missing)
    # And the seed article's sentences are in both.
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = [line.removeprefix("Disclaimer: ") for line in lines if not line.startswith(SEED_PICTURE_CAPTION)]
    seed = [s for line in lines for s in re.split(r"(?<=[.?!])\s+", line)]
    assert not [s for s in seed if letters(s) not in text]
    assert not [s for s in seed if letters(s) not in html_text]


def test_title_block_disclaimer_and_editorial_notes_are_in_the_pdf(pdf_text):
    source = (DOCS / "articles" / f"{SLUG}.md").read_text(encoding="utf-8")
    topics = re.findall(r"^```\{editorial-note\} (.+)$", source, flags=re.MULTILINE)
    assert len(topics) >= 3
    text = letters(pdf_text)
    assert text.startswith(letters("Can Acupuncture Help With Nerve Pain? By Cited Health Published 24 November 2026"))
    assert letters("Last reviewed 24 November 2026") in text
    assert letters("Next review due 24 November 2027") in text
    assert letters("Disclaimer This article is for informational purposes only") in text
    for topic in topics:
        assert letters(f"Editorial note: {topic}") in text, topic


def test_disclaimer_is_a_warning_box_and_notes_are_note_boxes(site):
    typ = (site.builddir / "pdf" / f"{SLUG}.typ").read_text(encoding="utf-8")
    boxes = re.findall(r'fill: rgb\("(#[0-9a-f]{6})"\).*?\n#block\(sticky: true[^\n]*#strong\[#"([^"]+)"\]', typ)
    assert boxes[0] == ("#fef3e0", "Disclaimer")
    notes = [fill for fill, title in boxes if title.startswith("Editorial note")]
    assert len(notes) >= 3 and set(notes) == {"#f6f3fc"}


def test_references_follow_their_heading_at_the_end(pdf_text):
    text = letters(pdf_text)
    assert "bibliography" not in text
    references = text.rindex(letters("References"))
    assert text.index(letters("Neuropathic pain in the general population")) > references


def test_every_entry_has_its_doi_pubmed_and_pmc_links(reader):
    uris = {resolve(link["/A"]).get("/URI") for link in link_annotations(reader) if "/A" in link}
    entries = parse_file(DOCS / "references.bib").entries.values()
    for entry in entries:
        if "doi" in entry.fields:
            assert f"https://doi.org/{entry.fields['doi']}" in uris, entry.key
        if "pmid" in entry.fields:
            assert f"https://pubmed.ncbi.nlm.nih.gov/{entry.fields['pmid']}/" in uris, entry.key
        if "pmcid" in entry.fields:
            assert f"https://pmc.ncbi.nlm.nih.gov/articles/{entry.fields['pmcid']}/" in uris, entry.key


def test_citation_numbers_link_to_the_references_page(reader):
    last_page = reader.pages[-1].indirect_reference
    internal = [link for link in link_annotations(reader) if "/Dest" in link]
    assert len(internal) >= 20
    assert all(resolve(link["/Dest"])[0] == last_page for link in internal)


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


def test_fonts_are_embedded_and_are_the_projects(reader):
    fonts = {}
    for page in reader.pages:
        for font in (resolve(page["/Resources"]).get("/Font") or {}).values():
            font = resolve(font)
            fonts[str(font["/BaseFont"])] = font
    assert fonts
    # Subset prefix (ABCDEF+) aside, only the fonts the project names: those in the typst wheel.
    assert {name.split("+")[-1].split("-")[0] for name in fonts} <= {"LibertinusSerif", "DejaVuSansMono"}
    for name, font in fonts.items():
        if font["/Subtype"] == "/Type0":
            font = resolve(font["/DescendantFonts"][0])
        descriptor = resolve(font["/FontDescriptor"])
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), f"{name} is not embedded"


def test_a4_at_most_three_pages_none_blank(reader):
    assert 2 <= len(reader.pages) <= 3
    for number, page in enumerate(reader.pages, start=1):
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
        assert len(page.extract_text().split()) > 20, f"page {number} is blank"


# -- Two articles: two PDFs, two links; incremental; deletions ----------------------


def copy_root(tmp_path: Path, name: str = "test-two-articles") -> Path:
    source = tmp_path / "src"
    shutil.copytree(ROOTS / name, source)
    return source


def pdfs(builddir: Path) -> dict[str, tuple[int, bytes]]:
    return {p.stem: (p.stat().st_mtime_ns, p.read_bytes()) for p in (builddir / "pdf").glob("*.pdf")}


def typeset(result) -> set[str]:
    """The articles a build typeset, as it reports them ("typeset N PDF(s): a, b")."""
    match = re.search(r"^typeset \d+ PDF\(s\): (.+)$", result.stdout, re.MULTILINE)
    return set(match.group(1).split(", ")) if match else set()


@pytest.mark.pdf
def test_two_articles_give_two_pdfs_and_two_download_links(tmp_path):
    from citedhealth.publish import main

    source, build = copy_root(tmp_path), tmp_path / "build"
    result = pdf_build(source, build)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    result = sphinx_build(source, build, "html")
    assert result.returncode == 0, result.stderr
    assert main([str(build / "pdf"), str(build / "html" / "pdf")]) == 0
    for slug, title in [("first-article", "A First Article"), ("second-article", "A Second Article")]:
        page_path = build / "html" / "articles" / f"{slug}.html"
        link = BeautifulSoup(page_path.read_text(encoding="utf-8"), "html.parser").select_one("p.ch-download-pdf a")
        assert link.get_text() == "Download PDF"
        pdf = (page_path.parent / link["href"]).resolve()
        assert pdf == (build / "html" / "pdf" / f"{slug}.pdf").resolve()
        assert PdfReader(pdf).metadata.title == title
    # The HTML and PDF builds share one environment: the doctrees folder
    # (beside the output folders, only their build locks: recovery.py).
    assert sorted(p.name for p in build.iterdir() if not p.name.endswith(".citedhealth-build.lock")) == [
        "doctrees",
        "html",
        "pdf",
    ]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.pdf
def test_rebuilds_typeset_only_what_changed_and_drop_deleted_articles(tmp_path):
    source, build = copy_root(tmp_path), tmp_path / "build"
    first = pdf_build(source, build)
    assert first.returncode == 0, first.stderr
    assert typeset(first) == {"first-article", "second-article"}
    before = pdfs(build)

    again = pdf_build(source, build)
    assert again.returncode == 0, again.stderr
    assert typeset(again) == set()
    assert pdfs(build) == before

    # One article's text: only its PDF.
    edit(source / "articles" / "second-article.md", "A claim", "An edited claim")
    edited = pdf_build(source, build)
    assert edited.returncode == 0, edited.stderr
    assert typeset(edited) == {"second-article"}
    after = pdfs(build)
    assert after["first-article"] == before["first-article"]
    assert "edited claim" in " ".join(p.extract_text() for p in PdfReader(build / "pdf" / "second-article.pdf").pages)

    # An edit the HTML build read first (one environment): the PDF build still remakes it.
    edit(source / "articles" / "first-article.md", "A claim", "A claim read by the HTML build")
    assert sphinx_build(source, build, "html").returncode == 0
    after_html = pdf_build(source, build)
    assert typeset(after_html) == {"first-article"}

    # Something shared (the configuration): every PDF.
    with (source / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write('\ncitedhealth_disclaimer_title = "Medical disclaimer"\n')
    shared = pdf_build(source, build)
    assert shared.returncode == 0, shared.stderr
    assert typeset(shared) == {"first-article", "second-article"}

    # A deleted article: its PDF and Typst source leave the output folder.
    (source / "articles" / "second-article.md").unlink()
    deleted = pdf_build(source, build)
    assert deleted.returncode == 0, deleted.stderr
    assert sorted(p.name for p in (build / "pdf").iterdir()) == ["first-article.pdf", "first-article.typ"]


def test_site_publish_drops_the_pdfs_of_deleted_articles(tmp_path):
    from citedhealth.publish import publish

    pdfdir, target = tmp_path / "pdf", tmp_path / "html" / "pdf"
    pdfdir.mkdir()
    (pdfdir / "kept.pdf").write_bytes(b"%PDF-kept")
    target.mkdir(parents=True)
    (target / "deleted.pdf").write_bytes(b"%PDF-old")
    publish(pdfdir, target)
    assert sorted(p.name for p in target.iterdir()) == ["kept.pdf"]


def test_publish_without_pdfs_says_to_build_them_and_leaves_the_site_alone(tmp_path, capsys):
    from citedhealth.publish import main

    target = tmp_path / "html" / "pdf"
    target.mkdir(parents=True)
    (target / "kept.pdf").write_bytes(b"%PDF-kept")
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "no-such-folder"), str(target)])
    assert exit_info.value.code == 2
    assert "is not a folder: run `make pdf` first" in capsys.readouterr().err
    assert [p.name for p in target.iterdir()] == ["kept.pdf"]


@pytest.mark.pdf
def test_a_failed_typst_compile_names_the_file_and_line_and_leaves_no_pdf(tmp_path):
    source, build = copy_root(tmp_path), tmp_path / "build"
    assert pdf_build(source, build).returncode == 0
    assert (build / "pdf" / "first-article.pdf").is_file()
    article = source / "articles" / "first-article.md"
    edit(article, "A claim", "A claim\n\n```{raw} typst\n#no-such-function()\n```\n")
    line = article.read_text(encoding="utf-8").splitlines().index("```{raw} typst") + 1
    result = pdf_build(source, build)
    assert result.returncode != 0
    assert (
        f"{article}:{line}: WARNING: Typst could not make the PDF: unknown variable: no-such-function" in result.stderr
    )
    assert "[citedhealth.pdf]" in result.stderr
    assert not (build / "pdf" / "first-article.pdf").exists()
    assert not [p.name for p in (build / "pdf").iterdir() if p.name.startswith(".")]
    assert (build / "pdf" / "second-article.pdf").is_file()


# -- Special characters --------------------------------------------------------


@pytest.mark.pdf
def test_special_characters_and_unicode_survive_into_the_pdf(tmp_path):
    source, build = copy_root(tmp_path, "test-pdf-special-characters"), tmp_path / "build"
    result = pdf_build(source, build)
    assert result.returncode == 0, result.stderr
    reader = PdfReader(build / "pdf" / "special-characters.pdf")
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


# -- Reproducible --------------------------------------------------------------------

EPOCH = "1764000000"


@pytest.mark.pdf
def test_two_clean_builds_give_byte_identical_pdfs_dated_by_source_date_epoch(tmp_path):
    digests = []
    for name, seed in (("first", "1"), ("second", "2")):
        build = tmp_path / name
        result = pdf_build(DOCS, build, env={"SOURCE_DATE_EPOCH": EPOCH, "PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        digests.append(hashlib.sha256((build / "pdf" / f"{SLUG}.pdf").read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    created = PdfReader(tmp_path / "first" / "pdf" / f"{SLUG}.pdf").metadata.creation_date
    assert int(created.timestamp()) == int(EPOCH)
