"""The saved environment, pickled in a forked child while pages are written (citedhealth.envsave)."""

from __future__ import annotations

import os
import pickle
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
