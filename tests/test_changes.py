"""Site-wide results brought up to date from the documents a build changed (changes.py and its users).

One application builds, an edit is made, and the same application builds
again, as the preview's warm process does; what each env-updated handler
kept and updated must equal what working everything out gives on the same
environment, and the pages and warnings those of a clean build of the same
sources. Each test edits a copy of its root.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sys
from pathlib import Path

import pytest
from citedhealth import changes, citations, outputs, topics
from conftest import REPO, built_page
from sphinx.util import logging as sphinx_logging


def copy_root(rootdir: Path, tmp_path: Path, name: str) -> Path:
    srcdir = tmp_path / name
    shutil.copytree(rootdir / f"test-{name}", srcdir)
    return srcdir


def edit(srcdir: Path, docname: str, old: str, new: str) -> None:
    source = srcdir / f"{docname}.md"
    text = source.read_text(encoding="utf-8")
    assert old in text, (docname, old)
    source.write_text(text.replace(old, new, 1), encoding="utf-8")


def rebuild(app) -> str:
    """The same application's next build (as the preview's warm process makes it); its warnings."""
    # Sphinx's log handlers are the process's: a clean build's application made since took them over.
    sphinx_logging.setup(app, app._status, app._warning, verbosity=app.verbosity)
    app.warning.seek(0)
    app.warning.truncate()
    app._warncount = 0
    app.statuscode = 0
    app.env._pickled_doctree_cache.clear()
    app.env.__dict__.pop("master_doctree", None)
    app.build()
    return app.warning.getvalue()


def clean_build(make_app, srcdir: Path, tmp_path: Path, **kwargs):
    clean = tmp_path / f"clean-{len(list(tmp_path.glob('clean-*')))}"
    shutil.copytree(srcdir, clean, ignore=shutil.ignore_patterns("_build"))
    app = make_app("html", srcdir=clean, freshenv=True, **kwargs)
    app.build()
    return app


def warnings_of(text: str, srcdir: Path) -> list[str]:
    """Warnings about the sources, with the source folder's path taken out (a clean build's is a copy elsewhere).

    (A second application in one process also warns that the extension's
    directives are registered already: about no source.)"""
    return sorted(
        line.replace(str(srcdir), "<src>") for line in text.splitlines() if "WARNING" in line and str(srcdir) in line
    )


def same_pages(app, clean, pagenames) -> None:
    for pagename in pagenames:
        kept = built_page(Path(app.outdir), pagename)
        fresh = built_page(Path(clean.outdir), pagename)
        for soup in (kept, fresh):  # the only difference a copy elsewhere makes: its path
            for tag in soup.select("a[href^='file:'], link[href^='file:']"):
                tag.decompose()
        assert kept.select_one("main") == fresh.select_one("main"), pagename
        assert kept.select_one(".sidebar-tree") == fresh.select_one(".sidebar-tree"), pagename


def assert_up_to_date(app) -> None:
    """Each kept result equals the one worked out from every document of the same environment."""
    env = app.env
    assert topics.catalog(env) == topics.make_catalog(env)
    assert env.citedhealth_structure["html"] == outputs.full_structure_digest(env)
    assert outputs.owed_set(app) == set(outputs.owed_files(app))


@pytest.fixture
def spies(monkeypatch):
    """How often the whole computations ran (the catalog made, a structure record worked out)."""
    counts = {"catalog": 0, "records": 0}
    make_catalog, structure_record = topics.make_catalog, outputs.structure_record

    def counting_catalog(*args, **kwargs):
        counts["catalog"] += 1
        return make_catalog(*args, **kwargs)

    def counting_record(*args, **kwargs):
        counts["records"] += 1
        return structure_record(*args, **kwargs)

    monkeypatch.setattr(topics, "make_catalog", counting_catalog)
    monkeypatch.setattr(outputs, "structure_record", counting_record)
    return counts


# -- The catalog and the structure digest ------------------------------------------------------------


def test_an_edit_of_an_article_s_text_keeps_the_catalog_and_redoes_its_structure_record(
    make_app, rootdir, tmp_path, spies
):
    srcdir = copy_root(rootdir, tmp_path, "library")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    assert app._warncount == 0
    structure = dict(app.env.citedhealth_structure)
    spies.update(catalog=0, records=0)

    edit(srcdir, "articles/apples", "Some text about apples", "Some edited text about apples")
    assert rebuild(app) == ""
    assert spies == {"catalog": 0, "records": 1}  # no catalog made, one document's record
    assert app.env.citedhealth_structure == structure  # the structure is the same: no page rewritten for it
    assert_up_to_date(app)
    clean = clean_build(make_app, srcdir, tmp_path)
    same_pages(app, clean, ["articles/apples", "articles/bananas", "index"])


@pytest.mark.parametrize(
    "change",
    ["retitle", "topics", "description", "remove", "add"],
)
def test_a_change_to_the_site_s_structure_is_seen_as_a_clean_build_sees_it(make_app, rootdir, tmp_path, change):
    srcdir = copy_root(rootdir, tmp_path, "library")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    assert app._warncount == 0
    structure = dict(app.env.citedhealth_structure)
    if change == "retitle":
        edit(srcdir, "articles/apples", 'title: "Apples and Teeth"', 'title: "Zucchini and Teeth"')
    elif change == "topics":
        edit(srcdir, "articles/apples", "topics: [Alpha topic]", "topics: [Beta topic]")
    elif change == "description":
        edit(srcdir, "articles/apples", "What the evidence says", "What the latest evidence says")
    elif change == "remove":
        (srcdir / "articles" / "apples.md").unlink()
    else:
        text = (srcdir / "articles" / "apples.md").read_text(encoding="utf-8")
        (srcdir / "articles" / "apricots.md").write_text(text.replace("Apples", "Apricots"), encoding="utf-8")
    assert rebuild(app) == ""
    assert_up_to_date(app)
    # A description is not shown in the sidebar: it is not the structure.
    assert (app.env.citedhealth_structure == structure) == (change == "description")
    clean = clean_build(make_app, srcdir, tmp_path)
    assert outputs.full_structure_digest(app.env) == outputs.full_structure_digest(clean.env)
    assert topics.catalog(app.env) == topics.catalog(clean.env)
    pages = ["index", "articles/bananas", "a-z"] + ([] if change == "remove" else ["articles/apples"])
    same_pages(app, clean, pages)


def test_a_handler_that_fails_halfway_leaves_a_record_worked_out_whole_next_time(make_app, rootdir, tmp_path, spies):
    srcdir = copy_root(rootdir, tmp_path, "library")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    record = changes.tracked(app.env, "outputs.structure")
    assert record.pending == set()
    changes.note(app.env, ["articles/apples"])
    assert record.begin(record.key) == {"articles/apples"}  # taken by an update that then raises
    assert record.pending is None
    changes.note(app.env, ["articles/bananas"])  # not kept for a record with nothing to build on
    assert record.pending is None
    spies.update(records=0)
    edit(srcdir, "articles/bananas", 'title: "', 'title: "Renamed ')
    assert rebuild(app) == ""
    assert spies["records"] == len(outputs.structure_docnames(app.env, topics.catalog(app.env)))
    assert record.pending == set()
    assert_up_to_date(app)


def test_the_manifest_read_is_the_file_as_it_now_stands(make_app, rootdir, tmp_path):
    srcdir = copy_root(rootdir, tmp_path, "library")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    files = set(outputs.read_manifest(app)["files"])
    assert files == set(outputs.owed_files(app))
    outputs.write_manifest(app, files | {"extra.html"})
    assert set(outputs.read_manifest(app)["files"]) == files | {"extra.html"}
    outputs.manifest_path(app).write_text('{"outdir": "elsewhere", "files": ["x.html"]}', encoding="utf-8")
    assert outputs.read_manifest(app)["files"] == []  # another folder's record: nothing of this one
    outputs.manifest_path(app).unlink()
    assert outputs.read_manifest(app)["files"] == []


# -- Overdue reviews ---------------------------------------------------------------------------------


def test_overdue_reviews_are_reported_on_every_build_as_a_clean_build_reports_them(make_app, rootdir, tmp_path):
    srcdir = copy_root(rootdir, tmp_path, "library")
    overrides = {"citedhealth_overdue_review_is_error": True}
    app = make_app("html", srcdir=srcdir, freshenv=True, confoverrides=overrides)
    app.build()
    assert app._warncount == 0

    edit(srcdir, "articles/apples", "next_review_due: 2027-01-01", "next_review_due: 2026-05-01")
    overdue = warnings_of(rebuild(app), srcdir)
    assert len(overdue) == 1 and "articles/apples.md:7" in overdue[0] and "overdue-review" in overdue[0]
    clean = clean_build(make_app, srcdir, tmp_path, confoverrides=overrides)
    assert warnings_of(clean.warning.getvalue(), clean.srcdir) == overdue

    # Another article's edit: the kept due dates still report the first, and the second too.
    edit(srcdir, "articles/bananas", "next_review_due: 2027-01-01", "next_review_due: 2026-04-01")
    overdue = warnings_of(rebuild(app), srcdir)
    assert [re.search(r"articles/\w+", line)[0] for line in overdue] == ["articles/apples", "articles/bananas"]
    clean = clean_build(make_app, srcdir, tmp_path, confoverrides=overrides)
    assert warnings_of(clean.warning.getvalue(), clean.srcdir) == overdue

    edit(srcdir, "articles/apples", "next_review_due: 2026-05-01", "next_review_due: 2027-05-01")
    overdue = warnings_of(rebuild(app), srcdir)
    assert len(overdue) == 1 and "articles/bananas.md" in overdue[0]
    (srcdir / "articles" / "bananas.md").unlink()
    assert rebuild(app) == ""


# -- Citations: the cite domain's env_updated ---------------------------------------------------------


def citation_rows(domain) -> list[tuple]:
    return [(c.bibliography_key, c.key, c.citation_id, c.formatted_entry.label) for c in domain.citations]


def assert_citations_up_to_date(app) -> None:
    """The domain's citations and cited keys equal what its whole env_updated makes of the same environment.

    (Which logs its warnings again: take a build's warnings before.)"""
    domain = app.env.get_domain("cite")
    # The references grouped by page: the very objects a grouping made afresh holds, in its order.
    afresh: dict[str, list] = {}
    for ref in domain.citation_refs:
        afresh.setdefault(ref.docname, []).append(ref)
    groups = domain.refs_by_page()
    assert {d: [id(ref) for ref in refs] for d, refs in groups.items()} == {
        d: [id(ref) for ref in refs] for d, refs in afresh.items()
    }
    # The index of citations by page and of the last one listed per key: the same citations as one made in
    # a pass over the list, their positions in the list's order.
    by_page, last_listed = domain.index_citations()
    order = {id(citation): index for index, citation in enumerate(domain.citations)}
    listed_by_page, last = {}, {}
    for citation in domain.citations:
        listed_by_page.setdefault(citation.bibliography_key.docname, []).append(id(citation))
        if domain.bibliographies[citation.bibliography_key].list_ == "citation":
            last[citation.key] = id(citation)
    assert {d: [id(c) for _, c in listed] for d, listed in by_page.items()} == listed_by_page
    assert {key: id(found[1]) for key, found in last_listed.items()} == last
    positions = sorted((position, order[id(c)]) for listed in by_page.values() for position, c in listed)
    assert [index for _, index in positions] == sorted(order.values())
    rows, cited = citation_rows(domain), set(domain.cited_keys())
    duplicates = list(domain._duplicates or [])
    domain._unsettled = None  # as in a new process: everything worked out
    domain.env_updated()
    domain.index_citations()  # as the pages' resolving does next: the next build updates it
    assert citation_rows(domain) == rows
    assert set(domain.cited_keys()) == cited
    assert cited == {t.key for ref in domain.citation_refs for t in ref.targets} | {
        c.entry.key for c in domain.citations
    }
    assert (domain._duplicates or []) == duplicates


@pytest.fixture
def formatted_pages(monkeypatch):
    """The pages whose bibliographies were formatted (the whole computation formats none it can keep)."""
    pages = []
    original = citations.ArticleBibtexDomain.get_formatted_entries

    def recording(self, bibliography_key, *args):
        pages.append(bibliography_key.docname)
        return original(self, bibliography_key, *args)

    monkeypatch.setattr(citations.ArticleBibtexDomain, "get_formatted_entries", recording)
    return pages


def test_an_article_edit_redoes_its_own_citations_only(make_app, rootdir, tmp_path, formatted_pages, monkeypatch):
    srcdir = copy_root(rootdir, tmp_path, "two-articles")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    assert app._warncount == 0
    whole = []
    settle = citations.ArticleBibtexDomain.settle
    monkeypatch.setattr(citations.ArticleBibtexDomain, "settle", lambda self, *a: whole.append(1) or settle(self, *a))
    formatted_pages.clear()
    edit(srcdir, "articles/first-article", "A claim", "An edited claim")
    assert rebuild(app) == ""
    assert formatted_pages == ["articles/first-article"] and whole == []
    assert_citations_up_to_date(app)
    clean = clean_build(make_app, srcdir, tmp_path)
    same_pages(app, clean, ["articles/first-article", "articles/second-article"])


def test_an_entry_no_page_cites_any_more_is_reported_as_a_clean_build_reports_it(make_app, rootdir, tmp_path):
    srcdir = copy_root(rootdir, tmp_path, "two-articles")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    edit(srcdir, "articles/first-article", "The trial was small {cite:p}`jones2021review`.", "The trial was small.")
    edit(srcdir, "articles/second-article", "A claim {cite:p}`jones2021review`.", "A claim.")
    warned = warnings_of(rebuild(app), srcdir)
    assert any("'jones2021review' is cited nowhere" in line for line in warned)
    assert_citations_up_to_date(app)
    clean = clean_build(make_app, srcdir, tmp_path)
    assert warnings_of(clean.warning.getvalue(), clean.srcdir) == warned
    # Reported again by the next build, which reads nothing.
    assert warnings_of(rebuild(app), srcdir) == warned
    edit(srcdir, "articles/second-article", "A claim.", "A claim {cite:p}`jones2021review`.")
    assert rebuild(app) == ""
    assert_citations_up_to_date(app)


def test_a_key_listed_twice_on_a_page_is_reported_by_every_warm_build_until_fixed(make_app, rootdir, tmp_path):
    srcdir = copy_root(rootdir, tmp_path, "two-articles")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    first = srcdir / "articles" / "first-article.md"
    first.write_text(first.read_text(encoding="utf-8") + "\n## More references\n\n```{bibliography}\n```\n")
    warned = warnings_of(rebuild(app), srcdir)
    assert [re.search(r'key "(\w+)"', line)[1] for line in warned] == ["jones2021review", "smith2020trial"]
    assert all("first-article.md:26" in line for line in warned)  # the second bibliography
    assert_citations_up_to_date(app)
    edit(srcdir, "articles/second-article", "A claim", "Another claim")  # another page read: still reported
    assert warnings_of(rebuild(app), srcdir) == warned
    assert_citations_up_to_date(app)
    first.write_text(first.read_text(encoding="utf-8").split("\n## More references")[0] + "\n")
    assert rebuild(app) == ""
    assert_citations_up_to_date(app)


def test_clearing_the_page_read_last_drops_the_ends_of_the_lists_as_upstream_s_filter_would(
    make_app, rootdir, tmp_path
):
    srcdir = copy_root(rootdir, tmp_path, "two-articles")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    for old, new in (("A claim", "A first edit"), ("A first edit", "A second edit")):  # read last: ends the lists
        edit(srcdir, "articles/second-article", old, new)
        assert rebuild(app) == ""
        assert_citations_up_to_date(app)
    domain = app.env.get_domain("cite")

    def without(docname):
        return (
            [c for c in domain.citations if c.bibliography_key.docname != docname],
            [r for r in domain.citation_refs if r.docname != docname],
            [k for k in domain.bibliographies if k.docname != docname],
        )

    def lists():
        return list(domain.citations), list(domain.citation_refs), list(domain.bibliographies)

    def identical(a, b):
        return all(
            len(x) == len(y) and all(p is q for p, q in zip(x, y, strict=True)) for x, y in zip(a, b, strict=True)
        )

    # The page read first does not end the lists: upstream's filter clears it.
    assert domain.clear_last_page("articles/first-article") is False
    expected = without("articles/second-article")
    assert len(expected[0]) < len(domain.citations) and len(expected[1]) < len(domain.citation_refs)
    assert domain.clear_last_page("articles/second-article") is True
    assert identical(lists(), expected)
    # Cleared once, its counts are no longer known: never cleared twice this way.
    domain.clear_doc("articles/second-article")
    assert domain.clear_last_page("articles/second-article") is False
    # And the build that follows reads it again, as a clean build does.
    edit(srcdir, "articles/second-article", "A second edit", "A third edit")
    assert rebuild(app) == ""
    assert_citations_up_to_date(app)
    clean = clean_build(make_app, srcdir, tmp_path)
    same_pages(app, clean, ["articles/first-article", "articles/second-article"])


# -- A seeded sequence of edits, one warm application ------------------------------------------------

SEED = int(os.environ.get("CHANGES_SEED", "20261130"))


def test_a_sequence_of_edits_keeps_every_result_equal_to_the_whole_computation(make_app, tmp_path, monkeypatch):
    """Text edits, retitles, topic and review-date changes, citations dropped and added, a second bibliography,
    articles added and deleted: after each warm build, every kept result equals the whole computation, and at
    the end the pages and warnings equal a clean build's."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from generate_corpus import generate

    updates = []  # whether each build's cite domain brought its results up to date (True) or redid them
    update = citations.ArticleBibtexDomain.update_changed_pages
    monkeypatch.setattr(
        citations.ArticleBibtexDomain, "update_changed_pages", lambda self: updates.append(update(self)) or updates[-1]
    )
    indexes = []  # whether each update found the index of citations to bring up to date
    update_index = citations.ArticleBibtexDomain.update_index

    def updating_index(self, pending, new, before):
        indexes.append(self._index is not None and self._index[3] == before)
        update_index(self, pending, new, before)

    monkeypatch.setattr(citations.ArticleBibtexDomain, "update_index", updating_index)
    rng = random.Random(SEED)
    srcdir = tmp_path / "docs"
    generate(6, srcdir, seed=SEED)
    app = make_app("html", srcdir=srcdir, freshenv=True)
    topics_list = list(app.config.citedhealth_topics)
    app.build()
    assert app._warncount == 0
    made = 0
    for step in range(14):
        articles = sorted((srcdir / "articles").glob("*.md"))
        path = rng.choice(articles)
        text = path.read_text(encoding="utf-8")
        kind = rng.choice(["text", "title", "topics", "reviewed", "cite", "uncite", "bibliography", "add", "delete"])
        if kind == "text":
            text = re.sub(r"(\n## [^\n]+)", rf"\1 edit {step}", text, count=1)
        elif kind == "title":
            text = re.sub(r"^title: (.*)$", rf"title: {rng.choice('ABCXYZ')} \1 {step}", text, count=1, flags=re.M)
        elif kind == "topics":
            text = re.sub(r"^topics: .*$", f'topics: ["{rng.choice(topics_list)}"]', text, count=1, flags=re.M)
        elif kind == "reviewed":
            day = rng.randint(1, 28)
            text = re.sub(r"^last_reviewed: .*$", f"last_reviewed: 2026-11-{day:02d}", text, count=1, flags=re.M)
        elif kind == "uncite":
            roles = re.findall(r"\{cite:p\}`[^`]+`", text)
            text = text.replace(rng.choice(roles), "", 1) if roles else text
        elif kind == "cite":
            key = rng.choice(sorted(app.env.get_domain("cite").bibdata.data.entries))
            text = re.sub(r"(\n## [^\n]+\n\n[^\n]+)", rf"\1 {{cite:p}}`{key}`", text, count=1)
        elif kind == "bibliography":
            text += "\n## More references\n\n```{bibliography}\n```\n" if "More references" not in text else ""
        elif kind == "add" and made < 3:
            made += 1
            new = path.with_name(f"added-{step}.md")
            new.write_text(re.sub(r"^title: (.*)$", rf"title: Added {step} \1", text, flags=re.M), encoding="utf-8")
        elif kind == "delete" and len(articles) > 3:
            path.unlink()
            text = None
        if text is not None:
            path.write_text(text, encoding="utf-8")
        warned = warnings_of(rebuild(app), srcdir)
        try:
            assert_up_to_date(app)
            assert_citations_up_to_date(app)
        except AssertionError as error:
            raise AssertionError(f"CHANGES_SEED={SEED}, step {step} ({kind} {path.name}): {error}") from error
    # Every warm build brought its citations up to date (True), none needed the whole computation; the
    # first build, and assert_citations_up_to_date's after each, did (False).
    assert updates == [False] + [True, False] * 14, updates
    assert indexes == [True] * 14, indexes
    clean = clean_build(make_app, srcdir, tmp_path)
    assert warnings_of(clean.warning.getvalue(), clean.srcdir) == warned, SEED
    assert topics.catalog(app.env) == topics.catalog(clean.env)
    assert outputs.full_structure_digest(app.env) == outputs.full_structure_digest(clean.env)
    pages = ["index", "a-z"] + [f"articles/{p.stem}" for p in sorted((srcdir / "articles").glob("*.md"))]
    same_pages(app, clean, pages)
