"""The live preview re-typesets a saved article's PDF before the page reloads (``citedhealth_pdf_with_html``)."""

from __future__ import annotations

import io
import urllib.parse
import urllib.request

import pytest
from conftest import ROOTS, sphinx_build
from pypdf import PdfReader
from test_preview import ARTICLE_MD, ARTICLE_PAGE, TIMEOUT, Preview, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.pdf]

SENTENCE = "This sentence was saved a moment ago."


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    server = Preview(tmp_path_factory.mktemp("preview-pdf"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def download(preview: Preview) -> str:
    """The text of the PDF the article page's Download link serves."""
    link = preview.page().select_one("p.ch-download-pdf a")
    url = urllib.parse.urljoin(f"{preview.url}/{ARTICLE_PAGE}", link["href"])
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        assert response.headers["content-type"] == "application/pdf"
        data = response.read()
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def test_download_link_serves_a_pdf_holding_the_sentence_just_saved(preview):
    assert preview.status()["errors"] == []
    assert "Can Acupuncture Help With Nerve Pain?" in download(preview)
    assert SENTENCE not in download(preview)
    with preview.edited(ARTICLE_MD, "## Understanding Acupuncture\n", f"## Understanding Acupuncture\n\n{SENTENCE}\n"):
        wait_for(lambda: SENTENCE in preview.page().get_text(), "the saved sentence to be served")
        # As soon as the page shows it, so does its PDF: no second wait.
        assert SENTENCE in download(preview)
        assert preview.status()["errors"] == []


def test_html_build_with_pdfs_typesets_articles_whose_pdf_is_missing(tmp_path):
    """An HTML build that found nothing to write (``make html`` ran first) still puts every article's PDF beside it."""
    source = ROOTS / "test-two-articles"
    assert sphinx_build(source, tmp_path).returncode == 0
    result = sphinx_build(source, tmp_path, "html", "-D", "citedhealth_pdf_with_html=1")
    assert result.returncode == 0, result.stderr
    pdfs = sorted(p.name for p in (tmp_path / "html" / "pdf").glob("*.pdf"))
    assert pdfs == ["first-article.pdf", "second-article.pdf"]
    assert PdfReader(tmp_path / "html" / "pdf" / "first-article.pdf").metadata.title == "A First Article"


def test_a_typst_failure_beside_html_names_file_and_line_every_build_and_leaves_no_pdf(tmp_path):
    """The compile runs in a thread beside the HTML writing; its failure is still the page's, every build."""
    import shutil

    source = tmp_path / "source"
    shutil.copytree(ROOTS / "test-two-articles", source)
    article = source / "articles" / "first-article.md"
    text = article.read_text(encoding="utf-8")
    article.write_text(text + "\n```{raw} typst\n#no-such-function()\n```\n", encoding="utf-8")
    line = article.read_text(encoding="utf-8").splitlines().index("```{raw} typst") + 1
    for _ in range(2):
        result = sphinx_build(source, tmp_path / "build", "html", "-D", "citedhealth_pdf_with_html=1")
        assert result.returncode != 0
        assert f"{article}:{line}: WARNING: Typst could not make the PDF: unknown variable: no-such-function" in (
            result.stderr
        )
        pdfs = sorted(p.name for p in (tmp_path / "build" / "html" / "pdf").glob("*.pdf"))
        assert pdfs == ["second-article.pdf"]


def test_a_character_the_pdf_font_lacks_beside_html_names_the_font_file_and_line(tmp_path):
    """Typst refuses the glyph in the compile thread; the warning names the font, the characters and the line."""
    import shutil

    source = tmp_path / "source"
    shutil.copytree(ROOTS / "test-two-articles", source)
    article = source / "articles" / "first-article.md"
    article.write_text(article.read_text(encoding="utf-8") + "\nAcupuncture (針灸) is old.\n", encoding="utf-8")
    line = article.read_text(encoding="utf-8").splitlines().index("Acupuncture (針灸) is old.") + 1
    result = sphinx_build(source, tmp_path / "build", "html", "-D", "citedhealth_pdf_with_html=1")
    assert result.returncode != 0
    assert (
        f"{article}:{line}: WARNING: the PDF font Libertinus Serif, New Computer Modern, DejaVu Sans Mono (body) "
        "has no glyph for '灸' (U+7078), '針' (U+91DD): the PDF cannot show it [citedhealth.pdf-font]"
    ) in result.stderr
    assert "Typst could not make the PDF" not in result.stderr
    pdfs = sorted(p.name for p in (tmp_path / "build" / "html" / "pdf").glob("*.pdf"))
    assert pdfs == ["second-article.pdf"]
