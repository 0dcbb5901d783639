"""Shared fixtures: Sphinx's test fixtures on our roots, and the real site built once."""

from __future__ import annotations

import dataclasses
import filecmp
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Browser, Playwright, sync_playwright

pytest_plugins = ("sphinx.testing.fixtures",)

CHROMIUM = "/usr/bin/chromium"
# Root needs --no-sandbox; the rest keep the browser from calling home (no
# update checks, no sync), so a request log holds only what the page asks for.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
DATA = Path(__file__).resolve().parent / "data"
ROOTS = Path(__file__).resolve().parent / "roots"


#: The test layers (registered in pyproject.toml). ``site``, ``pdf`` and
#: ``browser`` follow from the fixtures a test uses; ``slow`` and ``pdf`` are
#: marked by hand on tests that run whole builds in new processes (``pdf``:
#: ``make pdf``'s); every other test is
#: ``fast`` (``make test-fast``: the extension's unit tests on small roots and
#: the upstream contract, in seconds).
LAYERS = ("site", "pdf", "browser", "slow")
FIXTURE_LAYERS = {"html_site": ("site",), "site": ("site", "pdf"), "browser": ("browser",)}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            for layer in FIXTURE_LAYERS.get(fixture, ()):
                item.add_marker(layer)
        if not any(item.get_closest_marker(layer) for layer in LAYERS):
            item.add_marker("fast")


class SharedTemplateCache:
    """Jinja's bytecode cache (its documented hook), in memory, one per set of Jinja extensions.

    Each Sphinx application compiles Furo's and Sphinx's templates anew: a
    quarter of the fast layer's time. The session's applications share the
    compiled code instead; Jinja keys it by template file and checks the
    source's checksum, so a changed template compiles again. Tests only: a
    real build makes one application per process.
    """

    def __init__(self) -> None:
        import jinja2

        class Cache(jinja2.BytecodeCache):
            def __init__(self) -> None:
                self.stored: dict[str, bytes] = {}

            def load_bytecode(self, bucket) -> None:
                if bucket.key in self.stored:
                    bucket.bytecode_from_string(self.stored[bucket.key])

            def dump_bytecode(self, bucket) -> None:
                self.stored[bucket.key] = bucket.bytecode_to_string()

        self.make = Cache
        self.caches: dict[tuple, object] = {}

    def for_environment(self, environment) -> object:
        key = tuple(sorted(environment.extensions))
        if key not in self.caches:
            self.caches[key] = self.make()
        return self.caches[key]


