"""The search index: each word stemmed once (citedhealth.search), the index as Sphinx writes it."""

from __future__ import annotations

import os
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


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_a_warm_process_takes_over_the_index_it_dumped_and_writes_what_a_fresh_one_does(
    app, make_app, tmp_path, monkeypatch
):
    from citedhealth.common import app_state
    from sphinx.search import IndexBuilder

    app.build()
    assert app.warning.getvalue() == ""
    assert app_state(app).search_index is not None
    loads = []
    sphinx_load = IndexBuilder.load
    monkeypatch.setattr(IndexBuilder, "load", lambda self, *args: loads.append(1) or sphinx_load(self, *args))

    # An edit that adds a word, then one that takes it away again.
    article = app.srcdir / "articles" / "first-article.md"
    source = article.read_text(encoding="utf-8")
    article.write_text(source + "\nQuokkas are small marsupials.\n", encoding="utf-8")
    app.build()
    assert app.warning.getvalue() == ""
    assert '"quokka":' in index_text(app)
    article.write_text(source, encoding="utf-8")
    app.build()
    assert loads == []  # both taken over from memory, not parsed
    assert '"quokka":' not in index_text(app)

    # The same sources, built by a fresh application from nothing, write the same index.
    fresh_src = tmp_path / "fresh"
    shutil.copytree(app.srcdir, fresh_src, ignore=shutil.ignore_patterns("_build"))
    fresh = make_app("html", srcdir=fresh_src, freshenv=True)
    fresh.build()
    assert index_text(app) == index_text(fresh)

    # A file the process did not write (here: touched since) is read as Sphinx reads it.
    written = app.outdir / "searchindex.js"
    os.utime(written, ns=(written.stat().st_atime_ns, written.stat().st_mtime_ns + 1_000_000_000))
    article.write_text(source + "\nWombats too.\n", encoding="utf-8")
    app.build()
    assert loads == [1]
    assert '"wombat":' in index_text(app)


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_the_preview_s_index_written_by_a_child_is_a_fresh_build_s_and_a_failed_child_fails_the_build(
    app, make_app, tmp_path, monkeypatch
):
    from citedhealth import search
    from citedhealth.common import app_state
    from sphinx.builders.html import StandaloneHTMLBuilder

    monkeypatch.setattr(search, "DUMP_IN_CHILD", True)
    forks = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or fork())
    app.build()
    article = app.srcdir / "articles" / "first-article.md"
    article.write_text(article.read_text(encoding="utf-8") + "\nQuokkas are small marsupials.\n", encoding="utf-8")
    app.build()
    assert app.warning.getvalue() == ""
    assert len(forks) >= 2  # each build's index written by a child
    assert app_state(app).search_dump is None  # waited for before the build ended
    assert app_state(app).search_index is not None  # and kept for the next build
    assert '"quokka":' in index_text(app)

    fresh_src = tmp_path / "fresh"
    shutil.copytree(app.srcdir, fresh_src, ignore=shutil.ignore_patterns("_build"))
    monkeypatch.setattr(search, "DUMP_IN_CHILD", False)
    fresh = make_app("html", srcdir=fresh_src, freshenv=True)
    fresh.build()
    assert index_text(app) == index_text(fresh)

    monkeypatch.setattr(search, "DUMP_IN_CHILD", True)

    def disk_full(self):
        raise OSError("disk full")

    monkeypatch.setattr(StandaloneHTMLBuilder, "dump_search_index", disk_full)
    article.write_text(article.read_text(encoding="utf-8") + "\nWombats too.\n", encoding="utf-8")
    with pytest.raises(search.SearchIndexNotWrittenError):
        app.build()
    assert app_state(app).search_index is None  # the next build reads whatever file there is


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_a_new_process_unpickles_the_index_it_finds_beside_the_environment_and_writes_what_a_fresh_one_does(
    app, make_app, tmp_path, monkeypatch
):
    from citedhealth import search
    from sphinx.search import IndexBuilder

    app.build()
    pickled = search.pickle_path(app, app.builder)
    pickled.unlink(missing_ok=True)  # as after a clean build (an indexer that loaded no file pickles nothing)
    loads = []
    sphinx_load = IndexBuilder.load
    monkeypatch.setattr(IndexBuilder, "load", lambda self, *args: loads.append(1) or sphinx_load(self, *args))
    article = app.srcdir / "articles" / "first-article.md"
    source = article.read_text(encoding="utf-8")

    def build_in_a_new_application(text):
        article.write_text(text, encoding="utf-8")
        new = make_app("html", srcdir=app.srcdir)  # same folders, a new application: as a new process
        new.build()
        # A second application in one process re-registers Sphinx's own nodes (said once each); nothing else.
        warnings = [line for line in new.warning.getvalue().splitlines() if "is already registered" not in line]
        assert warnings == []
        return new

    # The first incremental build parses the file (nothing pickled yet), then pickles what it wrote.
    build_in_a_new_application(source + "\nQuokkas are small marsupials.\n")
    assert loads == [1]
    assert pickled.exists()
    assert '"quokka":' in index_text(app)
    # The next ones take the pickle instead of the file: a word taken away, then one added.
    build_in_a_new_application(source)
    new = build_in_a_new_application(source + "\nWombats dig burrows.\n")
    assert loads == [1]
    text = index_text(app)
    assert '"quokka":' not in text
    assert '"wombat":' in text

    fresh_src = tmp_path / "fresh"
    shutil.copytree(app.srcdir, fresh_src, ignore=shutil.ignore_patterns("_build"))
    fresh = make_app("html", srcdir=fresh_src, freshenv=True)
    fresh.build()
    assert index_text(new) == index_text(fresh)
    assert not search.pickle_path(fresh, fresh.builder).exists()  # a clean build's indexer loaded no file

    # A file the pickle was not made with (here: touched since) is parsed as Sphinx parses it.
    written = new.outdir / "searchindex.js"
    os.utime(written, ns=(written.stat().st_atime_ns, written.stat().st_mtime_ns + 1_000_000_000))
    build_in_a_new_application(source + "\nQuokkas are small marsupials.\n")
    assert loads == [1, 1]
    # A pickle cut short (a killed build) is ignored; the file is parsed.
    pickled.write_bytes(pickled.read_bytes()[:100])
    build_in_a_new_application(source)
    assert loads == [1, 1, 1]
    assert '"quokka":' not in index_text(app)
    # The pickle is read with the collector paused, and the collector is left as it was found.
    import gc

    build_in_a_new_application(source)
    assert search.load_pickled(app, app.builder) is not None
    assert gc.isenabled()
    gc.disable()
    try:
        assert search.load_pickled(app, app.builder) is not None
        assert not gc.isenabled()
    finally:
        gc.enable()

    again_src = tmp_path / "again"
    shutil.copytree(app.srcdir, again_src, ignore=shutil.ignore_patterns("_build"))
    again = make_app("html", srcdir=again_src, freshenv=True)
    again.build()
    assert index_text(app) == index_text(again)


