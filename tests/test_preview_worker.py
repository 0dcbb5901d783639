"""The preview's warm Sphinx process (preview/worker.py), on a small root, in-process."""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

import pytest
from sphinx.util.fileutil import _template_basename

WORKER = Path(__file__).resolve().parent.parent / "docs" / "_ext" / "citedhealth" / "preview" / "worker.py"


def theme_static_copies(app) -> list[Path]:
    """Where the builder puts each file of its theme's static folders."""
    copies = []
    for entry in app.builder.theme.get_theme_dirs():
        folder = Path(entry, "static")
        for source in folder.rglob("*"):
            if source.is_file():
                relative = source.relative_to(folder)
                copies.append(Path(app.outdir, "_static", _template_basename(relative) or relative))
    return copies


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_the_warm_builder_copies_the_theme_again_only_when_a_copy_was_touched(app):
    calls = []
    copy = app.builder.copy_theme_static_files

    def counting(context):
        calls.append(context)
        copy(context)

    app.builder.copy_theme_static_files = counting
    runpy.run_path(str(WORKER), run_name="worker_under_test")["copy_theme_static_files_once"](app.builder)

    app.build()
    copies = theme_static_copies(app)
    assert copies and all(path.is_file() for path in copies)
    originals = {path: path.read_bytes() for path in copies}
    assert len(calls) == 1

    app.build()  # nothing touched: not copied again
    assert len(calls) == 1

    gone, changed = copies[0], copies[-1]
    gone.unlink()
    app.build()  # a copy removed: the theme is copied again
    assert len(calls) == 2
    assert gone.read_bytes() == originals[gone]

    changed.write_bytes(b"/* overwritten, as a file of html_static_path of the same name would */")
    app.build()
    assert len(calls) == 3
    assert changed.read_bytes() == originals[changed]
    app.build()
    assert len(calls) == 3


# -- The early page ------------------------------------------------------------------
# These tests edit sources: each builds its own copy of the root.


@pytest.fixture
def own_app(make_app, rootdir, tmp_path):
    srcdir = tmp_path / "two-articles"
    shutil.copytree(rootdir / "test-two-articles", srcdir)
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    assert app._warncount == 0
    return app


def edit(app, docname: str, old: str, new: str) -> None:
    source = Path(app.srcdir, f"{docname}.md")
    text = source.read_text(encoding="utf-8")
    assert old in text
    source.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_early_page_is_the_page_the_build_then_writes(own_app, tmp_path):
    app = own_app
    worker = runpy.run_path(str(WORKER), run_name="worker_under_test")
    edit(app, "articles/first-article", "A claim", "A claim seen early")
    early = worker["fork_early_page"](app, "articles/first-article", tmp_path / "early")
    assert early is not None and early["early"] == "articles/first-article.html"
    page = Path(early["dir"], early["early"]).read_bytes()
    assert b"A claim seen early" in page
    # Nothing of the child's reached the build's output.
    assert b"seen early" not in (Path(app.outdir) / early["early"]).read_bytes()
    app.build()
    assert page == (Path(app.outdir) / early["early"]).read_bytes()


def test_no_early_page_for_a_document_with_a_warning(own_app, tmp_path):
    app = own_app
    worker = runpy.run_path(str(WORKER), run_name="worker_under_test")
    edit(app, "articles/first-article", "A claim {cite:p}`smith2020trial`", "A claim {cite:p}`nosuchkey2099`")
    assert worker["fork_early_page"](app, "articles/first-article", tmp_path / "early") is None
    assert not list((tmp_path / "early").iterdir())  # the child's folder is removed
    assert app._warncount == 0  # the child's warnings stayed in the child; the build reports them
    app.build()
    assert app._warncount > 0


def test_which_saves_get_an_early_page(own_app):
    app = own_app
    worker = runpy.run_path(str(WORKER), run_name="worker_under_test")
    warm = worker["WarmSphinx"]({"srcdir": str(app.srcdir), "confdir": str(app.srcdir)})
    warm.app = app
    first, second = (str(Path(app.srcdir, f"articles/{name}.md")) for name in ("first-article", "second-article"))
    assert warm.early_docname([first]) == "articles/first-article"
    # An editor's temporary file, gone by the time the build starts, does not count.
    assert warm.early_docname([first, str(Path(app.srcdir, "articles/.first-article.md.tmp1234"))]) == (
        "articles/first-article"
    )
    assert warm.early_docname([first, second]) is None  # two pages changed: the build decides
    new = Path(app.srcdir, "articles/third-article.md")
    new.write_text("# New\n", encoding="utf-8")
    assert warm.early_docname([str(new)]) is None  # a new document changes the site's structure
    assert warm.early_docname([str(Path(app.srcdir, "references.bib"))]) is None  # not a document
    assert warm.early_docname([str(Path(app.srcdir, "articles/deleted.md"))]) is None  # gone, nothing left
    warm.reread = {"articles/second-article"}  # the last build failed: it reads those pages again
    assert warm.early_docname([first]) is None


