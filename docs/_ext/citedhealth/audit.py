"""Every written page audited as a browser parses it, and each page's Content-Security-Policy.

Contract, for the HTML builders:

- Every page carries, as the first child of ``<head>``,
  ``<meta http-equiv="Content-Security-Policy">``
  with :func:`policy`: everything from the site itself (``'self'``), no
  plugins, frames or ``<base>``, forms only to the site; inline scripts only
  by the SHA-256 of those the theme's templates hold literally (an author
  can never add one); inline ``<style>`` elements by their hashes; the
  theme's ``style="..."`` attributes by their hashes (``'unsafe-hashes'``
  names exactly those values, nothing else); ``data:`` images only, because
  Furo's stylesheet draws its icons with them. The hashes are those of what
  the page actually carries: the meta is added after Sphinx renders the page
  and before it writes it (:func:`install_policy`), whatever the theme.
- After the build, each HTML page written by it (and any page an earlier build
  found at fault) is parsed as a browser parses it (selectolax's Lexbor, an
  HTML standard parser, with scripting on) and must hold: no script but our
  own (a file under ``_static/`` or ``searchindex.js`` that exists in the
  output, a literal inline script of the templates, or a JSON-LD data
  block in ``<head>``); no ``on*`` attribute; no ``javascript:``,
  ``vbscript:`` or ``data:`` URL in any URL attribute, however spelt; no
  ``<base>``, no ``<meta http-equiv>`` but the policy, no frame, object or
  embed, no SVG animation; no form but the search form; no resource from
  another site (``src``, ``srcset``, ``<link>`` that fetches, SVG ``href``,
  ``url()``/``@import`` in CSS, escapes decoded); no ``<style>`` outside
  ``<head>`` and no ``style`` attribute the templates did not write; the
  policy is the first child of ``<head>`` and equals :func:`policy` of what
  the page carries. On an article, exactly one disclaimer, whose ancestors up
  to the main content (``role="main"``) are sections, none of them (nor it)
  hidden (``hidden``, ``inert``, ``aria-hidden``, ``style``); one inside a
  comment, ``<template>`` or ``<noscript>`` is not an element at all to a
  browser, so it counts as missing.
  Each breach is a ``citedhealth.page-audit`` warning naming the page and its
  source document.
  A page with no source document (search, the general index) is named alone.
- Cost: one parse and walk per written page (about 10 ms; Lexbor's parse is
  1 to 3 ms of it, where html5lib's alone took 40); pages an earlier build
  wrote and audited clean are recognised by size and modification time
  (:data:`RECORD`, beside the doctrees) and not parsed again, so a page at
  fault is named by every build until it is fixed. Sphinx writes
  ``search.html`` on every build, so even a build with nothing to do audits one page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import time
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from .common import WARNING_TYPE, app_state, is_article, logger, write_atomically

if TYPE_CHECKING:
    from sphinx.application import Sphinx

SUBTYPE = "page-audit"
#: Pages audited clean: relative path -> [size, mtime in ns].
RECORD = "citedhealth-audited-pages.json"
CSP_META = "Content-Security-Policy"

# -- The policy -----------------------------------------------------------------


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def policy(script_hashes: list[str] | set[str], style_hashes: set[str], attribute_hashes: set[str]) -> str:
    """The Content-Security-Policy of a page carrying these inline scripts, styles and style attributes."""
    scripts = " ".join(["'self'", *sorted(set(script_hashes))])
    styles = " ".join(["'self'", *sorted(style_hashes)])
    if attribute_hashes:
        styles += " 'unsafe-hashes' " + " ".join(sorted(attribute_hashes))
    return (
        "default-src 'self'; "
        f"script-src {scripts}; "
        f"style-src {styles}; "
        # Furo's stylesheet draws its icons as data: SVG images (mask-image).
        "img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-src 'none'"
    )


TEMPLATE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
TEMPLATE_STYLE_ATTRIBUTE = re.compile(r"""(?<![\w-])style=(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
JINJA = ("{{", "{%", "{#")


def literal_template_code(app: Sphinx) -> tuple[set[str], set[str]]:
    """The inline scripts and style attributes the templates hold literally (no Jinja in them).

    Computed from the template folders the build renders with, so a theme
    upgrade that adds or changes one needs no edit here; an author's Markdown
    never reaches these files."""
    scripts: set[str] = set()
    styles: set[str] = set()
    # BuiltinTemplateLoader.pathchain (sphinx/jinja2glue.py): templates_path, then the theme's folders.
    for folder in getattr(app.builder.templates, "pathchain", []):
        for path in sorted(Path(folder).rglob("*.html")):
            text = path.read_text(encoding="utf-8", errors="replace")
            scripts |= {m.group(1) for m in TEMPLATE_SCRIPT.finditer(text) if not any(j in m.group(1) for j in JINJA)}
            for match in TEMPLATE_STYLE_ATTRIBUTE.finditer(text):
                value = match.group(1) if match.group(1) is not None else match.group(2)
                if not any(j in value for j in JINJA):
                    styles.add(html.unescape(value))
    return scripts, styles


INLINE_SCRIPT = re.compile(r"<script(\s[^>]*)?>(.*?)</script\s*>", re.DOTALL | re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style(?:\s[^>]*)?>(.*?)</style\s*>", re.DOTALL | re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"""\sstyle=(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


HEAD = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)


def add_policy(page: str, own_scripts: set[str], own_style_attributes: set[str]) -> str:
    """*page* with its Content-Security-Policy as the first child of ``<head>``.

    The hashes are those of the inline code the page carries (only scripts the
    templates hold literally), found by pattern, not parsed: the audit parses
    the written page as a browser does and checks that the policy is first and
    equals what the page really carries, so a miss here fails the build."""
    head = HEAD.search(page)
    if head is None:
        return page  # the audit reports the missing policy
    scripts = {
        sha256(m.group(2))
        for m in INLINE_SCRIPT.finditer(page)
        if "src=" not in (m.group(1) or "") and m.group(2) in own_scripts
    }
    styles = {sha256(m.group(1)) for m in INLINE_STYLE.finditer(page)}
    attributes = set()
    for match in STYLE_ATTRIBUTE.finditer(page):
        value = html.unescape(match.group(1) if match.group(1) is not None else match.group(2))
        if value in own_style_attributes:
            attributes.add(sha256(value))
    # Only what would end the double-quoted attribute is escaped: the policy's
    # many single quotes stay as they are (every page carries it).
    content = policy(scripts, styles, attributes).replace("&", "&amp;").replace('"', "&quot;")
    meta = f'<meta http-equiv="{CSP_META}" content="{content}">'
    return page[: head.end()] + meta + page[head.end() :]


def install_policy(app: Sphinx) -> None:
    """builder-inited: give each page its policy between rendering and writing.

    Sphinx has no event between ``self.templates.render(...)`` and the write
    in ``StandaloneHTMLBuilder.handle_page`` (sphinx/builders/html/__init__.py),
    so the template bridge's ``render`` is wrapped; the audit verifies the
    result on every written page, so a Sphinx that stops calling it fails
    the build instead of publishing pages without their inline code."""
    if app.builder.format != "html":
        return
    scripts, style_attributes = literal_template_code(app)
    app_state(app).own_code = (scripts, style_attributes)
    templates = app.builder.templates
    render = templates.render

    def render_with_policy(template: str, context: dict) -> str:
        return add_policy(render(template, context), scripts, style_attributes)

    templates.render = render_with_policy


# -- The audit ------------------------------------------------------------------

JSON_SCRIPT_TYPES = {"application/ld+json"}
EMBEDDING = {"iframe", "frame", "frameset", "object", "embed", "applet", "portal", "fencedframe"}
SVG_ANIMATION = {"animate", "set", "animatemotion", "animatetransform", "animatecolor", "foreignobject", "handler"}
#: Attributes whose URL the browser follows or fetches.
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "srcset",
    "imagesrcset",
    "poster",
    "background",
    "data",
    "cite",
    "longdesc",
    "usemap",
    "manifest",
    "ping",
    "codebase",
    "archive",
    "classid",
    "lowsrc",
    "dynsrc",
    "icon",
    "profile",
    "itemtype",
    # SVG animation values can set an href.
    "values",
    "from",
    "to",
    "by",
}
#: Of those, the ones fetched without a click (``href`` depends on the element).
RESOURCE_ATTRIBUTES = {
    "src",
    "srcset",
    "imagesrcset",
    "poster",
    "background",
    "data",
    "codebase",
    "archive",
    "classid",
    "lowsrc",
    "dynsrc",
    "icon",
    "manifest",
    "ping",
}
#: ``<link rel>`` values that make the browser fetch nothing.
NON_FETCHING_RELS = {
    "alternate",
    "author",
    "bookmark",
    "canonical",
    "copyright",
    "help",
    "index",
    "license",
    "me",
    "next",
    "prev",
    "search",
    "first",
    "last",
    "up",
}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?|\\(.)", re.DOTALL)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
CSS_URL = re.compile(
    r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))|@import\s*(?:"([^"]*)"|'([^']*)')|image-set\(\s*(?:"([^"]*)"|'([^']*)')""",
    re.IGNORECASE,
)
#: Attributes that hold no URL and run nothing: most of a page's, skipped first.
#: Elements checked as a whole (run()'s chain of tags); every element's attributes are checked too.
TAGS_CHECKED = {"script", "style", "base", "meta", "form", "link", *EMBEDDING, *SVG_ANIMATION}
QUIET_ATTRIBUTES = {"class", "id", "role", "title", "alt", "lang", "type", "rel", "aria-label", "tabindex", "name"}
HIDING_ATTRIBUTES = {"hidden", "inert", "aria-hidden", "style"}
DISCLAIMER_CLASS = "ch-disclaimer"


