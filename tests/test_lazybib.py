"""Bibliography entries travel packed in the pickled environment (lazybib.py)."""

from __future__ import annotations

import copy
import pickle

from citedhealth import lazybib
from pybtex.database import BibliographyData, Entry, Person
from pybtex.style import FormattedEntry
from pybtex.style.formatting.unsrt import Style

lazybib.setup(None)


def sample() -> tuple[BibliographyData, FormattedEntry]:
    entry = Entry(
        "article",
        fields={"title": "A Trial of Something", "journal": "J", "year": "2020", "doi": "10.1000/x"},
        persons={"author": [Person("Smith, Jane"), Person("Doe, John")]},
    )
    entry.key = "smith2020trial"
    data = BibliographyData(entries={"smith2020trial": entry})
    formatted = next(iter(Style().format_entries(data.entries.values())))
    return data, formatted


def test_an_entry_comes_back_equal_shared_and_packed_until_read():
    data, formatted = sample()
    restored_data, restored_formatted, again = pickle.loads(
        pickle.dumps((data, formatted, data.entries["smith2020trial"]), pickle.HIGHEST_PROTOCOL)
    )
    entry = restored_data.entries["smith2020trial"]
    assert isinstance(entry, Entry)
    assert entry is again  # one object, as before pickling
    assert "_blob" in vars(entry)  # nothing unpacked yet
    assert entry.key == "smith2020trial"
    assert "_blob" in vars(entry)  # the key alone unpacks nothing
    assert entry == data.entries["smith2020trial"]
    assert "_blob" not in vars(entry)
    assert entry.fields["Title"] == "A Trial of Something"
    assert [str(person) for person in entry.persons["author"]] == ["Smith, Jane", "Doe, John"]
    assert entry.type == "article"
    assert isinstance(restored_formatted, FormattedEntry)
    assert restored_formatted.label == formatted.label == "1"
    assert restored_formatted.text.render_as("text") == formatted.text.render_as("text")


def test_a_packed_entry_is_pickled_again_without_unpacking():
    data, _ = sample()
    once = pickle.loads(pickle.dumps(data, pickle.HIGHEST_PROTOCOL))
    twice = pickle.loads(pickle.dumps(once, pickle.HIGHEST_PROTOCOL))
    assert "_blob" in vars(once.entries["smith2020trial"])
    assert twice.entries["smith2020trial"] == data.entries["smith2020trial"]


def test_copies_and_new_entries_made_from_a_stored_one_work():
    data, _ = sample()
    entry = pickle.loads(pickle.dumps(data, pickle.HIGHEST_PROTOCOL)).entries["smith2020trial"]
    assert copy.deepcopy(entry) == entry
    lowered = entry.lower()  # pybtex builds it with type(entry)(...)
    assert lowered.fields["title"] == "A Trial of Something"
    entry.fields = entry.fields.lower()
    assert entry.fields["title"] == "A Trial of Something"
