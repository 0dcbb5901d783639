"""What is published equals a clean build of today's sources, or the build fails naming the file.

Each test runs real strict builds (``python -m sphinx -M ... -n -W
--keep-going``, as the Makefile does) on a copy of ``docs/`` and compares the
incremental result with a clean build of the same sources, byte for byte.
Modules under test: ``diagnostics`` (a mistake fails every build until it is
fixed), ``outputs`` (the output follows the sources) and ``recovery`` (one
build per folder at a time).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from citedhealth import diagnostics, recovery
from conftest import DOCS, extension_env, output_differences, sphinx_build
from filelock import FileLock

pytestmark = [pytest.mark.slow]

ARTICLE = "articles/can-acupuncture-help-with-nerve-pain.md"
ARTICLE_PAGE = "articles/can-acupuncture-help-with-nerve-pain.html"
#: Builders that share the HTML build's environment (``make pdf`` runs one of them).
OTHER_BUILDERS = ("typst",)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def edit(project: Path, relpath: str, old: str, new: str) -> int:
    """Replace *old* by *new* in a source; return the line where the change starts."""
    path = project / "docs" / relpath
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def assert_equals_clean_build(project: Path, builddir: Path) -> None:
    clean = project / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    result = sphinx_build(project / "docs", clean)
    assert result.returncode == 0, result.stderr
    assert output_differences(builddir / "html", clean / "html") == []


# -- A mistake fails every build until it is fixed (diagnostics.py) ------------------


def test_a_read_time_mistake_fails_every_build_until_fixed(project: Path) -> None:
    builddir = project / "_build"
    assert sphinx_build(project / "docs", builddir).returncode == 0
    line = edit(
        project,
        ARTICLE,
        "## Understanding Acupuncture",
        "A trial found that this helps every patient.\n\n## Understanding Acupuncture",
    )
    expected = f"{project / 'docs' / ARTICLE}:{line}: WARNING: citation needed"
    for builder in ("html", "html", *OTHER_BUILDERS, "html"):
        result = sphinx_build(project / "docs", builddir, builder)
        assert result.returncode != 0, f"{builder} passed with the mistake in place"
        assert expected in result.stderr, result.stderr
        assert result.stderr.count("citation needed") == 1, result.stderr
    edit(project, ARTICLE, "A trial found that this helps every patient.\n\n", "")
    fixed = sphinx_build(project / "docs", builddir)
    assert fixed.returncode == 0, fixed.stderr
    assert sphinx_build(project / "docs", builddir).returncode == 0
    assert_equals_clean_build(project, builddir)


def test_a_write_time_mistake_fails_every_build_until_fixed(project: Path) -> None:
    """An unresolved reference is found while the page is written, not while it is read."""
    builddir = project / "_build"
    line = edit(
        project, ARTICLE, "## Understanding Acupuncture", "See {ref}`no-such-label`.\n\n## Understanding Acupuncture"
    )
    expected = f"{project / 'docs' / ARTICLE}:{line}: WARNING: undefined label: 'no-such-label'"
    for _ in range(3):
        result = sphinx_build(project / "docs", builddir)
        assert result.returncode != 0
        assert result.stderr.count(expected) == 1, result.stderr
    edit(project, ARTICLE, "See {ref}`no-such-label`.\n\n", "")
    assert sphinx_build(project / "docs", builddir).returncode == 0


def test_a_damaged_record_starts_the_build_afresh(project: Path) -> None:
    builddir = project / "_build"
    edit(
        project,
        ARTICLE,
        "## Understanding Acupuncture",
        "A trial found that this helps every patient.\n\n## Understanding Acupuncture",
    )
    assert sphinx_build(project / "docs", builddir).returncode != 0
    (builddir / "doctrees" / diagnostics.RECORD).write_text("{not json", encoding="utf-8")
    result = sphinx_build(project / "docs", builddir)
    assert result.returncode != 0
    assert "building afresh" in result.stdout
    assert "citation needed" in result.stderr


# -- The output follows the sources (outputs.py) ---------------------------------------


def test_added_retitled_and_deleted_articles_show_everywhere_as_in_a_clean_build(project: Path) -> None:
    builddir = project / "_build"
    assert sphinx_build(project / "docs", builddir).returncode == 0
    source = (project / "docs" / ARTICLE).read_text(encoding="utf-8")
    second = project / "docs" / "articles" / "needles-and-nerves.md"
    second.write_text(re.sub(r"(?m)^title: .*$", "title: Needles And Nerves Second Look", source), encoding="utf-8")
    assert sphinx_build(project / "docs", builddir).returncode == 0
    assert "Needles And Nerves Second Look" in (builddir / "html" / ARTICLE_PAGE).read_text(encoding="utf-8")
    assert_equals_clean_build(project, builddir)

    second.write_text(re.sub(r"(?m)^title: .*$", "title: Needles Retitled", source), encoding="utf-8")
    assert sphinx_build(project / "docs", builddir).returncode == 0
    for page in (builddir / "html").rglob("*.html"):
        assert "Second Look" not in page.read_text(encoding="utf-8"), page
    assert_equals_clean_build(project, builddir)

    # Not a page (the page audit would rightly refuse a page without our policy).
    (builddir / "html" / "not-ours.txt").write_text("kept", encoding="utf-8")
    second.unlink()
    assert sphinx_build(project / "docs", builddir).returncode == 0
    assert not (builddir / "html" / "articles" / "needles-and-nerves.html").exists()
    assert (builddir / "html" / "not-ours.txt").read_text(encoding="utf-8") == "kept"
    for page in (builddir / "html").rglob("*.html"):
        assert "needles-and-nerves" not in page.read_text(encoding="utf-8"), page
    assert "Retitled" not in (builddir / "html" / "searchindex.js").read_text(encoding="utf-8")
    (builddir / "html" / "not-ours.txt").unlink()
    assert_equals_clean_build(project, builddir)


# -- One build per folder at a time (recovery.py) ----------------------------------------


def test_a_second_build_waits_for_the_first_and_says_so(project: Path) -> None:
    builddir = project / "_build"
    (builddir / "doctrees").mkdir(parents=True)
    waiting = f"another build is using {builddir / 'doctrees'}: waiting for it to finish"
    with FileLock(builddir / "doctrees" / recovery.LOCK):  # the first build, as far as the second can tell
        process = subprocess.Popen(
            [sys.executable, "-m", "sphinx", "-M", "html", str(project / "docs"), str(builddir), "-n", "-W", "-q"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=extension_env(),
        )
        first_line = process.stderr.readline()  # blocks until the second build says something
        assert first_line.strip() == waiting
        time.sleep(1)
        assert process.poll() is None, "the second build did not wait"
        assert not (builddir / "html" / ARTICLE_PAGE).exists()
    rest = process.stderr.read()
    assert process.wait(timeout=180) == 0, rest
    assert (builddir / "html" / ARTICLE_PAGE).is_file()
    assert not (builddir / "doctrees" / recovery.MARKER).exists()


def test_two_builds_at_once_both_finish_and_equal_a_clean_build(project: Path) -> None:
    builddir = project / "_build"
    command = [sys.executable, "-m", "sphinx", "-M", "html", str(project / "docs"), str(builddir), "-n", "-W", "-q"]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=extension_env())
        for _ in range(2)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=180)
        assert process.returncode == 0, stderr
    assert_equals_clean_build(project, builddir)
