"""The one helper each for front matter's extent and atomic writes (citedhealth/common.py)."""

from __future__ import annotations

import os

import pytest
from citedhealth.articles import front_matter_block, parse_iso_date
from citedhealth.common import front_matter_end, write_atomically
from citedhealth.disclaimer import body_start_line
from citedhealth.metadata import iso_date


@pytest.mark.parametrize(
    ("source", "end"),
    [
        ("---\ntitle: A\n---\n# Body\n", 3),
        ("---  \ntitle: A\n\n---\t\nBody\n", 4),
        ("---\n---\nBody\n", 2),
        ("---\ntitle: never closed\n", None),
        ("# No front matter\n---\n", None),
        (" ---\ntitle: indented is not front matter\n---\n", None),
        ("", None),
    ],
)
def test_front_matter_ends_where_articles_and_the_disclaimer_check_both_say(source, end):
    assert front_matter_end(source) == end
    assert body_start_line(source) == (1 if end is None else end + 1)
    block = front_matter_block(source)
    assert (block is None) == (end is None)
    if block is not None:
        assert block == ("\n".join(source.splitlines()[1 : end - 1]), 2)


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("2026-03-20", "2026-03-20"),
        (" 2026-03-20 ", "2026-03-20"),
        ("2026-3-20", None),
        ("20260320", None),
        ("2026-02-30", None),
        ("", None),
        (None, None),
    ],
)
def test_one_date_parser_for_the_byline_and_the_metadata(value, date):
    assert iso_date(value) == date
    parsed = parse_iso_date(str(value or ""))
    assert (parsed.isoformat() if parsed else None) == date


def test_an_atomic_write_leaves_the_old_file_or_the_new_one_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "state" / "record.json"
    write_atomically(path, b"\x00bytes")
    assert path.read_bytes() == b"\x00bytes"
    write_atomically(path, "old\n")
    assert path.read_bytes() == b"old\n"  # text as UTF-8, newlines as given
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, "new")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["record.json"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_application_state_is_one_namespace_per_application_and_goes_with_it():
    import gc

    from citedhealth.common import _APP_STATE, app_state

    class App:  # anything Sphinx's application is to app_state: weakly referenceable
        pass

    first, second = App(), App()
    app_state(first).jobs = 2
    assert app_state(first).jobs == 2
    assert not hasattr(app_state(second), "jobs")
    assert not hasattr(first, "jobs")  # nothing set on the application itself
    del first
    gc.collect()
    assert len([key for key in _APP_STATE.keys() if isinstance(key, App)]) == 1
