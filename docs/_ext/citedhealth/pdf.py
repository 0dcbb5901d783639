"""Per-article PDFs: LaTeX documents derived from the articles, their build, the Download link.

Contract:

- Sphinx side (``setup``). With ``citedhealth_pdf_per_article`` on (the
  default), ``latex_documents`` is derived from the files in the articles
  folder: one ``howto`` document per article, ``<slug>.tex``, titled by the
  article's heading. Adding an article adds its PDF; ``conf.py`` never lists
  them. Under LaTeX:

  - the article's byline becomes the title block (author, published, last
    reviewed, next review due) and the PDF's metadata (Title, Author,
    Subject from ``description``, Keywords from ``keywords``);
  - the bibliography stays where the article put it, under its own
    References heading: citations are turned into our ``reference_entry``
    nodes before Sphinx's ``BibliographyTransform`` would gather them into a
    "Bibliography" at the very end (sphinx#4775, sphinxcontrib-bibtex#156);
  - a character the PDF's font (``citedhealth_pdf_font``, per fontconfig)
    has no glyph for is a ``citedhealth.pdf-font`` warning naming the file
    and line;
  - ``latex-manifest.json`` in the LaTeX output folder lists every article
    PDF to make: ``{"<slug>": {"tex": "<slug>.tex", "docname": ..., "engine": ...}}``.

  In HTML, each article shows a "Download PDF" link to
  ``<citedhealth_pdf_dir>/<slug>.pdf`` under its byline.

- Build side (``python -m citedhealth.pdf LATEXDIR PDFDIR``): runs latexmk
  with the configured ``latex_engine`` (xelatex for us) on each document of the manifest, in parallel; fails, naming
  the article, on a LaTeX error, an undefined reference or citation, or a
  character missing from the font; copies each PDF into PDFDIR atomically; and
  skips a document whose inputs (its ``.tex`` and the support files beside it)
  have not changed since its PDF was made. PDFs of removed articles are deleted.
  With ``--publish DIR`` it then puts the PDFs into the site's folder, in one
  step, so the site never links to a PDF that is not there.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.osutil import relative_uri

from .articles import article_byline
from .common import WARNING_TYPE, is_article, logger, write_if_changed

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

HERE = Path(__file__).resolve().parent
MANIFEST = "latex-manifest.json"
CACHE = ".pdf-cache.json"


# -- LaTeX documents derived from the articles ---------------------------------


def derive_latex_documents(app: Sphinx, config: Config) -> None:
    """One ``howto`` LaTeX document per article file."""
    if not config.citedhealth_pdf_per_article:
        return
    folder = Path(app.srcdir, config.citedhealth_articles_dir)
    suffixes = tuple(config.source_suffix)
    documents = []
    for path in sorted(folder.glob("*")):
        if path.suffix in suffixes and not path.name.startswith((".", "_")):
            docname = f"{config.citedhealth_articles_dir.strip('/')}/{path.stem}"
            # An empty title and author: the translator takes the article's
            # heading, and our byline visitor fills in the author.
            documents.append((docname, f"{path.stem}.tex", "", "", "howto", False))
    config.latex_documents = documents


def add_latex_support(app: Sphinx) -> None:
    if app.builder.format == "latex":
        app.add_latex_package("citedhealth")


def write_support_files(app: Sphinx, exception: Exception | None) -> None:
    """``citedhealth.sty`` and the manifest, beside the ``.tex`` files.

    Both are written only when their content changes, so latexmk and our PDF
    cache see unchanged inputs as unchanged."""
    if exception is not None or app.builder.format != "latex":
        return
    write_if_changed(Path(app.outdir, "citedhealth.sty"), (HERE / "citedhealth.sty").read_text(encoding="utf-8"))
    if not app.config.citedhealth_pdf_per_article:
        return
    manifest = {
        Path(target).stem: {"tex": target, "docname": docname, "engine": app.config.latex_engine}
        for docname, target, *_ in app.config.latex_documents
        if docname in app.env.all_docs
    }
    write_if_changed(Path(app.outdir, MANIFEST), json.dumps(manifest, indent=2, sort_keys=True) + "\n")


# -- The bibliography in place -----------------------------------------------


class reference_list(nodes.General, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """An article's bibliography, kept where the article put it."""


class reference_entry(nodes.General, nodes.Element):  # noqa: N801
    """One bibliography entry: ``label``, ``docname`` and ``ids`` of the citation it replaces."""


