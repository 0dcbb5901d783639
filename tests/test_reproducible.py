"""Reproducible and resilient builds of the real site.

- Reproducible: with ``SOURCE_DATE_EPOCH`` set, two clean builds (into
  different folders, with different hash seeds) give byte-identical output.
- Resilient: a build killed with SIGKILL partway, followed by a normal build
  into the same folders, gives the same output as a clean build.

Builds are real subprocesses, strict as ``make html``. :data:`FORMATS` maps
each output format to how it is built and where its output lands, so another
format (the PDF) joins both tests by adding a row.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DOCS

# A fixed moment (2026-11-24 00:00 UTC): anything dated by the build uses it.
SOURCE_DATE_EPOCH = "1763942400"


@dataclass(frozen=True)
class Format:
    builder: str  # for sphinx -M
    output: str  # its output folder under the build folder


#: Output format -> how to build it.
FORMATS = {"html": Format("html", "html")}


def command(builddir: Path, fmt: Format) -> list[str]:
    return [sys.executable, "-m", "sphinx", "-M", fmt.builder, str(DOCS), str(builddir), "-n", "-W", "--keep-going"]


def environment(hash_seed: int) -> dict[str, str]:
    # Unbuffered, so the resilience test sees each progress line as it is printed.
    return {
        **os.environ,
        "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
        "PYTHONHASHSEED": str(hash_seed),
        "PYTHONUNBUFFERED": "1",
    }


def build(builddir: Path, fmt: Format, hash_seed: int = 0) -> Path:
    result = subprocess.run(
        command(builddir, fmt), env=environment(hash_seed), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return builddir / fmt.output


def killed_build(builddir: Path, fmt: Format, at: str) -> str:
    """Start a build, SIGKILL it when it prints a line starting with *at*; return what it printed."""
    process = subprocess.Popen(
        command(builddir, fmt),
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


@pytest.fixture(scope="module", params=sorted(FORMATS))
def clean(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """A clean build of each format, the reference for both tests."""
    fmt = FORMATS[request.param]
    return request.param, file_hashes(build(tmp_path_factory.mktemp(f"clean-{request.param}"), fmt, hash_seed=1))


def test_two_clean_builds_are_byte_identical(clean, tmp_path: Path):
    name, first = clean
    second = file_hashes(build(tmp_path / "second", FORMATS[name], hash_seed=2))
    assert len(first) > 10  # the whole site, not an empty folder
    differing = sorted(path for path in first.keys() | second.keys() if first.get(path) != second.get(path))
    assert not differing, f"differ between two clean builds: {differing}"
    print(f"{name}: {len(first)} files, tree SHA-256 {tree_hash(first)}")


# Where to kill: halfway through writing pages, and between the pages and the
# search index (a build killed there used to break the next one: "search
# index couldn't be loaded", then a traceback).
KILL_POINTS = {"writing-pages": "writing output... [", "before-search-index": "generating indices"}


@pytest.mark.parametrize("at", sorted(KILL_POINTS))
def test_a_build_after_a_killed_one_equals_a_clean_build(clean, tmp_path: Path, at: str):
    name, reference = clean
    fmt = FORMATS[name]
    killed_build(tmp_path, fmt, KILL_POINTS[at])
    assert file_hashes(tmp_path / fmt.output) != reference  # the kill left it incomplete
    after = file_hashes(build(tmp_path, fmt))
    differing = sorted(path for path in reference.keys() | after.keys() if reference.get(path) != after.get(path))
    assert not differing, f"differ from a clean build: {differing}"
