"""The bibliography style (bibstyle.py): one formatting per work, whatever its number on a page."""

from __future__ import annotations

from pathlib import Path

import pytest
from citedhealth.bibstyle import CitedHealthStyle
from pybtex.database import parse_file

REFERENCES = Path(__file__).resolve().parent.parent / "docs" / "references.bib"


@pytest.fixture
def style():
    CitedHealthStyle._formatted.clear()
    yield CitedHealthStyle()
    CitedHealthStyle._formatted.clear()


def rendered(formatted) -> str:
    return formatted.text.render_as("html")


def test_the_text_of_every_real_entry_does_not_depend_on_its_label(style):
    # What makes the cache by key alone right: pages number the same work differently.
    entries = parse_file(str(REFERENCES)).entries.values()
    assert len(entries) >= 10
    for entry in entries:
        first = style.format_entry_uncached("1", entry)
        other = style.format_entry_uncached("17", entry)
        assert rendered(first) == rendered(other), entry.key
        assert (first.label, other.label) == ("1", "17")


def test_a_work_is_formatted_once_and_carries_each_page_its_own_label(style, monkeypatch):
    entry = next(iter(parse_file(str(REFERENCES)).entries.values()))
    calls = []
    uncached = CitedHealthStyle.format_entry_uncached

    def counting(self, label, entry, bib_data=None):
        calls.append(label)
        return uncached(self, label, entry, bib_data)

    monkeypatch.setattr(CitedHealthStyle, "format_entry_uncached", counting)
    first = style.format_entry("1", entry)
    third = CitedHealthStyle().format_entry("3", entry)  # bibtex makes a style per bibliography
    assert calls == ["1"]
    assert (first.key, first.label, third.key, third.label) == (entry.key, "1", entry.key, "3")
    assert rendered(first) == rendered(third)
    assert style.format_entry("1", entry) is first


def test_a_reloaded_entry_is_formatted_again(style):
    # An edited .bib gives new entry objects: the old text must not survive.
    entry = next(iter(parse_file(str(REFERENCES)).entries.values()))
    before = style.format_entry("1", entry)
    edited = parse_file(str(REFERENCES)).entries[entry.key]
    edited.fields["title"] = "A title changed by its author"
    after = style.format_entry("2", edited)
    assert "changed by its author" in rendered(after)
    assert "changed by its author" not in rendered(before)
