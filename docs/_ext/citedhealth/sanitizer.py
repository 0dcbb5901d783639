"""Raw HTML in the sources: allowed only as self-contained prose markup that a sanitizer keeps whole.

Contract, checked when each document is read (every document, not only
articles: anyone who can edit an article can edit the landing page too):

- Every raw HTML fragment that reaches the HTML output (MyST's block and inline
  HTML, ``{raw} html`` and any ``raw`` node whose formats include ``html``)
  is passed through nh3 (the Rust sanitizer ammonia) with the allowlist
  below. Anything nh3 would drop, compared as a browser parses the fragment
  before and after (html5lib, the HTML standard's parsing algorithm), is a
  ``citedhealth.raw-html`` warning naming the file, the line and what was
  dropped: an element, an attribute, or a URL whose scheme is not http,
  https or mailto (``javascript:`` however spelt, ``data:`` ...).
- A link in raw HTML to the site's own pages (a relative or scheme-relative
  URL) is refused too: the build can neither check nor rewrite it; Markdown
  links are checked. (Images in raw HTML are refused by the allowlist for the
  same reason: Markdown's image syntax checks and copies them.)
- Each fragment must be self-contained. A block fragment stands alone; the
  inline fragments of one paragraph (or emphasis, link ...) are read
  together with the Markdown text between them. The fragment must parse
  without a single parse error, and placed between two sentinel elements it
  must leave both whole and in place. So an unclosed comment or element, a
  stray closing tag, ``<!-->``, ``--!>``, CDATA, a processing instruction,
  a ``<table>`` that would foster-parent what follows: anything whose browser
  parse would swallow or wrap the Markdown content around it is refused.
- A Markdown or reST link or image whose URL is ``javascript:``,
  ``vbscript:`` or ``data:`` (however spelt) is a ``citedhealth.unsafe-url``
  warning.
- ``<meta>`` tags written from a document (``{meta}``, MyST's ``html_meta``)
  may carry only ``name``/``property``, ``content`` and ``lang``:
  ``http-equiv`` (a refresh that sends the reader elsewhere, a second
  Content-Security-Policy) and anything else is refused.
- A refused fragment is not written as it stands: each of its raw nodes is
  replaced by nh3's output for it (links into the site removed too), and a
  refused ``<meta>`` is removed, so even a non-strict build publishes only
  sanitized markup. This runs before Sphinx's collectors copy titles into the
  navigation. The source file is never changed.

Written pages are audited again, as a browser parses them, by :mod:`.audit`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import html5lib
import nh3
from docutils import nodes
from html5lib.constants import E as PARSE_ERRORS

from .common import WARNING_TYPE, logger, node_line

if TYPE_CHECKING:
    from sphinx.application import Sphinx

SUBTYPE = "raw-html"

#: Prose-level markup an article may need that Markdown lacks. No forms, media,
#: images (Markdown's image syntax checks and copies them), SVG or MathML, no
#: ``<style>`` or ``style`` (CSS escapes and url() fetches), no ``id`` or
#: ``class`` (they could imitate or restyle the site's own elements, the
#: disclaimer among them), no headings (they would escape the table of contents).
ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "hr",
        "i",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "u",
        "ul",
        "var",
        "wbr",
    }
)
ALLOWED_ATTRIBUTES = {
    "*": {"title", "lang"},
    "a": {"href"},
    "ol": {"start", "reversed"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "del": {"datetime"},
    "ins": {"datetime"},
    "details": {"open"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: Attributes holding a URL among those allowed (nh3 checks their scheme).
URL_ATTRIBUTES = frozenset({"href"})
#: Attributes a ``<meta>`` written from a document may have.
META_ATTRIBUTES = frozenset({"name", "property", "content", "lang"})

#: Neighbours standing for the Markdown around a fragment: a self-contained
#: fragment leaves them whole and in place.
BEFORE, AFTER = "ch-before", "ch-after"
BLOCK_FRAME = (f'<p id="{BEFORE}">x</p>', f'<p id="{AFTER}">x</p>')
INLINE_FRAME = (f'<p><span id="{BEFORE}">x</span>', f'<span id="{AFTER}">x</span></p>')
#: What a Markdown node between inline fragments contributes: plain text.
PLACEHOLDER = "x"


def without_site_links(tag: str, name: str, value: str) -> str | None:
    """nh3 attribute filter: drop URLs into the site (see :func:`unchecked_links`)."""
    if name in URL_ATTRIBUTES and not value.strip().startswith("#") and not urlsplit(value.strip()).scheme:
        return None
    return value


def sanitize(html: str, *, site_links: bool = True) -> str:
    """nh3's output for *html*: only the allowlist, comments gone, nothing added.

    With ``site_links=False`` links into the site go too: what a refused
    fragment is replaced by."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        strip_comments=True,
        link_rel=None,  # nh3 would add rel="noopener noreferrer", a change of ours, not the author's
        attribute_filter=None if site_links else without_site_links,
    )


