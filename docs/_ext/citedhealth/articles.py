"""Articles: their front matter, byline, page metadata and the landing page's list.

Contract:

- An article is a document under ``citedhealth_articles_dir``. Its MyST front
  matter must hold every field of ``citedhealth_required_fields``, each of
  the type :data:`FIELD_KINDS` gives it, as YAML typed it (read from the
  source: MyST hands Sphinx strings, ``null`` as "None"): text fields
  non-empty strings (``author`` also a non-empty list of them); date fields ISO 8601 (``YYYY-MM-DD``, bare or quoted);
  ``keywords`` a non-empty list of strings or comma-separated text. Null,
  yes/no, numbers, lists and mappings where text is meant all fail, as
  does a key given twice or YAML that does not parse. The last review is not before
  publication and the next review falls after the last one. A breach is a
  ``citedhealth.front-matter`` warning naming the file and the field's line,
  and the field is dropped from ``env.metadata`` (so no page shows "By None").
- An article whose ``next_review_due`` has passed is overdue for review.
  "Today" is ``citedhealth_today`` (an ISO 8601 date, so tests and
  reproducible builds do not depend on the calendar), or the real date when
  it is None. By default an overdue review is reported but does not fail a
  build: it is logged at info level with the file and line ("note: article
  is overdue for review: ..."), because ``-W`` turns every warning into an error and CI
  must not turn red on a calendar date when nobody changed anything. Where
  ``citedhealth_overdue_review_is_error`` is True (say, a weekly editorial
  job, or ``-D citedhealth_overdue_review_is_error=1``), it is a
  ``citedhealth.overdue-review`` warning instead, which fails a strict
  build. The check runs on every build (``env-updated``), not
  only when the article is re-read, since the calendar moves while the
  file does not.
- Each article gets a byline under its title (author, published, last
  reviewed, next review due). Its page metadata (meta description and the
  rest) is :mod:`.metadata`'s.
- ``{topic-list}`` renders every topic of ``citedhealth_topics``, linked to
  its page (:mod:`.library`), with its number of articles, then a link to the
  A–Z page;
  ``{article-list}`` the ``citedhealth_recent_articles`` (10) most recently
  reviewed articles, newest first, linked by title, with description and
  last review date: never every article, so the landing page does not grow
  with the site. Pages holding one are rewritten whenever what they show
  changes (an article added or removed, its title, description, topics or
  review date), so the lists never go stale.
- MyST-Parser reads each Markdown file's front matter twice with PyYAML's
  pure-Python safe loader (``myst_parser.config.main.read_topmatter`` for
  file-level settings, ``DocutilsRenderer.render_front_matter`` for the
  docinfo fields): about 3 ms an article, more than parsing the rest of the
  YAML-free article takes in some transforms. :func:`use_fast_yaml_in_myst`
  has both parse with libyaml's safe loader (:data:`FAST_SAFE_LOADER`), and
  with PyYAML's own where libyaml refuses the text, as
  :func:`parse_front_matter` does, so what is accepted, and the values made
  (same constructor, same resolver), are PyYAML's. Leaning on MyST's
  internals: the module global ``read_topmatter`` of
  ``myst_parser.parsers.sphinx_`` and the module global ``yaml`` of
  ``myst_parser.mdit_to_docutils.base`` (see ``upstream.py``).
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import functools
import json
import re
import types
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import yaml
from docutils import nodes
from sphinx.errors import ConfigError
from sphinx.util.docutils import SphinxDirective

from . import changes
from .common import WARNING_TYPE, article_docnames, front_matter_end, is_article, logger, other_writers

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

REQUIRED_FIELDS = [
    "title",
    "description",
    "author",
    "date_published",
    "last_reviewed",
    "next_review_due",
]
DATE_FIELDS = ("date_published", "last_reviewed", "next_review_due")

#: The front-matter schema, the one place that says what each field holds:
#: ``text`` (a non-empty string), ``date`` (an ISO 8601 ``YYYY-MM-DD`` date,
#: written bare or quoted) or ``list`` (a non-empty list of non-empty
#: strings, or one comma-separated string). Which are required is
#: ``citedhealth_required_fields``; other fields (MyST's own, say) are left alone.
FIELD_KINDS = {
    "title": "text",
    "description": "text",
    "author": "names",
    "reviewed_by": "text",
    "date_published": "date",
    "last_reviewed": "date",
    "next_review_due": "date",
    "keywords": "list",
}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# -- Front matter ------------------------------------------------------------


@dataclass
class FrontMatter:
    """An article's front matter as YAML typed it (MyST hands Sphinx strings only: ``null`` becomes "None")."""

    values: dict[str, object] = field(default_factory=dict)
    #: Each top-level key's 1-based line in the source file.
    lines: dict[str, int] = field(default_factory=dict)
    #: Each scalar value as written (``yes``, ``~``, ``2026-1-5``).
    written: dict[str, str] = field(default_factory=dict)
    #: (message, line) for what is wrong with the YAML itself: bad syntax, a key given twice.
    errors: list[tuple[str, int]] = field(default_factory=list)


