"""Review status: the footer of each article, `make review-status`, and the reading level it shows."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import pytest
from citedhealth.review import DUE_SOON, FINE, OVERDUE, status
from conftest import REPO, built_page, extension_env, sphinx_build


def review_status(srcdir, builddir, *args: str) -> subprocess.CompletedProcess:
    """``make review-status`` on *srcdir*, as an editor runs it (the venv is taken as installed)."""
    return subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "review-status", f"SOURCEDIR={srcdir}", f"BUILDDIR={builddir}",
         f"REVIEW_ARGS={' '.join(args)}"],
        cwd=REPO, capture_output=True, text=True, check=False, env=extension_env(),
    )  # fmt: skip


@pytest.fixture
def project(tmp_path, rootdir):
    srcdir = tmp_path / "docs"
    shutil.copytree(rootdir / "test-review-status", srcdir)
    return srcdir


@pytest.mark.sphinx("html", testroot="review-status")
def test_each_article_ends_with_its_review_dates(app):
    app.build()
    page = built_page(app.outdir, "articles/near-review")
    footer = page.select_one("p.ch-review-footer")
    assert footer.get_text() == "Page last reviewed: 20 March 2026 · Next review due: 20 March 2027"
    assert footer.select_one(".ch-last-reviewed").get_text() == "Page last reviewed: 20 March 2026"
    assert footer.select_one(".ch-next-review-due").get_text() == "Next review due: 20 March 2027"
    # The article's last words, after "Cite this article"; the byline keeps the dates too.
    assert footer.find_previous("section", id="cite-this-article") is not None
    assert footer.find_next("p") is None or not footer.find_next("p").find_parent("article")
    assert "Next review due 20 March 2027" in page.select_one(".ch-byline").get_text()


@pytest.mark.sphinx("typst", testroot="review-status")
def test_the_review_dates_and_cite_as_reach_the_pdf(app):
    from pypdf import PdfReader

    app.build()
    assert app.statuscode == 0, app.warning.getvalue()
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(app.outdir / "near-review.pdf").pages).split())
    assert "Page last reviewed: 20 March 2026" in text
    assert "Next review due: 20 March 2027" in text
    assert "Cite as:" in text


@pytest.mark.slow
def test_review_status_table_sorted_by_next_review_due(project, tmp_path):
    result = review_status(project, tmp_path / "build")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0]
    assert "grade" in header and "Reading ease" in header and "Next review due" in header
    rows = [line.split("  ") for line in lines[2:5]]
    rows = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    # citedhealth_today is 2027-03-01: past, within 30 days, far.
    assert [(row[0], row[1], row[-1]) for row in rows] == [
        ("2027-01-15", "overdue", "articles/past-review.md"),
        ("2027-03-20", "due within 30 days", "articles/near-review.md"),
        ("2028-01-01", "fine", "articles/far-review.md"),
    ]
    assert "3 articles on 2027-03-01: 1 overdue, 1 due within 30 days, 1 fine." in result.stdout


@pytest.mark.slow
def test_review_status_as_json_and_failing_on_an_overdue_review(project, tmp_path):
    result = review_status(project, tmp_path / "build", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["today"] == "2027-03-01"
    assert report["grade_target"] == 8
    articles = {row["article"]: row for row in report["articles"]}
    assert [row["article"] for row in report["articles"]] == [
        "articles/past-review",
        "articles/near-review",
        "articles/far-review",
    ]
    assert articles["articles/past-review"]["status"] == "overdue"
    assert articles["articles/past-review"]["days_until_due"] == -45
    assert articles["articles/near-review"]["status"] == "due within 30 days"
    assert articles["articles/far-review"]["status"] == "fine"
    # The plain article reads far more easily than the convoluted one.
    assert articles["articles/near-review"]["grade"] < 8 < articles["articles/far-review"]["grade"]
    assert articles["articles/near-review"]["reading_ease"] > articles["articles/far-review"]["reading_ease"]

    failing = review_status(project, tmp_path / "build", "--fail-on-overdue")
    assert failing.returncode != 0
    assert "overdue" in failing.stdout
    # With the overdue article reviewed, the editors' job passes.
    past = project / "articles" / "past-review.md"
    past.write_text(past.read_text(encoding="utf-8").replace("2027-01-15", "2028-01-15"), encoding="utf-8")
    assert review_status(project, tmp_path / "build", "--fail-on-overdue").returncode == 0


@pytest.mark.slow
def test_review_status_of_the_real_site(tmp_path):
    result = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "review-status", f"BUILDDIR={tmp_path}"],
        cwd=REPO, capture_output=True, text=True, check=False, env=extension_env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # the site reads clean
    [row] = [line for line in result.stdout.splitlines() if "can-acupuncture-help-with-nerve-pain.md" in line]
    assert row.split()[:2] in (["2027-11-24", "fine"], ["2027-11-24", "due"], ["2027-11-24", "overdue"])


@pytest.mark.parametrize(
    ("due", "expected"),
    [("2027-02-28", OVERDUE), ("2027-03-01", DUE_SOON), ("2027-03-31", DUE_SOON), ("2027-04-01", FINE)],
)
def test_status_boundaries(due, expected):
    assert status(dt.date.fromisoformat(due), dt.date(2027, 3, 1)) == expected


# -- Reading level -------------------------------------------------------------------


def levels(srcdir, builddir) -> dict:
    """Each article's reading level, as ``make review-status --json`` reports it."""
    result = review_status(srcdir, builddir, "--json")
    assert result.returncode == 0, result.stderr
    return {row["article"]: row for row in json.loads(result.stdout)["articles"]}


@pytest.mark.slow
def test_text_of_editorial_notes_and_code_does_not_change_the_grade(project, tmp_path):
    before = levels(project, tmp_path / "one")["articles/near-review"]
    article = project / "articles" / "near-review.md"
    text = article.read_text(encoding="utf-8")
    hard = (
        "Notwithstanding multidimensional considerations, interdisciplinary epidemiological methodology predominates."
    )
    article.write_text(
        text.replace("```{editorial-note} on the wording\n", f"```{{editorial-note}} on the wording\n{hard}\n\n")
        + f"\n```text\n{hard}\n```\n\nThe word `{hard}` stays out.\n",
        encoding="utf-8",
    )
    after = levels(project, tmp_path / "two")["articles/near-review"]
    # The inline code's sentence adds four short words; the note and the code block add nothing.
    assert after["words"] == before["words"] + 4
    # The same text as the author's own words does change it: the test can fail.
    article.write_text(text.replace("Drink water.", f"Drink water. {hard}"), encoding="utf-8")
    changed = levels(project, tmp_path / "three")["articles/near-review"]
    assert changed["grade"] > before["grade"] + 2


@pytest.mark.slow
def test_an_article_above_the_grade_target_gets_a_note_not_a_warning(project, tmp_path):
    result = sphinx_build(project, tmp_path / "build")
    assert result.returncode == 0, result.stderr
    grade = levels(project, tmp_path / "review")["articles/far-review"]["grade"]
    assert grade > 8
    notes = [line for line in result.stdout.splitlines() if "reading level above target" in line]
    assert len(notes) == 1
    assert notes[0].startswith(f"{project / 'articles' / 'far-review.md'}:1: note: reading level above target:")
    assert f"Flesch–Kincaid grade {grade:.1f} > 8" in notes[0]
