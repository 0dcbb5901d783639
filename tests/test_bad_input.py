"""The bad-input matrix: one mistake per case, each in a real strict build of a copy of ``docs/``.

For every case the build must exit non-zero, print the expected message
naming the file and the line, do so again when run a second time with
nothing fixed, and leave every source file as it was.

Each case is a row of :data:`CASES`: the file it edits, the edit (which
returns the text with the mistake and the line the message must name), the
message, and extra build options. The builds run through :data:`BUILDERS`,
one function per output format, so a format (the PDF) joins the matrix by
adding a function there and listing it in a case's ``builders``.

The builds are real subprocesses (``python -m sphinx -M html SRC OUT -n -W
--keep-going``, as ``make html`` runs). They run once per session, two at a
time (the machines have two cores), and only for the cases pytest selected.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DOCS, pdf_build, source_hashes, sphinx_build

pytestmark = [pytest.mark.slow]

ARTICLE = "articles/can-acupuncture-help-with-nerve-pain.md"
BIB = "references.bib"

# -- Edits: each returns (new text, the line the message must name) -------------


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def replace(old: str, new: str) -> Callable[[str], tuple[str, int]]:
    """Replace the first *old* with *new*; the line is where *old* started."""

    def edit(text: str) -> tuple[str, int]:
        index = text.index(old)
        return text[:index] + new + text[index + len(old) :], line_of(text, index)

    return edit


def insert_before(anchor: str, new: str) -> Callable[[str], tuple[str, int]]:
    """Insert *new* (whole lines) before the line holding *anchor*; the line is the first inserted."""

    def edit(text: str) -> tuple[str, int]:
        index = text.rfind("\n", 0, text.index(anchor)) + 1
        return text[:index] + new + text[index:], line_of(text, index)

    return edit


def insert_at(anchor: str, new: str, offset: int) -> Callable[[str], tuple[str, int]]:
    """:func:`insert_before`, naming the line *offset* lines into what was inserted."""

    def edit(text: str) -> tuple[str, int]:
        new_text, line = insert_before(anchor, new)(text)
        return new_text, line + offset

    return edit


def replace_line(prefix: str, new: str) -> Callable[[str], tuple[str, int]]:
    """Replace the whole line starting with *prefix* by *new*; the line is its own."""

    def edit(text: str) -> tuple[str, int]:
        start = text.index("\n" + prefix) + 1
        end = text.index("\n", start)
        return text[:start] + new + text[end:], line_of(text, start)

    return edit


def move_to_end(block: str) -> Callable[[str], tuple[str, int]]:
    """Move *block* (whole lines) to the end; the line is where it lands."""

    def edit(text: str) -> tuple[str, int]:
        text = text.replace(block, "", 1).rstrip("\n") + "\n\n"
        return text + block, line_of(text, len(text))

    return edit


def symlink(name: str, target: str) -> Callable[[Path], None]:
    def prepare(srcdir: Path) -> None:
        (srcdir / name).symlink_to(target)

    return prepare


def write_bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def prepare(srcdir: Path) -> None:
        (srcdir / name).write_bytes(data)

    return prepare


def append(new: str) -> Callable[[str], tuple[str, int]]:
    """Add *new* after a blank line at the end; the line is its first."""

    def edit(text: str) -> tuple[str, int]:
        text = text.rstrip("\n") + "\n\n"
        return text + new, line_of(text, len(text))

    return edit


def in_entry(key: str, old: str, new: str) -> Callable[[str], tuple[str, int]]:
    """Replace *old* inside the bibliography entry *key*; the line is the entry's first."""

    def edit(text: str) -> tuple[str, int]:
        start = text.index("{" + key + ",")
        start = text.rfind("@", 0, start)
        index = text.index(old, start)
        return text[:index] + new + text[index + len(old) :], line_of(text, start)

    return edit


def after_front_matter(remove: str) -> Callable[[str], tuple[str, int]]:
    """Remove *remove*; the line is the first after the front matter."""

    def edit(text: str) -> tuple[str, int]:
        closing = text.index("\n---\n", 3) + len("\n---\n")
        return text.replace(remove, "", 1), line_of(text, closing)

    return edit


