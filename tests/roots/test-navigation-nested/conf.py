# Furo, with a toctree the landing page shows (not hidden); pages outside
# articles/ need no front matter or disclaimer.
extensions = ["citedhealth"]
html_theme = "furo"
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "citedhealth"
myst_title_to_header = True
