"""The search index: each word stemmed once (citedhealth.search), the index as Sphinx writes it."""

from __future__ import annotations

import shutil

import citedhealth.search
import pytest


def index_text(app) -> str:
    return (app.outdir / "searchindex.js").read_text(encoding="utf-8")


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_words_are_stemmed_once_and_the_index_is_sphinx_s_own(app, make_app, tmp_path, monkeypatch):
    citedhealth.search.STEMMERS.clear()
    app.build()
    assert app.warning.getvalue() == ""
    stem = app.builder.indexer.lang.stem
    info = stem.cache_info()
    # Both articles share most of their words: the second page's are hits.
    assert info.hits > 0, info
    assert info.misses > 0, info
    assert '"disclaim":' in index_text(app)  # stemmed, as Sphinx stems "disclaimer"

    # The same project without the cache (Sphinx's own stemming) writes the same index.
    plain_src = tmp_path / "plain"
    shutil.copytree(app.srcdir, plain_src, ignore=shutil.ignore_patterns("_build"))
    monkeypatch.setattr(citedhealth.search, "cache_stemming", lambda *args: None)
    plain = make_app("html", srcdir=plain_src, freshenv=True)
    plain.build()
    assert not hasattr(plain.builder.indexer.lang.stem, "cache_info")
    ours, theirs = index_text(app), index_text(plain)
    # Only our extension's version (a digest of its code) may differ between the two apps: none does.
    assert ours == theirs
