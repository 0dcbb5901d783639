"""Docutils to Typst: one article's resolved doctree as one self-contained ``.typ`` source.

Contract:

- :class:`TypstTranslator` walks a resolved doctree and writes Typst markup:
  the preamble (:func:`preamble`: page, fonts, language, the document's
  title, author, subject, keywords and date, running head and page numbers
  as PDF artifacts) followed by the body. Every ``.typ`` holds all it needs,
  so comparing two ``.typ`` texts compares everything the PDF is made from
  except images and the Typst version (the builder adds those).
- Every node an article can hold has a rendering; the author's text goes in
  as Typst string literals (``#"..."``), so no character of it is ever read
  as Typst markup. A node without a rendering, math (Typst's math is not
  LaTeX's), a ``system_message`` or ``problematic`` node, and an image with no
  alt text are *problems*: the translator records each with the node, and the
  builder reports them as ``citedhealth.pdf`` warnings naming the file and line
  and makes no PDF of that article. Nothing is silently dropped.
- Decisions on the node types other modules may add (they are asked to use
  standard docutils nodes): ``inline``, ``container``, ``compound`` and
  ``generated`` render their content (classes are styling, which the PDF has
  its own of); ``rubric`` is a bold paragraph (not a heading, as in HTML);
  ``topic``, ``sidebar`` and every admonition are boxes with their title;
  ``transition`` is a rule marked as an artifact; ``title_reference`` is
  italic; ``abbreviation`` its text; ``target`` a link destination;
  ``comment``, ``substitution_definition``, ``index`` and ``pdf_download``
  (the web page's own Download link) render nothing. ``raw`` for the
  ``typst`` format passes through; raw HTML gives its visible *text* (parsed
  as a browser would, with html5lib; scripts and styles excluded), because a
  reader of the PDF must read every sentence a reader of the page reads,
  while markup meant for a browser means nothing on paper; raw for another
  format renders nothing, as in docutils' own writers.
- Links: external ones link to their URL; ones inside the article to a Typst
  label on their target; ones to another page of the site to its address
  under ``html_baseurl`` (or, without one, are text: a relative address means
  nothing in a downloaded file).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx import addnodes
from sphinx.locale import admonitionlabels
from sphinx.util.docutils import SphinxTranslator

if TYPE_CHECKING:
    from sphinx.builders import Builder

#: The fonts of each role, in fallback order. All are built into the ``typst``
#: wheel (pinned in requirements.txt), and the compiler is told to ignore the
#: machine's fonts, so the same pins give the same PDF on any machine.
BODY_FONTS = ("Libertinus Serif", "New Computer Modern", "DejaVu Sans Mono")
CODE_FONTS = ("DejaVu Sans Mono",)

#: Box colours, matching the HTML (Furo's warning, our editorial note).
BOX_STYLES = {
    "warning": ("#fef3e0", "#f39c12"),
    "note": ("#f6f3fc", "#5b3fa6"),
    "plain": ("#f4f6f8", "#8a96a3"),
}

#: Docutils' enumeration types as Typst numbering patterns.
ENUM_PATTERNS = {
    "arabic": "1",
    "loweralpha": "a",
    "upperalpha": "A",
    "lowerroman": "i",
    "upperroman": "I",
}

LABEL_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")

#: The comment before each block of the ``.typ``: the line of the source it comes from.
SOURCE_LINE = "// source line "


def string(text: str) -> str:
    """*text* as a Typst string literal."""
    return (
        '"'
        + text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\t", "\\t").replace("\n", "\\n")
        + '"'
    )


def text_markup(text: str) -> str:
    """Running text (whitespace collapsed, as a browser does) as Typst markup that shows it verbatim."""
    collapsed = re.sub(r"\s+", " ", text)
    return f"#{string(collapsed)}" if collapsed else ""


def length(value: str) -> str | None:
    """A docutils length (``50%``, ``200px``, ``3cm``) in Typst, or None if it has no Typst meaning."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*(%|px|pt|cm|mm|in|em)?\s*", value or "")
    if not match:
        return None
    number, unit = match.groups()
    if unit in (None, "px"):
        return f"{float(number) * 0.75:g}pt"  # CSS pixels: 96 per inch
    return f"{number}{unit}"