C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
TAB_OR_NEWLINE = str.maketrans("", "", "\t\n\r")


def normalized_url(value: str) -> str:
    """A URL as the browser's URL parser reads it: no surrounding C0 controls or spaces, no tabs or newlines."""
    return value.strip(C0_AND_SPACE).translate(TAB_OR_NEWLINE).replace("\\", "/")


def urls_in(name: str, value: str) -> list[str]:
    if name in {"srcset", "imagesrcset"}:
        return [candidate.strip().split(" ")[0] for candidate in value.split(",") if candidate.strip()]
    if name == "ping":
        return value.split()
    return [value]


SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")


def is_external(url: str) -> bool:
    """True for a URL with a scheme or a host (``//host``): not a path into the site."""
    url = normalized_url(url)
    return url.startswith("//") or SCHEME.match(url) is not None


def decode_css(text: str) -> str:
    """CSS with comments removed and escapes (``\\75 rl(``) decoded, as the browser's CSS parser reads it."""

    def unescape(match: re.Match) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
        return match.group(2)

    return CSS_ESCAPE.sub(unescape, CSS_COMMENT.sub("", text))


def css_urls(text: str) -> list[str]:
    return [next(group for group in m.groups() if group is not None) for m in CSS_URL.finditer(decode_css(text))]