# -- Builders ---------------------------------------------------------------------


def build_html(srcdir: Path, outdir: Path, *options: str) -> subprocess.CompletedProcess:
    return sphinx_build(srcdir, outdir, "html", *options)


def build_pdf(srcdir: Path, outdir: Path, *options: str) -> subprocess.CompletedProcess:
    """``make pdf``: our ``typst`` builder."""
    return pdf_build(srcdir, outdir, *options)


#: Output format -> function building a source folder into an output folder.
BUILDERS: dict[str, Callable[..., subprocess.CompletedProcess]] = {"html": build_html, "pdf": build_pdf}

# -- The cases ---------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    path: str  # the file edited, relative to docs/
    edit: Callable[[str], tuple[str, int]]
    message: str  # what follows "WARNING: " on the file:line; str.format()ted with bib, han
    options: tuple[str, ...] = ()
    builders: tuple[str, ...] = ("html",)
    #: Run on the copied source folder before the edit (to add a file or a symbolic link).
    prepare: Callable[[Path], None] | None = None
    #: The file the message names, relative to docs/, where it is not the file edited.
    named: str | None = None


ENTRY = """@article{{{key},
  author  = {{Doe, Jane}},
  title   = {{{title}}},
  journal = {{Journal of Tests}},
  year    = {{2020}},
  doi     = {{10.1000/test.{key}}}
}}
"""