def front_matter_block(source: str) -> tuple[str, int] | None:
    """The YAML between the opening and closing ``---`` of *source*, and the line it starts on; else None."""
    end = front_matter_end(source)
    if end is None:
        return None
    return "\n".join(source.splitlines()[1 : end - 1]), 2


def read_front_matter(source: str) -> FrontMatter:
    """Parse *source*'s front matter with YAML's safe loader, keeping each key's line and the text as written.

    Several checks read an article's front matter while it is read; the
    parse is kept for the last sources seen, and each caller gets its own
    copy of the result."""
    parsed = parse_front_matter(source)
    return FrontMatter(
        values=copy.deepcopy(parsed.values),
        lines=dict(parsed.lines),
        written=dict(parsed.written),
        errors=list(parsed.errors),
    )


#: YAML's safe loader in C (libyaml, in PyYAML's wheels), else PyYAML's own.
FAST_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose_and_load(text: str, loader: type) -> tuple[yaml.Node | None, object]:
    """The YAML node tree of *text* and the values made from it, in one parse."""
    reader = loader(text)
    try:
        tree = reader.get_single_node()
        return tree, (reader.construct_document(tree) if tree is not None else None)
    finally:
        reader.dispose()


@functools.lru_cache(maxsize=32)
def parse_front_matter(source: str) -> FrontMatter:
    found = FrontMatter()
    block = front_matter_block(source)
    if block is None:
        return found
    text, first_line = block
    try:
        tree, values = compose_and_load(text, FAST_SAFE_LOADER)
    except yaml.YAMLError:
        # The message and place as PyYAML's own loader words them (libyaml words them differently).
        try:
            tree, values = compose_and_load(text, yaml.SafeLoader)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            problem = getattr(error, "problem", None) or str(error)
            found.errors.append((f"front matter is not valid YAML: {problem}", first_line + (mark.line if mark else 0)))
            return found
    if not isinstance(tree, yaml.MappingNode) or not isinstance(values, dict):
        if tree is not None:
            found.errors.append(("front matter must be a mapping of fields (key: value)", first_line))
        return found
    for key_node, value_node in tree.value:
        key = key_node.value
        line = first_line + key_node.start_mark.line
        if key in found.lines:
            found.errors.append((f"front matter gives {key!r} twice", line))
        found.lines[key] = line
        if isinstance(value_node, yaml.ScalarNode):
            found.written[key] = value_node.value
    found.values = {str(key): value for key, value in values.items()}
    return found


def safe_load(text: str) -> object:
    """``yaml.safe_load`` with libyaml; PyYAML's own loader decides (and words the error) where libyaml refuses."""
    try:
        return yaml.load(text, Loader=FAST_SAFE_LOADER)
    except yaml.YAMLError:
        return yaml.safe_load(text)


def read_topmatter(text):
    """MyST-Parser 5.2's ``myst_parser.config.main.read_topmatter``, with :func:`safe_load`.

    Line for line MyST's (a string or an iterator of lines; None without
    front matter; ``TopmatterReadError`` for YAML that does not parse or is
    no mapping): only the loader differs."""
    from myst_parser.config.main import TopmatterReadError
    from myst_parser.parsers.directives import YAML_LOAD_ERRORS

    if isinstance(text, str):
        if not text.startswith("---"):
            return None
        text = (line for line in text.splitlines())
    try:
        if not next(text).startswith("---"):
            return None
    except StopIteration:
        return None
    top_matter = []
    for line in text:
        if line.startswith(("---", "...")):
            break
        top_matter.append(line.rstrip() + "\n")
    try:
        metadata = safe_load("".join(top_matter))
    except YAML_LOAD_ERRORS as err:
        raise TopmatterReadError("Malformed YAML") from err
    if not isinstance(metadata, dict):
        raise TopmatterReadError(f"YAML is not a dict: {type(metadata)}")
    return metadata