def preamble(*, title: str, author: str, description: str, keywords: list[str], language: str) -> str:
    """The page set-up and document metadata every article PDF shares.

    Text is set ragged right, as the HTML pages are: WCAG 2.2's success
    criterion 1.4.8 (Visual Presentation) asks that text not be justified,
    since the uneven word spacing of justified text slows readers with
    dyslexia. It is also half of Typst's work: justified text is broken
    into lines by its paragraph-wide optimiser, about 70 ms an article
    here against 30 ms for ragged right (``make bench``'s cold PDF row)."""
    keyword_list = "(" + "".join(f"{string(k)}, " for k in keywords) + ")"
    fonts = "(" + "".join(f"{string(f)}, " for f in BODY_FONTS) + ")"
    code_fonts = "(" + "".join(f"{string(f)}, " for f in CODE_FONTS) + ")"
    return f"""// Written by Cited Health's Sphinx extension (citedhealth.typst_translator).
#set document(title: {string(title)}, author: {string(author)},
  description: {string(description)}, keywords: {keyword_list})
#set text(lang: {string(language)}, font: {fonts}, fallback: false, size: 10.5pt)
#set par(justify: false, leading: 0.62em, spacing: 1.05em)
#set page(
  paper: "a4",
  margin: (x: 2cm, top: 2cm, bottom: 2.2cm),
  header: context {{
    if here().page() > 1 {{
      pdf.artifact(align(right, text(size: 8pt, fill: luma(90), {string(title)})))
    }}
  }},
  footer: context pdf.artifact(align(center, text(size: 8pt, fill: luma(90),
    [Page #counter(page).display() of #counter(page).final().first()]))),
)
#set heading(numbering: none)
#show heading: set block(above: 1.3em, below: 0.7em)
#show heading.where(level: 1): set text(size: 18pt)
#show heading.where(level: 2): set text(size: 14pt)
#show heading.where(level: 3): set text(size: 12pt)
#show raw: set text(font: {code_fonts}, size: 0.9em)
#show link: set text(fill: rgb("#1a5ea8"))
#set list(indent: 0.6em)
#set enum(indent: 0.6em)
#set table(stroke: 0.5pt + luma(160), inset: 5pt)
#show figure.caption: set text(size: 9pt)
"""