def test_the_bounded_prune_is_sphinx_s_prune_then_emptied_words_dropped():
    """search.prune_bounded against Sphinx's IndexBuilder.prune (outputs' wrapper), on many random indexes."""
    import copy
    import random

    from citedhealth import outputs, search

    class Indexer:  # the attributes IndexBuilder.prune reads and sets
        pass

    rng = random.Random(13)
    for _ in range(300):
        docs = [f"d{i}" for i in range(rng.randint(0, 12))]
        one = Indexer()
        one._titles = {d: f"T {d}" for d in docs}
        one._filenames = {d: f"{d}.md" for d in docs}
        one._all_titles = {d: [(f"T {d}", None)] for d in docs}
        one._mapping = {f"w{w}": set(rng.sample(docs, rng.randint(1, len(docs)))) for w in range(20) if docs}
        one._title_mapping = {f"t{w}": set(rng.sample(docs, rng.randint(1, len(docs)))) for w in range(5) if docs}
        other = copy.deepcopy(one)
        keep = set(rng.sample(docs, rng.randint(0, len(docs)))) | {"not-titled"}
        outputs.prune_dropping_empty_words(one, keep)  # unmarked: Sphinx's prune
        setattr(other, search.BOUNDED_MARK, True)
        outputs.prune_dropping_empty_words(other, keep)
        for name in ("_titles", "_filenames", "_all_titles", "_mapping", "_title_mapping"):
            assert getattr(one, name) == getattr(other, name), name


def test_a_marked_indexer_s_terms_are_sphinx_s():
    """search.bounded_terms against IndexBuilder.get_terms on random marked indexes, and where a word's document
    has no number (Sphinx's answer then)."""
    import random

    from citedhealth import search
    from sphinx.search import IndexBuilder

    class Indexer:
        get_terms = IndexBuilder.get_terms

    rng = random.Random(7)
    for _ in range(300):
        docs = [f"d{i}" for i in range(rng.randint(1, 15))]
        indexer = Indexer()
        indexer._mapping = {f"w{w}": set(rng.sample(docs, rng.randint(1, len(docs)))) for w in range(30)}
        indexer._title_mapping = {f"t{w}": set(rng.sample(docs, rng.randint(1, len(docs)))) for w in range(5)}
        numbered = rng.sample(docs, len(docs)) if rng.random() < 0.8 else rng.sample(docs, len(docs) - 1)
        fn2index = {name: number for number, name in enumerate(sorted(numbered))}
        assert search.bounded_terms(indexer, fn2index) == IndexBuilder.get_terms(indexer, fn2index)