def elements(node):
    for child in node.traverse(include_text=False):
        if not child.tag.startswith("-"):
            yield child


class PageAudit:
    """What one written page does that the site does not allow."""

    def __init__(self, outdir: Path, path: Path, own_scripts: set[str], own_style_attributes: set[str]) -> None:
        self.outdir = outdir
        self.path = path
        self.relative = PurePosixPath(path.relative_to(outdir).as_posix())
        self.own_scripts = own_scripts
        self.own_style_attributes = own_style_attributes
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)

    def resolves_to(self, url: str) -> PurePosixPath | None:
        """The output file a relative URL points to, or None if it leaves the output folder."""
        path = urlsplit(normalized_url(url)).path
        parts: list[str] = list(self.relative.parent.parts)
        for part in path.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    return None
                parts.pop()
            else:
                parts.append(part)
        return PurePosixPath(*parts) if parts else PurePosixPath(".")

    def run(self, article: bool) -> list[str]:
        tree = LexborHTMLParser(self.path.read_text(encoding="utf-8"), scripting=True)
        script_hashes: set[str] = set()
        style_hashes: set[str] = set()
        attribute_hashes: set[str] = set()
        head = tree.head
        in_head_ids = {e.mem_id for e in elements(head)} if head is not None else set()
        for element in tree.root.traverse(include_text=False):
            tag = element.tag
            if tag.startswith("-"):  # comments and the doctype (as elements() skips them)
                continue
            # Lexbor gives HTML attribute names in lower case already; a value-less attribute's value is None.
            raw = element.attributes
            if tag in TAGS_CHECKED:  # most elements are checked by their attributes alone (below)
                attributes = {name: value or "" for name, value in raw.items()}
                self.check_element(element, tag, attributes, element.mem_id in in_head_ids, script_hashes, style_hashes)
            for name, value in raw.items():
                if name not in QUIET_ATTRIBUTES:
                    self.check_attribute(tag, name, value or "")
            if "style" in raw:
                value = raw["style"] or ""
                if value in self.own_style_attributes:
                    attribute_hashes.add(sha256(value))
                else:
                    self.problem(f"<{tag} style={value!r}>: an inline style the theme's templates do not write")
                self.check_css(value, f"<{tag} style>")
        self.check_policy(tree, policy(script_hashes, style_hashes, attribute_hashes))
        if article:
            self.check_disclaimer(tree)
        return self.problems

    def check_element(
        self, element, tag: str, attributes: dict, in_head: bool, script_hashes: set[str], style_hashes: set[str]
    ) -> None:
        """What an element of :data:`TAGS_CHECKED` may not be or do."""
        if tag == "script":
            self.check_script(element, attributes, in_head, script_hashes)
        elif tag == "style":
            if not in_head:
                self.problem("<style> outside <head> (only the theme's styles are allowed)")
            style_hashes.add(sha256(element.text(deep=True)))
            self.check_css(element.text(deep=True), "<style>")
        elif tag == "base":
            self.problem("<base> changes where every relative link and script of the page points")
        elif tag == "meta" and "http-equiv" in attributes:
            if attributes["http-equiv"].strip().lower() != CSP_META.lower():
                what = (
                    "a refresh that sends the reader elsewhere" if "refresh" in attributes["http-equiv"].lower() else ""
                )
                self.problem(f"<meta http-equiv={attributes['http-equiv']!r}> {what}".rstrip())
        elif tag in EMBEDDING:
            self.problem(f"<{tag}> embeds another page or plugin")
        elif tag in SVG_ANIMATION:
            self.problem(f"<{tag}> (SVG animation or foreign content) can rewrite links and hide content")
        elif tag == "form":
            self.check_form(attributes)
        elif tag == "link":
            rels = set(attributes.get("rel", "").lower().split())
            if rels - NON_FETCHING_RELS and is_external(attributes.get("href", "")):
                self.problem(f"<link rel={attributes.get('rel')!r}> loads {attributes.get('href')!r} from another site")

    def check_script(self, element, attributes: dict, in_head: bool, script_hashes: set[str]) -> None:
        kind = attributes.get("type", "").strip().lower()
        if kind in JSON_SCRIPT_TYPES and "src" not in attributes:
            # A data block: the browser runs nothing in it.
            if not in_head:
                self.problem(f"<script type={kind!r}> outside <head>")
            try:
                json.loads(element.text(deep=True))
            except ValueError:
                self.problem(f"<script type={kind!r}> does not hold JSON")
            return
        if "src" in attributes:
            src = attributes["src"]
            target = None if is_external(src) else self.resolves_to(src)
            ours = (
                target is not None
                and (target.parts[:1] == ("_static",) or str(target) == "searchindex.js")
                and (self.outdir / target).is_file()
            )
            if not ours:
                self.problem(f"<script src={src!r}> is not one of the site's own scripts")
            return
        text = element.text(deep=True)
        if text in self.own_scripts:
            script_hashes.add(sha256(text))
        else:
            self.problem(f"inline <script> that is not one of the theme's own: {text.strip()[:60]!r}")

    def check_form(self, attributes: dict) -> None:
        action = attributes.get("action", "")
        target = self.resolves_to(action) if action and not is_external(action) else None
        search_page = self.relative.name == "search.html" and normalized_url(action) in ("#", "")
        if not (str(target) == "search.html" or search_page) or attributes.get("method", "get").lower() != "get":
            self.problem(f"<form action={action!r}>: the only form allowed is the site's search")

    def check_attribute(self, tag: str, name: str, value: str) -> None:
        if name in QUIET_ATTRIBUTES:
            return
        if name.startswith("on"):
            self.problem(f"{name}= on <{tag}> runs code (an inline event handler)")
            return
        if name == "formaction":
            self.problem(f"formaction= on <{tag}> sends a form elsewhere")
        if name not in URL_ATTRIBUTES and not name.endswith(("href", "src")):
            return
        fetched = name in RESOURCE_ATTRIBUTES or (name.endswith("href") and tag not in ("a", "link"))
        if not fetched and ":" not in value:
            return  # a link into the site: no scheme, nothing fetched (most of a page's URLs)
        for url in urls_in(name, value):
            normal = normalized_url(url).lower()
            if normal.startswith(DANGEROUS_SCHEMES):
                self.problem(f"<{tag} {name}> {url!r} is a {normal.split(':')[0]}: URL")
            elif fetched and not (tag == "script" and name == "src") and is_external(url):
                # (check_script names a script from elsewhere itself.)
                self.problem(f"<{tag} {name}> loads {url!r} from another site")

    def check_css(self, text: str, where: str) -> None:
        for url in css_urls(text):
            if is_external(url) or normalized_url(url).lower().startswith(DANGEROUS_SCHEMES):
                self.problem(f"{where} loads {url!r} from another site")

    def check_policy(self, tree, expected: str) -> None:
        head = tree.head
        first = next(iter(elements(head)), None) if head is not None else None
        if first is not None and first.tag == "head":
            first = next((child for child in elements(head) if child.mem_id != head.mem_id), None)
        ok = (
            first is not None
            and first.tag == "meta"
            and (first.attributes.get("http-equiv") or "").lower() == CSP_META.lower()
        )
        if not ok:
            self.problem("the Content-Security-Policy is not the first element of <head>")
            return
        found = first.attributes.get("content") or ""
        if found != expected:
            self.problem(f"the Content-Security-Policy {found!r} does not match what the page carries: {expected!r}")

    def check_disclaimer(self, tree) -> None:
        found = tree.css(f".{DISCLAIMER_CLASS}")
        if len(found) != 1:
            self.problem(f"the article page shows {len(found)} disclaimers, not one")
            return
        disclaimer = node = found[0]
        # Up to the page's main content (Furo's <article role="main">): only sections, none hidden.
        while node is not None and (node.attributes.get("role") or "") != "main":
            hiding = {name.lower() for name in node.attributes} & HIDING_ATTRIBUTES
            if hiding:
                self.problem(f"the disclaimer is hidden by {', '.join(sorted(hiding))}= on <{node.tag}>")
            if node.mem_id != disclaimer.mem_id and node.tag != "section":
                self.problem(f"the disclaimer is inside <{node.tag}>: it must stand in the article's own sections")
            node = node.parent
        if node is None:
            self.problem("the disclaimer is not inside the page's main content")
        elif not disclaimer.text(deep=True).strip():
            self.problem("the disclaimer is empty")