CASES = [
    Case(
        "disclaimer-missing",
        ARTICLE,
        after_front_matter("```{disclaimer}\n```\n"),
        "article has no disclaimer: add a {{disclaimer}} directive [citedhealth.disclaimer]",
    ),
    Case(
        "disclaimer-twice",
        ARTICLE,
        insert_before("## Understanding Acupuncture", "```{disclaimer}\n```\n\n"),
        "article has more than one disclaimer: keep exactly one [citedhealth.disclaimer]",
    ),
    Case(
        "front-matter-missing-description",
        ARTICLE,
        # With the field gone, the message points at the front matter's first line.
        lambda text: (replace("description:", "summary:")(text)[0], 1),
        "front matter lacks 'description' [citedhealth.front-matter]",
    ),
    Case(
        "front-matter-missing-topics",
        ARTICLE,
        # Every article names its topics; without the field, the front matter's first line.
        lambda text: (replace("topics: [Pain and nerves, Complementary therapies]\n", "")(text)[0], 1),
        "front matter lacks 'topics': every article names its topics, such as topics: [Pain and nerves]"
        " [citedhealth.front-matter]",
    ),
    Case(
        "front-matter-unknown-topic",
        ARTICLE,
        replace("topics: [Pain and nerves, Complementary therapies]", "topics: [Pain and nerves, Astrology]"),
        "unknown topic 'Astrology' in front matter 'topics': use one of Pain and nerves, Bones and joints,"
        " Heart and circulation, Diabetes and hormones, Mental health, Complementary therapies"
        " [citedhealth.front-matter]",
    ),
    Case(
        "front-matter-invalid-date",
        ARTICLE,
        replace("date_published: 2026-11-24", "date_published: 24/11/2026"),
        "front matter 'date_published' is not an ISO 8601 date (YYYY-MM-DD): '24/11/2026' [citedhealth.front-matter]",
    ),
    Case(
        "front-matter-review-order",
        ARTICLE,
        replace("next_review_due: 2027-11-24", "next_review_due: 2026-11-01"),
        "front matter 'next_review_due' must fall after 'last_reviewed' [citedhealth.front-matter]",
    ),
    Case(
        "overdue-review-where-an-error",
        ARTICLE,
        replace("next_review_due: 2027-11-24", "next_review_due: 2026-12-01"),
        "article is overdue for review: next_review_due 2026-12-01 is before 2027-01-01 [citedhealth.overdue-review]",
        options=("-D", "citedhealth_today=2027-01-01", "-D", "citedhealth_overdue_review_is_error=1"),
    ),
    Case(
        "unknown-citation-key",
        ARTICLE,
        replace("{cite:p}`han2004acupuncture`", "{cite:p}`han2004acupunture`"),
        'could not find bibtex key "han2004acupunture" [bibtex.key_not_found]',
    ),
    Case(
        "duplicate-bibliography-key",
        BIB,
        append(ENTRY.format(key="han2004acupuncture", title="Another Entry")),
        "duplicate bibliography key 'han2004acupuncture': first defined at {bib}:{han} [citedhealth.bib-duplicate]",
    ),
    Case(
        "malformed-bibliography-entry",
        BIB,
        append(ENTRY.format(key="broken2020", title="An Unclosed {Brace")),
        "malformed bibliography entry 'broken2020': it ends before its braces or quotes close"
        " [citedhealth.bib-malformed]",
    ),
    Case(
        "entry-without-doi-pmid-or-url",
        BIB,
        in_entry("zhao2008neural", "  doi     = {10.1016/j.pneurobio.2008.05.004}\n", ""),
        "bibliography entry 'zhao2008neural' has no DOI, no PMID and no URL: add one so readers can check it"
        " [citedhealth.bib-no-link]",
    ),
    Case(
        "cited-entry-without-year",
        BIB,
        in_entry("kim2016changes", "  year    = {2016},\n", ""),
        "cited bibliography entry 'kim2016changes' lacks 'year' [citedhealth.bib-incomplete]",
    ),
    Case(
        "cited-entry-without-evidence-label",
        BIB,
        in_entry("kim2016changes", "  evidence = {systematic review or meta-analysis},\n", ""),
        "cited bibliography entry 'kim2016changes' has no evidence label: add 'evidence = {{...}}' with one of:"
        " guideline; systematic review or meta-analysis; randomised controlled trial; other controlled trial;"
        " observational study; narrative review; laboratory or animal study; consumer health information"
        " [citedhealth.bib-evidence]",
    ),
    Case(
        "entry-cited-nowhere",
        BIB,
        append(ENTRY.format(key="uncited2020", title="Nobody Cites This")),
        "bibliography entry 'uncited2020' is cited nowhere [citedhealth.bib-uncited]",
    ),
    Case(
        "citation-needed",
        ARTICLE,
        insert_before(
            "## Considerations and Precautions", "A recent study found that acupuncture cures every neuropathy.\n\n"
        ),
        "citation needed: the paragraph reports evidence ('study') but cites nothing, and no editorial note"
        " with a citation follows it [citedhealth.citation-needed]",
    ),
    Case(
        "broken-internal-link",
        ARTICLE,
        insert_before("## Conclusion", "See [the landing page](../no-such-page.md).\n\n"),
        "'myst' cross-reference target not found: '../no-such-page.md' [myst.xref_missing]",
    ),
    Case(
        "broken-reference",
        ARTICLE,
        insert_before("## Conclusion", "As said in {ref}`no-such-section`.\n\n"),
        "undefined label: 'no-such-section' [ref.ref]",
    ),
    Case(
        "missing-image",
        ARTICLE,
        insert_before("## Conclusion", "![A diagram of a nerve](diagram.png)\n\n"),
        "image file not readable: articles/diagram.png [image.not_readable]",
    ),
    Case(
        "character-the-pdf-font-lacks",
        ARTICLE,
        insert_before("## Conclusion", "Acupuncture (針灸) is old.\n\n"),
        "the PDF font Libertinus Serif, New Computer Modern, DejaVu Sans Mono (body) has no glyph for"
        " '灸' (U+7078), '針' (U+91DD): the PDF cannot show it [citedhealth.pdf-font]",
        builders=("pdf",),
    ),
    Case(
        "character-the-pdf-heading-font-lacks",
        ARTICLE,
        insert_before("## Conclusion", "## Acupuncture, or 針灸\n\n"),
        "the PDF font Libertinus Serif, New Computer Modern, DejaVu Sans Mono (bold) has no glyph for"
        " '灸' (U+7078), '針' (U+91DD): the PDF cannot show it [citedhealth.pdf-font]",
        builders=("pdf",),
    ),
    Case(
        "character-the-pdf-code-font-lacks",
        ARTICLE,
        insert_before("## Conclusion", "Type `µ ≥ 針` to search.\n\n"),
        "the PDF font DejaVu Sans Mono (code) has no glyph for '針' (U+91DD): the PDF cannot show it"
        " [citedhealth.pdf-font]",
        builders=("pdf",),
    ),
    Case(
        "unknown-citation-key-in-the-pdf",
        ARTICLE,
        replace("{cite:p}`zhao2008neural`", "{cite:p}`zhao2008neurals`"),
        'could not find bibtex key "zhao2008neurals" [bibtex.key_not_found]',
        builders=("pdf",),
    ),
    Case(
        "image-without-alt-text",
        ARTICLE,
        insert_before("## Conclusion", "![](../_static/favicon.svg)\n\n"),
        "image has no alt text: _static/favicon.svg [citedhealth.image]",
    ),
]