def parse(html: str):
    """*html* as a browser parses it, in a ``<div>``: (tree, parse errors)."""
    parser = html5lib.HTMLParser(namespaceHTMLElements=False)
    # scripting=True: browsers run scripts, and read <noscript>'s content as text.
    tree = parser.parseFragment(html, container="div", scripting=True)
    return tree, parser.errors


# -- What the sanitizer drops ------------------------------------------------------


def name_of(tag: str) -> str:
    """``{http://www.w3.org/2000/svg}svg`` -> ``svg``."""
    return tag.rsplit("}", 1)[-1]


def attribute_name(name) -> str:
    """html5lib's namespaced attribute names (``xlink:href``) as written."""
    if isinstance(name, tuple):  # (namespace, local name)
        return name[1]
    if name.startswith("{"):
        namespace, local = name[1:].split("}", 1)
        return f"{'xlink' if 'xlink' in namespace else 'xml'}:{local}"
    return name


def is_element(node) -> bool:
    return isinstance(node.tag, str)  # html5lib's comments have a function as their tag


def features(tree) -> list[tuple]:
    """The elements and attributes of a parsed fragment, in document order, each with its depth of nesting."""
    found: list[tuple] = []

    def walk(element, depth: int) -> None:
        for child in element:
            if not is_element(child):
                continue
            tag = name_of(child.tag)
            found.append((depth, "element", tag))
            found.extend((depth, "attribute", tag, attribute_name(n), v) for n, v in child.attrib.items())
            walk(child, depth + 1)

    walk(tree, 0)
    return found


def text_of(element) -> str:
    """The text a reader sees in a parsed fragment (comments are not text)."""
    parts = [element.text or ""] if is_element(element) else []
    for child in element:
        if is_element(child):
            parts.append(text_of(child))
        parts.append(child.tail or "")
    return "".join(parts)


def dropped(html: str) -> list[str]:
    """What nh3 drops from *html*, as a browser would see it, one phrase each.

    Compared without depths, which a dropped element changes for what it held.
    Inside a dropped element only what is itself not allowed is named: the
    allowed paragraph inside a ``<template>`` went because of the template."""
    before_tree, _ = parse(html)
    after_tree, _ = parse(sanitize(html))
    kept = Counter(feature[1:] for feature in features(after_tree))
    problems: list[str] = []
    dropped_at: int | None = None  # the depth of the dropped element we are inside
    for depth, *feature in features(before_tree):
        if dropped_at is not None and depth <= dropped_at and feature[0] == "element":
            dropped_at = None
        key = tuple(feature)
        if kept[key] > 0:
            kept[key] -= 1
            continue
        if feature[0] == "element":
            tag = feature[1]
            if dropped_at is not None and tag in ALLOWED_TAGS:
                continue
            hint = ": use Markdown's image syntax" if tag in {"img", "picture", "source"} else ""
            problems.append(f"<{tag}> is not an allowed element{hint}")
            if dropped_at is None:
                dropped_at = depth
        else:
            _, tag, name, value = feature
            if dropped_at is not None and depth >= dropped_at:
                continue  # its element went, and the attribute with it
            if name in URL_ATTRIBUTES and name in ALLOWED_ATTRIBUTES.get(tag, ()):
                problems.append(f"<{tag} {name}> {value!r} is not an http, https or mailto URL")
            else:
                problems.append(f"{name}= on <{tag}> is not an allowed attribute")
    if not problems and text_of(before_tree) != text_of(after_tree):
        problems.append("the sanitizer would change its text")
    return list(dict.fromkeys(problems))


