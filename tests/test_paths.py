"""What the build reads stays inside the source folder, and decodes as UTF-8 (paths.py)."""

from __future__ import annotations

import os
import shutil

import pytest
from citedhealth.paths import outside
from sphinx.util.console import strip_colors

SECRET = "SECRET-FROM-OUTSIDE-THE-SOURCE-FOLDER"


def warnings_of(app) -> list[str]:
    return strip_colors(app.warning.getvalue()).splitlines()


@pytest.mark.sphinx("html", testroot="paths", freshenv=True)
def test_files_outside_the_source_folder_are_refused_with_file_and_line(app):
    # A file beside the source folder, and a link inside it pointing there.
    secret = app.srcdir.parent / "outside.txt"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    (app.srcdir / "linked.txt").unlink(missing_ok=True)
    os.symlink(secret, app.srcdir / "linked.txt")
    app.build()
    article = app.srcdir / "articles" / "sample-article.md"
    keep = "keep what the site publishes under docs/ [citedhealth.path]"
    assert sorted(warnings_of(app)) == sorted(
        [
            f"{article}:15: WARNING: include of '../../outside.txt' reads a file outside the source folder"
            f" ({secret}): {keep}",
            f"{article}:18: WARNING: literalinclude of '../../outside.txt' reads a file outside the source folder"
            f" ({secret}): {keep}",
            f"{article}:21: WARNING: image '../../outside.txt' is a file outside the source folder ({secret}):"
            " keep images under docs/ [citedhealth.path]",
            f"{article}:23: WARNING: download '../../outside.txt' is a file outside the source folder ({secret}):"
            " keep downloads under docs/ [citedhealth.path]",
            # Sphinx reads an absolute path from the source folder; climbing out of it from there is refused too.
            f"{article}:25: WARNING: include of '/../outside.txt' reads a file outside the source folder"
            f" ({secret}): {keep}",
            f"{article}:28: WARNING: literalinclude of '../linked.txt' reads a file outside the source folder"
            f" ({secret}): {keep}",
            f"{article}:31: WARNING: image '../linked.txt' is a file outside the source folder ({secret}):"
            " keep images under docs/ [citedhealth.path]",
            f"{article}:33: WARNING: raw with :file: reads '../inside.txt' into the page unchecked:"
            " write the content in the document [citedhealth.path]",
            f"{article}:37: WARNING: csv-table with :file: reads '../inside.txt' into the page unchecked:"
            " write the content in the document [citedhealth.path]",
            f"{app.srcdir / 'latin1.txt'}:2: WARNING: undecodable file: byte 0xe9 at column 4 is not UTF-8"
            " [citedhealth.encoding]",
        ]
    )
    # Nothing of the outside file reached the output, in any page or copied file.
    for path in app.outdir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    page = (app.outdir / "articles" / "sample-article.html").read_text(encoding="utf-8")
    # What lies inside is still included, as text and as code.
    assert "<p>Inside text</p>" in page
    assert '<span class="n">Inside</span> <span class="n">text</span>' in page
    assert not (app.outdir / "_images").exists()
    assert not (app.outdir / "_downloads").exists()


def own_copy(make_app, rootdir, tmp_path, name: str = "disclaimer"):
    """An app on a copy of a root of our own: these tests change its files, which other tests share."""
    srcdir = tmp_path / "docs"
    shutil.copytree(rootdir / f"test-{name}", srcdir)
    return make_app("html", srcdir=srcdir)


def test_a_source_that_is_not_utf8_is_a_warning_at_the_bad_byte_not_a_traceback(make_app, rootdir, tmp_path):
    app = own_copy(make_app, rootdir, tmp_path)
    source = app.srcdir / "articles" / "sample-article.md"
    source.write_bytes(source.read_bytes().replace(b"Some text.", b"Some text.\n\nCaf\xe9 au lait."))
    app.build()
    assert warnings_of(app)[0] == (
        f"{source}:15: WARNING: undecodable file: byte 0xe9 at column 4 is not UTF-8;"
        " the document is left out of the build [citedhealth.encoding]"
    )
    assert not (app.outdir / "articles" / "sample-article.html").exists()
    # It fails every build until it is fixed.
    app.build()
    assert warnings_of(app).count(warnings_of(app)[0]) == 2


def test_outside(tmp_path):
    src = tmp_path / "docs"
    (src / "sub").mkdir(parents=True)
    (tmp_path / "secret").write_text("x")
    os.symlink(tmp_path / "secret", src / "link")
    os.symlink(src / "sub", src / "dirlink")
    assert not outside(src / "sub" / "a.png", src)
    assert not outside(src / "dirlink" / "a.png", src)
    assert outside(src / ".." / "secret", src)
    assert outside(src / "link", src)
    assert outside("/etc/passwd", src)
    assert outside(tmp_path / "docs-other" / "x", src)  # a sibling whose name starts the same


def test_a_document_linked_from_outside_the_source_folder_is_left_out(make_app, rootdir, tmp_path):
    app = own_copy(make_app, rootdir, tmp_path)
    secret = app.srcdir.parent / "elsewhere.md"
    secret.write_text("# " + SECRET + "\n", encoding="utf-8")
    link = app.srcdir / "articles" / "linked-article.md"
    link.unlink(missing_ok=True)
    os.symlink(secret, link)
    app.build()
    assert warnings_of(app)[0] == (
        f"{link}:1: WARNING: document is a link to a file outside the source folder ({secret}):"
        " the document is left out of the build [citedhealth.path]"
    )
    for path in app.outdir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