# -- Raw HTML and unsafe URLs: every class of trick, each refused at its line ----------


def raw_html(name: str, html: str, problem: str) -> Case:
    """*html* (whole blocks) inserted before the Conclusion; the build names *problem* at its first line."""
    return Case(
        f"raw-html-{name}",
        ARTICLE,
        insert_before("## Conclusion", html + "\n\n"),
        f"raw HTML not allowed: {problem} [citedhealth.raw-html]",
    )


NOT_SELF_CONTAINED = (
    "it is not self-contained: an element or comment left open (or closed too early) swallows or wraps the text"
    " around it; open and close everything within the same block"
)

CASES += [
    raw_html("script", "<script>document.title = 'x'</script>", "<script> is not an allowed element"),
    raw_html("script-mixed-case", "<ScRiPt>document.title = 'x'</sCrIpT>", "<script> is not an allowed element"),
    raw_html(
        "event-handler-unquoted",
        "<p>An <abbr title=x onmouseover=track()>RCT</abbr>.</p>",
        "onmouseover= on <abbr> is not an allowed attribute",
    ),
    raw_html(
        "external-image",
        '<img src="https://tracker.example/p.gif" alt="" onload="track()">',
        "<img> is not an allowed element: use Markdown's image syntax",
    ),
    raw_html(
        "srcset-from-another-site",
        '<picture><source srcset="https://cdn.example/a.png 2x"><img alt="x" src="a.png"></picture>',
        "<picture> is not an allowed element: use Markdown's image syntax",
    ),
    raw_html(
        "internal-link",
        '<p>See <a href="../no-such-page.html">the landing page</a>.</p>',
        "<a href> '../no-such-page.html' is a link the build cannot check: use a Markdown link",
    ),
    raw_html(
        "scheme-relative-link",
        '<p><a href="//evil.example/">x</a></p>',
        "<a href> '//evil.example/' is a link the build cannot check: use a Markdown link"
        " (or write the scheme: https://)",
    ),
    raw_html("base", '<base href="https://evil.example/">', "<base> is not an allowed element"),
    raw_html(
        "javascript-link",
        '<p><a href="javascript:alert(1)">x</a></p>',
        "<a href> 'javascript:alert(1)' is not an http, https or mailto URL",
    ),
    raw_html(
        "javascript-link-with-an-entity-tab",
        '<p><a href="java&#x09;script:alert(1)">x</a></p>',
        "<a href> 'java\\tscript:alert(1)' is not an http, https or mailto URL",
    ),
    raw_html(
        "javascript-link-with-colon-entity-and-case",
        "<p><a href=' JaVaScRiPt&colon;alert(1)'>x</a></p>",
        "<a href> ' JaVaScRiPt:alert(1)' is not an http, https or mailto URL",
    ),
    raw_html(
        "data-link",
        '<p><a href="data:text/html,hi">x</a></p>',
        "<a href> 'data:text/html,hi' is not an http, https or mailto URL",
    ),
    raw_html(
        "meta-refresh",
        '<meta http-equiv="refresh" content="0; url=https://evil.example/">',
        "<meta> is not an allowed element",
    ),
    raw_html(
        "comment-bang-gt",
        "<p>Read <!-->this</p>",
        "a browser parses it differently from how it reads: Incorrect comment",
    ),
    raw_html(
        "comment-dash-dash-bang",
        "<p>Read <!-- x --!> this</p>",
        "a browser parses it differently from how it reads: Unexpected ! after -- in comment",
    ),
    raw_html(
        "comment-closed-in-a-later-block",
        "<div><!--\n\nA paragraph the comment would swallow.\n\n--></div>",
        "a browser parses it differently from how it reads: Unexpected end of file in comment",
    ),
    raw_html(
        "cdata",
        "<p><![CDATA[ x ]]></p>",
        "a browser parses it differently from how it reads: Expected '--' or 'DOCTYPE'. Not found",
    ),
    raw_html(
        "processing-instruction",
        "<p><?php echo 1 ?></p>",
        "a browser parses it differently from how it reads: Expected tag name. Got '?' instead."
        " (HTML doesn't support processing instructions.)",
    ),
    raw_html("unclosed-element", "<ul><li>An item that would hold what follows", NOT_SELF_CONTAINED),
    raw_html(
        "svg",
        '<svg onload="alert(1)"><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
        "<svg> is not an allowed element",
    ),
    raw_html("math", '<math><mi xlink:href="javascript:alert(1)">x</mi></math>', "<math> is not an allowed element"),
    raw_html(
        "style-with-css-escapes",
        "<style>p { background: \\75 rl(https://evil.example/x.png) }</style>",
        "<style> is not an allowed element",
    ),
    raw_html(
        "style-attribute",
        "<p style=\"background: u\\rl('https://evil.example/x.png')\">x</p>",
        "style= on <p> is not an allowed attribute",
    ),
    raw_html(
        "form",
        '<form action="https://evil.example/"><input name="q"><button>Go</button></form>',
        "<form> is not an allowed element",
    ),
    raw_html(
        "formaction",
        '<p><button formaction="https://evil.example/">Go</button></p>',
        "<button> is not an allowed element",
    ),
    raw_html("template", "<template><p>Hidden</p></template>", "<template> is not an allowed element"),
    raw_html("noscript", "<noscript><p>Hidden</p></noscript>", "<noscript> is not an allowed element"),
    raw_html("iframe", '<iframe src="https://evil.example/"></iframe>', "<iframe> is not an allowed element"),
    raw_html(
        "fake-disclaimer",
        '<div class="admonition warning ch-disclaimer">Not really</div>',
        "class= on <div> is not an allowed attribute",
    ),
    Case(
        "raw-html-hides-the-disclaimer",
        ARTICLE,
        lambda text: (
            text.replace("```{disclaimer}\n```\n", "<div hidden>\n\n```{disclaimer}\n```\n\n</div>\n", 1),
            line_of(text, text.index("```{disclaimer}")),
        ),
        f"raw HTML not allowed: {NOT_SELF_CONTAINED} [citedhealth.raw-html]",
    ),
    Case(
        # The front matter's title becomes the page's heading, and the navigation's link text on every page.
        "raw-html-in-the-title",
        ARTICLE,
        lambda text: (text.replace("title: Can Acupuncture", "title: <script>alert(1)</script> Can Acupuncture", 1), 1),
        "raw HTML not allowed: <script> is not an allowed element [citedhealth.raw-html]",
    ),
    Case(
        "meta-refresh-in-front-matter",
        ARTICLE,
        lambda text: (
            text.replace(
                "---\n", '---\nmyst:\n  html_meta:\n    "http-equiv=refresh": "0; url=https://evil.example/"\n', 1
            ),
            1,
        ),
        "HTML meta tag not allowed: http-equiv= (a document's meta tags may set only name or property, content"
        " and lang) [citedhealth.raw-html]",
    ),
    Case(
        "data-url-image",
        ARTICLE,
        insert_before("## Conclusion", "![A pixel](data:image/png;base64,iVBORw0KGgo=)\n\n"),
        "URL not allowed: 'data:image/png;base64,iVBORw0KGgo=' is a data: URL (links and images take http,"
        " https, mailto or a file of the site) [citedhealth.unsafe-url]",
    ),
]

