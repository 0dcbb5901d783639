"""Topics: the site's list of health topics, each article's required ``topics`` field, and the catalog of articles.

Contract:

- ``citedhealth_topics`` (``conf.py``) lists the site's topics, the first
  being the default that ``make new-article`` writes. Every article must have
  ``topics: [<topic>, ...]`` in its front matter: a YAML list of topics from
  that list, spelled as there, the first being the article's main topic (the
  one its sidebar opens). A missing field is a ``citedhealth.front-matter``
  warning naming the file at line 1 (where the front matter starts);
  anything else wrong (not a list, an empty list, an item that is not text,
  an unknown topic, a topic given twice) is one naming the field's line.
- :func:`catalog` is what every listing of articles reads (topic pages, the
  A–Z page, the landing page, the sidebar, the feed): one record per
  article, made once per build at ``env-updated`` from ``env.metadata`` and
  ``env.titles`` (both merged by Sphinx after a parallel read), kept out of
  the pickled environment. Topics that fail the check are left out of it,
  so no page links a topic page that does not exist.
- Each topic's page is ``topics/<slug>.html``, its slug the topic's name in
  lower-case kebab-case (:func:`topic_slug`).
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import changes
from .articles import front_matter_lines, front_matter_list, read_source
from .common import WARNING_TYPE, article_docnames, is_article, logger

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment

FIELD = "topics"
DEFAULT_TOPICS = ["Pain and nerves"]
#: Where the topic pages go in the HTML output.
TOPICS_FOLDER = "topics"


def article_topics(metadata: dict) -> object:
    """The ``topics`` field as YAML gave it (MyST keeps a list as its JSON text), or None if absent."""
    if FIELD not in metadata:
        return None
    return front_matter_list(metadata[FIELD])


def problems(value: object, known: list[str]) -> list[str]:
    if value is None:
        return [f"front matter lacks {FIELD!r}: every article names its topics, such as {FIELD}: [{known[0]}]"]
    if not isinstance(value, list) or not value:
        return [f"front matter {FIELD!r} must be a list of topics, such as {FIELD}: [{known[0] if known else '...'}]"]
    found = []
    seen = set()
    for item in value:
        if not isinstance(item, str):
            found.append(f"front matter {FIELD!r} holds {item!r}, which is not a topic's name")
        elif item not in known:
            found.append(f"unknown topic {item!r} in front matter {FIELD!r}: use one of {', '.join(known)}")
        elif item in seen:
            found.append(f"topic {item!r} is given twice in front matter {FIELD!r}")
        seen.add(item if isinstance(item, str) else repr(item))
    return found


def valid_topics(metadata: dict, known: list[str]) -> tuple[str, ...]:
    """The article's topics that are on the site's list, in the article's order, each once."""
    value = article_topics(metadata)
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(item for item in value if isinstance(item, str) and item in known))


def check_topics(app: Sphinx, doctree) -> None:
    env = app.env
    if not is_article(env, env.docname):
        return
    value = article_topics(env.metadata[env.docname])
    found = problems(value, list(app.config.citedhealth_topics))
    if not found:
        return
    # A missing field is reported where the front matter starts, line 1.
    line = 1 if value is None else front_matter_lines(read_source(env, env.docname)).get(FIELD, 1)
    for message in found:
        logger.warning(message, location=(env.docname, line), type=WARNING_TYPE, subtype="front-matter")


def check_config(app: Sphinx, config: Config) -> None:
    from sphinx.errors import ConfigError

    topics = config.citedhealth_topics
    if not topics or not all(isinstance(topic, str) and topic.strip() for topic in topics):
        raise ConfigError("citedhealth_topics must be a non-empty list of topic names")
    slugs = [topic_slug(topic) for topic in topics]
    if len(set(slugs)) != len(slugs) or not all(slugs):
        raise ConfigError("citedhealth_topics: each topic needs a name of its own (two make the same page name)")


# -- The catalog --------------------------------------------------------------------


def topic_slug(topic: str) -> str:
    """``Pain and nerves`` -> ``pain-and-nerves``: the topic page's name."""
    text = unicodedata.normalize("NFKD", topic).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def topic_pagename(topic: str) -> str:
    return f"{TOPICS_FOLDER}/{topic_slug(topic)}"


def title_key(title: str) -> tuple[str, str]:
    """How titles sort: by their letters, case and accents aside (then as written, so the order is total)."""
    if title.isascii():  # most titles: no accents to set aside (a tenth of the time)
        return (title.casefold(), title)
    folded = unicodedata.normalize("NFKD", title).casefold()
    return ("".join(char for char in folded if not unicodedata.combining(char)), title)


@dataclass(frozen=True)
class Entry:
    """One article as the listings show it."""

    docname: str
    title: str
    description: str
    #: ISO 8601 date, or "" where the front matter has none valid.
    last_reviewed: str
    topics: tuple[str, ...]
    authors: tuple[str, ...]