#: Below this many pages, auditing in worker processes costs more than it saves.
PARALLEL_FROM = 64


def audit_one(outdir: Path, relative: str, article: bool, scripts: set[str], style_attributes: set[str]) -> list[str]:
    return PageAudit(outdir, outdir / relative, scripts, style_attributes).run(article=article)


def audit_chunk(outdir: Path, chunk: list[tuple[str, bool]], scripts, style_attributes) -> list[list[str]]:
    return [audit_one(outdir, relative, article, scripts, style_attributes) for relative, article in chunk]


def audit_all(
    outdir: Path, pages: list[tuple[str, bool]], scripts: set[str], style_attributes: set[str], processes: int
) -> list[list[str]]:
    """Each page's problems, in order; with ``-j`` and many pages (a cold build), in that many processes.

    The audit is pure (a page's file in, its problems out) and a cold build
    of 1000 articles audits 1000 pages after everything else is done, in one
    process: about 10 ms a page."""
    from sphinx.util.parallel import parallel_available

    if processes <= 1 or len(pages) < PARALLEL_FROM or not parallel_available:
        return audit_chunk(outdir, pages, scripts, style_attributes)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(pages) // (processes * 4))
    chunks = [pages[start : start + size] for start in range(0, len(pages), size)]
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        count = len(chunks)
        results = pool.map(audit_chunk, [outdir] * count, chunks, [scripts] * count, [style_attributes] * count)
        return [problems for chunk in results for problems in chunk]


