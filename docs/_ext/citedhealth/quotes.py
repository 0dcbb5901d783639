"""Smart quotes as Sphinx makes them, without educating text they cannot change.

Contract: every page's quotes, dashes and ellipses are exactly what Sphinx's
``SphinxSmartQuotes`` transform makes of them (``smartquotes`` and
``smartquotes_action`` as Sphinx reads them; ``smartquotes = False`` still turns
it off). :class:`QuickSmartQuotes` stands in for it in Sphinx's list of
transforms and differs in one step: a block of text (a paragraph, a title)
none of whose text holds a character the transform acts on is left as it
is, where docutils would split it into tokens, "educate" each and put back
an equal copy of each text node.

Why: the transform cost about 4.7 ms of each article's 72 ms read and write
(serial profile of 200 generated articles, ``-j 1``), more than any other
docutils transform, and most of an article's paragraphs hold no quote, no
``--`` and no ``...``. MyST-Parser's own ``smartquotes`` extension (markdown-it's
typographer) is no stand-in: it educates Markdown text only, not directive
arguments (an editorial note's title kept its straight quotes), and heading
anchors are made from its output ("bells-palsy" where Sphinx's gives
"bell-s-palsy"), so pages and links would change.

What the transform acts on (docutils' ``educate_tokens`` with the action
``qDe``, or any other): backslash escapes (``processEscapes``), ``--`` and
``---``, ``...`` and ``. . .``, straight quotes and backticks; docutils marks
escaped characters with a NUL byte (``get_tokens``). A block whose text holds
none of :data:`ACTIVE` comes back from ``educate_tokens`` unchanged, token by
token (each function above returns text without its characters as it is),
so skipping it changes nothing. Leaning on docutils' internals:
``docutils.transforms.universal.SmartQuotes.apply``, copied below with the
skip added (see ``upstream.py``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from docutils import nodes
from docutils import utils as docutils_utils
from docutils.utils import smartquotes
from sphinx.transforms import SphinxSmartQuotes

if TYPE_CHECKING:
    from sphinx.application import Sphinx

#: Text the transform can change: a backslash or NUL (escapes), a straight quote or backtick, ``--``, ``...``, ``. .``.
ACTIVE = re.compile(r"""[\\\x00'"`]|--|\.\.|\. \.""")


class QuickSmartQuotes(SphinxSmartQuotes):
    """Sphinx's ``SphinxSmartQuotes``, skipping blocks whose text holds nothing it acts on."""

    def apply(self, **kwargs) -> None:
        if not self.is_available():
            return
        # As SphinxSmartQuotes.apply: the action from conf.py.
        self.smartquotes_action = self.config.smartquotes_action
        self.educate()

    def educate(self) -> None:
        """docutils 0.22's ``SmartQuotes.apply``, with the skip of the module docstring."""
        smart_quotes = self.document.settings.setdefault("smart_quotes", False)
        if not smart_quotes:
            return
        try:
            alternative = smart_quotes.startswith("alt")
        except AttributeError:
            alternative = False

        document_language = self.document.settings.language_code
        lc_smartquotes = self.document.settings.smartquotes_locales
        if lc_smartquotes:
            smartquotes.smartchars.quotes.update(dict(lc_smartquotes))

        for node in self.document.findall(nodes.TextElement):
            if isinstance(node, self.nodes_to_skip):
                continue
            if isinstance(node.parent, nodes.TextElement):
                continue
            txtnodes = [
                txtnode for txtnode in node.findall(nodes.Text) if not isinstance(txtnode.parent, nodes.option_string)
            ]
            lang = node.get_language_code(document_language)
            if alternative:
                if "-x-altquot" in lang:
                    lang = lang.replace("-x-altquot", "")
                else:
                    lang += "-x-altquot"
            for tag in docutils_utils.normalize_language_tag(lang):
                if tag in smartquotes.smartchars.quotes:
                    lang = tag
                    break
            else:
                if lang not in self.unsupported_languages:
                    self.document.reporter.warning(f'No smart quotes defined for language "{lang}".', base_node=node)
                self.unsupported_languages.add(lang)
                lang = ""
            # Ours: nothing here the transform would change (after the language's warning, as docutils gives it).
            if not any(ACTIVE.search(txtnode) for txtnode in txtnodes):
                continue
            teacher = smartquotes.educate_tokens(self.get_tokens(txtnodes), attr=self.smartquotes_action, language=lang)
            for txtnode, newtext in zip(txtnodes, teacher, strict=False):
                txtnode.parent.replace(txtnode, nodes.Text(newtext))
        self.unsupported_languages.clear()


def setup(app: Sphinx) -> None:
    # Sphinx registers its transform in its own setup, before any extension's.
    transforms = app.registry.get_transforms()
    transforms[transforms.index(SphinxSmartQuotes)] = QuickSmartQuotes
