"""The live preview re-typesets a saved article's PDF before the page reloads (``citedhealth_pdf_with_html``)."""

from __future__ import annotations

import io
import urllib.parse
import urllib.request

import pytest
from pypdf import PdfReader
from test_preview import ARTICLE_MD, ARTICLE_PAGE, TIMEOUT, Preview, wait_for

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
