import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
# A node with an HTML rendering only, as a new extension might add.
extensions = ["citedhealth", "html_only_node"]
bibtex_bibfiles = ["references.bib"]
myst_title_to_header = True
