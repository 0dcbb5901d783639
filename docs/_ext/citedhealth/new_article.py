"""Start an article with one command: ``make new-article TITLE="Does Vitamin D Help Bones?"``.

Contract (``python -m citedhealth.new_article SOURCEDIR --title T [--topic X]
[--author A] [--slug S]``):

- Writes ``<SOURCEDIR>/<citedhealth_articles_dir>/<slug>.md``, the slug made
  from the title (:func:`slugify`: accents folded to ASCII, apostrophes
  dropped, every other run of punctuation or spaces a hyphen, lower case;
  ``--slug`` to choose another). It holds front matter the build accepts
  (title; a description to replace; the author, by default ``conf.py``'s
  ``author``; published and last reviewed today, next review due a year
  later; ``topics`` with ``--topic`` or else the first of
  ``citedhealth_topics``, and a comment asking the author to check it), the
  ``{disclaimer}``, an Introduction, and a References section whose
  bibliography is empty until the article cites something. It builds as it is
  under the strict build.
- "Today" is the build's today: ``citedhealth_today`` if ``conf.py`` sets it,
  else the real date, so the new dates agree with what the build and
  ``make review-status`` take as today.
- It refuses, with exit status 1 and a message, and writes nothing: an empty
  or multi-line title, a title with no letter or digit for a file name, an
  unknown topic, or a file that already exists (left untouched).
- ``conf.py`` is read by Sphinx itself (an application with the ``dummy``
  builder, writing nothing into the project), so every setting means what it
  means in the build.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import re
import sys
import tempfile
import unicodedata
from pathlib import Path

#: Letters NFKD does not take apart into ASCII.
FOLD = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"}
APOSTROPHES = "'’‘`"


def fold_character(char: str) -> str:
    """*char* in ASCII: accents dropped, ``ß`` as ``ss``, Greek letters by name (``β`` as ``beta``)."""
    if char.isascii():
        return char
    char = char.lower()
    if char in FOLD:
        return FOLD[char]
    decomposed = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    if decomposed:
        return decomposed
    name = unicodedata.name(char, "")
    if name.startswith("GREEK SMALL LETTER ") and " WITH " not in name:
        return "-" + name.removeprefix("GREEK SMALL LETTER ").lower() + "-"
    return " "


def slugify(title: str) -> str:
    """``Does Vitamin D Help Bones?`` -> ``does-vitamin-d-help-bones``."""
    text = "".join(fold_character(char) for char in title if char not in APOSTROPHES)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def next_year(date: dt.date) -> dt.date:
    """The same day a year later (28 February for 29 February)."""
    try:
        return date.replace(year=date.year + 1)
    except ValueError:
        return date.replace(year=date.year + 1, day=28)


def article_text(title: str, author: str, topic: str, topics: list[str], today: dt.date) -> str:
    """The new article's Markdown: front matter the build accepts, disclaimer, References."""

    def yaml(value: str) -> str:
        # A JSON string is a YAML double-quoted string: any title is safe.
        return json.dumps(value, ensure_ascii=False)

    return f"""---
title: {yaml(title)}
# One sentence, shown on the landing page and to search engines: replace it.
description: {yaml("Replace this with one sentence saying what the article answers.")}
author: {yaml(author)}
date_published: {today.isoformat()}
last_reviewed: {today.isoformat()}
next_review_due: {next_year(today).isoformat()}
# Check the topic: one or more of citedhealth_topics in docs/conf.py
# ({", ".join(topics)}).
topics: [{yaml(topic)}]
---

```{{disclaimer}}
```

% Write the article below. Cite every claim with {{cite:p}}`key`, a key of
% docs/references.bib; give each new entry there an evidence label
% (evidence = {{...}}, see the README). Where a source says less than the
% text, add an {{editorial-note}} after it.

## Introduction

## References

```{{bibliography}}
```
"""


def project_config(srcdir: Path):
    """``conf.py`` as the build reads it, with our extension's settings and defaults."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    scratch = Path(tempfile.mkdtemp(prefix="new-article-"))
    with patch_docutils(srcdir), docutils_namespace():
        app = Sphinx(
            srcdir, srcdir, scratch / "out", scratch / "doctrees", "dummy", status=io.StringIO(), warning=io.StringIO()
        )
    return app.config


def fail(message: str) -> int:
    print(f"make new-article: {message}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m citedhealth.new_article", description=__doc__.splitlines()[0])
    parser.add_argument("sourcedir", type=Path, help="the folder holding conf.py (docs)")
    parser.add_argument("--title", default="", help='the article\'s title, e.g. "Does Vitamin D Help Bones?"')
    parser.add_argument("--topic", default="", help="one of citedhealth_topics (default: the first)")
    parser.add_argument("--author", default="", help="default: conf.py's author")
    parser.add_argument("--slug", default="", help="the file name without .md (default: made from the title)")
    args = parser.parse_args(argv)

    title = " ".join(args.title.split()) if "\n" not in args.title.strip() else ""
    if not title:
        return fail('give the article a title on one line: make new-article TITLE="Does Vitamin D Help Bones?"')
    slug = slugify(args.slug or title)
    if not slug:
        return fail(f"{title!r} has no letter or digit for a file name: give one with SLUG=")

    from .articles import today

    config = project_config(args.sourcedir.resolve())
    topics = [str(topic) for topic in config.citedhealth_topics]
    topic = topics[0]
    if args.topic.strip():
        wanted = " ".join(args.topic.split()).casefold()
        matches = [known for known in topics if known.casefold() == wanted]
        if not matches:
            return fail(f"unknown topic {args.topic!r}: use one of {', '.join(topics)} (citedhealth_topics)")
        topic = matches[0]
    author = " ".join(args.author.split()) or str(config.author)

    folder = args.sourcedir / config.citedhealth_articles_dir.strip("/")
    path = folder / f"{slug}.md"
    text = article_text(title, author, topic, topics, today(config))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        # "x": create only; an existing file is never opened for writing.
        with open(path, "x", encoding="utf-8") as new:
            new.write(text)
    except FileExistsError:
        return fail(f"{path} already exists: left as it is. Choose another title, or SLUG=")
    print(f"Wrote {path} (topic: {topic}). Check its front matter, then write the article.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