class FastYaml(types.ModuleType):
    """The ``yaml`` module as MyST's renderer sees it: PyYAML, with :func:`safe_load` for ``safe_load``."""

    safe_load = staticmethod(safe_load)

    def __getattr__(self, name: str) -> object:
        return getattr(yaml, name)


def use_fast_yaml_in_myst() -> None:
    """Have MyST-Parser parse front matter with :func:`safe_load` (see the module docstring)."""
    import myst_parser.mdit_to_docutils.base as myst_renderer
    import myst_parser.parsers.sphinx_ as myst_sphinx_parser

    myst_sphinx_parser.read_topmatter = read_topmatter
    if not isinstance(myst_renderer.yaml, FastYaml):
        myst_renderer.yaml = FastYaml("yaml")


def front_matter_lines(source: str) -> dict[str, int]:
    """Map each top-level front-matter key to its 1-based line in *source*."""
    return read_front_matter(source).lines


def parse_iso_date(value: str) -> dt.date | None:
    """The date in *value* if it is exactly ``YYYY-MM-DD``, else None."""
    if not ISO_DATE.fullmatch(value.strip()):
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def describe(value: object, written: str | None) -> str:
    """What YAML made of a value, in the author's terms, for a message."""
    if value is None:
        return "null" if not written else f"null ({written})"
    if isinstance(value, bool):
        return f"a yes/no value ({written})"
    if isinstance(value, int | float):
        return f"a number ({written})"
    if isinstance(value, dt.datetime):
        return f"a date and time ({written})"
    if isinstance(value, dt.date):
        return f"a date ({written})"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def typed_value(kind: str, value: object, written: str | None) -> tuple[object, str | None]:
    """(the field's value in our terms, None), or (None, what is wrong) for a value of the wrong type.

    ``text``: a non-empty string. ``names``: text, or a non-empty list of
    non-empty strings (kept as its JSON text, which :func:`article_authors`
    reads). ``date``: a ``datetime.date`` written
    ``YYYY-MM-DD`` (YAML reads a bare ISO date as a date; ``2026-1-5`` too, which
    is refused) or the same as a quoted string. ``list``: a comma-separated
    string or a non-empty list of non-empty strings, returned as one
    comma-separated string.
    """
    if kind == "text":
        if not isinstance(value, str):
            return None, f"must be text, not {describe(value, written)}"
        if not value.strip():
            return None, "is empty"
        return value, None
    if kind == "names":
        # One author as text, or several as a list (each a citation_author, citing.py).
        if isinstance(value, list) and value and all(isinstance(item, str) and item.strip() for item in value):
            return json.dumps([item.strip() for item in value], ensure_ascii=False), None
        if isinstance(value, list) and value:
            return None, "must be a name or a list of names (text), and one item is not"
        if isinstance(value, list):
            return None, "is an empty list"
        return typed_value("text", value, written)
    if kind == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime) and ISO_DATE.fullmatch(written or ""):
            return value, None
        parsed = parse_iso_date(value) if isinstance(value, str) else None
        if parsed is None:
            shown = value if isinstance(value, str) else (written if written is not None else describe(value, None))
            return None, f"is not an ISO 8601 date (YYYY-MM-DD): {shown!r}"
        return parsed, None
    if isinstance(value, str):
        if not [word for word in value.split(",") if word.strip()]:
            return None, "is empty"
        return value, None
    if isinstance(value, list) and value and all(isinstance(item, str) and item.strip() for item in value):
        return ", ".join(item.strip() for item in value), None
    if isinstance(value, list) and value:
        return None, "must be a list of words (text), and one item is not"
    return None, f"must be a list of words or comma-separated text, not {describe(value, written)}"


