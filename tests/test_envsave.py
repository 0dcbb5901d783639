"""The saved environment, pickled in a forked child while pages are written (citedhealth.envsave)."""

from __future__ import annotations

import os
import pickle
import shutil
import sys

import citedhealth.envsave
import pytest
from sphinx.application import ENV_PICKLE_FILENAME


def saved_environment(app):
    with open(app.doctreedir / ENV_PICKLE_FILENAME, "rb") as stream:
        return pickle.load(stream)


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_the_environment_is_saved_by_a_child_and_complete_when_the_build_ends(app, monkeypatch):
    forks = []
    real_fork = os.fork

    def counting_fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting_fork)
    app.build()
    assert app.warning.getvalue() == ""
    assert isinstance(sys.modules["sphinx.builders"].pickle, citedhealth.envsave.DeferringPickle)
    assert len(forks) == 1, "the environment's dump went to one child"
    assert citedhealth.envsave.PENDING == []
    saved = saved_environment(app)
    assert sorted(saved.all_docs) == sorted(app.env.all_docs)
    assert not list(app.doctreedir.glob(".*.partial"))


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_the_child_s_bytes_are_what_sphinx_would_have_written(app, monkeypatch, tmp_path):
    """At the moment of the dump, the child pickles what the parent would have pickled in place."""
    captured = {}
    real_save = citedhealth.envsave.save_in_child

    def save_and_keep_in_place_bytes(env, path, protocol):
        captured["in place"] = pickle.dumps(env, protocol)
        real_save(env, path, protocol)

    monkeypatch.setattr(citedhealth.envsave, "save_in_child", save_and_keep_in_place_bytes)
    app.build()
    assert app.warning.getvalue() == ""
    assert (app.doctreedir / ENV_PICKLE_FILENAME).read_bytes() == captured["in place"]


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_a_child_that_cannot_save_fails_the_build_and_leaves_no_environment(app, monkeypatch):
    class Unpicklable:
        def __reduce__(self):
            raise TypeError("this object refuses to be pickled")

    real_dump = citedhealth.envsave.pickle.dump

    def poisoned_dump(obj, stream, protocol=None):
        if getattr(stream, "name", "").endswith(".partial"):
            obj.citedhealth_test_poison = Unpicklable()
        return real_dump(obj, stream, protocol)

    monkeypatch.setattr(citedhealth.envsave.pickle, "dump", poisoned_dump)
    with pytest.raises(citedhealth.envsave.EnvironmentNotSavedError, match="the next build starts afresh"):
        app.build()
    assert not (app.doctreedir / ENV_PICKLE_FILENAME).exists()
    assert not list(app.doctreedir.glob(".*.partial"))


@pytest.mark.sphinx(
    "html", testroot="two-articles", freshenv=True, confoverrides={"citedhealth_save_environment_aside": False}
)
def test_turned_off_sphinx_pickles_in_place(app, monkeypatch):
    def no_fork():
        raise AssertionError("forked although turned off")

    monkeypatch.setattr(os, "fork", no_fork)
    app.build()
    assert app.warning.getvalue() == ""
    assert sorted(saved_environment(app).all_docs) == sorted(app.env.all_docs)


def test_tables_of_contents_are_saved_one_blob_a_document_and_read_back_as_the_same_trees(make_app, rootdir, tmp_path):
    from citedhealth.envsave import Packed, PackedTocs

    srcdir = tmp_path / "docs"
    shutil.copytree(rootdir / "test-two-articles", srcdir)
    # As on the site: the articles' toctree is hidden (the sidebar lists them), so a page shows no other's contents.
    index = srcdir / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace(":glob:", ":glob:\n:hidden:"), encoding="utf-8")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    assert app.warning.getvalue() == ""
    built = {docname: toc.pformat() for docname, toc in app.env.tocs.items()}
    assert len(built) >= 3
    saved = saved_environment(app)
    assert isinstance(saved.tocs, PackedTocs)
    # Loaded, every table is still its blob; each one read is the tree the build made.
    assert all(type(dict.__getitem__(saved.tocs, docname)) is Packed for docname in built)
    assert set(saved.tocs) == set(built)
    first = next(iter(built))
    assert saved.tocs[first].pformat() == built[first]
    assert type(dict.__getitem__(saved.tocs, first)) is not Packed  # kept as read (Sphinx numbers it in place)
    assert {docname: toc.pformat() for docname, toc in saved.tocs.items()} == built
    assert saved.tocs.get("no/such/document") is None
    assert saved.tocs.pop("no/such/document", "none") == "none"

    # A build in a new application reads only the tables it needs; the others go back as the bytes they came as.
    blobs = {docname: dict.__getitem__(saved_environment(app).tocs, docname).blob for docname in built}
    article = srcdir / "articles" / "first-article.md"
    article.write_text(article.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    again = make_app("html", srcdir=srcdir)
    loaded = again.env.tocs
    again.build()
    unread = [docname for docname in built if type(dict.__getitem__(loaded, docname)) is Packed]
    assert unread == ["articles/second-article"]
    resaved = saved_environment(again)
    for docname in unread:
        assert dict.__getitem__(resaved.tocs, docname).blob == blobs[docname]
    assert {docname: toc.pformat() for docname, toc in resaved.tocs.items()} == {
        docname: toc.pformat() for docname, toc in again.env.tocs.items()
    }
