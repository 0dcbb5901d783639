"""The bibliography in the pickled environment: each work kept as one blob, unpacked when first used.

Contract: the environment Sphinx pickles between builds holds
sphinxcontrib-bibtex's parsed ``.bib`` files (every pybtex ``Entry``, with
its fields and persons) and every bibliography's formatted entries (pybtex
``FormattedEntry``, whose ``text`` is a tree of rich-text objects). Pickled
as they are, a 17,000-entry bibliography is a few million small objects:
loading them took about a second on every build, even one with nothing to
do. Here each ``Entry`` is pickled as its key and one ``bytes`` blob of the
rest, and each ``FormattedEntry`` as its key, label and a blob of its text;
loading makes one small object per work, and the blob is unpickled the
first time anything reads a field (a page being written, a check, a
citation being formatted). What code reads is the same objects' same
values: ``StoredEntry`` is an ``Entry``, ``StoredFormattedEntry`` a
``FormattedEntry``; an entry shared by the parsed files and a citation is
still one object after loading (pickle's memo keeps identity, which
:class:`~.citations.ArticleBibtexDomain` relies on).

How: ``copyreg`` reducers for pybtex's two classes (the pickle protocol's
own hook; ``copy.deepcopy`` uses them too, and gets an equal copy). They
lean on pybtex 0.26's attribute layout (``Entry.key``, ``type``,
``original_type``, ``fields``, ``persons``; ``FormattedEntry.key``,
``text``, ``label``): :data:`ENTRY_ATTRIBUTES` is checked at setup, so a
pybtex that renames them fails loudly instead of pickling half an entry.
"""

from __future__ import annotations

import copyreg
import pickle
from typing import TYPE_CHECKING

from pybtex.database import Entry
from pybtex.style import FormattedEntry

if TYPE_CHECKING:
    from sphinx.application import Sphinx

#: What pybtex 0.26's ``Entry.__init__`` sets (plus ``key``, which its parser sets).
ENTRY_ATTRIBUTES = {"type", "original_type", "fields", "persons"}


def unpack(obj, load) -> None:
    """Unpickle *obj*'s blob into its attributes, once."""
    blob = obj.__dict__.pop("_blob", None)
    if blob is not None:
        obj.__dict__.update(load(blob))


def packed_attribute(name: str, load) -> property:
    """An attribute read from the instance, after its blob is unpacked.

    A property, not ``__getattr__``: pybtex's ``Entry`` has class-level
    defaults (``fields = None``) that ``__getattr__`` would never get past.
    """

    def get(self):
        unpack(self, load)
        return self.__dict__[name]

    def set_(self, value):
        unpack(self, load)
        self.__dict__[name] = value

    return property(get, set_)


def load_entry_state(blob: bytes) -> dict:
    return pickle.loads(blob)


def load_text(blob: bytes) -> dict:
    return {"text": pickle.loads(blob)}


class StoredEntry(Entry):
    """A pybtex ``Entry`` restored from the environment: its fields are unpickled on first use."""

    type = packed_attribute("type", load_entry_state)
    original_type = packed_attribute("original_type", load_entry_state)
    fields = packed_attribute("fields", load_entry_state)
    persons = packed_attribute("persons", load_entry_state)


class StoredFormattedEntry(FormattedEntry):
    """A pybtex ``FormattedEntry`` restored from the environment: its text is unpickled on first use."""

    text = packed_attribute("text", load_text)


def restore_entry(key, blob: bytes) -> StoredEntry:
    entry = StoredEntry.__new__(StoredEntry)
    entry.__dict__.update(key=key, _blob=blob)
    return entry


def reduce_entry(entry: Entry):
    # vars(), not attribute reads: a still-packed entry is pickled again as it came.
    state = dict(entry.__dict__)
    key = state.pop("key", None)
    blob = state.pop("_blob", None)  # still packed: pickled again as it came
    if blob is None:
        blob = pickle.dumps(state, pickle.HIGHEST_PROTOCOL)
    return restore_entry, (key, blob)


def restore_formatted_entry(key, label, blob: bytes) -> StoredFormattedEntry:
    formatted = StoredFormattedEntry.__new__(StoredFormattedEntry)
    formatted.__dict__.update(key=key, label=label, _blob=blob)
    return formatted


def reduce_formatted_entry(formatted: FormattedEntry):
    state = formatted.__dict__
    blob = state.get("_blob")
    if blob is None:
        blob = pickle.dumps(state["text"], pickle.HIGHEST_PROTOCOL)
    return restore_formatted_entry, (state["key"], state["label"], blob)


def check_pybtex_layout() -> None:
    """Fail at once if pybtex's classes no longer hold what the reducers pack."""
    entry = Entry("article", fields={"title": "T"}, persons={"author": ["A, B"]})
    if set(vars(entry)) != ENTRY_ATTRIBUTES or set(vars(FormattedEntry("k", "t", "l"))) != {"key", "text", "label"}:
        raise RuntimeError(
            f"pybtex's Entry or FormattedEntry changed its attributes ({sorted(vars(entry))}): "
            "citedhealth.lazybib must follow"
        )


def setup(app: Sphinx) -> None:
    check_pybtex_layout()
    # Registered before Sphinx loads the pickled environment (extensions are set up first).
    for cls in (Entry, StoredEntry):
        copyreg.pickle(cls, reduce_entry)
    for cls in (FormattedEntry, StoredFormattedEntry):
        copyreg.pickle(cls, reduce_formatted_entry)