class KeepBibliographyInPlace(SphinxPostTransform):
    """Turn citations into reference entries before Sphinx moves them to the end."""

    formats = ("latex",)
    # Sphinx's BibliographyTransform, which gathers citations, runs at 750.
    default_priority = 700

    def run(self, **kwargs) -> None:
        for citation in list(self.document.findall(nodes.citation)):
            label = citation[0].astext() if isinstance(citation[0], nodes.label) else ""
            entry = reference_entry(label=label, docname=citation["docname"], ids=list(citation["ids"]))
            entry += [child for child in citation.children if not isinstance(child, nodes.label)]
            parent = citation.parent
            previous = parent[parent.index(citation) - 1] if parent.index(citation) else None
            if isinstance(previous, reference_list):
                citation.parent.remove(citation)
                previous += entry
            else:
                citation.replace_self(reference_list("", entry))


def visit_reference_list_latex(self, node: reference_list) -> None:
    widest = max((len(entry["label"]) for entry in node.children), default=1)
    self.body.append(f"\n\\begin{{chreferences}}{{{'9' * widest}}}\n")


def depart_reference_list_latex(self, node: reference_list) -> None:
    self.body.append("\\end{chreferences}\n")


def visit_reference_entry_latex(self, node: reference_entry) -> None:
    # The same key Sphinx gives a citation, so the in-text \hyperlink{cite.<key>} lands here.
    self.body.append(f"\\bibitem[{self.encode(node['label'])}]{{{node['docname']}:{node['ids'][0]}}}\n")


def depart_reference_entry_latex(self, node: reference_entry) -> None:
    pass


# -- Title block and PDF metadata ------------------------------------------------


def visit_byline_latex(self, node: article_byline) -> None:
    """The start document's byline fills the title block and the PDF's metadata."""
    start = getattr(self.settings, "_docname", None) or getattr(self.settings, "docname", None)
    if node["docname"] != start:
        return  # an article inside a larger document: the paragraph is enough
    if node["author"]:
        self.elements["author"] = self.encode(node["author"])
    self.elements["date"] = r"\\".join(self.encode(f"{label} {text}") for label, text in node["dates"])
    info = {"pdfsubject": node["description"], "pdfkeywords": node["keywords"], "pdfcreator": "Cited Health"}
    # Sphinx's escaping turns "-" into \sphinxhyphen{}, which a PDF string drops.
    settings = ", ".join(
        f"{key}={{{self.encode(value).replace(chr(92) + 'sphinxhyphen{}', '-')}}}"
        for key, value in info.items()
        if value
    )
    self.elements["preamble"] += f"\n\\hypersetup{{{settings}}}\n"
    raise nodes.SkipNode


def depart_byline_latex(self, node: article_byline) -> None:
    pass


# -- Characters the PDF's font lacks --------------------------------------------


