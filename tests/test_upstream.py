"""The upstream contract: the versions we support, and every reach into another project's internals.

``citedhealth/upstream.py`` lists each reach with a fingerprint of the
upstream code; here each fingerprint is recomputed (one test per row, named
by the upstream object), and our modules are scanned so that a new private
name or a new override of an upstream method cannot be added without a row.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
from pathlib import Path

import pytest
from citedhealth import upstream
from citedhealth.upstream import REACHES, SUPPORTED, drift
from conftest import DOCS, REPO
from sphinx.errors import VersionRequirementError

PACKAGE = DOCS / "_ext" / "citedhealth"
#: Upstream methods meant to be overridden (the documented extension API): no row needed.
EXTENSION_API = {
    "docutils.parsers.rst.Directive.run",
    "sphinx.transforms.post_transforms.SphinxPostTransform.run",
    "sphinx.builders.Builder.init",
    "sphinx.builders.Builder.get_target_uri",
    "sphinx.builders.Builder.get_outdated_docs",
    "sphinx.builders.Builder.prepare_writing",
    "sphinx.builders.Builder.write_doc",
    "sphinx.builders.Builder.finish",
    "sphinx.util.docutils.SphinxTranslator.__init__",
    "sphinx.util.docutils.SphinxTranslator.unknown_visit",
    "docutils.nodes.NodeVisitor.unknown_departure",
}
#: Underscored names that are public API (namedtuple's methods, os._exit).
PUBLIC = {"_replace", "_asdict", "_fields", "_make", "_exit"}


def our_sources() -> list[Path]:
    # upstream.py names upstream objects in strings only.
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "upstream.py")


# -- Versions ---------------------------------------------------------------------------


def test_the_installed_versions_are_the_supported_ones():
    assert upstream.version_problems() == []


def test_a_version_outside_the_supported_range_is_refused_with_what_to_do(monkeypatch):
    monkeypatch.setitem(SUPPORTED, "pybtex", ">=0.27")
    with pytest.raises(VersionRequirementError) as refused:
        upstream.check_versions()
    message = str(refused.value)
    assert "pybtex 0.26.1 is installed" in message
    assert "pybtex>=0.27" in message
    assert "citedhealth/upstream.py" in message and "make test-fast" in message


@pytest.mark.sphinx("html", testroot="editorial-note")
def test_setup_checks_the_versions(app, monkeypatch):
    # The extension's setup ran for this app with the real table: it passed.
    assert "citedhealth" in app.extensions
    monkeypatch.setitem(SUPPORTED, "sphinxcontrib-bibtex", "<2")
    with pytest.raises(VersionRequirementError, match=re.escape("sphinxcontrib-bibtex 2.7.0 is installed")):
        upstream.check_versions(app)
    with pytest.raises(VersionRequirementError):
        app.require_sphinx((99, 0))


# -- Fingerprints ------------------------------------------------------------------------


@pytest.mark.parametrize("reach", REACHES, ids=[r.upstream for r in REACHES])
def test_upstream_code_is_what_we_checked(reach):
    problem = drift(reach)
    assert problem is None, problem


@pytest.mark.parametrize(
    "name",
    [
        "sphinxcontrib.bibtex.domain.BibtexDomain.env_updated",
        "sphinx.search.IndexBuilder.prune",
        "sphinx.writers.html5.HTML5Translator.visit_title",
    ],
)
def test_one_changed_line_of_upstream_code_fails_naming_it(name, monkeypatch):
    reach = next(r for r in REACHES if r.upstream == name)
    target = inspect.unwrap(upstream.resolve(name))
    getsource = inspect.getsource

    def edited(obj):
        source = getsource(obj)
        if obj is not target:
            return source
        lines = source.splitlines(keepends=True)
        # One line of the body changed, as an upgrade would change it.
        last = max(i for i, line in enumerate(lines) if line.strip() and not line.strip().startswith("#"))
        lines[last] = lines[last].rstrip("\n") + " or None\n"
        return "".join(lines)

    monkeypatch.setattr(inspect, "getsource", edited)
    problem = drift(reach)
    assert problem is not None
    assert f"upstream {name} changed" in problem
    assert f"citedhealth.{reach.ours}" in problem
    assert reach.recheck in problem


def test_comments_and_blank_lines_do_not_count():
    source = "def f(x):\n    # why\n\n    return x   \n"
    assert upstream.normalise(source) == upstream.normalise("    def f(x):\n        return x\n")
    assert upstream.normalise(source) != upstream.normalise("def f(x):\n    return x + 1\n")


# -- The table covers our code -------------------------------------------------------------


def defined_names(trees: list[ast.AST]) -> set[str]:
    """Names our own code defines: functions, classes, attributes of self/cls, class-level names."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}:
                    names.add(node.attr)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and "citedhealth" not in name and name not in PUBLIC