def pages_in(outdir: Path, suffix: str) -> list[tuple[str, os.stat_result]]:
    """Every file under *outdir* named ``*<suffix>``: (path relative to it, its stat), in path order.

    What ``sorted(outdir.rglob("*" + suffix))`` finds (symbolic links to
    folders not followed, hidden files included), read with ``os.scandir``,
    which was a fifth of the time at 1000 articles (a ``Path`` per file was the rest).
    """
    found = []
    folders = [("", outdir)]
    while folders:
        prefix, folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append((f"{prefix}{entry.name}/", entry.path))
                elif entry.name.endswith(suffix) and entry.is_file():
                    found.append((prefix + entry.name, entry.stat()))
    # Path order compares part by part ("a/x" before "a-b/x").
    found.sort(key=lambda item: item[0].split("/"))
    return found


def problems_of_page(app: Sphinx, relative: str) -> list[str]:
    """One written page's problems, as :func:`audit_pages` finds them (the live preview's early page)."""
    scripts, style_attributes = getattr(app_state(app), "own_code", (set(), set()))
    pagename = relative[: -len(app.builder.out_suffix)]
    article = pagename in app.env.all_docs and is_article(app.env, pagename)
    return audit_one(Path(app.outdir), relative, article, scripts, style_attributes)


