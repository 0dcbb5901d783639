"""What kind of evidence each source is: a fixed vocabulary, its check, and what readers see.

Contract:

- Every entry of ``bibtex_bibfiles`` that an article cites carries an
  ``evidence`` field holding exactly one label of :data:`VOCABULARY` (case and
  spacing do not matter: ``Narrative  Review`` is ``narrative review``). An
  entry without one, or with a label outside the vocabulary, is a
  ``citedhealth.bib-evidence`` warning naming the ``.bib`` file and the line
  (of the ``evidence`` field, or of the entry when it has none), checked once
  all documents are read. Entries cited nowhere need no label (they are
  ``bib-uncited`` already).
- Readers see the label on each entry of the bibliography: the style
  (:mod:`.citations`) ends the formatted entry with an inline node of class
  ``ch-evidence`` ("Evidence: narrative review"), so the HTML, the citation
  preview (which copies the entry) and the PDF all show it.
- Above each article's bibliography, a paragraph of class
  ``ch-evidence-summary`` counts the works it lists by kind, in the
  vocabulary's order: "This article cites 7 systematic reviews or
  meta-analyses, 1 randomised controlled trial and 3 narrative reviews."
  A bibliography that lists nothing gets no summary. It is a plain docutils
  paragraph added when the page is resolved (:class:`EvidenceSummary`), so every
  builder renders it without a visitor of ours.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinxcontrib.bibtex.directives import BibliographyKey
from sphinxcontrib.bibtex.nodes import bibliography as bibliography_node

from .common import is_article, write_atomically

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

#: The ``.bib`` field holding an entry's kind of evidence.
FIELD = "evidence"

#: Each kind of evidence, strongest kinds of study first, with its plural for the summary.
VOCABULARY: dict[str, str] = {
    "guideline": "guidelines",
    "systematic review or meta-analysis": "systematic reviews or meta-analyses",
    "randomised controlled trial": "randomised controlled trials",
    "other controlled trial": "other controlled trials",
    "observational study": "observational studies",
    "narrative review": "narrative reviews",
    "laboratory or animal study": "laboratory or animal studies",
    "consumer health information": "sources of consumer health information",
}
#: The singular where the label itself does not count ("1 consumer health information").
SINGULAR = {"consumer health information": "source of consumer health information"}

SUMMARY_CLASS = "ch-evidence-summary"
LABEL_CLASS = "ch-evidence"


def canonical(value: str | None) -> str | None:
    """The vocabulary's label that *value* names (any case and spacing), or None."""
    if value is None:
        return None
    label = " ".join(value.replace("{", "").replace("}", "").split()).lower()
    return label if label in VOCABULARY else None


def entry_label(entry) -> str | None:
    """The kind of evidence of a pybtex entry, or None if it has no valid label."""
    return canonical(entry.fields.get(FIELD))


# -- The check -----------------------------------------------------------------

FIELD_LINE = re.compile(rf"^[ \t]*{FIELD}[ \t]*=", re.IGNORECASE | re.MULTILINE)


#: The last check's findings, beside the doctrees: kept while the files and the cited keys are the same.
EVIDENCE_CHECK_CACHE = "citedhealth-evidence-check.json"


def check_evidence_labels(app: Sphinx, env: BuildEnvironment) -> None:
    """Every cited entry carries one label of the vocabulary; see the module docstring.

    The findings are worked out again only when a ``.bib`` file or the set of
    cited keys changed (looking at every cited entry unpacks each one from the
    pickled environment, :mod:`.lazybib`: over a second for 17,000 works);
    otherwise the kept findings are reported again, so a missing label fails
    every build until it is fixed."""
    # Here, not at the top: checks imports citations, which imports this module.
    from .checks import bib_files, warn

    domain = env.get_domain("cite")
    # Cited as checks.check_bib_entries counts it: named by a role or listed by a
    # bibliography (kept counted per page by the domain: citations.py).
    cited = domain.cited_keys()
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in bib_files(app):
        digest.update(f"\x00{path}\x00".encode())
        digest.update(path.read_bytes() if path.is_file() else b"\x00missing")
    digest.update("\x00".join(sorted(cited)).encode("utf-8", "surrogatepass"))
    key = digest.hexdigest()
    cache = Path(app.doctreedir) / EVIDENCE_CHECK_CACHE
    try:
        stored = json.loads(cache.read_text(encoding="utf-8"))
        findings = stored["findings"] if stored.get("key") == key else None
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        findings = None
    if findings is None:
        findings = evidence_findings(app, env, cited)
        write_atomically(cache, json.dumps({"key": key, "findings": findings}))
    for message, location in findings:
        warn(message, location, "bib-evidence")


