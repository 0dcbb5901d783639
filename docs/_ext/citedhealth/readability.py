"""Reading level of the author's own text: Flesch–Kincaid grade and Flesch reading ease (textstat).

Contract:

- When an article is read, :func:`author_text` gathers the author's own
  prose: every paragraph of the article except those in editorial notes, the
  disclaimer, the byline, bibliographies, citations, footnotes, our "Cite this
  article" section and review footer; inline code, maths, raw markup and
  citation markers are left out of a paragraph, and so are headings, code
  blocks and the front matter (not paragraphs). Each paragraph counts as at
  least one sentence.
- textstat computes its Flesch–Kincaid grade and Flesch reading ease, kept
  in ``env.metadata[docname]["citedhealth_reading_level"]`` as
  ``{"grade": float, "ease": float, "words": int}`` (rounded to one decimal),
  or ``None`` when the article has no prose yet. ``make review-status``
  (:mod:`.review`) shows them.
- Above ``citedhealth_reading_grade_target`` (``conf.py``; default 8, NIH
  recommends 6 to 7 for patient material; None turns it off), the build
  prints a note naming the file: information, not a warning, so the strict
  build does not fail on it.

textstat 0.7.13 looks each word up in the CMU Pronouncing Dictionary, which it
downloads with ``nltk.download`` on first use
(``textstat.backend.utils._get_cmudict.get_cmudict``; no upstream issue yet):
a network request from the build, which fails offline. We give it no
dictionary, so it counts syllables with its own fallback, Pyphen's
hyphenation patterns (what textstat used before 0.7.4), for every word:
same for every machine, no network. textstat is imported only when an
article is read, and without nltk (see :func:`textstat_offline`): 0.1 s, not
0.5 s; Pyphen's English patterns then take about 0.25 s to load, once a process.
"""

from __future__ import annotations

import functools
import re
import sys
import types
from typing import TYPE_CHECKING

from docutils import nodes
from sphinxcontrib.bibtex.nodes import bibliography as bibliography_node

from .articles import article_byline
from .checks import is_citation
from .common import is_article, logger
from .disclaimer import disclaimer
from .notes import editorial_note

if TYPE_CHECKING:
    from sphinx.application import Sphinx

METADATA_KEY = "citedhealth_reading_level"
#: Containers whose paragraphs are not the author's prose.
NOT_PROSE = (
    editorial_note,
    disclaimer,
    article_byline,
    bibliography_node,
    nodes.citation,
    nodes.footnote,
    nodes.raw,
    nodes.comment,
    nodes.system_message,
)
#: Our own additions (citing.py, review.py, pdf.py), recognised by class.
NOT_PROSE_CLASSES = {"ch-cite", "ch-review-footer", "ch-byline", "ch-evidence-summary"}
#: Inline nodes whose text is not prose.
NOT_WORDS = (nodes.literal, nodes.math, nodes.raw, nodes.footnote_reference, nodes.substitution_reference)
SENTENCE_END = re.compile(r"[.!?:;…]['\"”’)\]]*\s*$")


def is_prose(paragraph: nodes.paragraph) -> bool:
    node = paragraph.parent
    while node is not None:
        if isinstance(node, NOT_PROSE) or NOT_PROSE_CLASSES & set(node.get("classes", [])):
            return False
        node = node.parent
    return not NOT_PROSE_CLASSES & set(paragraph.get("classes", []))


def words_of(paragraph: nodes.paragraph) -> str:
    """The paragraph's text without code, maths, raw markup and citation markers."""
    parts = []
    for text in paragraph.findall(nodes.Text):
        node = text.parent
        skip = False
        while node is not None and node is not paragraph:
            if isinstance(node, NOT_WORDS) or is_citation(node):
                skip = True
                break
            node = node.parent
        if not skip:
            parts.append(str(text))
    return " ".join("".join(parts).split())


def author_text(doctree: nodes.Node) -> str:
    """The author's own prose in *doctree*, one paragraph a line, each ending a sentence."""
    lines = []
    for paragraph in doctree.findall(nodes.paragraph):
        if not is_prose(paragraph):
            continue
        words = words_of(paragraph)
        if words:
            lines.append(words if SENTENCE_END.search(words) else words + ".")
    return "\n".join(lines)


@functools.cache
def textstat_offline():
    """textstat, told to count syllables with Pyphen (see the module docstring).

    Upstream: ``count_syllables()`` calls ``get_cmudict(lang)``, which
    downloads the dictionary through nltk; given None it falls back to Pyphen
    for each word, as it does for languages the dictionary lacks. nltk is
    imported by that one module only (``textstat.backend.utils._get_cmudict``),
    and takes 0.4 s to import: while textstat is imported, a stand-in module
    takes its place (never called, since ``get_cmudict`` is replaced), and is
    removed right after, so a real ``import nltk`` elsewhere still gets nltk.
    """
    stand_in = None
    if "nltk" not in sys.modules:
        stand_in = sys.modules["nltk"] = types.ModuleType("nltk", "stand-in: textstat's nltk is never called here")
    try:
        import textstat
        import textstat.backend.counts._count_syllables as count_syllables
    finally:
        if stand_in is not None and sys.modules.get("nltk") is stand_in:
            del sys.modules["nltk"]
    count_syllables.get_cmudict = lambda lang: None
    return textstat


def reading_level(text: str) -> dict | None:
    """``{"grade", "ease", "words"}`` of *text*, or None if it has no words."""
    if not text.strip():
        return None
    textstat = textstat_offline()
    return {
        "grade": round(float(textstat.flesch_kincaid_grade(text)), 1),
        "ease": round(float(textstat.flesch_reading_ease(text)), 1),
        "words": int(textstat.lexicon_count(text)),
    }


def measure_article(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    if not is_article(env, env.docname):
        return
    level = reading_level(author_text(doctree))
    env.metadata[env.docname][METADATA_KEY] = level
    target = app.config.citedhealth_reading_grade_target
    if level is not None and target is not None and level["grade"] > target:
        logger.info(
            f"note: reading level above target: Flesch–Kincaid grade {level['grade']:.1f} > {target} "
            f"(citedhealth_reading_grade_target; reading ease {level['ease']:.1f}): shorter sentences "
            "and words bring it down",
            location=(env.docname, 1),
            color="darkred",
        )


def load_before_reading(app: Sphinx, env, docnames: list[str]) -> None:
    """env-before-read-docs, in the main process: textstat and Pyphen's patterns are loaded once.

    Sphinx reads a large build's documents in worker processes forked for
    each chunk (about 60 articles of 1000 with ``-j 2``); each one would import
    textstat and load Pyphen's English patterns again, 0.15 to 0.3 s apiece.
    Loaded here, before the forks, every worker inherits them."""
    if any(is_article(env, docname) for docname in docnames):
        reading_level("Load the syllable counter once.")


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_reading_grade_target", 8, "env", (int, float, type(None)))
    app.connect("env-before-read-docs", load_before_reading)
    # After the byline (500) and "Cite this article" (450): both are left out by class anyway.
    app.connect("doctree-read", measure_article, priority=800)
