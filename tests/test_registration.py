"""Our modules register without hidden ordering: any order of ``MODULES`` gives the same site.

Where one module's work must follow another's (the PDF's Download link goes
under the byline ``articles`` adds), event priorities say so, not the order
of ``citedhealth.MODULES``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import citedhealth
import pytest
from conftest import ROOTS

ROOT = "citing"


def build(make_app, tmp_path: Path, name: str, builder: str) -> dict[str, bytes]:
    srcdir = tmp_path / name
    shutil.copytree(ROOTS / f"test-{ROOT}", srcdir)
    app = make_app(builder, srcdir=srcdir, freshenv=True)
    try:
        app.build()
    finally:
        app.cleanup()
    assert app.statuscode == 0, app.warning.getvalue()
    outdir = Path(app.outdir)
    return {
        str(p.relative_to(outdir)): p.read_bytes()
        for p in sorted(outdir.rglob("*"))
        if p.is_file() and p.suffix in {".html", ".js", ".bib", ".ris", ".typ"}
    }


@pytest.mark.parametrize(("builder", "order"), [("html", "reversed"), ("html", "rotated"), ("typst", "reversed")])
def test_the_order_of_modules_does_not_change_the_site(make_app, tmp_path, monkeypatch, builder, order):
    expected = build(make_app, tmp_path, "as-listed", builder)
    modules = citedhealth.MODULES
    changed = modules[::-1] if order == "reversed" else modules[len(modules) // 2 :] + modules[: len(modules) // 2]
    monkeypatch.setattr(citedhealth, "MODULES", changed)
    got = build(make_app, tmp_path, order, builder)
    assert any(name.startswith("articles/") or name.endswith(".typ") for name in expected)
    assert [name for name in got if got[name] != expected.get(name)] == []
    assert got.keys() == expected.keys()