def audit_pages(app: Sphinx, exception: BaseException | None) -> None:
    """build-finished: audit every page this build wrote, and every page found at fault before."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    record_path = Path(app.doctreedir) / RECORD
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    scripts, style_attributes = getattr(app_state(app), "own_code", (set(), set()))
    suffix = app.builder.out_suffix
    clean: dict[str, list[int]] = {}
    started = time.perf_counter()
    to_audit: list[tuple[str, list[int], str | None, bool]] = []
    for relative, stat in pages_in(outdir, suffix):
        stamp = [stat.st_size, stat.st_mtime_ns]
        if record.get(relative) == stamp:
            clean[relative] = stamp
            continue
        pagename = relative[: -len(suffix)]
        docname = pagename if pagename in app.env.all_docs else None
        to_audit.append((relative, stamp, docname, docname is not None and is_article(app.env, docname)))
    pages = [(relative, article) for relative, _, _, article in to_audit]
    for (relative, stamp, docname, _), problems in zip(
        to_audit, audit_all(outdir, pages, scripts, style_attributes, app.parallel), strict=True
    ):
        for problem in problems:
            logger.warning(
                f"page {relative}: {problem}",
                location=(docname, None) if docname else None,
                type=WARNING_TYPE,
                subtype=SUBTYPE,
            )
        if not problems:
            clean[relative] = stamp
    audited = len(to_audit)
    if clean != record:  # most edits rewrite a page or two; the record of the others stands
        write_atomically(record_path, json.dumps(clean, sort_keys=True))
    elapsed_ms = 1000 * (time.perf_counter() - started)
    logger.info("audited %d written page(s) as a browser parses them in %.0f ms", audited, elapsed_ms)


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", install_policy)
    # Before recovery's handler (900), which marks the build finished.
    app.connect("build-finished", audit_pages, priority=800)
