"""Review status, as health publishers show it: a footer on each article, and ``make review-status``.

Contract:

- Sphinx side (``setup``): each article ends, after "Cite this article", with
  a paragraph of class ``ch-review-footer``: "Page last reviewed: 24 November
  2026" and "Next review due: 24 November 2027" (NHS pages end so), each an
  inline of class ``ch-last-reviewed`` / ``ch-next-review-due``. Plain docutils
  nodes added when the article is read, so the HTML, the PDF and any builder
  show them. (The byline under the title says the same, :mod:`.articles`.)
- Command side (``python -m citedhealth.review SOURCEDIR``, run by ``make
  review-status``): reads the project as the build does (a Sphinx application
  with the ``dummy`` builder and the build's own front-matter parsing,
  reusing its environment in ``--doctrees``), then prints every article,
  sorted by next review due (articles without a valid date first): the date,
  its status (``overdue``, ``due within 30 days`` or ``fine``; today is
  ``citedhealth_today`` if ``conf.py`` sets it, as in the build), the last
  review, and the reading level of :mod:`.readability` (Flesch–Kincaid grade,
  Flesch reading ease). ``--json`` prints the same as JSON. It exits 0;
  with ``--fail-on-overdue``, 1 if any review is overdue or has no valid date.
  The build's warnings go to standard error; the table to standard output.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from docutils import nodes

from .articles import format_date, parse_iso_date, today
from .common import article_docnames, is_article

if TYPE_CHECKING:
    from sphinx.application import Sphinx

FOOTER_CLASS = "ch-review-footer"
DUE_SOON_DAYS = 30
OVERDUE, DUE_SOON, FINE, UNKNOWN = "overdue", f"due within {DUE_SOON_DAYS} days", "fine", "no valid date"


# -- The footer ------------------------------------------------------------------


def add_review_footer(app: Sphinx, doctree: nodes.document) -> None:
    """End the article with its review dates (invalid dates are front-matter warnings already)."""
    env = app.env
    if not is_article(env, env.docname):
        return
    top = next(iter(doctree.findall(nodes.section)), None)
    if top is None:
        return
    metadata = env.metadata[env.docname]
    footer = nodes.paragraph(classes=[FOOTER_CLASS])
    for key, label, css_class in (
        ("last_reviewed", "Page last reviewed", "ch-last-reviewed"),
        ("next_review_due", "Next review due", "ch-next-review-due"),
    ):
        date = parse_iso_date(str(metadata.get(key, "")))
        if date is None:
            continue
        if len(footer):
            footer += nodes.Text(" · ")
        footer += nodes.inline(text=f"{label}: {format_date(date)}", classes=[css_class])
    if len(footer):
        top += footer


# -- The table -----------------------------------------------------------------------


def status(due: dt.date | None, now: dt.date) -> str:
    if due is None:
        return UNKNOWN
    if due < now:
        return OVERDUE
    if (due - now).days <= DUE_SOON_DAYS:
        return DUE_SOON
    return FINE


def article_rows(app: Sphinx) -> list[dict]:
    """One row per article, sorted by next review due (no valid date first), then by name."""
    env = app.env
    now = today(app.config)
    rows = []
    for docname in article_docnames(env):
        metadata = env.metadata.get(docname, {})
        due = parse_iso_date(str(metadata.get("next_review_due", "")))
        reviewed = parse_iso_date(str(metadata.get("last_reviewed", "")))
        level = metadata.get("citedhealth_reading_level")
        rows.append(
            {
                "article": docname,
                "source": str(Path(env.doc2path(docname)).relative_to(app.srcdir)),
                "title": env.titles[docname].astext() if docname in env.titles else "",
                "next_review_due": due.isoformat() if due else None,
                "status": status(due, now),
                "days_until_due": (due - now).days if due else None,
                "last_reviewed": reviewed.isoformat() if reviewed else None,
                "grade": level["grade"] if level else None,
                "reading_ease": level["ease"] if level else None,
                "words": level["words"] if level else 0,
            }
        )
    rows.sort(key=lambda row: (row["next_review_due"] is not None, row["next_review_due"] or "", row["article"]))
    return rows


COLUMNS = (
    ("next_review_due", "Next review due"),
    ("status", "Status"),
    ("last_reviewed", "Last reviewed"),
    ("grade", "FK grade"),
    ("reading_ease", "Reading ease"),
    ("source", "Article"),
)


def table(rows: list[dict], now: dt.date, target) -> str:
    """The rows as an aligned plain-text table, with what "today" and the grade target were."""

    def cell(row: dict, key: str) -> str:
        value = row[key]
        if value is None:
            return "-"
        if key in ("grade", "reading_ease"):
            return f"{value:.1f}"
        return str(value)

    cells = [[title for _, title in COLUMNS]] + [[cell(row, key) for key, _ in COLUMNS] for row in rows]
    widths = [max(len(line[index]) for line in cells) for index in range(len(COLUMNS))]
    numeric = {index for index, (key, _) in enumerate(COLUMNS) if key in ("grade", "reading_ease")}
    lines = []
    for line in cells:
        lines.append(
            "  ".join(
                text.rjust(widths[i]) if i in numeric else text.ljust(widths[i]) for i, text in enumerate(line)
            ).rstrip()
        )
    lines.insert(1, "  ".join("-" * width for width in widths))
    counts = {name: sum(row["status"] == name for row in rows) for name in (OVERDUE, DUE_SOON, FINE, UNKNOWN)}
    summary = ", ".join(f"{count} {name}" for name, count in counts.items() if count) or "no articles"
    lines.append("")
    lines.append(f"{len(rows)} {'article' if len(rows) == 1 else 'articles'} on {now.isoformat()}: {summary}.")
    if target is not None:
        above = sum(row["grade"] is not None and row["grade"] > target for row in rows)
        lines.append(
            f"Reading level: Flesch–Kincaid grade (target {target}, citedhealth_reading_grade_target; "
            f"{above} above it) and Flesch reading ease (higher is easier)."
        )
    return "\n".join(lines) + "\n"


def read_project(srcdir: Path, doctreedir: Path, overrides: dict) -> Sphinx:
    """The project read as the build reads it (``dummy`` builder: no output), its warnings to stderr."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    outdir = Path(tempfile.mkdtemp(prefix="review-status-"))
    with patch_docutils(srcdir), docutils_namespace():
        app = Sphinx(
            srcdir,
            srcdir,
            outdir,
            doctreedir,
            "dummy",
            confoverrides=overrides,
            status=io.StringIO(),
            warning=sys.stderr,
            freshenv=False,
        )
        app.build()
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m citedhealth.review",
        description="Every article's review dates and reading level, next review due first.",
    )
    parser.add_argument("sourcedir", type=Path, help="the folder holding conf.py (docs)")
    parser.add_argument("--doctrees", type=Path, help="where to keep the environment between runs")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--fail-on-overdue",
        action="store_true",
        help="exit 1 if any article is overdue for review or has no valid next_review_due",
    )
    parser.add_argument("-D", dest="overrides", action="append", default=[], metavar="name=value")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.overrides)
    srcdir = args.sourcedir.resolve()
    doctreedir = (args.doctrees or Path(tempfile.mkdtemp(prefix="review-doctrees-"))).resolve()
    app = read_project(srcdir, doctreedir, overrides)
    rows = article_rows(app)
    now = today(app.config)
    target = app.config.citedhealth_reading_grade_target
    if args.json:
        report = {"today": now.isoformat(), "grade_target": target, "due_soon_days": DUE_SOON_DAYS, "articles": rows}
        sys.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(table(rows, now, target))
    failing = [row for row in rows if row["status"] in (OVERDUE, UNKNOWN)]
    return 1 if args.fail_on_overdue and failing else 0


def setup(app: Sphinx) -> None:
    # After "Cite this article" (citing.py, 450) and the byline (500): the footer comes last.
    app.connect("doctree-read", add_review_footer, priority=600)


if __name__ == "__main__":
    sys.exit(main())