# -- Typed inputs and paths (issue 11) ----------------------------------------------

#: Enough ``..`` to climb from any temporary folder to the root.
CLIMB = "../" * 24
DISCLAIMER = "```{disclaimer}\n```\n"
BEFORE = "## Considerations and Precautions"
NEEDED = "but cites nothing, and no editorial note with a citation follows it [citedhealth.citation-needed]"
OUTSIDE = "reads a file outside the source folder (/etc/passwd): keep what the site publishes under docs/"

CASES += [
    Case(
        "bibliography-url-javascript",
        BIB,
        in_entry(
            "nccih_acupuncture_indepth",
            "https://www.nccih.nih.gov/health/acupuncture-in-depth",
            "javascript:alert(document.cookie)",
        ),
        "bibliography entry 'nccih_acupuncture_indepth': url 'javascript:alert(document.cookie)' is not an http(s)"
        " address; it is shown without a link [citedhealth.bib-link]",
    ),
    Case(
        "bibliography-doi-javascript",
        BIB,
        in_entry("zhao2008neural", "10.1016/j.pneurobio.2008.05.004", "javascript:alert(1)"),
        "bibliography entry 'zhao2008neural': doi 'javascript:alert(1)' is not a DOI (10.NNNN/...);"
        " it is shown without a link [citedhealth.bib-link]",
    ),
    Case(
        "front-matter-author-null",
        ARTICLE,
        replace_line("author:", "author: null"),
        "front matter 'author' must be text, not null (null) [citedhealth.front-matter]",
    ),
    Case(
        "front-matter-description-tilde",
        ARTICLE,
        replace_line("description:", "description: ~"),
        "front matter 'description' must be text, not null (~) [citedhealth.front-matter]",
    ),
    Case(
        "front-matter-keywords-empty-list",
        ARTICLE,
        replace_line("keywords:", "keywords: []"),
        "front matter 'keywords' must be a list of words or comma-separated text, not an empty list"
        " [citedhealth.front-matter]",
    ),
    Case(
        "front-matter-date-yes",
        ARTICLE,
        replace_line("date_published:", "date_published: yes"),
        "front matter 'date_published' is not an ISO 8601 date (YYYY-MM-DD): 'yes' [citedhealth.front-matter]",
    ),
    Case(
        "front-matter-author-a-number",
        ARTICLE,
        replace_line("author:", "author: 42"),
        "front matter 'author' must be text, not a number (42) [citedhealth.front-matter]",
    ),
    Case(
        "citation-needed-footnote-is-no-citation",
        ARTICLE,
        insert_before(BEFORE, "A recent study found that it cures everything.[^trust]\n\n[^trust]: Trust me.\n\n"),
        f"citation needed: the paragraph reports evidence ('study') {NEEDED}",
    ),
    Case(
        "citation-needed-lookalike-letters",
        ARTICLE,
        insert_before(BEFORE, "A recent \u0455tud\u0443 found that it cures everything.\n\n"),
        f"citation needed: the paragraph reports evidence ('study') {NEEDED}",
    ),
    Case(
        "citation-needed-soft-hyphen",
        ARTICLE,
        insert_before(BEFORE, "A recent stu\u00addy found that it cures everything.\n\n"),
        f"citation needed: the paragraph reports evidence ('study') {NEEDED}",
    ),
    Case(
        "citation-needed-in-a-heading",
        ARTICLE,
        insert_before(BEFORE, "## What one study showed\n\n"),
        f"citation needed: the heading reports evidence ('study') {NEEDED}",
    ),
    Case(
        "citation-needed-in-a-caption",
        ARTICLE,
        insert_at(BEFORE, ":::{figure} ../_static/favicon.svg\n:alt: The logo\n\nA logo from a trial.\n:::\n\n", 3),
        f"citation needed: the caption reports evidence ('trial') {NEEDED}",
    ),
    Case(
        "citation-needed-in-a-term",
        ARTICLE,
        insert_before(BEFORE, "The research on needles\n: It is long.\n\n"),
        f"citation needed: the term reports evidence ('research') {NEEDED}",
    ),
    Case(
        "citation-needed-in-a-table-cell",
        ARTICLE,
        # MyST gives a cell no line of its own: the message names the table's first line.
        insert_before(BEFORE, "| Outcome |\n|---|\n| Pain fell in one trial |\n\n"),
        f"citation needed: the table cell reports evidence ('trial') {NEEDED}",
    ),
    Case(
        "disclaimer-moved-to-the-end",
        ARTICLE,
        move_to_end(DISCLAIMER),
        "the disclaimer must come first, right after the title and the byline [citedhealth.disclaimer]",
    ),
    Case(
        "disclaimer-in-a-quote",
        ARTICLE,
        replace(DISCLAIMER, "> ```{disclaimer}\n> ```\n"),
        "the disclaimer must stand on its own at the top of the article, not inside a block quote"
        " [citedhealth.disclaimer]",
    ),
    Case(
        "disclaimer-after-raw-html",
        ARTICLE,
        replace(DISCLAIMER, "<div hidden>\n\n" + DISCLAIMER + "\n</div>\n"),
        "raw markup before the disclaimer could hide it: move the disclaimer first [citedhealth.disclaimer]",
    ),
    Case(
        "include-climbing-out",
        ARTICLE,
        insert_before("## Conclusion", f"```{{include}} {CLIMB}etc/passwd\n```\n\n"),
        f"include of '{CLIMB}etc/passwd' {OUTSIDE} [citedhealth.path]",
    ),
    Case(
        "include-absolute-path-climbing-out",
        ARTICLE,
        insert_before("## Conclusion", f"```{{include}} /{CLIMB}etc/passwd\n```\n\n"),
        f"include of '/{CLIMB}etc/passwd' {OUTSIDE} [citedhealth.path]",
    ),
    Case(
        "literalinclude-climbing-out",
        ARTICLE,
        insert_before("## Conclusion", f"```{{literalinclude}} {CLIMB}etc/passwd\n```\n\n"),
        f"literalinclude of '{CLIMB}etc/passwd' {OUTSIDE} [citedhealth.path]",
    ),
    Case(
        "literalinclude-through-a-symbolic-link",
        ARTICLE,
        insert_before("## Conclusion", "```{literalinclude} notes.txt\n```\n\n"),
        f"literalinclude of 'notes.txt' {OUTSIDE} [citedhealth.path]",
        prepare=symlink("articles/notes.txt", "/etc/passwd"),
    ),
    Case(
        "image-climbing-out",
        ARTICLE,
        insert_before("## Conclusion", f"![The password file]({CLIMB}etc/passwd)\n\n"),
        f"image '{CLIMB}etc/passwd' is a file outside the source folder (/etc/passwd): keep images under docs/"
        " [citedhealth.path]",
    ),
    Case(
        "image-absolute-path",
        ARTICLE,
        # Sphinx reads an absolute path from the source folder: docs/etc/passwd, which is not there.
        insert_before("## Conclusion", "![The password file](/etc/passwd)\n\n"),
        "image file not readable: etc/passwd [image.not_readable]",
    ),
    Case(
        "image-through-a-symbolic-link",
        ARTICLE,
        insert_before("## Conclusion", "![The password file](diagram.png)\n\n"),
        "image 'diagram.png' is a file outside the source folder (/etc/passwd): keep images under docs/"
        " [citedhealth.path]",
        prepare=symlink("articles/diagram.png", "/etc/passwd"),
    ),
    Case(
        "download-climbing-out",
        ARTICLE,
        insert_before("## Conclusion", f"{{download}}`the password file <{CLIMB}etc/passwd>`\n\n"),
        f"download '{CLIMB}etc/passwd' is a file outside the source folder (/etc/passwd): keep downloads under docs/"
        " [citedhealth.path]",
    ),
    Case(
        "raw-html-from-a-file",
        ARTICLE,
        insert_before("## Conclusion", "```{raw} html\n:file: ../index.md\n```\n\n"),
        "raw with :file: reads '../index.md' into the page unchecked: write the content in the document"
        " [citedhealth.path]",
    ),
    Case(
        "csv-table-from-a-url",
        ARTICLE,
        insert_before("## Conclusion", "```{csv-table}\n:url: https://example.org/t.csv\n```\n\n"),
        "csv-table with :url: reads 'https://example.org/t.csv' into the page unchecked:"
        " write the content in the document [citedhealth.path]",
    ),
    Case(
        "article-not-utf8",
        ARTICLE,
        insert_before("## Conclusion", "Caf\udce9 au lait.\n\n"),
        "undecodable file: byte 0xe9 at column 4 is not UTF-8; the document is left out of the build"
        " [citedhealth.encoding]",
    ),
    Case(
        "bibliography-not-utf8",
        BIB,
        replace("Vickers, Andrew J.", "Vickers, Andr\udce9 J."),
        "undecodable file: byte 0xe9 at column 27 is not UTF-8; the build goes on without it [citedhealth.encoding]",
    ),
    Case(
        "included-file-not-utf8",
        ARTICLE,
        lambda text: (insert_before("## Conclusion", "```{include} snippet.txt\n```\n\n")(text)[0], 2),
        "undecodable file: byte 0xe9 at column 4 is not UTF-8 [citedhealth.encoding]",
        prepare=write_bytes("articles/snippet.txt", b"A first line.\nCaf\xe9 au lait.\n"),
        named="articles/snippet.txt",
    ),
]