def unchecked_links(html: str) -> list[str]:
    """Links into the site (relative or scheme-relative): the build can neither check nor rewrite them."""
    tree, _ = parse(html)
    problems = []
    for element in tree.iter():
        if not is_element(element):
            continue
        for name, value in element.attrib.items():
            if attribute_name(name) not in URL_ATTRIBUTES:
                continue
            url = value.strip()
            if url.startswith("#"):
                continue
            if not urlsplit(url).scheme:
                problems.append(
                    f"<{name_of(element.tag)} {attribute_name(name)}> {url!r} is a link the build cannot check:"
                    " use a Markdown link"
                    + (" (or write the scheme: https://)" if url.startswith(("//", "\\\\", "/\\", "\\/")) else "")
                )
    return problems


# -- Self-contained ----------------------------------------------------------------


def parse_error(code: str, data: dict | None) -> str:
    text = PARSE_ERRORS.get(code, code)
    try:
        text = text % (data or {})
    except (KeyError, TypeError, ValueError):
        pass
    return text.rstrip(".")


def structure_problems(html: str, inline: bool) -> list[str]:
    """Why *html* is not self-contained: parse errors, or the Markdown around it swallowed or wrapped."""
    opening, closing = INLINE_FRAME if inline else BLOCK_FRAME
    tree, errors = parse(opening + html + closing)
    problems = [
        f"a browser parses it differently from how it reads: {parse_error(code, data)}" for _, code, data in errors
    ]
    container = tree
    if inline:
        paragraphs = [child for child in tree if is_element(child)]
        container = paragraphs[0] if len(paragraphs) == 1 and paragraphs[0].tag == "p" else None
    children = [child for child in container if is_element(child)] if container is not None else []
    framed = (
        len(children) >= 2
        and children[0].get("id") == BEFORE
        and children[-1].get("id") == AFTER
        and text_of(children[0]) == text_of(children[-1]) == PLACEHOLDER
        and sum(1 for element in tree.iter() if is_element(element) and element.get("id") in (BEFORE, AFTER)) == 2
    )
    if not framed:
        where = "paragraph" if inline else "block"
        problems.append(
            f"it is not self-contained: an element or comment left open (or closed too early) swallows or wraps"
            f" the text around it; open and close everything within the same {where}"
        )
    return list(dict.fromkeys(problems))


# -- Finding raw HTML in a doctree ---------------------------------------------------


def is_html(node: nodes.Node) -> bool:
    # Sphinx's HTML writer passes a raw node on when "html" is among its formats.
    return isinstance(node, nodes.raw) and "html" in node.get("format", "").lower().split()


def inline_line(raw: nodes.raw) -> int:
    """An inline fragment's line: its paragraph's, plus the line breaks in the text before it."""
    if getattr(raw, "line", None):
        return raw.line
    parent = raw.parent
    line = node_line(parent)
    for sibling in parent.children:
        if sibling is raw:
            break
        line += sibling.astext().count("\n")
    return line


@dataclass
class Unit:
    """Raw HTML read together: one block fragment, or the inline fragments of one element."""

    raws: list[nodes.raw]
    inline: bool

    @property
    def html(self) -> str:
        if not self.inline:
            return self.raws[0].astext()
        parent = self.raws[0].parent
        return "".join(child.astext() if is_html(child) else PLACEHOLDER for child in parent.children)

    def line(self, raw: nodes.raw | None = None) -> int:
        raw = raw or self.raws[0]
        return inline_line(raw) if self.inline else node_line(raw)


