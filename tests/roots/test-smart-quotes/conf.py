extensions = ["citedhealth"]
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "citedhealth"
bibtex_reference_style = "label"
myst_title_to_header = True

