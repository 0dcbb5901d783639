extensions = ["citedhealth"]
bibtex_bibfiles = ["references.bib"]
myst_title_to_header = True
