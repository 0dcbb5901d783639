"""pybtex's reading of LaTeX in a field, skipped where LaTeX would leave the text as it is.

Contract: ``pybtex.richtext.Text.from_latex(text)`` gives what pybtex gives
for every text. For a text that holds only word characters, single spaces
between them, grouping braces and punctuation that LaTeX does not treat specially
(:data:`PLAIN`, and none of the ligatures ``--``, ``''`` and ``,,``), it
skips the LaTeX decoding step (latexcodec's ``ulatex`` codec, which returns
such a text unchanged) and goes straight to pybtex's brace parser, as
upstream does after decoding.

Why: every formatted work or article decodes each field and each name part
with latexcodec's tokenizer, about 0.1 ms a field; "Cite this article" and
the article's ``.ris`` and ``.bib`` decode each article's own title and
names, which no cache shares, so at 1000 articles decoding was about 2.5% of
a cold build. Titles and names are almost always plain text. What latexcodec
changes was measured, not assumed: of every string of up to three
characters from :data:`PLAIN`'s classes, only ``--``, ``''`` and ``,,``
and a leading or doubled space change (``tests/test_latex.py`` checks this
for every such string, and compares the two paths on the project's
bibliography, the test roots' and generated titles). Leaning on pybtex's
internals: ``Text.from_latex`` is replaced (see ``upstream.py``); nothing
upstream is wrong (not reported upstream).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

# pybtex imports latexcodec on its first decoding (about 50 ms, registering every codec). Imported
# here, at setup in the main process, every worker forked to read or write a chunk of a parallel
# build inherits it instead of importing it again (at 1000 articles, two dozen workers).
import latexcodec  # noqa: F401
from pybtex.markup import LaTeXParser
from pybtex.richtext import Text

if TYPE_CHECKING:
    from sphinx.application import Sphinx

#: Text latexcodec decodes to itself: word characters, typographic quotes and dashes, ASCII
#: punctuation without LaTeX meaning (no backslash, $, %, ~, backtick), grouping braces (which
#: decoding keeps, and pybtex's parser then reads, as it does after decoding), single spaces
#: not at the start. The ligatures it forms are refused by :data:`LIGATURES`.
PLAIN = re.compile(r"""(?! )(?:[\w.,:;()?!/'&+=*\[\]<>@"#^|’‘“”–—{}-]| (?=[^ ]))*""")
LIGATURES = ("--", "''", ",,")

#: pybtex's own, kept for texts LaTeX may change (and for upstream.py's fingerprint).
upstream_from_latex = Text.__dict__["from_latex"].__func__


def leaves_as_is(text: str) -> bool:
    """Whether latexcodec's ``ulatex`` decoding returns *text* unchanged (conservatively: False if unsure)."""
    return bool(PLAIN.fullmatch(text)) and not any(ligature in text for ligature in LIGATURES)


def from_latex(cls, latex):
    """``Text.from_latex`` (pybtex): the braces parsed as upstream, the decoding skipped where it changes nothing."""
    if isinstance(latex, str) and leaves_as_is(latex):
        return LaTeXParser(latex).parse()
    return upstream_from_latex(cls, latex)


from_latex.__wrapped__ = upstream_from_latex


def install() -> None:
    if Text.__dict__["from_latex"].__func__ is not from_latex:
        Text.from_latex = classmethod(from_latex)


def setup(app: Sphinx) -> None:
    install()
