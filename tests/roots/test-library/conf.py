# A small library for the reader-facing features (topics, A-Z, feed, sidebar):
# 15 articles, 13 in "Alpha topic" (more than the sidebar's window of 12),
# 3 in "Beta topic" (one in both), none in "Empty topic". Furo, as the site.
extensions = ["citedhealth"]
html_theme = "furo"
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "citedhealth"
myst_title_to_header = True
citedhealth_topics = ["Alpha topic", "Beta topic", "Empty topic"]
citedhealth_today = "2026-06-01"
