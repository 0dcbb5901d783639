"""The LaTeX build writes again only the articles that changed (``citedhealth.incremental_latex``).

Each test runs the strict ``sphinx-build -M latex`` of ``make pdf`` on a copy
of a two-article project, changes something, builds again, and checks which
articles the build wrote (Sphinx reports each) and that every ``.tex`` is
what a clean build of the changed project writes.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import sphinx
from citedhealth.incremental_latex import RECORD
from conftest import ROOTS, sphinx_build

ARTICLES = ("first-article", "second-article")


def copy_project(tmp_path: Path) -> Path:
    srcdir = tmp_path / "docs"
    shutil.copytree(ROOTS / "test-two-articles", srcdir)
    return srcdir


def latex(srcdir: Path, builddir: Path) -> Path:
    return build_reporting(srcdir, builddir)[0]


def build_reporting(srcdir: Path, builddir: Path) -> tuple[Path, set[str]]:
    """Build; return the LaTeX folder and the articles the build processed (Sphinx says "processing <name>.tex")."""
    result = sphinx_build(srcdir, builddir, "latex")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return builddir / "latex", set(re.findall(r"^processing (\S+)\.tex", result.stdout, re.MULTILINE))


def rebuilt(srcdir: Path, builddir: Path) -> set[str]:
    """The articles whose .tex the next LaTeX build writes.

    By Sphinx's report, not by modification time: Sphinx leaves a .tex file
    alone when what it would write is what is there."""
    return build_reporting(srcdir, builddir)[1]


def assert_same_as_a_clean_build(srcdir: Path, builddir: Path, tmp_path: Path) -> None:
    clean = latex(srcdir, tmp_path / "clean-build")
    for slug in ARTICLES:
        kept = (builddir / "latex" / f"{slug}.tex").read_text(encoding="utf-8")
        assert kept == (clean / f"{slug}.tex").read_text(encoding="utf-8"), slug


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_unchanged_project_rewrites_no_tex_file(tmp_path):
    srcdir, builddir = copy_project(tmp_path), tmp_path / "build"
    assert build_reporting(srcdir, builddir)[1] == set(ARTICLES)
    assert rebuilt(srcdir, builddir) == set()
    assert_same_as_a_clean_build(srcdir, builddir, tmp_path)


def test_an_edit_rewrites_only_that_articles_tex(tmp_path):
    srcdir, builddir = copy_project(tmp_path), tmp_path / "build"
    latex(srcdir, builddir)
    edit(srcdir / "articles" / "second-article.md", "A claim", "An edited claim")
    assert rebuilt(srcdir, builddir) == {"second-article"}
    assert "An edited claim" in (builddir / "latex" / "second-article.tex").read_text(encoding="utf-8")
    assert_same_as_a_clean_build(srcdir, builddir, tmp_path)


def test_a_changed_bibliography_entry_rewrites_the_articles_citing_it(tmp_path):
    srcdir, builddir = copy_project(tmp_path), tmp_path / "build"
    latex(srcdir, builddir)
    edit(srcdir / "references.bib", "A Review of Things", "A Revised Review")
    assert rebuilt(srcdir, builddir) == set(ARTICLES)
    assert_same_as_a_clean_build(srcdir, builddir, tmp_path)


def test_a_configuration_template_or_title_change_rewrites_every_article(tmp_path):
    srcdir, builddir = copy_project(tmp_path), tmp_path / "build"
    latex(srcdir, builddir)
    conf = srcdir / "conf.py"
    conf.write_text(conf.read_text(encoding="utf-8") + "latex_elements = {'papersize': 'letterpaper'}\n")
    assert rebuilt(srcdir, builddir) == set(ARTICLES)
    assert "letterpaper" in (builddir / "latex" / "first-article.tex").read_text(encoding="utf-8")
    # Another article's title can appear in any article (a cross-reference).
    edit(srcdir / "articles" / "second-article.md", "title: A Second Article", "title: A Renamed Article")
    assert rebuilt(srcdir, builddir) == set(ARTICLES)
    # Nor does a template of the project's, which can override Sphinx's LaTeX ones.
    (srcdir / "_templates").mkdir()
    conf.write_text(conf.read_text(encoding="utf-8") + "templates_path = ['_templates']\n")
    assert rebuilt(srcdir, builddir) == set(ARTICLES)
    (srcdir / "_templates" / "latex.tex.jinja").write_text(
        (Path(sphinx.__file__).parent / "templates" / "latex" / "latex.tex.jinja").read_text(encoding="utf-8")
        + "% our own template\n",
        encoding="utf-8",
    )
    assert rebuilt(srcdir, builddir) == set(ARTICLES)
    assert "% our own template" in (builddir / "latex" / "first-article.tex").read_text(encoding="utf-8")
    # An HTML-only setting does not.
    conf.write_text(conf.read_text(encoding="utf-8") + "html_title = 'Only the web page title'\n")
    assert rebuilt(srcdir, builddir) == set()
    assert_same_as_a_clean_build(srcdir, builddir, tmp_path)


def test_a_missing_or_altered_tex_file_is_written_again(tmp_path):
    srcdir, builddir = copy_project(tmp_path), tmp_path / "build"
    latexdir = latex(srcdir, builddir)
    (latexdir / "first-article.tex").unlink()
    (latexdir / "second-article.tex").write_text("damaged", encoding="utf-8")
    latex(srcdir, builddir)
    assert_same_as_a_clean_build(srcdir, builddir, tmp_path)


def test_a_build_with_warnings_leaves_no_record_so_the_next_writes_everything(tmp_path):
    srcdir, builddir = copy_project(tmp_path), tmp_path / "build"
    latexdir = latex(srcdir, builddir)
    assert set(json.loads((latexdir / RECORD).read_text(encoding="utf-8"))["documents"]) == {
        f"{slug}.tex" for slug in ARTICLES
    }
    first = srcdir / "articles" / "first-article.md"
    edit(first, "A claim", "A claim {cite:p}`nobody1999unknown`")
    failed = sphinx_build(srcdir, builddir, "latex")
    assert failed.returncode != 0
    assert "nobody1999unknown" in failed.stderr
    assert not (latexdir / RECORD).exists()
    # Fixing the article: the next build writes (and checks) both again.
    edit(first, " {cite:p}`nobody1999unknown`", "")
    assert rebuilt(srcdir, builddir) == set(ARTICLES)
    assert_same_as_a_clean_build(srcdir, builddir, tmp_path)
