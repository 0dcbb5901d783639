extensions = ["citedhealth"]
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "citedhealth"
bibtex_reference_style = "label"
myst_title_to_header = True
citedhealth_today = "2027-03-01"
