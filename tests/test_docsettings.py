"""Docutils settings (docsettings.py): a parser made once, settings equal to a fresh parser's, per document."""

from __future__ import annotations

import inspect
import warnings

import myst_parser.mdit_to_docutils.base as myst_renderer
import sphinx.util.docutils as sphinx_docutils
from citedhealth import docsettings
from docutils.frontend import OptionParser
from docutils.readers import standalone
from myst_parser.parsers.sphinx_ import MystParser


def fresh(components, defaults=None, read_config_files=False):
    with warnings.catch_warnings(action="ignore", category=DeprecationWarning):
        return OptionParser(
            components=components, defaults=defaults, read_config_files=read_config_files
        ).get_default_values()


def comparable(values) -> dict:
    settings = dict(vars(values))
    settings.pop("record_dependencies")
    return settings


def test_values_equal_a_fresh_parsers_and_are_the_documents_own(tmp_path, monkeypatch):
    config = tmp_path / "docutils.conf"
    config.write_text("[general]\nauto_id_prefix: fromconf\n", encoding="utf-8")
    monkeypatch.setenv("DOCUTILSCONFIG", str(config))
    defaults = {"traceback": True, "auto_id_prefix": "id", "tab_width": 4}
    components = (standalone.Reader, MystParser())
    first = docsettings.default_values(components, defaults, read_config_files=True)
    second = docsettings.default_values((standalone.Reader, MystParser()), dict(defaults), read_config_files=True)
    expected = fresh(components, defaults, read_config_files=True)
    assert comparable(first) == comparable(expected) == comparable(second)
    assert first.auto_id_prefix == "fromconf"  # the configuration file still wins over the defaults
    # Each document its own Values and its own list of dependencies (Sphinx's collector reads it).
    assert first is not second
    assert first.record_dependencies is not second.record_dependencies
    first.record_dependencies.add("one.md")
    assert second.record_dependencies.list == []


def test_a_changed_configuration_file_is_read_again(tmp_path, monkeypatch):
    config = tmp_path / "docutils.conf"
    config.write_text("[general]\nauto_id_prefix: before\n", encoding="utf-8")
    monkeypatch.setenv("DOCUTILSCONFIG", str(config))
    assert docsettings.default_values((standalone.Reader,), {}, read_config_files=True).auto_id_prefix == "before"
    config.write_text("[general]\nauto_id_prefix: afterwards\n", encoding="utf-8")
    assert docsettings.default_values((standalone.Reader,), {}, read_config_files=True).auto_id_prefix == "afterwards"
    config.unlink()
    assert docsettings.default_values((standalone.Reader,), {}, read_config_files=True).auto_id_prefix == "%"


def test_different_defaults_make_different_settings():
    one = docsettings.default_values((standalone.Reader,), {"tab_width": 2})
    other = docsettings.default_values((standalone.Reader,), {"tab_width": 3})
    assert (one.tab_width, other.tab_width) == (2, 3)


def build(make_app, tmp_path, name):
    srcdir = tmp_path / name / "src"
    srcdir.mkdir(parents=True)
    (srcdir / "conf.py").write_text(
        'extensions = ["myst_parser", "citedhealth.docsettings"]\nexclude_patterns = ["snippet.md"]\n', encoding="utf-8"
    )
    (srcdir / "index.md").write_text("# Home\n\n```{toctree}\none\ntwo\n```\n", encoding="utf-8")
    (srcdir / "one.md").write_text(
        "# One\n\n```{include} snippet.md\n```\n\nA footnote[^a].\n\n[^a]: Here.\n", encoding="utf-8"
    )
    (srcdir / "two.md").write_text("# Two\n\nNothing included, a footnote[^b].\n\n[^b]: There.\n", encoding="utf-8")
    (srcdir / "snippet.md").write_text("Included text.\n", encoding="utf-8")
    # docutils.conf beside conf.py is read, as Sphinx promises (each page depends on it).
    (srcdir / "docutils.conf").write_text("[general]\nauto_id_prefix: cfg\n", encoding="utf-8")
    app = make_app("html", srcdir=srcdir, builddir=tmp_path / name / "build", freshenv=True)
    app.build()
    return app


def test_a_build_reads_each_document_as_with_sphinxs_own_settings(make_app, tmp_path, monkeypatch):
    ours = build(make_app, tmp_path, "ours")
    assert sphinx_docutils._get_settings is docsettings.sphinx_settings
    monkeypatch.setattr(docsettings, "install", lambda: None)
    monkeypatch.setattr(sphinx_docutils, "_get_settings", inspect.unwrap(docsettings.sphinx_settings))
    monkeypatch.setattr(myst_renderer, "get_default_settings", inspect.unwrap(docsettings.myst_default_settings))
    upstream = build(make_app, tmp_path, "upstream")

    def relative(app):
        return {
            doc: sorted(str(path.relative_to(app.srcdir)) for path in paths)
            for doc, paths in app.env.dependencies.items()
        }

    # Each document its own dependencies: the include of one is not two's.
    assert relative(ours) == relative(upstream)
    assert relative(ours)["one"] == ["docutils.conf", "snippet.md"]
    assert relative(ours)["two"] == ["docutils.conf"]
    for page in ("one.html", "two.html"):
        assert (ours.outdir / page).read_bytes() == (upstream.outdir / page).read_bytes()
    assert "Included text." in (ours.outdir / "one.html").read_text(encoding="utf-8")