@functools.cache
def private_upstream_names() -> dict[str, set[str]]:
    """Private name -> our files using it, for every private name our code reaches in another project."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in our_sources()}
    ours = defined_names(list(trees.values()))
    found: dict[str, set[str]] = {}

    def note(name: str, path: Path) -> None:
        found.setdefault(name, set()).add(str(path.relative_to(REPO)))

    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for part in node.module.split("."):
                    if private(part):
                        note(part, path)
                for alias in node.names:
                    if private(alias.name):
                        note(alias.name, path)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    for part in alias.name.split("."):
                        if private(part):
                            note(part, path)
            elif isinstance(node, ast.Attribute) and private(node.attr) and node.attr not in ours:
                note(node.attr, path)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"getattr", "hasattr", "setattr", "delattr"}
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
                and private(node.args[1].value)
                and node.args[1].value not in ours
            ):
                note(node.args[1].value, path)
    return found


def test_every_private_upstream_name_we_use_has_a_row():
    covered = {name for reach in REACHES for name in reach.names}
    missing = {name: sorted(files) for name, files in private_upstream_names().items() if name not in covered}
    assert not missing, (
        "private names of other projects used without a row in citedhealth/upstream.py "
        f"(add one, with the names it covers): {missing}"
    )


def test_every_name_a_row_covers_is_still_used():
    used = private_upstream_names()
    stale = sorted(name for reach in REACHES for name in reach.names if name not in used)
    assert not stale, f"rows of citedhealth/upstream.py cover names no module uses any more: {stale}"


def our_modules() -> list[str]:
    modules = []
    for path in our_sources():
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        # The preview worker runs as a script in its own process (and patches on import).
        if relative.name not in {"__main__", "worker"}:
            modules.append(".".join(relative.parts).removesuffix(".__init__"))
    return modules


def upstream_overrides() -> dict[str, str]:
    """Dotted upstream method -> our class overriding it, for every class of ours with an upstream base."""
    packages = set(upstream.DISTRIBUTIONS)
    found = {}
    for module_name in our_modules():
        module = importlib.import_module(module_name)
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module_name:
                continue
            for name, value in vars(cls).items():
                if not (inspect.isfunction(value) or isinstance(value, property | classmethod | staticmethod)):
                    continue
                owner = next((base for base in cls.__mro__[1:] if name in vars(base)), None)
                if owner is None or owner.__module__.split(".")[0] not in packages:
                    continue
                found[f"{owner.__module__}.{owner.__qualname__}.{name}"] = f"{module_name}.{cls.__qualname__}"
    return found


def test_every_override_of_an_upstream_method_has_a_row():
    rows = {reach.upstream for reach in REACHES}
    missing = {}
    for method, ours in upstream_overrides().items():
        owner = method.rsplit(".", 1)[0]
        if method in EXTENSION_API or method in rows or owner in rows:
            continue
        missing[method] = ours
    assert not missing, f"upstream methods overridden without a row in citedhealth/upstream.py: {missing}"


def module_of(path_or_module: str) -> str:
    """``citations`` for docs/_ext/citedhealth/citations.py or citedhealth.citations; ``preview`` for the preview's."""
    parts = re.split(r"[./]", path_or_module.removesuffix(".py"))
    package = parts.index("citedhealth")
    return parts[package + 1]


def test_each_row_names_the_module_that_depends_on_it():
    wrong = []
    for name, files in private_upstream_names().items():
        for reach in (r for r in REACHES if name in r.names):
            if reach.ours not in {module_of(f) for f in files}:
                wrong.append(f"{reach.upstream}: {name} is used in {sorted(files)}, not {reach.ours}")
    rows = {reach.upstream: reach for reach in REACHES}
    for method, ours in upstream_overrides().items():
        reach = rows.get(method) or rows.get(method.rsplit(".", 1)[0])
        if reach is not None and reach.ours != module_of(ours):
            wrong.append(f"{reach.upstream}: overridden in {ours}, not {reach.ours}")
    assert not wrong, wrong


def test_every_row_names_one_of_our_modules():
    modules = {path.stem for path in PACKAGE.glob("*.py")} | {"preview"}
    assert {reach.ours for reach in REACHES} <= modules
    assert len({reach.upstream for reach in REACHES}) == len(REACHES)
    for reach in REACHES:
        assert reach.distribution in SUPPORTED, reach.upstream
        assert re.fullmatch(r"[0-9a-f]{16}", reach.fingerprint), reach.upstream


def test_the_readme_shows_the_table():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert upstream.markdown_table() in readme, (
        "README.md's table of upstream internals differs from citedhealth/upstream.py: "
        "paste the output of `python -m citedhealth.upstream --markdown` into README.md"
    )
