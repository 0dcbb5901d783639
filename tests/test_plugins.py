"""pybtex's plugin lookups read one index of the installed packages (``citedhealth.plugins``)."""

from __future__ import annotations

import importlib.metadata

import pybtex.plugin
import pytest


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_plugin_lookups_find_what_the_installed_packages_declare(app, monkeypatch):
    # Setting up our extension installed the index.
    assert getattr(pybtex.plugin.entry_points, "citedhealth_index", False)
    lookups = [("pybtex.style.names", "last"), ("pybtex.backends", "docutils"), ("pybtex.database.input", "bibtex")]
    declared = {lookup: importlib.metadata.entry_points(group=lookup[0], name=lookup[1]) for lookup in lookups}
    # importlib.metadata.entry_points() reads every package through distributions().
    scans = []
    distributions = importlib.metadata.distributions
    monkeypatch.setattr(importlib.metadata, "distributions", lambda **kw: scans.append(kw) or distributions(**kw))
    for (group, name), (entry_point,) in declared.items():
        assert pybtex.plugin.find_plugin(group, name) is entry_point.load()
    # ...without reading the packages' metadata again.
    assert scans == []
    app.build()
    assert app.warning.getvalue() == ""


@pytest.mark.sphinx("html", testroot="two-articles", freshenv=True)
def test_sphinxcontrib_bibtex_lookups_read_the_index_too(app, monkeypatch):
    import sphinxcontrib.bibtex
    import sphinxcontrib.bibtex.plugin

    group = "sphinxcontrib.bibtex.style.referencing"
    name = app.config.bibtex_reference_style
    (entry_point,) = importlib.metadata.entry_points(group=group, name=name)
    scans = []
    distributions = importlib.metadata.distributions
    monkeypatch.setattr(importlib.metadata, "distributions", lambda **kw: scans.append(kw) or distributions(**kw))
    assert sphinxcontrib.bibtex.plugin.find_plugin(group, name) is entry_point.load()
    with pytest.raises(ImportError):
        sphinxcontrib.bibtex.plugin.find_plugin(group, "no-such-style")
    # What the live preview's worker calls before each warm build: no scan of the packages either.
    sphinxcontrib.bibtex.builder_inited_cite(app)
    assert type(app.env.get_domain("cite").reference_style) is entry_point.load()
    assert scans == []