@dataclass
class Catalog:
    """Every article, and the orders the listings need, made once per build."""

    topics: tuple[str, ...]
    #: By title (then docname).
    by_title: list[Entry]
    #: Topic -> its articles by title.
    by_topic: dict[str, list[Entry]]
    #: docname -> its entry.
    entries: dict[str, Entry]
    #: docname -> its position in its first topic's list.
    position: dict[str, int]

    #: count -> recent(count), made once per catalog (a catalog kept from build to build keeps it).
    _recent: dict[int, list[Entry]] = field(default_factory=dict, compare=False, repr=False)

    def recent(self, count: int) -> list[Entry]:
        """The *count* most recently reviewed articles, newest first (then by title)."""
        found = self._recent.get(count)
        if found is None:
            dated = sorted(self.by_title, key=lambda entry: entry.last_reviewed, reverse=True)
            found = self._recent[count] = dated[:count]
        return list(found)


#: ``env.citedhealth_catalog_entries``: docname -> (its metadata, its title node, the topics known, its Entry),
#: kept between builds (set only at env-updated, in the main process).
ENTRIES_ATTRIBUTE = "citedhealth_catalog_entries"


def make_entry(env: BuildEnvironment, docname: str, known: list[str]) -> Entry:
    from .articles import article_authors

    metadata = env.metadata.get(docname, {})
    title = env.titles[docname].astext() if docname in env.titles else docname
    return Entry(
        docname=docname,
        title=title,
        description=str(metadata.get("description", "")),
        last_reviewed=str(metadata.get("last_reviewed", "")),
        topics=valid_topics(metadata, known),
        authors=tuple(article_authors(metadata)),
    )


def make_catalog(env: BuildEnvironment, keep: bool = False) -> Catalog:
    """The catalog; with *keep* (env-updated), each article's entry is reused from the last build while it stands.

    An entry is made from the article's ``env.metadata`` dict and
    ``env.titles`` node, which Sphinx replaces with new objects whenever it
    reads the article again (and drops when it is deleted); so an entry
    whose two objects are still the very ones it was made from, for the
    same list of topics, is what making it again would give. They are
    pickled with the environment, which keeps the identities."""
    known = list(env.config.citedhealth_topics)
    kept = getattr(env, ENTRIES_ATTRIBUTE, None) if keep else None
    if not isinstance(kept, dict):
        kept = {}
    made = {}
    entries = []
    known_key = tuple(known)
    metadata_of, titles = env.metadata, env.titles
    for docname in article_docnames(env):
        metadata, title = metadata_of.get(docname), titles.get(docname)
        found = kept.get(docname)
        if found is not None and found[0] is metadata and found[1] is title and found[2] == known_key:
            entry = found[3]
        else:
            entry = make_entry(env, docname, known)
        made[docname] = (metadata, title, known_key, entry)
        entries.append(entry)
    if keep:
        setattr(env, ENTRIES_ATTRIBUTE, made)
    # sorted() is stable: a tie in the key keeps the docname order.
    by_title = sorted(entries, key=lambda entry: (title_key(entry.title), entry.docname))
    by_topic: dict[str, list[Entry]] = {topic: [] for topic in known}
    for entry in by_title:
        for topic in entry.topics:
            by_topic[topic].append(entry)
    position = {}
    for topic, listed in by_topic.items():
        for index, entry in enumerate(listed):
            if entry.topics[0] == topic:
                position[entry.docname] = index
    return Catalog(tuple(known), by_title, by_topic, {entry.docname: entry for entry in entries}, position)


CATALOGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def update_catalog(app: Sphinx, env: BuildEnvironment) -> None:
    """env-updated (first): this build's catalog, from what was just read and merged (entries of articles
    not read again are the last build's: see :func:`make_catalog`).

    The last build's catalog is this one's when every document changed since
    (:mod:`.changes`) gives the entry it had, or none as before: the usual
    edit of an article's text costs its own entry, not the site's (sorting
    a thousand titles again). Any other change makes the catalog anew."""
    known = tuple(env.config.citedhealth_topics)
    record = changes.tracked(env, "topics.catalog")
    books, pending = record.value, record.begin(known)
    if not (pending is not None and isinstance(books, Catalog) and entries_unchanged(env, books, pending)):
        books = make_catalog(env, keep=True)
    CATALOGS[env] = books
    record.settle(known, books)


def entries_unchanged(env: BuildEnvironment, books: Catalog, docnames: set[str]) -> bool:
    """Whether *books* still holds, for each of *docnames*, the entry making it anew would give (or none).

    Those entries' records (:data:`ENTRIES_ATTRIBUTE`) then name the objects
    they stand for now, as :func:`make_catalog` would have left them."""
    made = getattr(env, ENTRIES_ATTRIBUTE, None)
    if not isinstance(made, dict):
        return False
    known = list(books.topics)
    renewed = {}
    for docname in docnames:
        listed = docname in env.found_docs and is_article(env, docname)
        entry = books.entries.get(docname)
        if not listed:
            if entry is not None or docname in made:
                return False
            continue
        if entry is None or make_entry(env, docname, known) != entry:
            return False
        # The entry kept (equal, and immutable) now stands for the objects read anew.
        renewed[docname] = (env.metadata.get(docname), env.titles.get(docname), books.topics, entry)
    made.update(renewed)
    return True


def catalog(env: BuildEnvironment) -> Catalog:
    """This build's catalog (made now if ``env-updated`` has not run, as in a builder started without reading)."""
    found = CATALOGS.get(env)
    if found is None:
        found = CATALOGS[env] = make_catalog(env)
    return found


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_topics", DEFAULT_TOPICS, "env", (list, tuple))
    app.connect("config-inited", check_config)
    app.connect("doctree-read", check_topics)
    app.connect("env-updated", update_catalog, priority=100)