@functools.cache
def font_coverage(family: str) -> tuple[tuple[int, int], ...] | None:
    """The code point ranges *family* covers, from fontconfig; None if it cannot tell."""
    try:
        result = subprocess.run(
            ["fc-match", "-f", "%{family}\n%{charset}", family], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    found, _, charset = result.stdout.partition("\n")
    if family.lower() not in found.lower():  # fontconfig fell back to another font
        return None
    ranges = []
    for part in charset.split():
        first, _, last = part.partition("-")
        ranges.append((int(first, 16), int(last or first, 16)))
    return tuple(ranges)


def check_pdf_font_coverage(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Under LaTeX, warn (file and line) about characters the PDF's font cannot show.

    xelatex would drop them from the PDF with only a note in its log; our PDF
    step fails on that note, but only this check can name the source line."""
    if app.builder.format != "latex" or not app.config.citedhealth_pdf_font:
        return
    coverage = font_coverage(app.config.citedhealth_pdf_font)
    if coverage is None:
        return
    for text in doctree.findall(nodes.Text):
        missing = sorted(
            {
                char
                for char in str(text)
                if not char.isspace() and not any(low <= ord(char) <= high for low, high in coverage)
            }
        )
        if missing:
            shown = ", ".join(f"{char!r} (U+{ord(char):04X})" for char in missing)
            logger.warning(
                f"the PDF font {app.config.citedhealth_pdf_font} has no glyph for {shown}: the PDF would lose it",
                location=text.parent,
                type=WARNING_TYPE,
                subtype="pdf-font",
            )


# -- The Download link ---------------------------------------------------------


class pdf_download(nodes.General, nodes.Element):  # noqa: N801
    """The article's "Download PDF" link (HTML only): ``slug``."""


def add_download_link(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    if not (app.config.citedhealth_pdf_per_article and is_article(env, env.docname)):
        return
    for byline in doctree.findall(article_byline):
        byline.parent.insert(byline.parent.index(byline) + 1, pdf_download(slug=env.docname.rsplit("/", 1)[-1]))
        break


def visit_pdf_download_html(self, node: pdf_download) -> None:
    target = f"{self.config.citedhealth_pdf_dir.strip('/')}/{node['slug']}.pdf"
    href = relative_uri(self.builder.get_target_uri(self.builder.current_docname), target)
    self.body.append(
        f'<p class="ch-download-pdf"><a class="reference external" href="{href}" type="application/pdf" download>'
        "Download PDF</a></p>\n"
    )
    raise nodes.SkipNode


def skip_node(self, node: nodes.Element) -> None:
    raise nodes.SkipNode


def setup(app: Sphinx) -> None:
    app.add_config_value("citedhealth_pdf_per_article", True, "env", bool)
    app.add_config_value("citedhealth_pdf_dir", "pdf", "html", str)
    # The body font of Sphinx's xelatex set-up; "" turns the coverage check off.
    app.add_config_value("citedhealth_pdf_font", "FreeSerif", "env", str)
    # After our articles module's handler (priority 500), which adds the byline.
    # After Sphinx's own handler (priority 800) merges MyST's ".md" into source_suffix.
    app.connect("config-inited", derive_latex_documents, priority=900)
    app.connect("builder-inited", add_latex_support)
    app.connect("doctree-read", add_download_link, priority=600)
    app.connect("build-finished", write_support_files)
    app.connect("doctree-resolved", check_pdf_font_coverage)
    app.add_post_transform(KeepBibliographyInPlace)
    skip = (skip_node, None)
    app.add_node(reference_list, latex=(visit_reference_list_latex, depart_reference_list_latex))
    app.add_node(reference_entry, latex=(visit_reference_entry_latex, depart_reference_entry_latex))
    app.add_node(article_byline, override=True, latex=(visit_byline_latex, depart_byline_latex))
    app.add_node(
        pdf_download,
        html=(visit_pdf_download_html, None),
        latex=skip,
        text=skip,
        man=skip,
        texinfo=skip,
    )


# -- Build side: latexmk for each article ----------------------------------------

UNDEFINED = re.compile(
    r"LaTeX Warning: (?:Reference|Citation|Hyper reference) .*? undefined.*"
    r"|Missing character: There is no .*"
    r"|Object @\S+ used, but not defined.*"
)


class PdfError(Exception):
    """A PDF could not be made; the message names the article and what went wrong."""


#: ``\sphinxincludegraphics[options]{{base}.ext}``: an image Sphinx copied beside the ``.tex``.
GRAPHICS = re.compile(r"\\sphinxincludegraphics(?:\[[^\]]*\])?\}?\{\{([^{}]+)\}([^{}]*)\}")


def inputs_key(latexdir: Path, tex: str) -> str:
    """A digest of everything latexmk reads for *tex*: the document (which holds the
    bibliography entries it cites, as rendered), its images and the support files
    (the templates: ``.sty``, ``.cls``, ``latexmkrc``)."""
    digest = hashlib.sha256()
    support = sorted(p for p in latexdir.iterdir() if p.suffix in {".sty", ".cls"} or p.name == "latexmkrc")
    text = (latexdir / tex).read_text(encoding="utf-8", errors="replace")
    images = sorted({latexdir / (base + ext) for base, ext in GRAPHICS.findall(text)} - {latexdir / tex})
    for path in [latexdir / tex, *(p for p in images if p.is_file()), *support]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


#: latexmk's switch for each of Sphinx's ``latex_engine`` values.
LATEXMK_ENGINE = {
    "pdflatex": "-pdf",
    "xelatex": "-pdfxe",
    "lualatex": "-pdflua",
    "platex": "-pdfdvi",
    "uplatex": "-pdfdvi",
}


def run_latexmk(latexdir: Path, tex: str, docname: str, engine: str = "xelatex") -> Path:
    """Typeset one document; raise PdfError naming the article on any problem."""
    stem = Path(tex).stem
    command = [
        "latexmk",
        LATEXMK_ENGINE[engine],
        "-dvi-",
        "-ps-",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        tex,
    ]
    env = dict(os.environ)
    if "SOURCE_DATE_EPOCH" in env:
        # xdvipdfmx then dates the PDF (and derives its ID) from SOURCE_DATE_EPOCH:
        # the same sources give a byte-identical PDF.
        env.setdefault("FORCE_SOURCE_DATE", "1")
    result = subprocess.run(
        command, cwd=latexdir, env=env, capture_output=True, text=True, errors="replace", check=False
    )
    log_path = latexdir / f"{stem}.log"
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.is_file() else ""
    if result.returncode != 0:
        errors = [line for line in log.splitlines() if line.startswith(("!", f"./{tex}:"))]
        detail = "; ".join(errors[:3]) or result.stdout.strip().splitlines()[-1:]
        raise PdfError(f"{docname}: LaTeX failed: {detail} (see {log_path})")
    problems = sorted(set(UNDEFINED.findall(log + result.stdout + result.stderr)))
    if problems:
        raise PdfError(f"{docname}: " + "; ".join(problems) + f" (see {log_path})")
    return latexdir / f"{stem}.pdf"


def build_pdfs(latexdir: Path, pdfdir: Path, jobs: int | None = None) -> dict[str, str]:
    """Make every PDF of the manifest; return {slug: "built" | "cached"}."""
    manifest = json.loads((latexdir / MANIFEST).read_text(encoding="utf-8"))
    pdfdir.mkdir(parents=True, exist_ok=True)
    cache_path = pdfdir / CACHE
    cache = json.loads(cache_path.read_text(encoding="utf-8")) if cache_path.is_file() else {}
    keys = {slug: inputs_key(latexdir, entry["tex"]) for slug, entry in manifest.items()}
    todo = [slug for slug in manifest if cache.get(slug) != keys[slug] or not (pdfdir / f"{slug}.pdf").is_file()]
    outcome = {slug: "cached" for slug in manifest if slug not in todo}
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        futures = {
            pool.submit(run_latexmk, latexdir, entry["tex"], entry["docname"], entry["engine"]): slug
            for slug, entry in manifest.items()
            if slug in todo
        }
        for future in concurrent.futures.as_completed(futures):
            slug = futures[future]
            try:
                built = future.result()
            except PdfError as error:
                failures.append(str(error))
                cache.pop(slug, None)
                continue
            # Copy then rename: a reader (or the site build) never sees half a PDF.
            partial = pdfdir / f".{slug}.pdf.partial"
            shutil.copyfile(built, partial)
            os.replace(partial, pdfdir / f"{slug}.pdf")
            cache[slug] = keys[slug]
            outcome[slug] = "built"
    for stale in pdfdir.glob("*.pdf"):
        if stale.stem not in manifest:
            stale.unlink()
            cache.pop(stale.stem, None)
    cache = {slug: key for slug, key in cache.items() if slug in manifest}
    partial = cache_path.with_suffix(".partial")
    partial.write_text(json.dumps(cache, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, cache_path)
    if failures:
        raise PdfError("\n".join(sorted(failures)))
    return outcome


def publish(pdfdir: Path, target: Path) -> None:
    """Put the PDFs into the site (*target*, e.g. ``_build/html/pdf``), replacing the folder in one step."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for pdf in sorted(pdfdir.glob("*.pdf")):
        shutil.copyfile(pdf, partial / pdf.name)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Typeset each article's LaTeX document into its PDF.")
    parser.add_argument("latexdir", type=Path, help="Sphinx's LaTeX output folder (holds latex-manifest.json)")
    parser.add_argument("pdfdir", type=Path, help="where <slug>.pdf files go")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="documents typeset at once (default: cores)")
    parser.add_argument("--publish", type=Path, metavar="DIR", help="then copy the PDFs into DIR (the site's pdf/)")
    args = parser.parse_args(argv)
    try:
        outcome = build_pdfs(args.latexdir, args.pdfdir, args.jobs)
    except PdfError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for slug, state in sorted(outcome.items()):
        print(f"{state:>6} {args.pdfdir / slug}.pdf")
    if args.publish:
        publish(args.pdfdir, args.publish)
        print(f"published {len(outcome)} PDF(s) into {args.publish}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
