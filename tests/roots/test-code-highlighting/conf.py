extensions = ["citedhealth"]
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "citedhealth"
citedhealth_pdf_per_article = False
