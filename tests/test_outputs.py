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