class TypstTranslator(SphinxTranslator):
    """One article's doctree to Typst markup; see the module docstring."""

    def __init__(self, document: nodes.document, builder: Builder, docname: str = "") -> None:
        super().__init__(document, builder)
        #: The article's docname: links to other pages are relative to it.
        self.docname = docname
        self.body: list[str] = []
        #: (node, message) for everything the PDF could not show; the builder reports them.
        self.problems: list[tuple[nodes.Node, str]] = []
        #: Image paths (as given to Typst, relative to the compile root) -> source path.
        self.images_used: dict[str, str] = {}
        self.section_level = 0
        self.labels = self._link_targets(document)
        self.footnotes_shown: set[str] = set()
        self.title = ""

    # -- Plumbing --------------------------------------------------------------

    def _link_targets(self, document: nodes.document) -> dict[str, str]:
        """Every id a link in the document points to -> the Typst label of its element."""
        owners: dict[str, nodes.Element] = {}
        for element in document.findall(nodes.Element):
            for identifier in element.get("ids", []):
                owners.setdefault(identifier, element)
        wanted = set()
        for element in document.findall(nodes.Element):
            if isinstance(element, (nodes.reference, nodes.footnote_reference, nodes.citation_reference)):
                if element.get("refid"):
                    wanted.add(element["refid"])
                elif element.get("refuri", "").startswith("#"):
                    wanted.add(element["refuri"][1:])
        labels: dict[str, str] = {}
        by_owner: dict[int, str] = {}
        used: set[str] = set()
        for identifier in sorted(wanted):
            owner = owners.get(identifier)
            if owner is None:
                continue
            label = by_owner.get(id(owner))
            if label is None:
                label = base = "ch-" + LABEL_CHARACTERS.sub("-", identifier)
                number = 1
                while label in used:
                    number += 1
                    label = f"{base}-{number}"
                used.add(label)
                by_owner[id(owner)] = label
            labels[identifier] = label
        return labels

    def label_of(self, node: nodes.Element) -> str | None:
        """The Typst label to put on *node*, if a link points to it."""
        for identifier in node.get("ids", []):
            if identifier in self.labels:
                return self.labels[identifier]
        return None

    def anchor(self, node: nodes.Element) -> str:
        """An invisible link destination for *node*, or nothing if no link points to it."""
        label = self.label_of(node)
        return f"#metadata(none)<{label}>" if label else ""

    def render(self, node: nodes.Node) -> str:
        """*node* rendered on its own; a block is preceded by a comment naming its source line."""
        saved, self.body = self.body, []
        try:
            node.walkabout(self)
            text = "".join(self.body)
        finally:
            self.body = saved
        line = getattr(node, "line", None)
        if (
            text
            and line
            and isinstance(node, (nodes.Body, nodes.section))
            and not isinstance(node.parent, nodes.TextElement)
        ):
            # Read back by citedhealth.pdf to name the source line of a Typst error.
            text = f"{SOURCE_LINE}{line}\n{text}"
        return text

    def inline(self, node: nodes.Element) -> str:
        """The children of *node* rendered, joined as running text."""
        return "".join(self.render(child) for child in node.children)

    def blocks(self, node: nodes.Element, leave_out: tuple = ()) -> str:
        """The children of *node* (but those of the types in *leave_out*) rendered as blocks, one after another."""
        parts = [self.render(child) for child in node.children if not isinstance(child, leave_out)]
        return "\n".join(part for part in parts if part.strip())

    def problem(self, node: nodes.Node, message: str) -> None:
        self.problems.append((node, message))

    def astext(self) -> str:
        return "".join(self.body)

    def unknown_visit(self, node: nodes.Node) -> None:
        self.problem(node, f"the PDF has no rendering for the {node.__class__.__name__!r} node (it would be lost)")
        raise nodes.SkipNode

    def unknown_departure(self, node: nodes.Node) -> None:
        pass

    # -- Structure --------------------------------------------------------------

    def visit_document(self, node: nodes.document) -> None:
        self.body.extend(self.render(child) for child in node.children)
        raise nodes.SkipNode

    def depart_document(self, node: nodes.document) -> None:
        pass

    def visit_section(self, node: nodes.section) -> None:
        self.section_level += 1
        title = node[0] if node.children and isinstance(node[0], nodes.title) else None
        if title is not None:
            text = self.inline(title)
            if self.section_level == 1 and not self.title:
                self.title = title.astext()
            label = self.label_of(node)
            self.body.append(
                f"#heading(level: {self.section_level})[{text}]" + (f" <{label}>" if label else "") + "\n\n"
            )
        for child in node.children[1 if title is not None else 0 :]:
            self.body.append(self.render(child))
        self.section_level -= 1
        raise nodes.SkipNode

    def visit_title(self, node: nodes.title) -> None:
        # Titles of sections, boxes, tables and figures are rendered by their parent.
        self.body.append(f"#par[#strong[{self.inline(node)}]]\n\n")
        raise nodes.SkipNode

    def visit_subtitle(self, node: nodes.subtitle) -> None:
        self.body.append(f"#par[#emph[{self.inline(node)}]]\n\n")
        raise nodes.SkipNode

    def visit_rubric(self, node: nodes.rubric) -> None:
        self.body.append(f"#par[#strong[{self.anchor(node)}{self.inline(node)}]]\n\n")
        raise nodes.SkipNode

    def visit_paragraph(self, node: nodes.paragraph) -> None:
        self.body.append(f"#par[{self.anchor(node)}{self.inline(node)}]\n\n")
        raise nodes.SkipNode

    visit_compact_paragraph = visit_paragraph

    def visit_container(self, node: nodes.Element) -> None:
        self.body.append(self.anchor(node) + self.blocks(node) + "\n")
        raise nodes.SkipNode

    visit_compound = visit_container
    visit_versionmodified = visit_container

    def visit_transition(self, node: nodes.transition) -> None:
        self.body.append("#pdf.artifact(line(length: 100%, stroke: 0.5pt + luma(160)))\n\n")
        raise nodes.SkipNode

    def visit_line_block(self, node: nodes.line_block) -> None:
        lines = []
        for child in node.children:
            if isinstance(child, nodes.line_block):
                lines.append(f"#pad(left: 1.5em)[{self.render(child)}]")
            else:
                lines.append(self.inline(child))
        self.body.append("#par[" + "#linebreak()".join(lines) + "]\n\n")
        raise nodes.SkipNode

    # -- Boxes: admonitions, topics, sidebars -------------------------------------

    def box(self, node: nodes.Element, kind: str, default_title: str = "") -> str:
        fill, stroke = BOX_STYLES.get(kind, BOX_STYLES["plain"])
        title_node = next((c for c in node.children if isinstance(c, nodes.title)), None)
        title = (
            self.inline(title_node)
            if title_node is not None
            else (f"#{string(default_title)}" if default_title else "")
        )
        body = self.blocks(node, leave_out=(nodes.title,))
        heading = f"#block(sticky: true, below: 0.65em)[#par[#strong[{title}]]]\n" if title else ""
        return (
            f'#block(width: 100%, inset: (x: 10pt, y: 8pt), radius: 3pt, fill: rgb("{fill}"), '
            f'stroke: (left: 3pt + rgb("{stroke}")), above: 1.2em, below: 1.2em)[{self.anchor(node)}\n'
            f"{heading}{body}\n]\n\n"
        )

    def visit_Admonition(self, node: nodes.Element) -> None:  # noqa: N802 (docutils' category class name)
        kind = "warning" if node.tagname in {"warning", "caution", "danger", "error", "attention"} else "note"
        if node.tagname in {"admonition", "topic", "sidebar"}:
            kind = "plain"
        self.body.append(self.box(node, kind, admonitionlabels.get(node.tagname, "")))
        raise nodes.SkipNode

    visit_topic = visit_Admonition
    visit_sidebar = visit_Admonition

    def visit_article_byline(self, node: nodes.Element) -> None:
        """The title block under the article's heading: author, then the dates."""
        lines = []
        if node.get("author"):
            lines.append(f"#par[{text_markup('By ' + node['author'])}]")
        if node.get("dates"):
            dates = " · ".join(f"{label} {text}" for label, text in node["dates"])
            lines.append(f"#par[#text(size: 9pt, fill: luma(70))[{text_markup(dates)}]]")
        self.body.append("#block(below: 1.4em)[\n" + "\n".join(lines) + "\n]\n\n" if lines else "")
        raise nodes.SkipNode

    def visit_pdf_download(self, node: nodes.Element) -> None:
        raise nodes.SkipNode  # the web page's link to this very PDF

    # -- Lists -------------------------------------------------------------------

    def item(self, node: nodes.Element) -> str:
        return f"[{self.anchor(node)}{self.blocks(node)}]"

    def visit_bullet_list(self, node: nodes.bullet_list) -> None:
        items = ", ".join(f"list.item{self.item(child)}" for child in node.children)
        self.body.append(f"#list({items})\n\n")
        raise nodes.SkipNode

    def visit_enumerated_list(self, node: nodes.enumerated_list) -> None:
        pattern = (
            node.get("prefix", "") + ENUM_PATTERNS.get(node.get("enumtype", "arabic"), "1") + node.get("suffix", ".")
        )
        start = node.get("start", 1)
        items = ", ".join(f"enum.item({start + index}){self.item(child)}" for index, child in enumerate(node.children))
        self.body.append(f"#enum(numbering: {string(pattern)}, {items})\n\n")
        raise nodes.SkipNode

    def visit_definition_list(self, node: nodes.definition_list) -> None:
        items = []
        for entry in node.children:
            terms = [c for c in entry.children if isinstance(c, nodes.term)]
            term = "#linebreak()".join(self.inline(t) for t in terms)
            definition = "\n".join(self.render(c) for c in entry.children if isinstance(c, nodes.definition))
            classifiers = [c for c in entry.children if isinstance(c, nodes.classifier)]
            if classifiers:
                term += "".join(f" : #emph[{self.inline(c)}]" for c in classifiers)
            items.append(f"terms.item[{self.anchor(entry)}{term}][{definition}]")
        self.body.append(f"#terms(separator: linebreak(), {', '.join(items)})\n\n")
        raise nodes.SkipNode

    def visit_definition(self, node: nodes.definition) -> None:
        self.body.append(self.blocks(node))
        raise nodes.SkipNode

    def visit_field_list(self, node: nodes.field_list) -> None:
        items = []
        for field in node.children:
            name, body = field[0], field[1]
            items.append(f"terms.item[{self.inline(name)}][{self.blocks(body)}]")
        self.body.append(f"#terms(separator: [: ], {', '.join(items)})\n\n")
        raise nodes.SkipNode

    # -- Tables, figures, images ----------------------------------------------------

    def cell(self, entry: nodes.entry, header: bool) -> str:
        children = entry.children
        if len(children) == 1 and isinstance(children[0], nodes.paragraph):
            content = self.inline(children[0])
        else:
            content = self.blocks(entry)
        span = []
        if entry.get("morecols"):
            span.append(f"colspan: {entry['morecols'] + 1}")
        if entry.get("morerows"):
            span.append(f"rowspan: {entry['morerows'] + 1}")
        body = f"[{self.anchor(entry)}{content}]"
        if header:
            body = f"[#strong{body}]"
        return f"table.cell({', '.join(span)}){body}" if span else body

    def visit_table(self, node: nodes.table) -> None:
        group = next(iter(node.findall(nodes.tgroup)), None)
        if group is None:
            self.problem(node, "a table without columns cannot go in the PDF")
            raise nodes.SkipNode
        widths = [spec.get("colwidth", 1) for spec in group.findall(nodes.colspec)]
        total = sum(widths) or 1
        columns = "(" + ", ".join(f"{w / total * 100:.2f}%" if len(widths) > 1 else "100%" for w in widths) + ",)"
        parts = []
        for part in group.children:
            if isinstance(part, nodes.thead):
                cells = [self.cell(e, True) for row in part.children for e in row.children]
                parts.append(f"table.header({', '.join(cells)})")
            elif isinstance(part, nodes.tbody):
                parts.extend(self.cell(e, False) for row in part.children for e in row.children)
        table = f"table(columns: {columns}, align: left, {', '.join(parts)})"
        title = next((c for c in node.children if isinstance(c, nodes.title)), None)
        if title is not None:
            caption = f"figure.caption(position: top)[{self.inline(title)}]"
            table = f"figure(kind: table, supplement: none, caption: {caption}, {table})"
        label = self.label_of(node)
        self.body.append(f"#{table}{f' <{label}>' if label else ''}\n\n")
        raise nodes.SkipNode

    def image_call(self, node: nodes.image) -> str | None:
        uri = node.get("uri", "")
        alt = node.get("alt", "")
        if "://" in uri or uri.startswith("data:"):
            self.problem(node, f"a remote image cannot go in the PDF: {uri}")
            return None
        if not alt.strip():
            self.problem(node, "an image without alt text cannot go in the tagged PDF: give it alt text")
            return None
        # Sphinx has picked the candidate (post_process_images); the path is
        # relative to the source folder, which is Typst's root: Typst reads
        # nothing outside the project.
        if not (Path(self.builder.srcdir) / uri).is_file():
            self.problem(node, f"image file not found: {uri}")
            return None
        path = "/" + Path(uri).as_posix()
        self.images_used[path] = uri
        options = [string(path), f"alt: {string(alt)}"]
        width = length(node.get("width", ""))
        height = length(node.get("height", ""))
        if width:
            options.append(f"width: {width}")
        elif not height:
            options.append("width: auto")
        if height:
            options.append(f"height: {height}")
        return f"image({', '.join(options)})"

    def visit_image(self, node: nodes.image) -> None:
        call = self.image_call(node)
        if call is not None:
            if isinstance(node.parent, nodes.TextElement):
                self.body.append(f"#box({call})")
            else:
                # Never wider than the text.
                self.body.append(f"#block(width: 100%)[#align(center, box(width: 100%, {call}))]\n\n")
        raise nodes.SkipNode

    def visit_figure(self, node: nodes.figure) -> None:
        image = next(iter(node.findall(nodes.image)), None)
        call = self.image_call(image) if image is not None else None
        caption = next((c for c in node.children if isinstance(c, nodes.caption)), None)
        legend = next((c for c in node.children if isinstance(c, nodes.legend)), None)
        if image is None:
            self.problem(node, "a figure without an image cannot go in the PDF")
        if call is not None:
            arguments = [call]
            if caption is not None:
                arguments.append(f"caption: [{self.inline(caption)}]")
            label = self.label_of(node)
            self.body.append(
                f"#figure({', '.join(arguments)}, supplement: none, numbering: none)"
                + (f" <{label}>" if label else "")
                + "\n\n"
            )
        if legend is not None:
            self.body.append(self.blocks(legend) + "\n\n")
        raise nodes.SkipNode

    # -- Quotes, code, footnotes, citations -------------------------------------------

    def visit_block_quote(self, node: nodes.block_quote) -> None:
        attribution = next((c for c in node.children if isinstance(c, nodes.attribution)), None)
        body = "\n".join(self.render(c) for c in node.children if c is not attribution)
        extra = f"attribution: [{self.inline(attribution)}], " if attribution is not None else ""
        self.body.append(f"#quote(block: true, {extra}[{self.anchor(node)}{body}])\n\n")
        raise nodes.SkipNode

    def visit_literal_block(self, node: nodes.literal_block) -> None:
        language = node.get("language", "")
        lang = f", lang: {string(language)}" if language and language not in {"default", "none", "text"} else ""
        self.body.append(f"#raw(block: true{lang}, {string(node.astext())})\n\n")
        raise nodes.SkipNode

    visit_doctest_block = visit_literal_block

    def visit_literal(self, node: nodes.literal) -> None:
        self.body.append(f"#raw({string(node.astext())})")
        raise nodes.SkipNode

    def footnote_body(self, footnote: nodes.footnote) -> str:
        body = [c for c in footnote.children if not isinstance(c, nodes.label)]
        if len(body) == 1 and isinstance(body[0], nodes.paragraph):
            return self.inline(body[0])  # on the line of its number
        return self.blocks(footnote, leave_out=(nodes.label,))

    def visit_footnote_reference(self, node: nodes.footnote_reference) -> None:
        refid = node.get("refid", "")
        footnote = self.document.ids.get(refid)
        if not isinstance(footnote, nodes.footnote):
            self.problem(node, f"footnote {node.astext()!r} has no text")
            raise nodes.SkipNode
        label = f"ch-fn-{LABEL_CHARACTERS.sub('-', refid)}"
        if refid in self.footnotes_shown:
            self.body.append(f"#footnote(<{label}>)")
        else:
            self.footnotes_shown.add(refid)
            self.body.append(f"#footnote[{self.footnote_body(footnote)}] <{label}>")
        raise nodes.SkipNode

    def visit_footnote(self, node: nodes.footnote) -> None:
        referenced = any(
            isinstance(ref, nodes.footnote_reference) and ref.get("refid") in node["ids"]
            for ref in self.document.findall(nodes.footnote_reference)
        )
        if not referenced:
            # Shown where it stands, with its label: a footnote nothing points to.
            label = node[0].astext() if node.children and isinstance(node[0], nodes.label) else ""
            self.body.append(f"#par[#super[{text_markup(label)}] ]\n{self.footnote_body(node)}\n\n")
        raise nodes.SkipNode

    def visit_citation(self, node: nodes.citation) -> None:
        """A run of citations (a bibliography) as one list with labels, kept where it stands."""
        parent = node.parent
        index = parent.index(node)
        if index and isinstance(parent[index - 1], nodes.citation):
            raise nodes.SkipNode  # rendered with the first of its run
        run = []
        for sibling in parent.children[index:]:
            if not isinstance(sibling, nodes.citation):
                break
            run.append(sibling)
        labels, items = [], []
        for number, citation in enumerate(run, start=1):
            label = citation[0].astext() if citation.children and isinstance(citation[0], nodes.label) else str(number)
            labels.append(f"[{label}]")
            body = self.blocks(citation, leave_out=(nodes.label,))
            items.append(f"enum.item({number})[{self.anchor(citation)}{body}]")
        marks = "(" + "".join(f"{string(m)}, " for m in labels) + ")"
        self.body.append(
            f"#block[#set text(size: 9.5pt)\n"
            f"#enum(numbering: n => {marks}.at(n - 1), number-align: end + top, "
            f"body-indent: 0.5em, indent: 0pt, spacing: 0.8em, full: false, "
            f"{', '.join(items)})]\n\n"
        )
        raise nodes.SkipNode

    # -- Inline --------------------------------------------------------------------

    def visit_Text(self, node: nodes.Text) -> None:  # noqa: N802 (docutils' name)
        if isinstance(node.parent, (nodes.literal_block, nodes.raw)):
            self.body.append(f"#{string(node.astext())}")
        else:
            self.body.append(text_markup(node.astext()))

    def depart_Text(self, node: nodes.Text) -> None:  # noqa: N802
        pass

    def visit_emphasis(self, node: nodes.emphasis) -> None:
        self.body.append(f"#emph[{self.inline(node)}]")
        raise nodes.SkipNode

    visit_title_reference = visit_emphasis

    def visit_strong(self, node: nodes.strong) -> None:
        self.body.append(f"#strong[{self.inline(node)}]")
        raise nodes.SkipNode

    def visit_subscript(self, node: nodes.subscript) -> None:
        self.body.append(f"#sub[{self.inline(node)}]")
        raise nodes.SkipNode

    def visit_superscript(self, node: nodes.superscript) -> None:
        self.body.append(f"#super[{self.inline(node)}]")
        raise nodes.SkipNode

    def visit_inline(self, node: nodes.Element) -> None:
        self.body.append(self.anchor(node) + self.inline(node))
        raise nodes.SkipNode

    def visit_abbreviation(self, node: nodes.Element) -> None:
        # The web page shows the expansion on hover; on paper it follows in brackets.
        explanation = node.get("explanation", "")
        self.body.append(self.inline(node) + (text_markup(f" ({explanation})") if explanation else ""))
        raise nodes.SkipNode

    visit_acronym = visit_inline
    visit_generated = visit_inline
    visit_caption = visit_inline
    visit_attribution = visit_inline
    visit_term = visit_inline
    visit_line = visit_inline
    visit_label = visit_inline
    visit_download_reference = visit_inline
    visit_desc_inline = visit_inline

    def visit_target(self, node: nodes.target) -> None:
        self.body.append(self.anchor(node))
        if node.children:  # an inline target holds text
            self.body.append(self.inline(node))
        raise nodes.SkipNode

    def visit_reference(self, node: nodes.reference) -> None:
        content = self.inline(node)
        uri = node.get("refuri", "")
        refid = node.get("refid") or (uri[1:] if uri.startswith("#") else "")
        if refid:
            label = self.labels.get(refid)
            if label is None:
                self.problem(node, f"link to #{refid}, which is not in this article")
                raise nodes.SkipNode
            self.body.append(f"#link(<{label}>)[{content}]")
        elif re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", uri):
            self.body.append(f"#link({string(uri)})[{content}]")
        else:
            # Another page of the site (its address relative to this one): its
            # public address, if the site has one.
            base = self.config.html_baseurl
            path, _, fragment = uri.partition("#")
            if base and path:
                page = posixpath.normpath(posixpath.join(posixpath.dirname(self.docname), path))
                address = base.rstrip("/") + "/" + page + (f"#{fragment}" if fragment else "")
                self.body.append(f"#link({string(address)})[{content}]")
            else:
                self.body.append(content)
        raise nodes.SkipNode

    visit_citation_reference = visit_reference

    def visit_raw(self, node: nodes.raw) -> None:
        formats = node.get("format", "").split()
        if "typst" in formats:
            self.body.append(node.astext() + ("\n\n" if not isinstance(node.parent, nodes.TextElement) else ""))
        elif "html" in formats:
            text = visible_text(node.astext())
            if text:
                if isinstance(node.parent, nodes.TextElement):
                    self.body.append(text_markup(text))
                else:
                    self.body.append(f"#par[{text_markup(text)}]\n\n")
        raise nodes.SkipNode

    # -- Nothing to show -------------------------------------------------------------

    def skip(self, node: nodes.Node) -> None:
        raise nodes.SkipNode

    visit_comment = skip
    visit_substitution_definition = skip
    visit_index = skip
    visit_meta = skip
    visit_tabular_col_spec = skip
    visit_toctree = skip
    visit_only = visit_container

    # -- What the PDF refuses ----------------------------------------------------------

    def visit_math(self, node: nodes.Element) -> None:
        self.problem(node, "math cannot go in the PDF yet (Typst's math is not LaTeX's): write it as text")
        raise nodes.SkipNode

    visit_math_block = visit_math

    def visit_system_message(self, node: nodes.system_message) -> None:
        self.problem(node, f"docutils reported a problem here: {node.astext()}")
        raise nodes.SkipNode

    def visit_problematic(self, node: nodes.problematic) -> None:
        self.problem(node, f"docutils could not process {node.astext()!r}")
        raise nodes.SkipNode

    def visit_pending_xref(self, node: addnodes.pending_xref) -> None:
        self.problem(node, f"unresolved reference {node.astext()!r}")
        raise nodes.SkipNode


def visible_text(html: str) -> str:
    """The text a browser shows for an HTML fragment (no scripts, styles or templates)."""
    import html5lib

    fragment = html5lib.parseFragment(html, namespaceHTMLElements=False)
    parts: list[str] = []

    def walk(element) -> None:
        if element.tag in {"script", "style", "template"}:
            return
        if element.text:
            parts.append(element.text)
        for child in element:
            if isinstance(child.tag, str):
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(fragment)
    return re.sub(r"\s+", " ", "".join(parts)).strip()
