"""Code-block post-transforms (highlight.py): Sphinx's own, not run on pages without code."""

from __future__ import annotations

import shutil

import sphinx.transforms.post_transforms.code as sphinx_code
from citedhealth.highlight import QuickHighlightLanguage, QuickTrimDoctestFlags
from conftest import ROOTS

DOCTEST_PAGE = """# Doctest

```{highlight} pycon
```

```
>>> print("flags")  # doctest: +SKIP
flags
```
"""


def build(make_app, tmp_path, name, upstream=False):
    srcdir = tmp_path / name / "src"
    shutil.copytree(ROOTS / "test-code-highlighting", srcdir)
    (srcdir / "doctest.md").write_text(DOCTEST_PAGE, encoding="utf-8")
    index = srcdir / "index.md"
    index.write_text(index.read_text(encoding="utf-8").replace("plain\n", "plain\ndoctest\n"), encoding="utf-8")
    app = make_app("html", srcdir=srcdir, builddir=tmp_path / name / "build", freshenv=True)
    if upstream:
        post_transforms = app.registry.get_post_transforms()
        post_transforms[post_transforms.index(QuickHighlightLanguage)] = sphinx_code.HighlightLanguageTransform
        post_transforms[post_transforms.index(QuickTrimDoctestFlags)] = sphinx_code.TrimDoctestFlagsTransform
    app.build()
    return app


def test_pages_are_what_sphinxs_own_transforms_make(make_app, tmp_path, monkeypatch):
    visited: list[str] = []

    class CountingVisitor(sphinx_code.HighlightLanguageVisitor):
        def __init__(self, document, default_language):
            visited.append(document["source"])
            super().__init__(document, default_language)

    monkeypatch.setattr(sphinx_code, "HighlightLanguageVisitor", CountingVisitor)
    ours = build(make_app, tmp_path, "ours")
    visited_by_ours = sorted(source.rsplit("/", 1)[-1] for source in visited)
    visited.clear()
    upstream = build(make_app, tmp_path, "upstream", upstream=True)
    assert sphinx_code.HighlightLanguageTransform in upstream.registry.get_post_transforms()
    assert sphinx_code.HighlightLanguageTransform not in ours.registry.get_post_transforms()
    pages = sorted(path.relative_to(ours.outdir) for path in ours.outdir.rglob("*.html"))
    assert {"block.html", "doctest.html", "plain.html"} <= {str(page) for page in pages}
    for page in pages:
        assert (ours.outdir / page).read_bytes() == (upstream.outdir / page).read_bytes(), page
    # The code pages were transformed: the highlight directive's language, the doctest flag trimmed ...
    doctest = (ours.outdir / "doctest.html").read_text(encoding="utf-8")
    assert "highlight-pycon" in doctest and "doctest: +SKIP" not in doctest
    assert "highlight-python" in (ours.outdir / "block.html").read_text(encoding="utf-8")
    # ... and only pages with code were walked (Sphinx's walks every page).
    assert "plain.md" not in visited_by_ours and "block.md" in visited_by_ours and "doctest.md" in visited_by_ours
    assert "plain.md" in sorted(source.rsplit("/", 1)[-1] for source in visited)
