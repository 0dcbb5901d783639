"""pybtex finds its plugins in one index of the installed packages, made once per process.

Contract: after ``index_pybtex_plugins()``, pybtex's plugin lookups
(``pybtex.plugin.find_plugin``, ``register_plugin``) read the installed
packages' entry points from an index made at that moment, instead of reading
every package's metadata again on each call. What they find is the same: the
index is ``importlib.metadata.entry_points()`` itself, and its ``select`` is
what pybtex's own call does; only packages installed while the process runs
would be missed (the live preview restarts its worker for a new ``conf.py``
or extension, and a ``pip install`` means restarting it anyway).

Why: each lookup scans the metadata of every installed package, about 4 ms
here, and sphinxcontrib-bibtex, our style and our metadata make 15 or more of
them in every build, even with nothing to look up twice: 8 % of the time an
edit of one article took to rebuild. It is called before sphinxcontrib-bibtex
is imported, whose import makes four of them. (pybtex's ``find_plugin``
calls ``importlib.metadata.entry_points`` on every lookup: not reported
upstream; ``citedhealth/upstream.py`` pins the code this relies on.)

sphinxcontrib-bibtex's own plugin lookups (``sphinxcontrib.bibtex.plugin``:
its referencing styles) read the same index: ``builder_inited_cite`` makes
one on every build, about 15 ms, and 11 to 75 ms of each save in the live
preview, whose worker calls it again before each warm build to learn whether
the ``.bib`` files changed, before it renders the saved page.
"""

from __future__ import annotations

import functools
import importlib.metadata


def index_pybtex_plugins() -> None:
    import pybtex.plugin

    if getattr(pybtex.plugin.entry_points, "citedhealth_index", False):
        return
    installed = importlib.metadata.entry_points()

    # Each selection once: a select walks every entry point of every package
    # (about 2 ms), and sphinxcontrib-bibtex looks the same plugins up once per
    # citation when it resolves them (a tenth of `make pdf` at 200 articles).
    @functools.cache
    def select(selection: tuple) -> tuple:
        return tuple(installed.select(**dict(selection)))

    def entry_points(**selection):
        return select(tuple(sorted(selection.items())))

    entry_points.citedhealth_index = True
    pybtex.plugin.entry_points = entry_points
    # Imported after pybtex's lookups read the index: importing the package
    # (sphinxcontrib.bibtex) looks pybtex plugins up.
    import sphinxcontrib.bibtex.plugin

    # Its wrapper, which find_plugin and register_plugin call with (group, name).
    sphinxcontrib.bibtex.plugin._entry_points = lambda group, name: select((("group", group), ("name", name)))
