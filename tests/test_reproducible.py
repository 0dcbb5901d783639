"""Reproducible and resilient builds of the real site.

- Reproducible: with ``SOURCE_DATE_EPOCH`` set, two clean builds (into
  different folders, with different hash seeds) give byte-identical output;
  the test prints each format's tree hash (SHA-256 of the sorted
  "hash  path" lines of every file).
- Resilient: a build killed with SIGKILL partway, followed by a normal build
  into the same folders, gives the same output as a clean build.

Builds are real subprocesses, strict as ``make html``. :data:`FORMATS` maps
each output format to its build command, output folder and kill points, so
another format (the PDF) joins both tests by adding a row.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import DOCS

pytestmark = [pytest.mark.slow]

# A fixed moment (2026-11-24 00:00 UTC): anything dated by the build uses it.
SOURCE_DATE_EPOCH = "1763942400"


def sphinx_command(builder: str) -> Callable[[Path], list[str]]:
    """``python -m sphinx -M <builder> docs BUILDDIR``, strict, as the Makefile runs it."""

    def command(builddir: Path) -> list[str]:
        return [sys.executable, "-m", "sphinx", "-M", builder, str(DOCS), str(builddir), "-n", "-W", "--keep-going"]

    return command


@dataclass(frozen=True)
class Format:
    command: Callable[[Path], list[str]]  # the build, given the build folder
    output: str  # its output folder under the build folder
    # Where to kill a build: a name, and the start of the progress line at which to.
    kill_points: dict[str, str] = field(default_factory=dict)


def typst_command(builddir: Path) -> list[str]:
    """``make pdf``: our ``typst`` builder on the HTML build's doctrees folder."""
    return [sys.executable, "-m", "sphinx", "-b", "typst", "-d", str(builddir / "doctrees"), str(DOCS),
            str(builddir / "pdf"), "-n", "-W", "--keep-going"]  # fmt: skip


#: Output format -> how to build it, where it lands and where to kill it.
FORMATS = {
    "html": Format(
        sphinx_command("html"),
        "html",
        # Halfway through writing pages, and between the pages and the search
        # index (a build killed there used to break the next one: "search
        # index couldn't be loaded", then a traceback).
        {"writing-pages": "writing output... [", "before-search-index": "generating indices"},
    ),
    # Killed as it starts typesetting the article (before its PDF is complete).
    "pdf": Format(typst_command, "pdf", {"typesetting": "writing output... ["}),
}
KILLS = [pytest.param(name, point, id=f"{name}-{point}") for name in FORMATS for point in FORMATS[name].kill_points]


def environment(hash_seed: int) -> dict[str, str]:
    # Unbuffered, so the resilience test sees each progress line as it is printed.
    return {
        **os.environ,
        "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
        "PYTHONHASHSEED": str(hash_seed),
        "PYTHONUNBUFFERED": "1",
        # Progress lines are matched as text; Sphinx colours them when CI=true.
        "NO_COLOR": "1",
    }


def build(builddir: Path, fmt: Format, hash_seed: int = 0) -> Path:
    result = subprocess.run(
        fmt.command(builddir), env=environment(hash_seed), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return builddir / fmt.output


def killed_build(builddir: Path, fmt: Format, at: str) -> str:
    """Start a build, SIGKILL it when it prints a line starting with *at*; return what it printed."""
    process = subprocess.Popen(
        fmt.command(builddir),
        env=environment(0),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    printed = []
    for line in process.stdout:
        printed.append(line)
        if line.startswith(at):
            process.send_signal(signal.SIGKILL)
            break
    process.stdout.close()
    process.wait()
    assert process.returncode == -signal.SIGKILL, "".join(printed)  # it really was killed partway
    return "".join(printed)


def file_hashes(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def tree_hash(hashes: dict[str, str]) -> str:
    """One SHA-256 for a whole output tree: of the sorted "hash  path" lines."""
    return hashlib.sha256("".join(f"{h}  {p}\n" for p, h in sorted(hashes.items())).encode()).hexdigest()


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """A clean build of each format (by name, its files' hashes): the reference for both tests."""
    return {
        name: file_hashes(build(tmp_path_factory.mktemp(f"clean-{name}"), fmt, hash_seed=1))
        for name, fmt in FORMATS.items()
    }


def differing(first: dict[str, str], second: dict[str, str]) -> list[str]:
    return sorted(path for path in first.keys() | second.keys() if first.get(path) != second.get(path))


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_two_clean_builds_are_byte_identical(clean, tmp_path: Path, name: str):
    first = clean[name]
    second = file_hashes(build(tmp_path / "second", FORMATS[name], hash_seed=2))
    assert first, "the build wrote nothing"
    assert not differing(first, second), f"differ between two clean builds: {differing(first, second)}"
    print(f"{name}: {len(first)} files, tree SHA-256 {tree_hash(first)}")


@pytest.mark.parametrize(("name", "point"), KILLS)
def test_a_build_after_a_killed_one_equals_a_clean_build(clean, tmp_path: Path, name: str, point: str):
    reference, fmt = clean[name], FORMATS[name]
    killed_build(tmp_path, fmt, fmt.kill_points[point])
    assert differing(file_hashes(tmp_path / fmt.output), reference)  # the kill left it incomplete
    after = file_hashes(build(tmp_path, fmt))
    assert not differing(reference, after), f"differ from a clean build: {differing(reference, after)}"
