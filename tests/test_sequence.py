"""A seeded random sequence of what authors do, with the promise checked after every build.

The promise: after any sequence of edits and commands, the output equals a
clean build of the current sources, byte for byte, or the command fails,
naming the file at fault. Steps are drawn from: a good edit, a bad edit (a
mistake the build must refuse), a fix, adding, retitling, renaming and
deleting an article, changing an article's topics or its last review date
(both show on pages other than its own: topic pages, sidebars, the A–Z,
the landing page, the feed), editing the bibliography, a build killed (SIGKILL)
midway, and the builds ``make html``, ``make pdf`` and ``make site`` run.

After each build that exits 0, no mistake may be in the sources, and every
output folder it wrote must equal a clean build of the same sources. After
each build that fails, a mistake must be in the sources and the output must
name its file. Set ``SEQUENCE_SEED`` to replay a run; the seed is in every
failure message. ``SEQUENCE_STEPS`` sets the length (default 160).
"""

from __future__ import annotations

import ast
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import DOCS, extension_env, output_differences

pytestmark = [pytest.mark.slow]

SEED = int(os.environ.get("SEQUENCE_SEED", "20261129"))
STEPS = int(os.environ.get("SEQUENCE_STEPS", "160"))
SEED_ARTICLE = "articles/can-acupuncture-help-with-nerve-pain.md"
HEADING = "## Understanding Acupuncture"

#: Mistakes an author makes: the text inserted before HEADING, what the build must say.
MISTAKES = {
    "citation needed": "A trial found that this helps every patient.\n\n",
    "unknown citation key": "This is certain {cite:p}`nosuchkey2099`.\n\n",
    "undefined reference": "See {ref}`no-such-label-anywhere`.\n\n",
    "unknown directive": "```{no-such-directive}\n```\n\n",
}
#: Builder runs: what `make html`, `make pdf` and `make site` run, in order.
COMMANDS = {
    "html": ["html"],
    "pdf": ["typst"],
    "site": ["typst", "html"],
}
#: The output folder of each builder (under the build folder) compared with a clean build.
OUTPUTS = {"html": "html", "typst": "typst"}


def site_topics(conf: Path) -> list[str]:
    """``citedhealth_topics`` as *conf* sets it (read from its syntax tree, not run)."""
    for node in ast.parse(conf.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "citedhealth_topics" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"{conf} sets no citedhealth_topics")