def check_front_matter(env: BuildEnvironment, docname: str) -> dict[str, dt.date]:
    """Warn about every breach of the front-matter rules; return the valid dates.

    Sphinx's ``env.metadata`` is left holding only valid values, as strings
    (a list of keywords joined with commas): a field of the wrong type is
    dropped, so no page shows "By None" even where warnings do not fail.
    """
    metadata = env.metadata[docname]
    front = read_front_matter(read_source(env, docname))

    def warn(message: str, line: int) -> None:
        logger.warning(message, location=(docname, line), type=WARNING_TYPE, subtype="front-matter")

    for message, line in front.errors:
        warn(message, line)

    typed: dict[str, object] = {}
    for key, kind in FIELD_KINDS.items():
        if key not in front.values:
            continue
        value, problem = typed_value(kind, front.values[key], front.written.get(key))
        if problem is not None:
            warn(f"front matter {key!r} {problem}", front.lines.get(key, 1))
            metadata.pop(key, None)
        else:
            typed[key] = value
            metadata[key] = value.isoformat() if isinstance(value, dt.date) else value

    for key in env.config.citedhealth_required_fields:
        if key not in front.values:
            warn(f"front matter lacks {key!r}", 1)

    dates = {key: typed[key] for key in DATE_FIELDS if key in typed}
    if {"date_published", "last_reviewed"} <= dates.keys() and dates["last_reviewed"] < dates["date_published"]:
        warn("front matter 'last_reviewed' is before 'date_published'", front.lines["last_reviewed"])
    if {"last_reviewed", "next_review_due"} <= dates.keys() and dates["next_review_due"] <= dates["last_reviewed"]:
        warn("front matter 'next_review_due' must fall after 'last_reviewed'", front.lines["next_review_due"])
    return dates


def read_source(env: BuildEnvironment, docname: str) -> str:
    """The document's source text; an undecodable byte (reported by :mod:`.paths`) reads as U+FFFD."""
    with open(env.doc2path(docname), encoding="utf-8", errors="replace") as source:
        return source.read()


def today(config) -> dt.date:
    """``citedhealth_today`` if set (a ``YYYY-MM-DD`` string or a date), else the real date."""
    value = config.citedhealth_today
    if value is None or value == "":
        return dt.date.today()
    if isinstance(value, dt.date):
        return value
    parsed = parse_iso_date(str(value))
    if parsed is None:
        raise ConfigError(f"citedhealth_today must be a YYYY-MM-DD date, not {value!r}")
    return parsed


def check_today(app: Sphinx, config) -> None:
    """Fail at once, not after reading every document, on a ``citedhealth_today`` that is no date."""
    today(config)


def review_due(env: BuildEnvironment, docname: str) -> dt.date | None:
    return parse_iso_date(str(env.metadata.get(docname, {}).get("next_review_due", "")))


def check_overdue_reviews(app: Sphinx, env: BuildEnvironment) -> None:
    """Report every article whose next review is due before today; see the module docstring.

    Today moves, so the report is made on every build; what each article's
    due date is, is kept from the last build (:mod:`.changes`, sorted by
    date) and looked at again only for the articles changed since: a build
    costs the overdue articles and the changed ones, not the site."""
    now = today(env.config)
    record = changes.tracked(env, "articles.overdue")
    pending = record.begin(None)
    due_dates: dict[str, dt.date | None] | None = record.parts.get("due")
    by_date: list[tuple[dt.date, str]] | None = record.value
    if pending is None or due_dates is None or by_date is None:
        due_dates = {docname: review_due(env, docname) for docname in article_docnames(env)}
        by_date = sorted((due, docname) for docname, due in due_dates.items() if due is not None)
    else:
        for docname in pending:
            before = due_dates.pop(docname, None)
            if before is not None:
                del by_date[bisect.bisect_left(by_date, (before, docname))]
            if docname in env.found_docs and is_article(env, docname):
                due = due_dates[docname] = review_due(env, docname)
                if due is not None:
                    bisect.insort(by_date, (due, docname))
    # (now,) sorts before every (now, docname): what comes before it is due before today.
    overdue = sorted(docname for _, docname in by_date[: bisect.bisect_left(by_date, (now,))])
    record.parts["due"] = due_dates
    record.settle(None, by_date)
    for docname in overdue:
        due = due_dates[docname]
        line = front_matter_lines(read_source(env, docname)).get("next_review_due", 1)
        message = f"article is overdue for review: next_review_due {due.isoformat()} is before {now.isoformat()}"
        if env.config.citedhealth_overdue_review_is_error:
            logger.warning(message, location=(docname, line), type=WARNING_TYPE, subtype="overdue-review")
        else:
            hint = "set citedhealth_overdue_review_is_error to fail the build on it"
            logger.info(f"note: {message} ({hint})", location=(docname, line), color="darkred")