# -- Running them --------------------------------------------------------------------


@dataclass
class Outcome:
    srcdir: Path
    line: int
    result: subprocess.CompletedProcess
    #: The same build run again with nothing fixed: it must fail the same way.
    again: subprocess.CompletedProcess
    before: dict[str, str]
    after: dict[str, str]


def run_case(case: Case, builder: str, workdir: Path) -> Outcome:
    srcdir = workdir / "docs"
    # Caches the author may have left in docs/ are not part of the site.
    shutil.copytree(DOCS, srcdir, ignore=shutil.ignore_patterns("_build", "__pycache__"))
    if case.prepare is not None:
        case.prepare(srcdir)
    source = srcdir / case.path
    text, line = case.edit(source.read_text(encoding="utf-8"))
    # Lone surrogates (U+DC80 to U+DCFF) write the bytes that are not UTF-8.
    source.write_text(text, encoding="utf-8", errors="surrogateescape")
    before = source_hashes(srcdir)
    result = BUILDERS[builder](srcdir, workdir / "out", *case.options)
    again = BUILDERS[builder](srcdir, workdir / "out", *case.options)
    return Outcome(srcdir.resolve(), line, result, again, before, source_hashes(srcdir))


PARAMS = [pytest.param(case, builder, id=f"{case.name}-{builder}") for case in CASES for builder in case.builders]