def sphinx_command(srcdir: Path, builddir: Path, builder: str) -> list[str]:
    return [sys.executable, "-m", "sphinx", "-M", builder, str(srcdir), str(builddir), "-n", "-W", "--keep-going", "-q"]


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class Author:
    """The sources, the author's moves, and what the builds must do."""

    root: Path
    rng: random.Random
    log: list[str] = field(default_factory=list)
    #: article path (relative to docs/) -> the mistake in it
    mistakes: dict[str, str] = field(default_factory=dict)
    counter: int = 0
    clean_cache: dict[tuple[str, str], Path] = field(default_factory=dict)
    #: The seed article as it was: new articles are made from it.
    template: str = (DOCS / SEED_ARTICLE).read_text(encoding="utf-8")
    #: The site's topics (docs/conf.py), which an article's ``topics`` picks from.
    topics: list[str] = field(default_factory=lambda: site_topics(DOCS / "conf.py"))

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    @property
    def builddir(self) -> Path:
        return self.root / "_build"

    def articles(self) -> list[str]:
        return sorted(p.relative_to(self.docs).as_posix() for p in (self.docs / "articles").glob("*.md"))

    def good_articles(self) -> list[str]:
        return [a for a in self.articles() if a not in self.mistakes]

    def text(self, relpath: str) -> str:
        return (self.docs / relpath).read_text(encoding="utf-8")

    def write(self, relpath: str, text: str) -> None:
        (self.docs / relpath).write_text(text, encoding="utf-8")

    def fail(self, message: str) -> None:
        pytest.fail(f"{message}\nseed {SEED} (SEQUENCE_SEED={SEED} to replay); steps:\n  " + "\n  ".join(self.log))

    # -- Moves --------------------------------------------------------------------

    def edit(self) -> None:
        if not self.good_articles():
            return self.edit_bibliography()
        article = self.rng.choice(self.good_articles())
        self.counter += 1
        sentence = f"Authors revise their words, revision {self.counter}."
        self.write(article, self.text(article).replace(HEADING, f"{sentence}\n\n{HEADING}", 1))
        self.log.append(f"edit {article}")
        return None

    def bad_edit(self) -> None:
        candidates = self.good_articles()
        if not candidates:
            return self.edit_bibliography()
        article = self.rng.choice(candidates)
        kind = self.rng.choice(sorted(MISTAKES))
        self.write(article, self.text(article).replace(HEADING, MISTAKES[kind] + HEADING, 1))
        self.mistakes[article] = kind
        self.log.append(f"bad edit ({kind}) {article}")
        return None

    def fix(self) -> None:
        if not self.mistakes:
            return self.edit()
        article = self.rng.choice(sorted(self.mistakes))
        kind = self.mistakes.pop(article)
        self.write(article, self.text(article).replace(MISTAKES[kind], "", 1))
        self.log.append(f"fix {article}")
        return None

    def add(self) -> None:
        self.counter += 1
        slug = f"articles/sequence-article-{self.counter}.md"
        text = re.sub(r"(?m)^title: .*$", f"title: Sequence Article Number {self.counter}", self.template)
        self.write(slug, text)
        self.log.append(f"add {slug}")

    def retitle(self) -> None:
        article = self.rng.choice(self.articles())
        self.counter += 1
        self.write(article, re.sub(r"(?m)^title: .*$", f"title: Retitled Article {self.counter}", self.text(article)))
        self.log.append(f"retitle {article}")

    def retopic(self) -> None:
        article = self.rng.choice(self.articles())
        topics = self.rng.sample(self.topics, self.rng.randint(1, 3))
        text, count = re.subn(r"(?m)^topics: .*$", f"topics: [{', '.join(topics)}]", self.text(article))
        assert count == 1, f"{article} has no topics line"
        self.write(article, text)
        self.log.append(f"topics {topics} for {article}")

    def review(self) -> None:
        article = self.rng.choice(self.articles())
        # Between publication (2026-11-24) and the next review due (2027-11-24): a valid date.
        date = f"2027-{self.rng.randint(1, 10):02d}-{self.rng.randint(1, 28):02d}"
        text, count = re.subn(r"(?m)^last_reviewed: .*$", f"last_reviewed: {date}", self.text(article))
        assert count == 1, f"{article} has no last_reviewed line"
        self.write(article, text)
        self.log.append(f"last reviewed {date} for {article}")

    def rename(self) -> None:
        article = self.rng.choice(self.articles())
        self.counter += 1
        target = f"articles/renamed-article-{self.counter}.md"
        (self.docs / article).rename(self.docs / target)
        if article in self.mistakes:
            self.mistakes[target] = self.mistakes.pop(article)
        self.log.append(f"rename {article} -> {target}")

    def delete(self) -> None:
        articles = self.articles()
        if len(articles) < 2:
            return self.add()
        article = self.rng.choice(articles)
        (self.docs / article).unlink()
        self.mistakes.pop(article, None)
        self.log.append(f"delete {article}")
        return None

    def edit_bibliography(self) -> None:
        bib = self.docs / "references.bib"
        text = bib.read_text(encoding="utf-8")
        self.counter += 1
        text, count = re.subn(
            r"(title\s*=\s*\{Acupuncture and endorphins)[^}]*", rf"\1 (revision {self.counter})", text, count=1
        )
        assert count == 1, "the bibliography entry the sequence edits is gone"
        bib.write_text(text, encoding="utf-8")
        self.log.append("edit references.bib")

    # -- Builds --------------------------------------------------------------------

    def kill(self) -> None:
        builder = self.rng.choice(["html", "typst"])
        process = subprocess.Popen(
            sphinx_command(self.docs, self.builddir, builder),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=extension_env(),
        )
        delay = self.rng.uniform(0.2, 1.5)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.log.append(f"SIGKILL {builder} build after {delay:.2f} s (exit {process.returncode})")

    def build(self, command: str) -> None:
        stderr_all = ""
        failed = False
        for builder in COMMANDS[command]:
            result = subprocess.run(
                sphinx_command(self.docs, self.builddir, builder),
                capture_output=True,
                text=True,
                check=False,
                env=extension_env(),
            )
            stderr_all += result.stderr
            if result.returncode != 0:
                failed = True
                break  # make stops at the first failed step
        self.log.append(f"make {command}: {'failed' if failed else 'ok'}")
        if failed:
            if not self.mistakes:
                self.fail(f"make {command} failed with no mistake in the sources:\n{stderr_all}")
            for article in self.mistakes:
                if str(self.docs / article) not in stderr_all:
                    self.fail(f"make {command} failed without naming {article}:\n{stderr_all}")
            return
        if self.mistakes:
            self.fail(f"make {command} succeeded with mistakes in {sorted(self.mistakes)}:\n{stderr_all}")
        for builder in COMMANDS[command]:
            clean = self.clean_build(builder)
            found = output_differences(self.builddir / OUTPUTS[builder], clean)
            if found:
                self.fail(f"after make {command}, {builder} output differs from a clean build: {found[:10]}")

    def clean_build(self, builder: str) -> Path:
        key = (builder, tree_digest(self.docs))
        if key not in self.clean_cache:
            where = self.root / f"clean-{len(self.clean_cache)}"
            command = sphinx_command(self.docs, where, builder)
            result = subprocess.run(command, capture_output=True, text=True, check=False, env=extension_env())
            assert result.returncode == 0, f"seed {SEED}: clean build failed:\n{result.stderr}"
            self.clean_cache[key] = where / OUTPUTS[builder]
        return self.clean_cache[key]


#: How often each move is drawn.
WEIGHTS = {
    "edit": 4,
    "bad_edit": 3,
    "fix": 4,
    "add": 2,
    "retitle": 2,
    "retopic": 2,
    "review": 1,
    "rename": 1,
    "delete": 1,
    "edit_bibliography": 1,
    "kill": 1,
    "html": 4,
    "pdf": 1,
    "site": 1,
}


def test_random_sequence_keeps_the_promise(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    author = Author(tmp_path, rng)
    moves, weights = zip(*WEIGHTS.items(), strict=True)
    drawn: dict[str, int] = dict.fromkeys(moves, 0)
    for _ in range(STEPS):
        move = rng.choices(moves, weights)[0]
        drawn[move] += 1
        if move in COMMANDS:
            author.build(move)
        else:
            getattr(author, move)()
    # Last, with everything fixed: the site builds and equals a clean build.
    while author.mistakes:
        author.fix()
    author.build("site")
    print(f"seed {SEED}: {STEPS} steps, drawn {drawn}")
    assert sum(drawn.values()) == STEPS
    assert all(count > 0 for count in drawn.values()), drawn