# -- Byline --------------------------------------------------------------------


def front_matter_list(value: object) -> object:
    """A front-matter value that YAML gave as a list, as that list; any other value as it is.

    MyST keeps a list as its JSON text, and Sphinx's smart quotes may then
    have curled the JSON's quotation marks ("[“A”, “B”]")."""
    if not isinstance(value, str) or not value.strip().startswith("["):
        return value
    for text in (value, value.replace("“", '"').replace("”", '"')):
        try:
            return json.loads(text)
        except ValueError:
            continue
    return value


def article_authors(metadata: dict) -> list[str]:
    """The article's authors: ``author`` holds one name, or a YAML list of names."""
    value = front_matter_list(metadata.get("author", ""))
    names = value if isinstance(value, list) else [str(value)]
    return [str(name).strip() for name in names if str(name).strip()]


def join_names(names: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def format_date(date: dt.date) -> str:
    """``24 November 2026``: unambiguous for readers anywhere."""
    return f"{date.day} {date:%B %Y}"


class article_byline(nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """The line under an article's title. Its attributes carry the front matter
    other builders need (the PDF's title block and metadata): ``docname``,
    ``author``, ``description``, ``keywords`` and ``dates`` (label, text) pairs."""


def byline(docname: str, metadata: dict, dates: dict[str, dt.date]) -> article_byline:
    """The line under an article's title: who wrote it and when it was reviewed."""
    labels = {
        "date_published": "Published",
        "last_reviewed": "Last reviewed",
        "next_review_due": "Next review due",
    }
    dated = [(label, format_date(dates[key]), key) for key, label in labels.items() if key in dates]
    node = article_byline(
        docname=docname,
        author=join_names(article_authors(metadata)),
        description=str(metadata.get("description", "")),
        keywords=str(metadata.get("keywords", "")),
        dates=[(label, text) for label, text, _ in dated],
        classes=["ch-byline"],
    )
    parts = []
    if node["author"]:
        parts.append(("ch-author", f"By {node['author']}"))
    parts += [(f"ch-{key.replace('_', '-')}", f"{label} {text}") for label, text, key in dated]
    paragraph = nodes.paragraph()
    for index, (css_class, text) in enumerate(parts):
        if index:
            paragraph += nodes.Text(" · ")
        paragraph += nodes.inline(text=text, classes=[css_class])
    node += paragraph
    return node


def visit_byline_html(self, node: article_byline) -> None:
    self.body.append(self.starttag(node, "div"))


def depart_byline_html(self, node: article_byline) -> None:
    self.body.append("</div>\n")


def visit_byline_other(self, node: article_byline) -> None:
    pass


def depart_byline_other(self, node: article_byline) -> None:
    pass


def add_article_byline(app: Sphinx, doctree: nodes.document) -> None:
    """Check an article's front matter and put its byline under the title."""
    env = app.env
    if not is_article(env, env.docname):
        return
    dates = check_front_matter(env, env.docname)
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        return
    section.insert(1, byline(env.docname, env.metadata[env.docname], dates))


# -- The article list --------------------------------------------------------


class article_list(nodes.General, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """Placeholder for the list of articles, filled in once all are read."""


class topic_list(nodes.General, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """Placeholder for the list of topics, filled in once all articles are read."""


class ArticleListDirective(SphinxDirective):
    """``{article-list}``: the most recently reviewed articles, linked by title, with description and date."""

    node_class = article_list

    def run(self) -> list[nodes.Node]:
        self.env.metadata[self.env.docname]["citedhealth_article_list"] = "yes"
        return [self.node_class()]


class TopicListDirective(ArticleListDirective):
    """``{topic-list}``: every topic, linked to its page, with its number of articles."""

    node_class = topic_list


def fill_article_lists(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """doctree-resolved: the ``{topic-list}`` and ``{article-list}`` placeholders, from this build's catalog."""
    from .library import HTML_BUILDERS
    from .navigation import A_TO_Z_PAGE, A_TO_Z_TITLE
    from .topics import catalog, topic_pagename

    books = catalog(app.env)
    builder = app.builder

    def link(target: str, text: str) -> nodes.Node:
        return nodes.reference(
            "", "", nodes.Text(text), internal=True, refuri=builder.get_relative_uri(docname, target)
        )

    for placeholder in list(doctree.findall(topic_list)):
        items = nodes.bullet_list(classes=["ch-topic-list"])
        for topic, listed in books.by_topic.items():
            count = "1 article" if len(listed) == 1 else f"{len(listed) or 'no'} articles"
            # Topic pages exist in the HTML builders that write one page per name (library.py).
            name = link(topic_pagename(topic), topic) if builder.name in HTML_BUILDERS else nodes.Text(topic)
            items += nodes.list_item("", nodes.paragraph("", "", name, nodes.Text(f" ({count})")))
        found = [items]
        if builder.name in HTML_BUILDERS:
            found.append(
                nodes.paragraph(
                    "", "", nodes.Text("Every article by title: "), link(A_TO_Z_PAGE, A_TO_Z_TITLE), nodes.Text(".")
                )
            )
        placeholder.replace_self(found)
    for placeholder in list(doctree.findall(article_list)):
        items = nodes.bullet_list(classes=["ch-article-list"])
        for entry in books.recent(app.config.citedhealth_recent_articles):
            item = nodes.list_item("", nodes.paragraph("", "", link(entry.docname, entry.title)))
            if entry.description:
                item += nodes.paragraph(text=entry.description, classes=["ch-article-description"])
            date = parse_iso_date(entry.last_reviewed)
            if date is not None:
                item += nodes.paragraph(text=f"Last reviewed {format_date(date)}", classes=["ch-last-reviewed"])
            items += item
        placeholder.replace_self(items)


def pages_listing_articles(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Rewrite pages with a topic or article list when what they list changed.

    What the lists show is each topic's number of articles and the most
    recently reviewed articles' docname, title, description and date; the
    snapshot of those lives on the environment. The lists are filled in when
    the page is written, so the page need not be read again: an edit to an
    article's text costs the landing page nothing of ours."""
    from .topics import catalog

    books = catalog(env)
    recent = books.recent(env.config.citedhealth_recent_articles)
    cards = (
        tuple((topic, len(listed)) for topic, listed in books.by_topic.items()),
        tuple((e.docname, e.title, e.description, e.last_reviewed) for e in recent),
    )
    # One snapshot per builder: `make pdf` shares the HTML build's environment,
    # and must not consume a change the HTML pages have not shown yet.
    seen = getattr(env, "citedhealth_article_cards", None)
    if not isinstance(seen, dict):
        seen = env.citedhealth_article_cards = {}
    if seen.get(app.builder.name) == cards:
        return []
    seen[app.builder.name] = cards
    return [d for d, meta in env.metadata.items() if "citedhealth_article_list" in meta and d in env.found_docs]


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_articles_dir", "articles", "env", str)
    app.add_config_value("citedhealth_required_fields", REQUIRED_FIELDS, "env", list)
    # None means the real date; the type is left open (a str or a date).
    app.add_config_value("citedhealth_today", None, "")
    app.add_config_value("citedhealth_overdue_review_is_error", False, "", bool)
    app.connect("config-inited", check_today)
    use_fast_yaml_in_myst()
    app.connect("env-updated", check_overdue_reviews)
    # How many of the most recently reviewed articles the landing page lists.
    app.add_config_value("citedhealth_recent_articles", 10, "html", int)
    app.add_node(article_list)
    app.add_node(
        article_byline,
        html=(visit_byline_html, depart_byline_html),
        **other_writers((visit_byline_other, depart_byline_other)),
    )
    app.add_node(topic_list)
    app.add_directive("article-list", ArticleListDirective)
    app.add_directive("topic-list", TopicListDirective)
    app.connect("doctree-read", add_article_byline)
    app.connect("doctree-resolved", fill_article_lists)
    app.connect("env-updated", pages_listing_articles)
