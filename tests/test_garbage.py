"""The garbage collector during and after a build (``citedhealth.garbage``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import ROOTS, extension_env

pytestmark = [pytest.mark.slow]

# Registered before Sphinx loads our extension, this atexit handler runs after
# ours (atexit runs last-in, first-out) and reports what the interpreter's
# teardown will find.
BUILD_AND_REPORT = textwrap.dedent(
    """
    import atexit, gc, sys
    from sphinx.cmd.build import main
    atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count(), flush=True))
    print("threshold before:", gc.get_threshold()[0], flush=True)
    code = main(["-b", "html", "-q", "-n", "-W", sys.argv[1], sys.argv[2]])
    print("threshold after:", gc.get_threshold()[0], flush=True)
    sys.exit(code)
    """
)


def test_a_build_collects_less_often_and_exits_with_its_objects_frozen(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", BUILD_AND_REPORT, str(ROOTS / "test-two-articles"), str(tmp_path / "html")],
        capture_output=True,
        text=True,
        env=extension_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["threshold before"] == "700"  # Python's default: the change is ours
    assert lines["threshold after"] == "10000"
    # What is still alive (Sphinx, the environment, the doctrees) was frozen,
    # so the final collections skip it; without our handler this is 0.
    assert int(lines["frozen at exit"]) > 10_000
    assert (tmp_path / "html" / "articles" / "first-article.html").is_file()


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_a_second_build_of_one_application_freezes_what_it_kept_until_it_finishes(app):
    import gc

    app.build()
    assert gc.get_freeze_count() == 0  # handed back at build-finished
    kept = sum(len(gc.get_objects(generation)) for generation in range(3))
    frozen_while_reading = []
    app.connect("doctree-read", lambda app, doctree: frozen_while_reading.append(gc.get_freeze_count()))
    article = app.srcdir / "articles" / "first-article.md"
    article.write_text(article.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    app.build()  # no environment loaded: the warm preview's case
    assert app.warning.getvalue() == ""
    assert len(frozen_while_reading) == 1
    # What lived when the build started (the environment, Sphinx, the test run) was frozen.
    assert frozen_while_reading[0] > kept // 2
    assert gc.get_freeze_count() == 0


WORKER = textwrap.dedent(
    """
    import gc, weakref
    from citedhealth.garbage import WorkerCollections

    class Node:
        pass

    def cyclic_garbage():
        node = Node()
        node.parent = node  # freed only by the collector
        return weakref.ref(node)

    inherited = cyclic_garbage()
    collections = []
    gc.callbacks.append(lambda phase, info: phase == "stop" and collections.append(info["generation"]))
    worker = WorkerCollections(every=3)
    assert not gc.isenabled()
    assert inherited() is not None and gc.get_freeze_count() > 0  # frozen, never walked
    for page in range(1, 8):
        made = cyclic_garbage()
        for _ in range(20000):  # far more new containers than an automatic collection waits for
            Node().parent = []
        worker.document_done()
        print(page, made() is None, len(collections), flush=True)
    """
)


def test_a_writer_process_collects_only_every_so_many_pages(tmp_path):
    """garbage.WorkerCollections: no automatic collection in a writer; one full collection every
    `every` pages, which frees the pages' cyclic garbage; what it inherited is frozen."""
    result = subprocess.run(
        [sys.executable, "-c", WORKER], capture_output=True, text=True, env=extension_env(), check=False
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    # page, its garbage freed, collections so far: the 3rd and 6th page each end with one collection.
    assert rows == [
        ["1", "False", "0"],
        ["2", "False", "0"],
        ["3", "True", "1"],
        ["4", "False", "1"],
        ["5", "False", "1"],
        ["6", "True", "2"],
        ["7", "False", "2"],
    ]
