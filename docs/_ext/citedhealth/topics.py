"""Topics: the site's list of health topics, and the optional ``topics`` field of an article's front matter.

Contract: ``citedhealth_topics`` (``conf.py``) lists the site's topics, the
first being the default that ``make new-article`` writes. An article may have
``topics: [<topic>, ...]`` in its front matter: a YAML list of topics from that
list, spelled as there. Anything else (not a list, an empty list, an item
that is not text, an unknown topic, a topic given twice) is a
``citedhealth.front-matter`` warning naming the file and the field's line. An
article without ``topics`` is fine: the field is optional. (How topics are
shown to readers is for a later change.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .articles import front_matter_lines, front_matter_list
from .common import WARNING_TYPE, is_article, logger

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

FIELD = "topics"
DEFAULT_TOPICS = ["Pain and nerves"]


def article_topics(metadata: dict) -> object:
    """The ``topics`` field as YAML gave it (MyST keeps a list as its JSON text), or None if absent."""
    if FIELD not in metadata:
        return None
    return front_matter_list(metadata[FIELD])


def problems(value: object, known: list[str]) -> list[str]:
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


def check_topics(app: Sphinx, doctree) -> None:
    env = app.env
    if not is_article(env, env.docname):
        return
    value = article_topics(env.metadata[env.docname])
    if value is None:
        return
    found = problems(value, list(app.config.citedhealth_topics))
    if not found:
        return
    with open(env.doc2path(env.docname), encoding="utf-8") as source:
        line = front_matter_lines(source.read()).get(FIELD, 1)
    for message in found:
        logger.warning(message, location=(env.docname, line), type=WARNING_TYPE, subtype="front-matter")


def check_config(app: Sphinx, config: Config) -> None:
    from sphinx.errors import ConfigError

    topics = config.citedhealth_topics
    if not topics or not all(isinstance(topic, str) and topic.strip() for topic in topics):
        raise ConfigError("citedhealth_topics must be a non-empty list of topic names")


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_topics", DEFAULT_TOPICS, "env", (list, tuple))
    app.connect("config-inited", check_config)
    app.connect("doctree-read", check_topics)
