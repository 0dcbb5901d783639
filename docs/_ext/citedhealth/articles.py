"""Articles: their front matter, byline, page metadata and the landing page's list.

Contract:

- An article is a document under ``citedhealth_articles_dir``. Its MyST front
  matter must hold every field of ``citedhealth_required_fields``; the date
  fields are ISO 8601 (``YYYY-MM-DD``), the last review is not before
  publication and the next review falls after the last one. A breach is a
  ``citedhealth.front-matter`` warning naming the file and the field's line.
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
- ``{article-list}`` renders a list of every article, linked by title, with
  its description. Pages holding one are rewritten whenever an article is
  added or removed or its title or description changes, so the list never
  goes stale.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.errors import ConfigError
from sphinx.util.docutils import SphinxDirective

from .common import WARNING_TYPE, article_docnames, is_article, logger

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


# -- Front matter ------------------------------------------------------------


def front_matter_lines(source: str) -> dict[str, int]:
    """Map each top-level front-matter key to its 1-based line in *source*."""
    lines = source.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    found = {}
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            break
        match = re.match(r"([A-Za-z_][\w-]*)\s*:", line)
        if match:
            found[match.group(1)] = number
    return found


def parse_iso_date(value: str) -> dt.date | None:
    """The date in *value* if it is exactly ``YYYY-MM-DD``, else None."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def check_front_matter(env: BuildEnvironment, docname: str) -> dict[str, dt.date]:
    """Warn about every breach of the front-matter rules; return the valid dates."""
    metadata = env.metadata[docname]
    with open(env.doc2path(docname), encoding="utf-8") as source:
        lines = front_matter_lines(source.read())

    def warn(message: str, key: str | None = None) -> None:
        logger.warning(
            message,
            location=(docname, lines.get(key, 1)),
            type=WARNING_TYPE,
            subtype="front-matter",
        )

    for key in env.config.citedhealth_required_fields:
        if not str(metadata.get(key, "")).strip():
            warn(f"front matter lacks {key!r}", key)

    dates = {}
    for key in DATE_FIELDS:
        if key in metadata:
            parsed = parse_iso_date(str(metadata[key]))
            if parsed is None:
                warn(f"front matter {key!r} is not an ISO 8601 date (YYYY-MM-DD): {metadata[key]!r}", key)
            else:
                dates[key] = parsed

    if {"date_published", "last_reviewed"} <= dates.keys() and dates["last_reviewed"] < dates["date_published"]:
        warn("front matter 'last_reviewed' is before 'date_published'", "last_reviewed")
    if {"last_reviewed", "next_review_due"} <= dates.keys() and dates["next_review_due"] <= dates["last_reviewed"]:
        warn("front matter 'next_review_due' must fall after 'last_reviewed'", "next_review_due")
    return dates


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


def check_overdue_reviews(app: Sphinx, env: BuildEnvironment) -> None:
    """Report every article whose next review is due before today; see the module docstring."""
    now = today(env.config)
    for docname in article_docnames(env):
        due = parse_iso_date(str(env.metadata.get(docname, {}).get("next_review_due", "")))
        if due is None or due >= now:
            continue  # an invalid or missing date is a front-matter warning already
        with open(env.doc2path(docname), encoding="utf-8") as source:
            line = front_matter_lines(source.read()).get("next_review_due", 1)
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


class ArticleListDirective(SphinxDirective):
    """``{article-list}``: every article, linked by title, with its description."""

    def run(self) -> list[nodes.Node]:
        self.env.metadata[self.env.docname]["citedhealth_article_list"] = "yes"
        return [article_list()]


def fill_article_lists(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    env = app.env
    for placeholder in list(doctree.findall(article_list)):
        items = nodes.bullet_list(classes=["ch-article-list"])
        for article in article_docnames(env):
            reference = nodes.reference(
                "",
                "",
                nodes.Text(str(env.titles[article].astext())),
                internal=True,
                refuri=app.builder.get_relative_uri(docname, article),
            )
            item = nodes.list_item("", nodes.paragraph("", "", reference))
            description = env.metadata[article].get("description")
            if description:
                item += nodes.paragraph(text=str(description), classes=["ch-article-description"])
            items += item
        placeholder.replace_self(items)


def pages_listing_articles(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Rewrite pages with an article list when what they list changed.

    What a list shows is each article's docname, title and description; the
    snapshot of those lives on the environment. The list is filled in when
    the page is written, so the page need not be read again: an edit to an
    article's text costs the landing page nothing of ours (Sphinx may still
    rewrite it as the article's parent in the toctree)."""
    cards = tuple(
        (docname, env.titles[docname].astext() if docname in env.titles else "",
         str(env.metadata.get(docname, {}).get("description", "")))
        for docname in article_docnames(env)
    )  # fmt: skip
    if getattr(env, "citedhealth_article_cards", None) == cards:
        return []
    env.citedhealth_article_cards = cards
    return [d for d, meta in env.metadata.items() if "citedhealth_article_list" in meta and d in env.found_docs]


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_articles_dir", "articles", "env", str)
    app.add_config_value("citedhealth_required_fields", REQUIRED_FIELDS, "env", list)
    # None means the real date; the type is left open (a str or a date).
    app.add_config_value("citedhealth_today", None, "")
    app.add_config_value("citedhealth_overdue_review_is_error", False, "", bool)
    app.connect("config-inited", check_today)
    app.connect("env-updated", check_overdue_reviews)
    app.add_node(article_list)
    other = (visit_byline_other, depart_byline_other)
    app.add_node(
        article_byline,
        html=(visit_byline_html, depart_byline_html),
        latex=other,
        text=other,
        man=other,
        texinfo=other,
    )
    app.add_directive("article-list", ArticleListDirective)
    app.connect("doctree-read", add_article_byline)
    app.connect("doctree-resolved", fill_article_lists)
    app.connect("env-updated", pages_listing_articles)
