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

# -- Project -----------------------------------------------------------------

project = "Cited Health"
author = "Cited Health editorial team"
copyright = "2026, Cited Health"  # noqa: A001 (Sphinx's name)
language = "en"

# -- General -----------------------------------------------------------------

extensions = [
    # Ours, first: it loads the two below itself, after giving pybtex one
    # index of its plugins (sphinxcontrib-bibtex's import looks them up).
    "citedhealth",
    # Third-party
    "myst_parser",
    "sphinxcontrib.bibtex",
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
# The disclaimer's words are the extension's (citedhealth.disclaimer.DEFAULT_TEXT,
# kept in one place); citedhealth_disclaimer_text = "..." would replace them.
# The site's health topics, each with its page (topics/<slug>.html); every
# article's `topics` front matter picks one or more from them, its first being
# the one its sidebar opens. `make new-article` writes the first unless TOPIC=
# says otherwise.
citedhealth_topics = [
    "Pain and nerves",
    "Bones and joints",
    "Heart and circulation",
    "Diabetes and hormones",
    "Mental health",
    "Complementary therapies",
]
# The landing page's "Recently reviewed" list, and the Atom feed (feed.xml):
# how many articles each shows, newest review first. Neither grows with the site.
citedhealth_recent_articles = 10
citedhealth_feed_entries = 50
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

# -- PDF (Typst) ----------------------------------------------------------------
# One tagged PDF (PDF/UA-1 with PDF/A-2a) per article, from `make pdf` (our
# extension's `typst` builder): derived from the files in docs/articles/, so
# conf.py never lists them. Language, title, author, description and keywords
# come from `language` above and each article's front matter.

citedhealth_pdf_per_article = True
# Where the site keeps the PDFs: <html output>/pdf/<slug>.pdf.
citedhealth_pdf_dir = "pdf"