def test_the_standby_forked_after_a_build_renders_the_next_early_page(own_app, tmp_path):
    app = own_app
    worker = runpy.run_path(str(WORKER), run_name="worker_under_test")
    options = {"srcdir": str(app.srcdir), "confdir": str(app.srcdir), "early_dir": str(tmp_path / "early")}
    warm = worker["WarmSphinx"](options)
    warm.app, warm.last_ok = app, True
    warm.last_early = "articles/second-article"  # it warms up on the page saved last, not the one saved next
    warm.prepare_standby()
    standby = warm.standby
    assert standby is not None
    edit(app, "articles/first-article", "A claim", "A claim seen by the standby")
    early = standby.render("articles/first-article")
    assert early is not None and early["early"] == "articles/first-article.html"
    page = Path(early["dir"], early["early"]).read_bytes()
    assert b"A claim seen by the standby" in page
    assert [p.name for p in (tmp_path / "early").iterdir()] == [Path(early["dir"]).name]  # the warm-up left nothing
    app.build()
    assert page == (Path(app.outdir) / early["early"]).read_bytes()
    assert app._warncount == 0


def test_the_early_page_child_writes_nothing_beside_the_build_s_doctrees(own_app, tmp_path):
    from citedhealth import outputs

    app = own_app
    worker = runpy.run_path(str(WORKER), run_name="worker_under_test")
    manifest = outputs.manifest_path(app)
    assert manifest.is_file()
    manifest.unlink()  # write-started makes it again when it is missing: the child's must not reach here
    before = {p.name: p.read_bytes() for p in Path(app.doctreedir).iterdir() if p.is_file()}
    edit(app, "articles/first-article", "A claim", "A claim, early")
    assert worker["fork_early_page"](app, "articles/first-article", tmp_path / "early") is not None
    assert {p.name: p.read_bytes() for p in Path(app.doctreedir).iterdir() if p.is_file()} == before
    app.build()
    assert manifest.is_file()  # the build's own write-started writes it


def test_a_standby_with_no_early_page_yet_warms_up_on_the_newest_source(own_app):
    import os

    app = own_app
    worker = runpy.run_path(str(WORKER), run_name="worker_under_test")
    warm = worker["WarmSphinx"]({"srcdir": str(app.srcdir), "confdir": str(app.srcdir)})
    warm.app = app
    for docname in app.env.all_docs:
        seconds = 2_000_000 if docname == "articles/second-article" else 1_000_000
        os.utime(app.env.doc2path(docname), (seconds, seconds))
    assert warm.warm_up_docname() == "articles/second-article"
    os.utime(app.env.doc2path("articles/first-article"))  # saved just now
    assert warm.warm_up_docname() == "articles/first-article"
    warm.last_early = "articles/second-article"  # a page rendered early before: that one
    assert warm.warm_up_docname() == "articles/second-article"


def test_after_its_early_page_the_build_waits_for_the_server_to_say_it_was_served(own_app, tmp_path, monkeypatch):
    from citedhealth import envsave, search

    app = own_app
    # The worker turns these on for its process (save_later); here they are put back after the test.
    monkeypatch.setattr(envsave, "WAIT_AT_BUILD_FINISHED", envsave.WAIT_AT_BUILD_FINISHED)
    monkeypatch.setattr(search, "DUMP_IN_CHILD", search.DUMP_IN_CHILD)
    worker = runpy.run_path(str(WORKER), run_name="worker_under_test")
    options = {"srcdir": str(app.srcdir), "confdir": str(app.srcdir), "early_dir": str(tmp_path / "early")}
    warm = worker["WarmSphinx"]({**options, "force_all": False})
    warm.app, warm.last_ok = app, True
    steps = []
    app.connect("env-get-outdated", lambda *args: steps.append("build") or [])
    edit(app, "articles/first-article", "A claim", "A claim served first")
    try:
        answer = warm.build(
            False,
            [str(app.env.doc2path("articles/first-article"))],
            send_early=lambda message: steps.append(("early", message["early"])),
            wait_served=lambda timeout: steps.append(("wait", timeout)),
        )
    finally:
        worker["wait_for_saved_environment"]()
    assert answer["ok"], answer["errors"]
    assert steps == [
        ("early", "articles/first-article.html"),
        ("wait", worker["EARLY_SERVED_WAIT"]),
        "build",
    ]
