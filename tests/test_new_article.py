"""`make new-article`: a new article from one command, that builds as it is and never overwrites."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
import yaml
from citedhealth.new_article import next_year, slugify
from conftest import DOCS, REPO, built_page, extension_env, sphinx_build


def new_article(srcdir, **variables: str) -> subprocess.CompletedProcess:
    """``make new-article TITLE=...`` on *srcdir* (the venv is taken as installed)."""
    assignments = [f"{name}={value}" for name, value in variables.items()]
    return subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "new-article", f"SOURCEDIR={srcdir}", *assignments],
        cwd=REPO, capture_output=True, text=True, check=False, env=extension_env(),
    )  # fmt: skip


@pytest.fixture
def project(tmp_path):
    """A copy of the real docs/ (extension included), as an author's checkout."""
    srcdir = tmp_path / "docs"
    shutil.copytree(DOCS, srcdir, ignore=shutil.ignore_patterns("_build", "__pycache__"))
    return srcdir


def front_matter(path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


@pytest.mark.slow
def test_new_article_builds_as_it_is_and_is_never_overwritten(project, tmp_path):
    result = new_article(project, TITLE="Does Vitamin D Help Bones?")
    assert result.returncode == 0, result.stderr
    path = project / "articles" / "does-vitamin-d-help-bones.md"
    assert path.is_file()
    fields = front_matter(path)
    today = dt.date.today()
    assert fields["title"] == "Does Vitamin D Help Bones?"
    assert fields["date_published"] == fields["last_reviewed"] == today
    assert fields["next_review_due"] == next_year(today)
    assert fields["topics"] == ["Pain and nerves"]  # the first of citedhealth_topics
    text = path.read_text(encoding="utf-8")
    assert "# Check the topic" in text
    assert "```{disclaimer}\n```" in text
    assert "## References\n\n```{bibliography}\n```" in text

    built = sphinx_build(project, tmp_path / "build")
    assert built.returncode == 0, built.stderr
    page = built_page(tmp_path / "build" / "html", "articles/does-vitamin-d-help-bones")
    assert page.find("h1").get_text().rstrip("¶") == "Does Vitamin D Help Bones?"
    assert page.select_one(".ch-disclaimer") is not None
    assert page.find("section", id="references") is not None
    assert page.select_one(".ch-evidence-summary") is None  # it cites nothing yet

    # Again: refused, the file untouched (even after the author started writing).
    path.write_text(text + "\nMy first sentence.\n", encoding="utf-8")
    before = path.read_bytes()
    again = new_article(project, TITLE="Does Vitamin D Help Bones?")
    assert again.returncode != 0
    assert f"{path} already exists: left as it is" in again.stderr
    assert path.read_bytes() == before


@pytest.mark.slow
def test_topic_is_chosen_from_the_list_and_an_unknown_one_refused(project):
    result = new_article(project, TITLE="Heart Health Basics", TOPIC="heart and circulation")
    assert result.returncode == 0, result.stderr
    assert front_matter(project / "articles" / "heart-health-basics.md")["topics"] == ["Heart and circulation"]
    refused = new_article(project, TITLE="Another One", TOPIC="Astrology")
    assert refused.returncode != 0
    assert "unknown topic 'Astrology'" in refused.stderr
    assert not (project / "articles" / "another-one.md").exists()


@pytest.mark.parametrize("title", ["", "   "])
def test_an_empty_title_is_refused(project, title):
    before = sorted(p.name for p in (project / "articles").iterdir())
    result = new_article(project, TITLE=title)
    assert result.returncode != 0
    assert "give the article a title" in result.stderr
    assert sorted(p.name for p in (project / "articles").iterdir()) == before


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Does Vitamin D Help Bones?", "does-vitamin-d-help-bones"),
        ("Children’s Fevers: When to Worry", "childrens-fevers-when-to-worry"),
        ("Café au lait spots — what are they?", "cafe-au-lait-spots-what-are-they"),
        ("β-blockers & Straße", "beta-blockers-strasse"),
        ("  Omega-3   and 50% Less  ", "omega-3-and-50-less"),
    ],
)
def test_slug_is_kebab_case_ascii(title, slug):
    assert slugify(title) == slug


@pytest.mark.slow
def test_a_title_with_quotes_and_colons_is_valid_front_matter(project, tmp_path):
    title = 'Fish Oil: "Good" or Bad? It’s #1 & 50% {maybe}'
    result = new_article(project, TITLE=title)
    assert result.returncode == 0, result.stderr
    path = project / "articles" / "fish-oil-good-or-bad-its-1-50-maybe.md"
    assert front_matter(path)["title"] == title
    built = sphinx_build(project, tmp_path / "build")
    assert built.returncode == 0, built.stderr


@pytest.mark.sphinx("html", testroot="citing")
def test_an_unknown_topic_in_front_matter_fails_at_its_line(app):
    source = app.srcdir / "articles" / "vitamin-d-and-bones.md"
    source.write_text(
        source.read_text(encoding="utf-8").replace("topics: [Pain and nerves]", "topics: [Astrology]"),
        encoding="utf-8",
    )
    app.build()
    from sphinx.util.console import strip_colors

    assert strip_colors(app.warning.getvalue()) == (
        f"{source}:8: WARNING: unknown topic 'Astrology' in front matter 'topics': use one of Pain and nerves"
        " [citedhealth.front-matter]\n"
    )
