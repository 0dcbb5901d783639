"""Each document's docutils settings, from a settings parser made once per process, not once per document.

Contract: every document is read with settings equal to those Sphinx and
MyST-Parser make for it (the components' defaults, Sphinx's overrides from
``env.settings``, and the docutils configuration files, ``docutils.conf``
beside ``conf.py`` included), each document with its own ``Values`` (so its
own list of dependencies, which Sphinx's dependency collector reads).

Why: docutils builds its settings with an ``optparse`` parser that declares
about 150 options each time it is made. Sphinx makes one for every document
it reads (``sphinx.util.docutils._get_settings``, reading the configuration
files each time), and MyST-Parser makes another one, thrown away, for every
document (``DocutilsRenderer.setup_render`` evaluates its default
``make_document()`` even when Sphinx passes the document). Together about
3 ms of each article's read (profile of 1000 generated articles), for a
result that only changes when the components, Sphinx's defaults or a
configuration file do.

Here :func:`default_values` keeps one parser per set of components, default
values (by identity, kept alive with the parser so an identity cannot be
reused) and configuration files (by path, size and modification time), and
asks it for fresh ``Values`` per document, as docutils' own
``get_default_settings`` does. Leaning on internals: Sphinx's
``_get_settings`` and the name ``get_default_settings`` inside MyST-Parser's
renderer module are replaced (see ``upstream.py``); nothing upstream is wrong,
each call is just rebuilt from scratch (not reported upstream).
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import myst_parser.mdit_to_docutils.base as myst_renderer
import sphinx.util.docutils as sphinx_docutils
from docutils.frontend import OptionParser, Values
from docutils.utils import DependencyList

if TYPE_CHECKING:
    from sphinx.application import Sphinx

#: Parsers kept, newest last; a build uses two or three (Sphinx's, MyST's, a nested parse's).
KEPT = 8

#: key -> (parser, what the key's identities refer to)
_parsers: dict[tuple, tuple[OptionParser, tuple]] = {}


def component_key(component: Any) -> tuple:
    """What a component adds to the parser: its class, and the settings it declares (by identity)."""
    cls = component if isinstance(component, type) else type(component)
    declared = (
        getattr(component, "settings_spec", None),
        getattr(component, "settings_defaults", None),
        getattr(component, "settings_default_overrides", None),
        getattr(component, "relative_path_settings", None),
    )
    return (cls, *(id(part) for part in declared)), declared


def config_files_key() -> tuple:
    """The configuration files docutils would read now, each with its size and modification time."""
    files = []
    for path in OptionParser.get_standard_config_files():
        try:
            status = os.stat(path)
        except OSError:
            files.append((str(path), None))
        else:
            files.append((str(path), status.st_size, status.st_mtime_ns))
    return tuple(files)


def default_values(
    components: tuple, defaults: Mapping[str, Any] | None = None, read_config_files: bool = False
) -> Values:
    """``OptionParser(components, defaults, read_config_files).get_default_values()``, the parser made once."""
    defaults = dict(defaults or {})
    parts = [component_key(component) for component in components]
    key = (
        tuple(part[0] for part in parts),
        tuple((name, id(value)) for name, value in defaults.items()),
        bool(read_config_files),
        config_files_key() if read_config_files else None,
    )
    kept = _parsers.get(key)
    if kept is None:
        with warnings.catch_warnings(action="ignore", category=DeprecationWarning):
            parser = OptionParser(components=components, defaults=defaults, read_config_files=read_config_files)
        # Keep what the key identifies alive, so no other object takes its id while the parser is kept.
        kept = _parsers[key] = (parser, (tuple(defaults.values()), tuple(part[1] for part in parts), components))
        while len(_parsers) > KEPT:
            del _parsers[next(iter(_parsers))]
    with warnings.catch_warnings(action="ignore", category=DeprecationWarning):
        values = kept[0].get_default_values()
    # A fresh parser gives each document fresh objects where the configuration files gave some: the
    # list of dependencies above all (a Values made while reading them holds one, which lands in
    # the parser's defaults), and any list setting. Copy those; the caller's own defaults are
    # shared by every document with a fresh parser too, so they stay shared.
    for name, value in vars(values).items():
        if name in defaults and defaults[name] is value:
            continue
        if isinstance(value, DependencyList):
            fresh = DependencyList()
            fresh.file, fresh.list = value.file, list(value.list)
            setattr(values, name, fresh)
        elif isinstance(value, (list, dict, set)):
            setattr(values, name, copy.copy(value))
    return values


def sphinx_settings(*components: Any, defaults: Mapping[str, Any], read_config_files: bool = False) -> Values:
    """Stands in for ``sphinx.util.docutils._get_settings`` (same signature, same result)."""
    return default_values(components, defaults, read_config_files)


def myst_default_settings(*components: Any) -> Values:
    """Stands in for ``docutils.frontend.get_default_settings`` inside MyST-Parser's renderer module."""
    return default_values(components)


# The originals, for upstream.py's fingerprints (inspect.unwrap) however often install() ran.
sphinx_settings.__wrapped__ = getattr(sphinx_docutils._get_settings, "__wrapped__", sphinx_docutils._get_settings)
myst_default_settings.__wrapped__ = getattr(
    myst_renderer.get_default_settings, "__wrapped__", myst_renderer.get_default_settings
)


def install() -> None:
    """Put the stand-ins in place (idempotent)."""
    sphinx_docutils._get_settings = sphinx_settings
    myst_renderer.get_default_settings = myst_default_settings


def setup(app: Sphinx) -> None:
    install()
