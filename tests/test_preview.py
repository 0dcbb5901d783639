"""The live preview (``make livehtml``), run for real on a copy of the docs, as an author uses it.

One server for the module (each start costs seconds): every test edits the
copy, waits with a bounded poll for what the author would see, and puts the
file back. Nothing here measures time; ``benchmarks/preview_latency.py`` does.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import DOCS, sphinx_build

pytestmark = [pytest.mark.slow]

ARTICLE_MD = "articles/can-acupuncture-help-with-nerve-pain.md"
ARTICLE_PAGE = "articles/can-acupuncture-help-with-nerve-pain.html"
HEADING = "## Understanding Acupuncture"
BIB_TITLE = "Acupuncture and endorphins"
# Generous bounds: the machine is shared; a poll ends as soon as its condition holds.
TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what: str, timeout: float = TIMEOUT, status=None):
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}" + (f"; the preview's status: {status()}" if status else ""))
        time.sleep(0.02)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


class Preview:
    """The preview server on a copy of ``docs/``, and the author's editor."""

    def __init__(self, root: Path, copy: bool = True) -> None:
        self.root = root
        self.docs = root / "docs"
        # Where `make livehtml` keeps the preview's output and environment,
        # apart from `make html`'s _build/html and _build/doctrees.
        self.served = root / "_build" / "preview" / "html"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "preview.log"
        if copy:
            shutil.copytree(DOCS, self.docs, ignore=shutil.ignore_patterns("__pycache__"))
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "citedhealth.preview",
                str(self.docs),
                str(self.served),
                "--port",
                str(self.port),
                "-n",
                "-W",
                "--keep-going",
                "-d",
                str(root / "_build" / "preview" / "doctrees"),
            ],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(self.docs / "_ext")},
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )

    def get(self, path: str) -> str:
        with urllib.request.urlopen(f"{self.url}/{path}", timeout=TIMEOUT) as response:
            return response.read().decode("utf-8")

    def status(self) -> dict:
        return json.loads(self.get("_preview/status"))

    def page(self, path: str = ARTICLE_PAGE) -> BeautifulSoup:
        return BeautifulSoup(self.get(path), "html.parser")

    def wait_ready(self) -> None:
        def answers():
            if self.process.poll() is not None:
                pytest.fail(f"the preview stopped:\n{self.log.read_text()}")
            try:
                return self.status()["builds"] >= 1
            except OSError:
                return False

        wait_for(answers, "the preview's first build")

    def write(self, relpath: str, text: str) -> None:
        (self.docs / relpath).write_text(text, encoding="utf-8")

    def read(self, relpath: str) -> str:
        return (self.docs / relpath).read_text(encoding="utf-8")

    @contextmanager
    def edited(self, relpath: str, old: str, new: str):
        """Replace *old* by *new* in a file; put it back, and wait until that is served, on exit."""
        original = self.read(relpath)
        assert old in original
        builds = self.status()["builds"]
        self.write(relpath, original.replace(old, new, 1))
        try:
            yield builds
        finally:
            builds = self.status()["builds"]
            self.write(relpath, original)
            wait_for(
                lambda: self.status()["builds"] > builds and not self.status()["errors"],
                f"the preview to rebuild {relpath} as it was",
            )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    server = Preview(tmp_path_factory.mktemp("preview"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def served_without_client(preview: Preview, path: str) -> str:
    """The served page less the preview's script, which the server adds after the document."""
    html = preview.get(path)
    head, _, tail = html.rpartition('\n<script src="/_preview/client.js?generation=')
    generation = tail.split('"', 1)[0]
    assert generation.isdigit(), tail
    # A script of the site's own origin (the page's Content-Security-Policy runs no unknown inline code).
    assert "citedhealth-preview-errors" in preview.get(f"_preview/client.js?generation={generation}")
    return head


def assert_served_as_clean_build(preview: Preview, tmp_path: Path) -> None:
    """The edited page as served, and every page published, equal a clean strict build of the copy."""
    result = sphinx_build(preview.docs, tmp_path / "clean")
    assert result.returncode == 0, result.stderr
    clean = tmp_path / "clean" / "html"
    assert served_without_client(preview, ARTICLE_PAGE) == (clean / ARTICLE_PAGE).read_text(encoding="utf-8")
    pages = sorted(p.relative_to(clean).as_posix() for p in clean.rglob("*.html"))
    assert pages == sorted(p.relative_to(preview.served).as_posix() for p in preview.served.rglob("*.html"))
    for page in pages:
        assert (preview.served / page).read_text(encoding="utf-8") == (clean / page).read_text(encoding="utf-8"), page
    # The search index too: the warm builder keeps it in memory and writes it in a forked child.
    assert (preview.served / "searchindex.js").read_bytes() == (clean / "searchindex.js").read_bytes()
    # The static files too: the warm builder copies the theme's only when a copy was touched.
    statics = sorted(p.relative_to(clean).as_posix() for p in (clean / "_static").rglob("*") if p.is_file())
    assert statics == sorted(
        p.relative_to(preview.served).as_posix() for p in (preview.served / "_static").rglob("*") if p.is_file()
    )
    for static in statics:
        assert (preview.served / static).read_bytes() == (clean / static).read_bytes(), static


def test_first_build_serves_the_site_without_errors(preview):
    assert preview.status()["errors"] == []
    assert preview.page().find("h1").get_text(strip=True).startswith("Can Acupuncture Help")


def early_pages(preview: Preview) -> int:
    """How many pages the preview has served early (rendered first, before the rest of the build)."""
    return preview.log.read_text(encoding="utf-8", errors="replace").count(f"Serving {ARTICLE_PAGE} early")


def test_article_edit_is_served_as_a_clean_build_would_make_it(preview, tmp_path):
    early_before = early_pages(preview)
    with preview.edited(ARTICLE_MD, HEADING, "## Understanding Acupuncture Today"):
        wait_for(
            lambda: "Understanding Acupuncture Today¶" in [h.get_text(strip=True) for h in preview.page().select("h2")],
            "the edited heading to be served",
        )
        assert preview.status()["errors"] == []
        assert_served_as_clean_build(preview, tmp_path)
        # The page was served first, before the rest of the build, and the build wrote it the same.
        assert early_pages(preview) == early_before + 1
        assert "otherwise than its early page" not in preview.log.read_text(encoding="utf-8", errors="replace")


def test_bibliography_change_re_renders_the_citing_page(preview, tmp_path):
    new_title = "Acupuncture and endorphins, revised"

    def bibliography_titles():
        return " ".join(entry.get_text(" ", strip=True) for entry in preview.page().select(".citation"))

    assert BIB_TITLE in bibliography_titles()
    with preview.edited("references.bib", BIB_TITLE, new_title):
        wait_for(lambda: new_title in bibliography_titles(), "the new title in the bibliography")
        assert preview.status()["errors"] == []
        assert_served_as_clean_build(preview, tmp_path)


def test_conf_py_change_takes_effect(preview, tmp_path):
    with preview.edited("conf.py", 'html_title = "Cited Health"', 'html_title = "Cited Health Preview"'):
        wait_for(
            lambda: "Cited Health Preview" in preview.page("index.html").title.get_text(),
            "the new html_title on the landing page",
        )
        assert preview.status()["errors"] == []
        assert_served_as_clean_build(preview, tmp_path)


def test_conf_py_syntax_error_is_reported_with_its_line(preview):
    with preview.edited("conf.py", 'html_title = "Cited Health"', 'html_title = "Cited Health') as builds:
        wait_for(lambda: preview.status()["builds"] > builds, "the broken build")
        line = line_of(preview.read("conf.py"), "html_title =")
        assert [(e["file"], e["line"]) for e in preview.status()["errors"]] == [("docs/conf.py", line)]
        assert "syntax error" in preview.status()["errors"][0]["message"]


def test_extension_change_takes_effect(preview):
    # Python code cannot be reloaded into a warm Sphinx: this needs a new process.
    assert "Last reviewed" in preview.get(ARTICLE_PAGE)
    with preview.edited("_ext/citedhealth/articles.py", '"Last reviewed"', '"Last checked"'):
        wait_for(lambda: "Last checked" in preview.get(ARTICLE_PAGE), "the extension's new byline label")
        assert preview.status()["errors"] == []
        assert "Last reviewed" not in preview.get(ARTICLE_PAGE)


def test_two_quick_writes_make_one_build(preview):
    original = preview.read(ARTICLE_MD)
    builds = preview.status()["builds"]
    # An editor that truncates and writes, or saves twice in a row.
    preview.write(ARTICLE_MD, original.replace(HEADING, "## Understanding Acupuncture First"))
    preview.write(ARTICLE_MD, original.replace(HEADING, "## Understanding Acupuncture Second"))
    try:
        wait_for(lambda: "Understanding Acupuncture Second" in preview.get(ARTICLE_PAGE), "the second write served")
        wait_for(lambda: preview.status()["builds"] > builds, "the build count")
        time.sleep(0.5)  # room for a second build, had the two writes made two
        assert preview.status()["builds"] == builds + 1
    finally:
        builds = preview.status()["builds"]
        preview.write(ARTICLE_MD, original)
        wait_for(lambda: "Understanding Acupuncture Second" not in preview.get(ARTICLE_PAGE), "the article put back")
        # The page is served early, before its build ends: the next test starts after the build.
        wait_for(lambda: preview.status()["builds"] > builds, "the build that put it back")


def test_bad_myst_keeps_the_last_good_page_and_reports_file_and_line(preview):
    before = preview.get(ARTICLE_PAGE)
    with preview.edited(ARTICLE_MD, HEADING, f"{HEADING} Broken\n\n```{{no-such-directive}}\n```\n") as builds:
        wait_for(lambda: preview.status()["builds"] > builds, "the broken build")
        errors = preview.status()["errors"]
        line = line_of(preview.read(ARTICLE_MD), "```{no-such-directive}")
        assert [(Path(e["file"]).name, e["line"]) for e in errors] == [(Path(ARTICLE_MD).name, line)], errors
        assert "no-such-directive" in errors[0]["message"]
        assert preview.get(ARTICLE_PAGE) == before


def test_browser_reloads_by_itself_shows_errors_and_recovers(preview, browser):
    original = preview.read(ARTICLE_MD)
    page = browser.new_page()
    landing = browser.new_page()
    try:
        page.goto(f"{preview.url}/{ARTICLE_PAGE}")
        page.evaluate("window.loadedBeforeSave = true")
        landing.goto(f"{preview.url}/index.html")
        landing.evaluate("window.loadedBeforeSave = true")
        landing_before = served_without_client(preview, "index.html")
        builds = preview.status()["builds"]

        # A good save: the page reloads by itself and shows it.
        preview.write(ARTICLE_MD, original.replace(HEADING, "## Understanding Acupuncture Live"))
        page.wait_for_function(
            "() => document.body.innerText.includes('Understanding Acupuncture Live')", timeout=TIMEOUT * 1000
        )
        assert page.evaluate("window.loadedBeforeSave") is None
        # A page the save did not change (a section heading is not on the landing page) is not reloaded.
        wait_for(lambda: preview.status()["builds"] > builds, "the build to end")
        assert served_without_client(preview, "index.html") == landing_before
        assert landing.evaluate("window.loadedBeforeSave") is True

        # A save with an unknown citation key: an overlay with file, line and message;
        # the page under it is the last good one.
        broken = original.replace(HEADING, "## Understanding Acupuncture Broken {cite:p}`nosuchkey2099`")
        preview.write(ARTICLE_MD, broken)
        overlay = page.locator("#citedhealth-preview-errors")
        overlay.wait_for(state="visible", timeout=TIMEOUT * 1000)
        line = line_of(broken, "nosuchkey2099")
        assert f"{ARTICLE_MD}:{line}" in overlay.inner_text()
        assert "nosuchkey2099" in overlay.inner_text()
        assert "Understanding Acupuncture Live" in page.locator("article").inner_text()
        assert "Broken" not in preview.get(ARTICLE_PAGE)

        # The next good save clears the overlay and shows the page.
        preview.write(ARTICLE_MD, original.replace(HEADING, "## Understanding Acupuncture Fixed"))
        page.wait_for_function(
            "() => document.body.innerText.includes('Understanding Acupuncture Fixed')", timeout=TIMEOUT * 1000
        )
        assert page.locator("#citedhealth-preview-errors").count() == 0
        assert preview.status()["errors"] == []
    finally:
        page.close()
        landing.close()
        builds = preview.status()["builds"]
        preview.write(ARTICLE_MD, original)
        wait_for(lambda: "Understanding Acupuncture Fixed" not in preview.get(ARTICLE_PAGE), "the article back")
        wait_for(lambda: preview.status()["builds"] > builds, "the build that put it back")


def test_command_line_build_beside_the_preview_publishes_nothing_of_its_own(preview):
    """`make html` in another terminal, on a broken article: it fails; the preview keeps its overlay and pages."""
    before = preview.get(ARTICLE_PAGE)
    broken_heading = f"{HEADING} Broken\n\n```{{no-such-directive}}\n```\n"
    with preview.edited(ARTICLE_MD, HEADING, broken_heading) as builds:
        wait_for(lambda: preview.status()["builds"] > builds, "the broken build")
        line = line_of(preview.read(ARTICLE_MD), "```{no-such-directive}")
        for _ in range(2):
            result = sphinx_build(preview.docs, preview.root / "_build")
            assert result.returncode != 0
            assert f"{ARTICLE_MD}:{line}" in result.stderr
        assert preview.get(ARTICLE_PAGE) == before
        assert [(Path(e["file"]).name, e["line"]) for e in preview.status()["errors"]] == [
            (Path(ARTICLE_MD).name, line)
        ]


def test_restarted_preview_still_reports_a_broken_article(tmp_path):
    """The preview stopped while an article was broken: a new one shows the error again, not the broken page."""
    first = Preview(tmp_path)
    try:
        first.wait_ready()
        good = served_without_client(first, ARTICLE_PAGE)
        broken = first.read(ARTICLE_MD).replace(HEADING, "A trial found that this helps every patient.\n\n" + HEADING)
        first.write(ARTICLE_MD, broken)
        wait_for(lambda: first.status()["errors"], "the broken build")
    finally:
        first.stop()
    line = line_of(broken, "A trial found")
    restarted = Preview(tmp_path, copy=False)
    try:
        restarted.wait_ready()
        errors = restarted.status()["errors"]
        assert [(Path(e["file"]).name, e["line"]) for e in errors] == [(Path(ARTICLE_MD).name, line)], errors
        assert "citation needed" in errors[0]["message"]
        served = served_without_client(restarted, ARTICLE_PAGE)
        assert "helps every patient" not in served
        assert served == good
    finally:
        restarted.stop()


def test_deleted_article_is_no_longer_served(preview, tmp_path):
    extra = "articles/needles-second-look.md"
    text = preview.read(ARTICLE_MD).replace(
        "title: Can Acupuncture Help With Nerve Pain?", "title: Needles Second Look"
    )
    assert "Needles Second Look" in text
    builds = preview.status()["builds"]
    preview.write(extra, text)
    wait_for(lambda: preview.status()["builds"] > builds and not preview.status()["errors"], "the new article")
    assert "Needles Second Look" in preview.get(ARTICLE_PAGE)
    builds = preview.status()["builds"]
    (preview.docs / extra).unlink()
    wait_for(
        lambda: preview.status()["builds"] > builds and not preview.status()["errors"],
        "the deletion",
        status=preview.status,
    )
    with pytest.raises(urllib.error.HTTPError) as gone:
        preview.get("articles/needles-second-look.html")
    assert gone.value.code == 404
    assert "Needles Second Look" not in preview.get(ARTICLE_PAGE)
    assert_served_as_clean_build(preview, tmp_path)
