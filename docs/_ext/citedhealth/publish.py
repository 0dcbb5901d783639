"""Put the article PDFs into the built site: ``python -m citedhealth.publish PDFDIR TARGET``.

Contract: copies ``PDFDIR/*.pdf`` (``make pdf``'s output, :mod:`.pdf`) into
*TARGET* (``_build/html/pdf``, where each article's "Download PDF" link
points), replacing that folder in one step: the new folder is filled beside it
and renamed into place, so the site never links to a PDF that is not there
and never keeps the PDF of a deleted article. ``make site`` and Read the
Docs' ``post_build`` job run it after both builds. It is a command, not part
of a Sphinx build (not registered in ``conf.py``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path


def publish(pdfdir: Path, target: Path) -> None:
    """Put the PDFs into the site (*target*, e.g. ``_build/html/pdf``), replacing the folder in one step."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for pdf in sorted(pdfdir.glob("*.pdf")):
        shutil.copyfile(pdf, partial / pdf.name)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m citedhealth.publish",
        description="Put the article PDFs (from `make pdf`) into the built site, replacing its PDF folder in one step.",
    )
    parser.add_argument("pdfdir", type=Path, help="the PDFs (make pdf's output folder)")
    parser.add_argument("target", type=Path, help="the site's PDF folder, e.g. _build/html/pdf")
    args = parser.parse_args(argv)
    if not args.pdfdir.is_dir():
        parser.error(f"{args.pdfdir} is not a folder: run `make pdf` first")
    publish(args.pdfdir, args.target)
    print(f"published {len(list(args.target.glob('*.pdf')))} PDF(s) into {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
