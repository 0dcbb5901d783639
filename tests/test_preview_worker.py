"""The preview's warm Sphinx process (preview/worker.py), on a small root, in-process."""

from __future__ import annotations

import runpy
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