def evidence_findings(app: Sphinx, env: BuildEnvironment, cited: set[str]) -> list[tuple[str, str]]:
    """(message, ``file:line``) for each cited entry without a label of the vocabulary."""
    from .checks import NON_ENTRIES, bib_files, split_entries

    findings: list[tuple[str, str]] = []
    entries = env.get_domain("cite").bibdata.data.entries
    # From the parsed entries first: the files are read (for the lines) only
    # when an entry is at fault, so a large bibliography costs nothing here.
    at_fault = {key for key in cited if key in entries and canonical(entries[key].fields.get(FIELD) or "") is None}
    if not at_fault:
        return findings
    seen: set[str] = set()
    choices = "; ".join(VOCABULARY)
    for path in bib_files(app):
        if not path.is_file():
            continue
        text = path.read_text(encoding=app.config.bibtex_encoding, errors="replace")
        for found in split_entries(text):
            if found.kind in NON_ENTRIES or found.key not in at_fault:
                continue
            if found.key.lower() in seen:
                continue  # a duplicate key's second definition: bib-duplicate says so
            seen.add(found.key.lower())
            value = entries[found.key].fields.get(FIELD)
            if value is None or not value.strip():
                findings.append(
                    (
                        f"cited bibliography entry {found.key!r} has no evidence label: add "
                        f"'{FIELD} = {{...}}' with one of: {choices}",
                        f"{path}:{found.line}",
                    )
                )
                continue
            if canonical(value) is None:
                match = FIELD_LINE.search(found.text)
                line = found.line + found.text.count("\n", 0, match.start()) if match else found.line
                close = difflib.get_close_matches(" ".join(value.split()).lower(), list(VOCABULARY), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                findings.append(
                    (
                        f"bibliography entry {found.key!r} has evidence label {value!r}, which is not one of: "
                        f"{choices}{hint}",
                        f"{path}:{line}",
                    )
                )
    return findings


# -- The summary above the references ------------------------------------------------


def summary_sentence(labels: list[str]) -> str:
    """``This article cites 2 guidelines and 1 narrative review.``: counts in the vocabulary's order."""
    counts = Counter(labels)
    parts = []
    for label, plural in VOCABULARY.items():
        count = counts.get(label, 0)
        if count:
            parts.append(f"{count} {SINGULAR.get(label, label) if count == 1 else plural}")
    unlabelled = counts.get(None, 0)
    if unlabelled:
        parts.append(f"{unlabelled} {'source' if unlabelled == 1 else 'sources'} of unstated kind")
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"This article cites {listed}."


class EvidenceSummary(SphinxPostTransform):
    """Put the evidence summary above each article bibliography, once its works are known."""

    # Before sphinxcontrib-bibtex's transform (5) and ours that runs just before
    # it (citations.BibliographyFromCopies, 4) replace the bibliography node.
    default_priority = 3

    def run(self, **kwargs) -> None:
        domain = self.env.get_domain("cite")
        for bibnode in list(self.document.findall(bibliography_node)):
            docname = bibnode["docname"]
            if not is_article(self.env, docname):
                continue
            key = BibliographyKey(docname=docname, id_=bibnode["ids"][0])
            # The page's citations from the domain's per-page index, not a scan of the site's.
            labels = [entry_label(c.entry) for c in domain.citations_of_page(docname) if c.bibliography_key == key]
            if not labels:
                continue
            summary = nodes.paragraph(text=summary_sentence(labels), classes=[SUMMARY_CLASS])
            bibnode.parent.insert(bibnode.parent.index(bibnode), summary)


def setup(app: Sphinx) -> None:
    app.connect("env-updated", check_evidence_labels)
    app.add_post_transform(EvidenceSummary)
