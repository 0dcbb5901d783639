"""The hosted build, run as Read the Docs runs it: its HTML step, then our declared build jobs.

The jobs run with only the virtual environment's ``bin`` on the PATH: the PDFs
come from pip-installed packages alone (no TeX)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pikepdf
import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import DOCS, REPO
from pypdf import PdfReader

pytestmark = [pytest.mark.slow]


def test_readthedocs_build_publishes_every_article_pdf_with_working_links(tmp_path):
    config = yaml.safe_load((REPO / ".readthedocs.yaml").read_text(encoding="utf-8"))
    checkout = tmp_path / "checkout"
    shutil.copytree(DOCS, checkout / "docs", ignore=shutil.ignore_patterns("_build"))
    output = tmp_path / "readthedocs-output"
    conf_dir = (checkout / config["sphinx"]["configuration"]).parent
    # Read the Docs' own HTML step (its documented command, with fail_on_warning).
    strict = ["-W", "--keep-going"] if config["sphinx"].get("fail_on_warning") else []
    html = subprocess.run(
        [sys.executable, "-m", "sphinx", "-T", *strict, "-b", "html", "-d", "_build/doctrees", "-D", "language=en",
         ".", str(output / "html")],
        cwd=conf_dir, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert html.returncode == 0, html.stderr
    # Then every command of our build jobs, in order, from the repository root.
    jobs = config["build"]["jobs"]
    commands = [command for step in ("pre_build", "post_build") for command in jobs.get(step, [])]
    assert commands
    # Only what pip installed is on the PATH: no TeX (xelatex, latexmk), no system tools.
    env = {"READTHEDOCS_OUTPUT": str(output), "READTHEDOCS": "True", "PATH": f"{sys.prefix}/bin"}
    assert not any(shutil.which(tool, path=env["PATH"]) for tool in ("xelatex", "latexmk", "pdflatex", "tex"))
    for command in commands:
        result = subprocess.run(["/bin/bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"

    articles = sorted(p.stem for p in (DOCS / "articles").glob("*.md"))
    assert sorted(p.stem for p in (output / "html" / "pdf").glob("*.pdf")) == articles
    for slug in articles:
        page_path = output / "html" / "articles" / f"{slug}.html"
        page = BeautifulSoup(page_path.read_text(encoding="utf-8"), "html.parser")
        link = page.select_one("p.ch-download-pdf a")
        pdf = (page_path.parent / link["href"]).resolve()
        assert pdf.is_file()
        assert PdfReader(pdf).metadata.title == page.find("h1").get_text().rstrip("¶")
        # Tagged, and declaring PDF/UA-1.
        with pikepdf.open(pdf) as document, document.open_metadata() as xmp:
            assert xmp["{http://www.aiim.org/pdfua/ns/id/}part"] == "1"
            assert bool(document.Root.MarkInfo.Marked)
