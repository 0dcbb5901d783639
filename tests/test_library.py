"""Topics required of every article, the topic pages, the A–Z page, the landing page's lists and the feed.

Built on ``tests/roots/test-library`` (see ``tests/test_navigation.py``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest
from citedhealth.library import letter
from conftest import ROOTS, built_page, output_differences, sphinx_build

ATOM = "{http://www.w3.org/2005/Atom}"


def copy_root(destination: Path) -> Path:
    shutil.copytree(ROOTS / "test-library", destination)
    return destination


def strict_build(srcdir: Path, builddir: Path, *options: str) -> Path:
    result = sphinx_build(srcdir, builddir, "html", *options)
    assert result.returncode == 0, result.stderr
    return builddir / "html"


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("library")
    return strict_build(copy_root(folder / "docs"), folder / "_build")


def texts(elements) -> list[str]:
    return [" ".join(element.get_text().split()) for element in elements]


# -- Topic pages --------------------------------------------------------------------


def test_each_topic_page_lists_its_articles_by_title_with_description_and_review(library):
    page = built_page(library, "topics/beta-topic")
    assert page.find("h1").get_text() == "Beta topic"
    assert page.title.get_text().startswith("Beta topic")
    items = page.select("ul.ch-topic-articles > li")
    assert texts(item.find("a") for item in items) == ["Honey for Coughs", "Walking After Meals", "Yoga for Back Pain"]
    assert [item.find("a")["href"] for item in items] == [
        "../articles/honey.html",
        "../articles/walking.html",
        "../articles/yoga.html",
    ]
    yoga = items[2]
    assert yoga.select_one(".ch-article-description").get_text() == "What the evidence says about yoga for back pain."
    time = yoga.select_one(".ch-last-reviewed time")
    assert time["datetime"] == "2026-01-04" and time.get_text() == "4 January 2026"
    assert len(built_page(library, "topics/alpha-topic").select("ul.ch-topic-articles > li")) == 13


def test_a_topic_without_articles_has_a_page_saying_so(library):
    page = built_page(library, "topics/empty-topic")
    assert page.find("h1").get_text() == "Empty topic"
    assert page.select_one(".ch-topic-empty").get_text() == "No article on this topic yet."
    assert not page.select("ul.ch-topic-articles")


# -- The A–Z page ---------------------------------------------------------------------


def test_a_to_z_lists_every_article_under_its_letter_with_jump_links(library):
    page = built_page(library, "a-z")
    sections = page.select("article[role=main] section section")
    headings = [section.find("h2").get_text() for section in sections]
    assert headings == ["A", "B", "C", "D", "E", "F", "G", "H", "K", "L", "M", "W", "Y", "#"]
    by_letter = {section.find("h2").get_text(): texts(section.select("li a")) for section in sections}
    # Accents aside, É is E; a title starting with a digit goes under "#".
    assert by_letter["E"] == ["Elderberry for Colds", "Épaule Gelée: Frozen Shoulder"]
    assert by_letter["#"] == ["5 Myths About Fruit"]
    assert sum(len(titles) for titles in by_letter.values()) == 15
    # The bar: every letter, linked where there are articles, to their heading.
    bar = page.select_one("nav.ch-az-letters")
    assert texts(bar.select("li")) == [*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "#"]
    jumps = {a.get_text(): a["href"] for a in bar.select("a")}
    assert list(jumps) == headings
    assert all(page.select_one(href) is not None for href in jumps.values())
    assert sections[0]["id"] == jumps["A"].removeprefix("#")


@pytest.mark.parametrize(
    ("title", "heading"), [("apples", "A"), ("Ōsaka Flu", "O"), ("“Quoted”", "#"), ("", "#"), ("ßeta", "S")]
)
def test_letter(title, heading):
    assert letter(title) == heading


# -- The landing page ----------------------------------------------------------------


def test_landing_page_shows_the_topics_and_the_ten_most_recently_reviewed(library):
    page = built_page(library, "index")
    topics = page.select("ul.ch-topic-list > li")
    assert texts(topics) == ["Alpha topic (13 articles)", "Beta topic (3 articles)", "Empty topic (no articles)"]
    assert topics[1].find("a")["href"] == "topics/beta-topic.html"
    assert page.select_one("a[href='a-z.html']") is not None
    recent = page.select("ul.ch-article-list > li")
    assert texts(item.find("a") for item in recent) == [
        "Walking After Meals",
        "5 Myths About Fruit",
        "Mangoes and Skin",
        "Lemons and Kidney Stones",
        "Kiwi and Sleep",
        "Honey for Coughs",
        "Grapes and the Heart",
        "Figs and Fibre",
        "Épaule Gelée: Frozen Shoulder",
        "Elderberry for Colds",
    ]
    assert recent[0].select_one(".ch-last-reviewed").get_text() == "Last reviewed 18 January 2026"


# -- The feed -------------------------------------------------------------------------


def read_feed(outdir: Path) -> ElementTree.Element:
    return ElementTree.parse(outdir / "feed.xml").getroot()


def test_feed_lists_articles_newest_review_first_with_relative_links(library):
    feed = read_feed(library)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}updated") == "2026-01-18T00:00:00Z"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 15
    updated = [entry.findtext(f"{ATOM}updated") for entry in entries]
    assert updated == sorted(updated, reverse=True)
    first = entries[0]
    assert first.findtext(f"{ATOM}title") == "Walking After Meals"
    assert first.find(f"{ATOM}link").get("href") == "articles/walking.html"
    assert first.findtext(f"{ATOM}summary") == "What the evidence says about walking after meals."
    assert first.findtext(f"{ATOM}author/{ATOM}name") == "Test Author"
    ids = [entry.findtext(f"{ATOM}id") for entry in entries]
    assert len(set(ids)) == 15 and all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", i) for i in ids)
    # Every link resolves to a page of the site (relative to the feed, at its root).
    assert all((library / entry.find(f"{ATOM}link").get("href")).is_file() for entry in entries)


def test_every_page_links_the_feed(library):
    for path in library.rglob("*.html"):
        page = built_page(library, str(path.relative_to(library).with_suffix("")))
        [link] = page.select("head link[rel=alternate][type='application/atom+xml']")
        assert (path.parent / link["href"]).resolve() == (library / "feed.xml").resolve(), path


@pytest.mark.slow  # sphinx-build in a new process
def test_feed_links_are_absolute_under_a_base_url_and_capped(tmp_path):
    outdir = strict_build(
        copy_root(tmp_path / "docs"),
        tmp_path / "_build",
        "-D",
        "html_baseurl=https://health.example.org/",
        "-D",
        "citedhealth_feed_entries=5",
    )
    feed = read_feed(outdir)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 5
    assert entries[0].find(f"{ATOM}link").get("href") == "https://health.example.org/articles/walking.html"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == "https://health.example.org/feed.xml"
    # The same ids as without a base URL: an entry keeps its id when the site moves.
    assert entries[0].findtext(f"{ATOM}id") == read_feed_id_of_walking()


def read_feed_id_of_walking() -> str:
    from citedhealth.feed import entry_id

    return entry_id("Project name not set", "articles/walking")


# -- Topics are required ---------------------------------------------------------------


@pytest.mark.slow  # sphinx-build in a new process
def test_a_missing_or_unknown_topic_fails_at_its_line(tmp_path):
    srcdir = copy_root(tmp_path / "docs")
    kiwi, figs = srcdir / "articles" / "kiwi.md", srcdir / "articles" / "figs.md"
    kiwi.write_text(re.sub(r"(?m)^topics: .*\n", "", kiwi.read_text(encoding="utf-8")), encoding="utf-8")
    figs.write_text(
        figs.read_text(encoding="utf-8").replace("[Alpha topic]", "[Alpha topic, Astrology]"), encoding="utf-8"
    )
    result = sphinx_build(srcdir, tmp_path / "_build")
    assert result.returncode != 0
    assert (
        f"{kiwi}:1: WARNING: front matter lacks 'topics': every article names its topics,"
        " such as topics: [Alpha topic] [citedhealth.front-matter]"
    ) in result.stderr
    assert (
        f"{figs}:8: WARNING: unknown topic 'Astrology' in front matter 'topics': use one of"
        " Alpha topic, Beta topic, Empty topic [citedhealth.front-matter]"
    ) in result.stderr


# -- Incremental builds equal clean ones -------------------------------------------------


def clean_build(srcdir: Path, folder: Path) -> Path:
    shutil.copytree(srcdir, folder / "docs", ignore=shutil.ignore_patterns("_build"))
    return strict_build(folder / "docs", folder / "_build")


@pytest.mark.slow  # sphinx-build in a new process
def test_new_topics_titles_and_review_dates_show_everywhere_as_in_a_clean_build(tmp_path):
    srcdir = copy_root(tmp_path / "docs")
    outdir = strict_build(srcdir, tmp_path / "_build")
    honey = srcdir / "articles" / "honey.md"

    def edit(old: str, new: str, name: str) -> None:
        text = honey.read_text(encoding="utf-8")
        assert old in text
        honey.write_text(text.replace(old, new), encoding="utf-8")
        strict_build(srcdir, tmp_path / "_build")
        assert output_differences(outdir, clean_build(srcdir, tmp_path / name)) == [], name

    # Its topics alone: it leaves Alpha's sidebar window (on pages not rewritten for any other reason) and page.
    edit("[Alpha topic, Beta topic]", "[Beta topic]", "topics")
    assert "Honey for Coughs" not in texts(built_page(outdir, "articles/kiwi").select(".sidebar-tree a"))
    assert "Honey for Coughs" not in texts(built_page(outdir, "topics/alpha-topic").select("main a, article a"))
    # Its title: it moves in the A–Z.
    edit('"Honey for Coughs"', '"Zesty Honey for Coughs"', "title")
    assert "Zesty Honey for Coughs" in texts(built_page(outdir, "a-z").select("section#letter-z li a"))
    # Its last review: it tops the feed and the landing page.
    edit("last_reviewed: 2026-01-13", "last_reviewed: 2026-02-01", "reviewed")
    assert read_feed(outdir).find(f"{ATOM}entry").findtext(f"{ATOM}title") == "Zesty Honey for Coughs"
    assert texts(built_page(outdir, "index").select("ul.ch-article-list > li a"))[0] == "Zesty Honey for Coughs"


@pytest.mark.slow  # sphinx-build in a new process
def test_generated_pages_are_written_again_only_when_what_they_show_changed(tmp_path):
    srcdir = copy_root(tmp_path / "docs")
    outdir = strict_build(srcdir, tmp_path / "_build")
    generated = ["a-z", "topics/alpha-topic", "topics/beta-topic", "topics/empty-topic"]

    def stamps() -> dict[str, int]:
        return {page: (outdir / f"{page}.html").stat().st_mtime_ns for page in generated}

    def edit(old: str, new: str) -> set[str]:
        before = stamps()
        yoga = srcdir / "articles" / "yoga.md"
        yoga.write_text(yoga.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        strict_build(srcdir, tmp_path / "_build")
        return {page for page, stamp in stamps().items() if stamp != before[page]}

    # Its text: on none of them.
    assert edit("Some text", "Some edited text") == set()
    # Its description: on its topic's page only (the A–Z shows titles).
    assert edit("for back pain.", "for a bad back.") == {"topics/beta-topic"}
    # Its review date: on its topic's page only.
    assert edit("last_reviewed: 2026-01-04", "last_reviewed: 2026-01-05") == {"topics/beta-topic"}
    # Its title: on its topic's page and the A–Z.
    assert edit('title: "Yoga for Back Pain"', 'title: "Yoga and Back Pain"') == {"a-z", "topics/beta-topic"}
    assert output_differences(outdir, clean_build(srcdir, tmp_path / "clean")) == []
    # A page gone from the output is written again.
    (outdir / "topics" / "empty-topic.html").unlink()
    strict_build(srcdir, tmp_path / "_build")
    assert (outdir / "topics" / "empty-topic.html").is_file()


@pytest.mark.slow  # sphinx-build in a new process
def test_a_topic_taken_out_of_conf_leaves_no_page(tmp_path):
    srcdir = copy_root(tmp_path / "docs")
    outdir = strict_build(srcdir, tmp_path / "_build")
    assert (outdir / "topics" / "empty-topic.html").is_file()
    conf = srcdir / "conf.py"
    conf.write_text(conf.read_text(encoding="utf-8").replace(', "Empty topic"', ""), encoding="utf-8")
    strict_build(srcdir, tmp_path / "_build")
    assert not (outdir / "topics" / "empty-topic.html").exists()
    assert output_differences(outdir, clean_build(srcdir, tmp_path / "clean")) == []


def test_the_catalog_remakes_only_the_entries_of_articles_read_again(make_app, tmp_path, monkeypatch):
    """topics.make_catalog at env-updated reuses the last build's entry of an article not read again (in a new
    application too: the identities come back with the pickled environment), and equals a catalog made afresh."""
    from citedhealth import topics

    srcdir = tmp_path / "docs"
    shutil.copytree(ROOTS / "test-two-articles", srcdir)
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    made = []
    make_entry = topics.make_entry
    monkeypatch.setattr(
        topics, "make_entry", lambda env, docname, known: made.append(docname) or make_entry(env, docname, known)
    )

    second = srcdir / "articles" / "second-article.md"
    second.write_text(second.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    again = make_app("html", srcdir=srcdir)
    again.build()
    assert made == ["articles/second-article"]
    assert topics.catalog(again.env) == topics.make_catalog(again.env)

    made.clear()
    second.write_text(second.read_text(encoding="utf-8").replace("A Second Article", "Another Article"), "utf-8")
    third = make_app("html", srcdir=srcdir)
    third.build()
    assert made == ["articles/second-article"]
    assert "Another Article" in [entry.title for entry in topics.catalog(third.env).by_title]
    assert topics.catalog(third.env) == topics.make_catalog(third.env)
    made.clear()
    third.config.citedhealth_topics = ["Pain and nerves", "Bones and joints"]  # another list of topics: all made
    topics.update_catalog(third, third.env)
    assert sorted(made) == ["articles/first-article", "articles/second-article"]
