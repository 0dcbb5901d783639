"""The output's record (citedhealth.outputs): what it owes, made once a build, written only when it changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from citedhealth import outputs


def manifest(app) -> list[str]:
    return json.loads(outputs.manifest_path(app).read_text(encoding="utf-8"))["files"]


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_the_manifest_is_written_only_when_what_it_records_changes(app):
    app.build()
    assert app.warning.getvalue() == ""
    path = outputs.manifest_path(app)
    recorded = manifest(app)
    assert "articles/first-article.html" in recorded
    assert "_sources/articles/first-article.md.txt" in recorded
    stamp = path.stat().st_mtime_ns

    # An edit of an article's text owes the same files: the record stands as it is.
    article = app.srcdir / "articles" / "first-article.md"
    article.write_text(article.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    app.build()
    assert app.warning.getvalue() == ""
    assert path.stat().st_mtime_ns == stamp
    assert manifest(app) == recorded

    # A deleted article: its page leaves the output, and the record with it.
    page = Path(app.outdir, "articles", "second-article.html")
    assert page.is_file()
    (app.srcdir / "articles" / "second-article.md").unlink()  # the index's toctree globs
    app.build()
    assert not page.exists()
    assert "articles/second-article.html" not in manifest(app)
    assert "articles/first-article.html" in manifest(app)


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_output_names_are_the_builders_own(app):
    app.build()
    docnames = sorted(app.env.found_docs)
    expected = [Path(app.builder.get_outfilename(d)).relative_to(app.outdir).as_posix() for d in docnames]
    assert outputs.output_names(app, docnames) == expected


@pytest.mark.sphinx("dirhtml", testroot="two-articles", freshenv=True)
def test_a_builder_that_names_its_files_its_own_way_is_asked_page_by_page(app):
    app.build()
    docnames = sorted(app.env.found_docs)
    names = outputs.output_names(app, docnames)
    assert "articles/first-article/index.html" in names
    assert names == [Path(app.builder.get_outfilename(d)).relative_to(app.outdir).as_posix() for d in docnames]


def test_the_out_of_date_pages_are_those_sphinx_finds(make_app, rootdir, tmp_path):
    """outputs.outdated_pages against StandaloneHTMLBuilder.get_outdated_docs, state by state."""
    import os
    import shutil
    import time

    from sphinx.builders.html import StandaloneHTMLBuilder

    srcdir = tmp_path / "docs"
    shutil.copytree(rootdir / "test-two-articles", srcdir)
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    builder = app.builder
    assert builder.get_outdated_docs.func is outputs.outdated_pages

    def both():
        ours = sorted(builder.get_outdated_docs())
        theirs = sorted(StandaloneHTMLBuilder.get_outdated_docs(builder))
        assert ours == theirs
        return ours

    assert both() == []
    source = app.srcdir / "articles" / "first-article.md"
    later = time.time_ns() + 10_000_000_000  # newer than every page written
    os.utime(source, ns=(later, later))  # an edited source
    assert both() == ["articles/first-article"]
    (app.outdir / "articles" / "second-article.html").unlink()  # a page gone from the output
    assert both() == ["articles/first-article", "articles/second-article"]
    (app.srcdir / "articles" / "third-article.md").write_text("# Third\n", encoding="utf-8")
    app.env.project.discover(app.config.exclude_patterns, app.config.include_patterns)
    assert "articles/third-article" in both()  # a document the environment does not hold yet
    source.unlink()  # a source gone: neither lists it
    assert "articles/first-article" not in both()


@pytest.mark.sphinx("dirhtml", testroot="two-articles", freshenv=True)
def test_a_builder_with_its_own_output_names_keeps_sphinx_s_out_of_date_check(app):
    from sphinx.builders.html import StandaloneHTMLBuilder

    assert type(app.builder).get_outdated_docs is StandaloneHTMLBuilder.get_outdated_docs
    assert "get_outdated_docs" not in vars(app.builder)
