extensions = ["citedhealth"]
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "citedhealth"
bibtex_reference_style = "label"
myst_title_to_header = True
# A template that adds a third-party script to every page: the sanitizer never sees it.
templates_path = ["_templates"]
