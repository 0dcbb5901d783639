"""pybtex's LaTeX reading (latex.py): skipped only where latexcodec would leave the text as it is."""

from __future__ import annotations

import codecs
import itertools
import random

import latexcodec  # noqa: F401  (registers the codec)
from citedhealth import latex
from conftest import ROOTS
from pybtex.database import parse_file
from pybtex.richtext import Text

DOCS_BIB = ROOTS.parent.parent / "docs" / "references.bib"

#: One or two of each kind of character PLAIN admits, and some it refuses.
ALPHABET = "aZé9_ .,:;()?!/'&+=*[]<>@\"#^|’–-{}" + "\\$%~`\t"


def test_text_is_left_alone_only_where_latexcodec_returns_it_unchanged():
    checked = 0
    for length in (1, 2, 3):
        for letters in itertools.product(ALPHABET, repeat=length):
            text = "".join(letters)
            if latex.leaves_as_is(text):
                assert codecs.decode(text, "ulatex") == text, repr(text)
                checked += 1
    assert checked > 10_000
    # What latexcodec changes is refused: ligatures, leading and doubled spaces, LaTeX's own characters.
    for text in ("a--b", "''x''", ",,x", " x", "a  b", "a\tb", "\\'e", "$x$", "50%", "a~b", "`x'"):
        assert not latex.leaves_as_is(text), text


def test_from_latex_equals_pybtexs_own():
    latex.install()
    assert Text.from_latex.__func__ is latex.from_latex
    assert DOCS_BIB.is_file()
    texts = ["", "Can Acupuncture Help With Nerve Pain?", "Bell's palsy (part 2): a review", "Ménière’s disease"]
    for bib in [DOCS_BIB, *sorted(ROOTS.glob("*/references.bib"))]:
        try:
            data = parse_file(str(bib))
        except Exception:  # the malformed test roots
            continue
        for entry in data.entries.values():
            texts += list(entry.fields.values())
            texts += [str(person) for persons in entry.persons.values() for person in persons]
    rng = random.Random(7)
    texts += ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 40))) for _ in range(3000)]
    fast = 0
    for text in texts:
        try:
            expected = latex.upstream_from_latex(Text, text)
        except Exception as error:  # unbalanced braces: the same error either way
            try:
                Text.from_latex(text)
            except Exception as ours:
                assert type(ours) is type(error)
            continue
        assert repr(Text.from_latex(text)) == repr(expected), repr(text)
        fast += latex.leaves_as_is(text)
    assert fast > 100  # the quick path was taken, and gave pybtex's result