@pytest.fixture(scope="session", autouse=True)
def shared_template_cache() -> Iterator[None]:
    # Sphinx's BuiltinTemplateLoader.init makes the Jinja environment; the cache is set right after.
    from sphinx.jinja2glue import BuiltinTemplateLoader

    shared = SharedTemplateCache()
    init = BuiltinTemplateLoader.init

    def init_with_shared_cache(self, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        self.environment.bytecode_cache = shared.for_environment(self.environment)

    BuiltinTemplateLoader.init = init_with_shared_cache
    yield
    BuiltinTemplateLoader.init = init


@pytest.fixture(scope="session")
def rootdir() -> Path:
    """Where ``@pytest.mark.sphinx(testroot=...)`` finds ``roots/test-<name>``."""
    return ROOTS


def source_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under *root*, by relative path; Python's bytecode caches are not sources."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def output_differences(left: Path, right: Path) -> list[str]:
    """Files that differ, or exist on one side only, between two output folders (a build and a clean build)."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp, prefix: str) -> None:
        found.extend(f"only in build: {prefix}{name}" for name in cmp.left_only)
        found.extend(f"only in clean build: {prefix}{name}" for name in cmp.right_only)
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        found.extend(f"differs: {prefix}{name}" for name in mismatch + errors)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right), "")
    return found


def built_page(outdir: Path, pagename: str) -> BeautifulSoup:
    """The page *pagename* (``articles/x``) of an HTML build, parsed."""
    return BeautifulSoup((outdir / f"{pagename}.html").read_text(encoding="utf-8"), "html.parser")


@dataclass
class SiteBuild:
    """One strict build of the real ``docs/``: as ``make html`` makes it (``html_site``) or ``make site`` (``site``).

    ``outdir`` is the HTML (with ``site``, the PDFs published into its ``pdf/``),
    ``builddir`` holds ``pdf/`` (PDFs and Typst sources) and ``doctrees/`` too;
    ``returncode``, ``stdout`` and ``stderr`` are the HTML build's,
    ``pdf_outcome`` maps each article's slug to its PDF's path (empty for ``html_site``).
    """

    builddir: Path
    outdir: Path
    returncode: int
    stdout: str
    stderr: str
    pdf_outcome: dict[str, Path]
    #: SHA-256 of every file under docs/ (not bytecode caches) before and after the builds.
    sources_before: dict[str, str]
    sources_after: dict[str, str]

    def page(self, pagename: str) -> BeautifulSoup:
        return built_page(self.outdir, pagename)


def extension_env() -> dict[str, str]:
    """The environment with our extension importable, as the Makefile sets it for the PDF step.

    NO_COLOR: tests read the build's output as text, and Sphinx colours it
    whenever CI=true is set, as it is in CI."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(DOCS / "_ext"), os.environ.get("PYTHONPATH", "")]),
        "NO_COLOR": "1",
    }


def sphinx_build(srcdir: Path, builddir: Path, builder: str = "html", *options: str) -> subprocess.CompletedProcess:
    """Run ``sphinx-build -M`` as the Makefile does, strict, in a fresh process."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-M",
            builder,
            str(srcdir),
            str(builddir),
            "-n",
            "-W",
            "--keep-going",
            *options,
        ],
        capture_output=True,
        text=True,
        check=False,
        env=extension_env(),
    )


def pdf_build(srcdir: Path, builddir: Path, *options: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``make pdf``: our ``typst`` builder into ``builddir/pdf``, on ``builddir/doctrees``, strict, in a new process."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "typst",
            "-d",
            str(builddir / "doctrees"),
            str(srcdir),
            str(builddir / "pdf"),
            "-n",
            "-W",
            "--keep-going",
            *options,
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**extension_env(), **(env or {})},
    )


@pytest.fixture(scope="session")
def html_site(tmp_path_factory: pytest.TempPathFactory) -> SiteBuild:
    """The real site's HTML, built once per test run into a temporary folder, as ``make html`` builds it (no PDFs)."""
    builddir = tmp_path_factory.mktemp("site")
    before = source_hashes(DOCS)
    result = sphinx_build(DOCS, builddir)
    return SiteBuild(
        builddir,
        builddir / "html",
        result.returncode,
        result.stdout,
        result.stderr,
        {},
        before,
        source_hashes(DOCS),
    )


@pytest.fixture(scope="session")
def site(html_site: SiteBuild) -> SiteBuild:
    """The real site as ``make site`` builds it: :func:`html_site`, then every article's PDF published into it.

    The PDFs are typeset from the HTML build's doctrees (one environment, as
    ``make site`` shares it); HTML-only tests use ``html_site`` and never wait for them."""
    from citedhealth.publish import publish

    builddir = html_site.builddir
    pdf = pdf_build(DOCS, builddir)
    assert pdf.returncode == 0, pdf.stderr
    outcome = {path.stem: path for path in sorted((builddir / "pdf").glob("*.pdf"))}
    if html_site.returncode == 0:
        publish(builddir / "pdf", builddir / "html" / "pdf")
    return dataclasses.replace(html_site, pdf_outcome=outcome, sources_after=source_hashes(DOCS))


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver per session: its sync API allows only one at a time."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium, headless: Playwright downloads no browser here."""
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: `make system-deps` installs it"
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
