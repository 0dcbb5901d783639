"""Sphinx configuration for Cited Health.

Settings only, in the order of Sphinx's quickstart; behaviour lives in our
extension, ``docs/_ext/citedhealth``. Reference:
https://www.sphinx-doc.org/en/master/usage/configuration.html
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).parent.resolve()
sys.path.insert(0, str(DOCS / "_ext"))

# Set by Read the Docs on its builders.
ON_RTD = os.environ.get("READTHEDOCS") == "True"

# -- Project -----------------------------------------------------------------

project = "Cited Health"
author = "Cited Health editorial team"
copyright = "2026, Cited Health"  # noqa: A001 (Sphinx's name)
language = "en"

# -- General -----------------------------------------------------------------

extensions = [
    # Third-party
    "myst_parser",
    "sphinxcontrib.bibtex",
    # Ours
    "citedhealth",
]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
# Nitpicky mode (-n) makes any unresolved reference a warning; the Makefile
# and Read the Docs turn warnings into errors.
nitpicky = True

# -- MyST --------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist"]
# The front matter's title is the article's H1: one source for the title.
myst_title_to_header = True
myst_heading_anchors = 3

# -- Citations (sphinxcontrib-bibtex) -----------------------------------------

bibtex_bibfiles = ["references.bib"]
# Our pybtex style: unsrt (numbered in order of first citation) with PubMed links.
bibtex_default_style = "citedhealth"
bibtex_reference_style = "label"
# No title="..." tooltip with the whole entry on every in-text citation: our
# previews (_static/citedhealth.js) show the entry itself, and each number
# links to it; the repeated text cost every article page about 0.5 KB gzipped.
bibtex_tooltips = False

# -- Our extension -------------------------------------------------------------

citedhealth_articles_dir = "articles"
citedhealth_disclaimer_title = "Disclaimer"
citedhealth_disclaimer_text = (
    "This article is for informational purposes only and does not constitute "
    "medical advice. Consult with a healthcare professional before starting any "
    "treatment."
)
# The site's health topics; an article's optional `topics` front matter picks
# from them, and `make new-article` writes the first unless TOPIC= says otherwise.
citedhealth_topics = [
    "Pain and nerves",
    "Bones and joints",
    "Heart and circulation",
    "Diabetes and hormones",
    "Mental health",
    "Complementary therapies",
]
# Flesch-Kincaid grade above which the build notes an article (a note, not an
# error). NIH recommends grade 6 to 7 for patient material.
citedhealth_reading_grade_target = 8

# -- HTML --------------------------------------------------------------------

html_theme = "furo"
html_title = "Cited Health"
html_favicon = "_static/favicon.svg"
html_static_path = ["_static"]
html_css_files = ["citedhealth.css"]
# Citation previews; deferred so they never hold up the first paint.
html_js_files = [("citedhealth.js", {"defer": "defer"})]
# The public address, for the canonical link, og:url and sitemap.xml. Read the
# Docs sets it; local builds have none, and then write no sitemap.
html_baseurl = os.environ.get("READTHEDOCS_CANONICAL_URL", "")
html_copy_source = False
# No general index page: articles add no index entries, so it would be empty,
# yet Sphinx would rewrite it, with the whole navigation, on every build.
html_use_index = False
html_show_sourcelink = False
html_theme_options = {
    "source_repository": None,
    "top_of_page_buttons": [],
}

# -- LaTeX / PDF ---------------------------------------------------------------
# One PDF per article: our extension derives latex_documents from the files in
# docs/articles/ (citedhealth_pdf_per_article), so conf.py never lists them.

# xelatex: health text has β, ≥, µ, curly quotes and dashes, which stop pdflatex.
# Its default fonts (GNU FreeFont) cover them all.
latex_engine = "xelatex"
latex_use_xindy = False
latex_domain_indices = False
latex_elements = {
    "papersize": "a4paper",
    # An article, not a book: no table of contents (the PDF outline lists the
    # sections), no index, no chapter styling.
    "tableofcontents": "",
    "makeindex": "",
    "printindex": "",
    "fncychap": "",
    # Sections unnumbered, as on the web page.
    "preamble": r"\setcounter{secnumdepth}{0}",
    # The disclaimer's warning box and the editorial notes' box in the HTML's colours.
    "sphinxsetup": ", ".join(
        [
            "hmargin={2cm,2cm}",
            "vmargin={2cm,2.2cm}",
            "div.warning_border-width=1.5pt",
            "div.warning_border-TeXcolor={RGB}{243,156,18}",
            "div.warning_background-TeXcolor={RGB}{254,243,224}",
            "div.warning_title-background-TeXcolor={RGB}{253,227,181}",
            "div.note_border-TeXcolor={RGB}{91,63,166}",
            "div.note_background-TeXcolor={RGB}{246,243,252}",
            "div.note_title-background-TeXcolor={RGB}{233,226,247}",
        ]
    ),
}
citedhealth_pdf_per_article = True
# Where the site keeps the PDFs: <html output>/pdf/<slug>.pdf.
citedhealth_pdf_dir = "pdf"