def units(doctree: nodes.Node) -> list[Unit]:
    found: list[Unit] = []
    by_parent: dict[int, Unit] = {}
    # findall with a class walks the tree in one generator; with a function, in one per node.
    for raw in (node for node in doctree.findall(nodes.raw) if is_html(node)):
        parent = raw.parent
        if isinstance(parent, nodes.TextElement) or isinstance(parent, nodes.Inline):
            unit = by_parent.get(id(parent))
            if unit is None:
                unit = by_parent[id(parent)] = Unit([], inline=True)
                found.append(unit)
            unit.raws.append(raw)
        else:
            found.append(Unit([raw], inline=False))
    return found


def fragment_problems(html: str, inline: bool = False) -> list[str]:
    """Everything wrong with one fragment (for tests and tools): structure, drops, unchecked links."""
    return list(dict.fromkeys(structure_problems(html, inline) + dropped(html) + unchecked_links(html)))


def warn(message: str, docname: str, line: int) -> None:
    logger.warning(f"raw HTML not allowed: {message}", location=(docname, line), type=WARNING_TYPE, subtype=SUBTYPE)


def check_unit(docname: str, unit: Unit) -> bool:
    """Warn about everything wrong with *unit*; True if anything was."""
    reported: list[tuple[int, str]] = []
    for problem in structure_problems(unit.html, unit.inline):
        reported.append((unit.line(), problem))
    for raw in unit.raws:
        for problem in dropped(raw.astext()) + unchecked_links(raw.astext()):
            reported.append((unit.line(raw), problem))
    for line, problem in dict.fromkeys(reported):
        warn(problem, docname, line)
    return bool(reported)


def check_meta(docname: str, doctree: nodes.document) -> None:
    for meta in doctree.findall(nodes.meta):
        refused = sorted(name for name in meta.attributes if name not in META_ATTRIBUTES and name not in BASIC)
        if refused:
            logger.warning(
                f"HTML meta tag not allowed: {', '.join(f'{name}=' for name in refused)} (a document's meta tags"
                " may set only name or property, content and lang)",
                location=(docname, node_line(meta)),
                type=WARNING_TYPE,
                subtype=SUBTYPE,
            )
            meta.parent.remove(meta)


#: docutils' own bookkeeping attributes, on every element.
BASIC = frozenset(nodes.Element.basic_attributes) | {"source", "line"}


def check_document(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    for unit in units(doctree):
        if check_unit(docname, unit):
            # Refused: each fragment is written as nh3 leaves it, balanced and
            # within the allowlist, in case the build is not strict.
            for raw in unit.raws:
                clean = sanitize(raw.astext(), site_links=False)
                raw.children = []
                raw += nodes.Text(clean)
    check_meta(docname, doctree)
    check_urls(docname, doctree)


#: Schemes that run code or smuggle a document in, however spelt (case, tabs, newlines, leading spaces).
UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:")


def check_urls(docname: str, doctree: nodes.document) -> None:
    """Links and images of Markdown or reST with a URL that runs code or carries a document."""
    # Every node in document order (findall without a condition is docutils' quickest walk), then the links.
    for node in (n for n in doctree.findall() if isinstance(n, nodes.reference | nodes.image)):
        url = node.get("refuri" if isinstance(node, nodes.reference) else "uri", "")
        normal = "".join(url.strip("".join(map(chr, range(0x21)))).split()).lower()
        if normal.startswith(UNSAFE_SCHEMES):
            logger.warning(
                f"URL not allowed: {url!r} is a {normal.split(':')[0]}: URL (links and images take http, https,"
                " mailto or a file of the site)",
                location=(docname, node_line(node)),
                type=WARNING_TYPE,
                subtype="unsafe-url",
            )


def setup(app: Sphinx) -> None:
    # Before Sphinx's collectors (priority 500) copy titles into the
    # navigation: what a refused fragment is replaced by is what they copy.
    app.connect("doctree-read", check_document, priority=100)