@pytest.fixture(scope="session")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every selected case built once, two at a time."""
    selected = {
        (item.callspec.params["case"].name, item.callspec.params["builder"])
        for item in request.session.items
        if hasattr(item, "callspec") and "case" in item.callspec.params and "builder" in item.callspec.params
    }
    jobs = [(case, builder) for case in CASES for builder in case.builders if (case.name, builder) in selected]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            f"{case.name}-{builder}": pool.submit(
                run_case, case, builder, tmp_path_factory.mktemp(f"bad-{case.name}-{builder}")
            )
            for case, builder in jobs
        }
        return {key: future.result() for key, future in futures.items()}


def test_the_matrix_has_at_least_fifteen_cases():
    assert len({case.name for case in CASES}) == len(CASES) >= 15


def test_the_real_site_builds_clean(site):
    """The baseline every case departs from: without a mistake, the build passes."""
    assert site.returncode == 0, site.stderr


@pytest.mark.parametrize(("case", "builder"), PARAMS)
def test_bad_input_fails_with_file_and_line(case: Case, builder: str, outcomes: dict[str, Outcome]):
    outcome = outcomes[f"{case.name}-{builder}"]
    bib = outcome.srcdir / BIB
    message = case.message.format(bib=bib, han=bib_line(outcome.srcdir, "han2004acupuncture"))
    expected = f"{outcome.srcdir / (case.named or case.path)}:{outcome.line}: WARNING: {message}"
    # The first build, then the same build again with nothing fixed: the
    # mistake fails every build until it is fixed (diagnostics.py).
    for result in (outcome.result, outcome.again):
        output = result.stdout + result.stderr
        assert result.returncode != 0, output
        assert expected in output.splitlines(), f"expected:\n{expected}\noutput:\n{output}"
        assert "Traceback" not in output
    assert outcome.after == outcome.before, "the build changed a source file"


def bib_line(srcdir: Path, key: str) -> int:
    text = (srcdir / BIB).read_text(encoding="utf-8", errors="surrogateescape")
    return line_of(text, text.rfind("@", 0, text.index("{" + key + ",")))
