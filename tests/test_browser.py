"""The built site in a real browser: Debian's chromium, headless, driven by Playwright.

The real ``docs/`` is built once (the session's ``site`` fixture) and served
on 127.0.0.1 by a small threaded HTTP server (``server``). ``open_page``
opens a page in a fresh browser context (its own width and colour scheme) and
records every request, console error and uncaught exception of that page;
when the test ends, any of them, or any request to another host, fails it.

To check something new, write a test that takes ``open_page``::

    def test_something(open_page):
        page = open_page(ARTICLE)
        ...

Screenshots and the log of every request go to ``<build folder>/browser/``.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect
from playwright.sync_api import Error as PlaywrightError
from pypdf import PdfReader

LANDING = "index.html"
ARTICLE = "articles/can-acupuncture-help-with-nerve-pain.html"
# The pages made from the front matter (library.py): the A–Z and a topic's page.
A_TO_Z = "a-z.html"
TOPIC = "topics/pain-and-nerves.html"
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 375, "height": 740}
# Narrower windows are phones: touch, and the page's viewport meta tag applies.
PHONE_BELOW_PX = 768
PREVIEW = "#ch-citation-preview"
CITATION_LINKS = "span.bibtex-citation a.reference.internal"
# Tab stops before the article's first citation: skip link, navigation, toggles.
MAX_TABS = 40


# -- Serving the site and driving the browser ------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site; says nothing on the test's output."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="session")
def server(site) -> Iterator[str]:
    """The built site at ``http://127.0.0.1:<free port>/``, for the whole session."""
    assert site.returncode == 0, site.stderr
    handler = functools.partial(QuietHandler, directory=str(site.outdir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(scope="session")
def artifacts(site) -> Path:
    """``<build folder>/browser``: screenshots and the request log."""
    folder = site.outdir.parent / "browser"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def request_log(artifacts: Path) -> Iterator[list[str]]:
    """Every request of the session, written to ``requests.log`` at its end."""
    lines: list[str] = []
    yield lines
    (artifacts / "requests.log").write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass
class Visit:
    """What one page did: every request it made, every console error and exception."""

    page: Page
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def foreign_requests(self, origin: str) -> list[str]:
        return [url for url in self.requests if urlsplit(url).netloc != urlsplit(origin).netloc]


@pytest.fixture
def open_page(browser: Browser, server: str, request_log: list[str], request) -> Iterator[Callable[..., Page]]:
    """Open a page of the site in a fresh context; check, at the test's end, that it was clean."""
    visits: list[Visit] = []
    contexts = []

    def open_(path: str, *, viewport: dict = DESKTOP, color_scheme: str = "light") -> Page:
        phone = viewport["width"] < PHONE_BELOW_PX
        context = browser.new_context(viewport=viewport, color_scheme=color_scheme, is_mobile=phone, has_touch=phone)
        contexts.append(context)
        page = context.new_page()
        visit = Visit(page)
        visits.append(visit)

        def on_request(req: Request) -> None:
            visit.requests.append(req.url)
            request_log.append(f"{request.node.name}\t{req.method}\t{req.url}")

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                visit.console_errors.append(f"{message.text} ({message.location})")

        page.on("request", on_request)
        page.on("console", on_console)
        # Every page records what its Content-Security-Policy blocked; any is a failure.
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
        page.goto(server + path, wait_until="load")
        return page

    open_.visits = visits  # what the test's pages did, for tests that check it themselves
    yield open_
    problems = []
    for visit in visits:
        problems += [f"blocked by the Content-Security-Policy: {v}" for v in csp_violations(visit.page)]
    for context in contexts:
        context.close()
    for visit in visits:
        problems += [f"console error: {e}" for e in visit.console_errors]
        problems += [f"uncaught exception: {e}" for e in visit.page_errors]
        problems += [f"request to another host: {url}" for url in visit.foreign_requests(server)]
    assert not problems, "\n".join(problems)


RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sample}`));
"""


def csp_violations(page: Page) -> list[str]:
    """What the page's Content-Security-Policy blocked so far (recorded from its first byte)."""
    try:
        return page.evaluate("window.__cspViolations || []")
    except PlaywrightError:  # a page its test closed has nothing more to tell
        return []


def axe_violations(page: Page, context: str | None = None) -> list[str]:
    """axe-core's violations on the page (or in one element of it), one line each."""
    results = Axe().run(page, context=context)
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']]}" for v in results.response["violations"]
    ]


def css_id(anchor: str) -> str:
    """``#id33`` as a selector that works whatever the id's characters."""
    return f'[id="{anchor.removeprefix("#")}"]'


# -- Navigation ----------------------------------------------------------------------


def test_citation_lands_on_its_entry_and_the_entry_links_back(open_page):
    page = open_page(ARTICLE)
    link = page.locator(CITATION_LINKS).first
    target = link.get_attribute("href")
    link.click()
    expect(page).to_have_url(f"{page.url.split('#')[0]}{target}")
    expect(page.locator(PREVIEW)).to_be_hidden()  # the entry itself is on screen now
    entry = css_id(target)
    assert "citation" in page.get_attribute(entry, "class")
    # Furo scrolls smoothly: expect() waits for the scroll to arrive.
    expect(page.locator(entry)).to_be_in_viewport()
    # The entry's back-link to the first citation of it returns to the sentence.
    back = page.locator(f"{entry} a[role=doc-backlink]").first
    back_target = back.get_attribute("href")
    back.click()
    expect(page).to_have_url(f"{page.url.split('#')[0]}{back_target}")
    citation = css_id(back_target)
    expect(page.locator(citation)).to_be_in_viewport()
    assert page.locator(f'{citation} a[href="{target}"]').count() == 1
    expect(page.locator(entry)).not_to_be_in_viewport()


def test_theme_toggle_switches_between_light_and_dark(open_page):
    page = open_page(ARTICLE, color_scheme="light")

    def state() -> tuple[str, str]:
        return page.evaluate("[document.body.dataset.theme, getComputedStyle(document.body).backgroundColor]")

    theme, light_background = state()
    assert theme == "auto"
    toggle = page.locator(".theme-toggle").locator("visible=true")
    toggle.click()  # Furo's cycle, for a reader whose system is light: auto, dark, light
    theme, dark_background = state()
    assert theme == "dark"
    assert dark_background != light_background
    toggle.click()
    theme, background = state()
    assert (theme, background) == ("light", light_background)


def test_search_finds_endorphins_and_links_to_the_article(open_page):
    page = open_page(LANDING)
    page.fill("input.sidebar-search", "endorphins")
    page.press("input.sidebar-search", "Enter")
    result = page.locator(f'#search-results a[href*="{ARTICLE}"]')
    expect(result.first).to_be_visible()
    result.first.click()
    expect(page).to_have_title("Can Acupuncture Help With Nerve Pain? - Cited Health")
    # The search left its terms for the article, which loads Sphinx's
    # highlighting on demand and marks the word it was found by.
    expect(page.locator("article span.highlighted").first).to_have_text("endorphins")


def test_search_highlighting_is_not_loaded_without_a_search(open_page):
    page = open_page(ARTICLE)
    page.wait_for_load_state("networkidle")
    assert page.locator("span.highlighted").count() == 0
    loaded = [url for url in open_page.visits[0].requests if "_static/" in url]
    assert any("citedhealth.js" in url for url in loaded)
    assert not any(name in url for url in loaded for name in ("doctools.js", "sphinx_highlight.js"))


@pytest.mark.parametrize("path", [LANDING, ARTICLE, A_TO_Z, TOPIC])
def test_nothing_scrolls_sideways_at_375_px(open_page, path):
    page = open_page(path, viewport=MOBILE)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[1] == MOBILE["width"]
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


# -- Console and requests --------------------------------------------------------


def test_console_is_clean_and_every_request_goes_to_the_site_itself(open_page, server):
    pages = [open_page(path, viewport=viewport) for path in (LANDING, ARTICLE) for viewport in (DESKTOP, MOBILE)]
    search = open_page("search.html?q=endorphins")
    expect(search.locator("#search-results a").first).to_be_visible()
    visits = open_page.visits
    assert len(visits) == len(pages) + 1
    requested = [url for visit in visits for url in visit.requests]
    # The pages did load their styles, scripts and icon, all from the site.
    for asset in ("_static/styles/furo.css", "_static/citedhealth.js", "_static/favicon.svg", "searchindex.js"):
        assert any(asset in url for url in requested), asset
    assert [url for visit in visits for url in visit.foreign_requests(server)] == []
    assert [e for visit in visits for e in visit.console_errors + visit.page_errors] == []


# -- Accessibility ---------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "mobile"])
@pytest.mark.parametrize("color_scheme", ["light", "dark"])
@pytest.mark.parametrize("path", [LANDING, ARTICLE, A_TO_Z, TOPIC], ids=["landing", "article", "a-z", "topic"])
def test_axe_finds_no_violations(open_page, path, color_scheme, viewport):
    page = open_page(path, viewport=viewport, color_scheme=color_scheme)
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (color_scheme == "dark")
    assert axe_violations(page) == []


def test_article_screenshots_in_light_and_dark(open_page, artifacts):
    backgrounds = {}
    for color_scheme in ("light", "dark"):
        page = open_page(ARTICLE, color_scheme=color_scheme)
        path = artifacts / f"article-{color_scheme}.png"
        page.screenshot(path=path, full_page=True)
        assert path.stat().st_size > 10_000
        backgrounds[color_scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert backgrounds["light"] != backgrounds["dark"]
    assert (artifacts / "article-light.png").read_bytes() != (artifacts / "article-dark.png").read_bytes()


# -- Citation previews ---------------------------------------------------------------


def entry_text(page: Page, link) -> str:
    """The text of the bibliography entry a citation link points to."""
    return page.locator(f"{css_id(link.get_attribute('href'))} > p").first.inner_text()


def test_citation_preview_appears_on_hover_and_goes_when_the_pointer_leaves(open_page):
    page = open_page(ARTICLE, color_scheme="dark")
    preview = page.locator(PREVIEW)
    expect(preview).to_be_hidden()
    link = page.locator(CITATION_LINKS).nth(1)
    link.hover()
    expect(preview).to_be_visible()
    expect(preview).to_have_attribute("role", "tooltip")
    assert entry_text(page, link) in preview.inner_text()
    assert preview.locator("em").count() >= 1  # the rich entry: the journal in italics
    assert link.get_attribute("aria-describedby") == "ch-citation-preview"
    # Readable in the dark theme too, and clear of the link it describes.
    assert axe_violations(page, PREVIEW) == []
    assert preview.bounding_box()["y"] >= link.bounding_box()["y"] + link.bounding_box()["height"]
    page.mouse.move(5, 5)
    expect(preview).to_be_hidden()
    assert link.get_attribute("aria-describedby") is None


def test_citation_preview_shows_the_entrys_kind_of_evidence(open_page):
    page = open_page(ARTICLE)
    preview = page.locator(PREVIEW)
    for index in (0, 2):
        link = page.locator(CITATION_LINKS).nth(index)
        link.hover()
        expect(preview).to_be_visible()
        label = page.locator(f"{css_id(link.get_attribute('href'))} .ch-evidence").first.inner_text()
        assert label.startswith("Evidence: ")
        assert preview.locator(".ch-evidence").inner_text() == label
        page.mouse.move(5, 5)
        expect(preview).to_be_hidden()


def test_citation_preview_appears_on_keyboard_focus_and_escape_closes_it(open_page):
    page = open_page(ARTICLE)
    preview = page.locator(PREVIEW)
    # Tab from the top of the page, as a keyboard user does, to the first citation.
    first = page.locator(CITATION_LINKS).first
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if first.evaluate("link => link === document.activeElement"):
            break
    expect(first).to_be_focused()
    expect(preview).to_be_visible()
    assert entry_text(page, first) in preview.inner_text()
    assert axe_violations(page, PREVIEW) == []
    page.keyboard.press("Escape")
    expect(preview).to_be_hidden()
    page.keyboard.press("Tab")
    second = page.locator(CITATION_LINKS).nth(1)
    expect(second).to_be_focused()
    expect(preview).to_be_visible()
    assert entry_text(page, second) in preview.inner_text()
    box = preview.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= DESKTOP["width"]


def test_download_pdf_returns_the_articles_pdf(open_page):
    page = open_page(ARTICLE)
    link = page.get_by_role("link", name="Download PDF")
    assert link.is_visible()
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "can-acupuncture-help-with-nerve-pain.pdf"
    response = page.request.get(urljoin(page.url, link.get_attribute("href")))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
    assert PdfReader(download.path()).metadata.title == page.locator("h1").inner_text().rstrip("¶").strip()


# -- Content-Security-Policy -------------------------------------------------------


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_policy_blocks_nothing_of_ours(open_page, color_scheme):
    """Landing, article, A–Z, a topic and a search, in both themes: no violation (open_page fails on any)."""
    for path in (LANDING, ARTICLE, A_TO_Z, TOPIC):
        page = open_page(path, color_scheme=color_scheme)
        page.wait_for_load_state("networkidle")
        page.locator(".theme-toggle").locator("visible=true").click()  # Furo's script runs under the policy
    page = open_page(LANDING, color_scheme=color_scheme)
    page.fill("input.sidebar-search", "endorphins")
    page.press("input.sidebar-search", "Enter")
    expect(page.locator("#search-results a").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    policy = page.locator('head > meta[http-equiv="Content-Security-Policy"]')
    assert policy.count() == 1
    assert [csp_violations(visit.page) for visit in open_page.visits] == [[]] * len(open_page.visits)


def injected(page_html: str, head: str = "", body: str = "") -> str:
    """A built page with *head* added right after its policy and *body* at the end of its body."""
    policy_end = page_html.index(">", page_html.index('http-equiv="Content-Security-Policy"')) + 1
    page_html = page_html[:policy_end] + head + page_html[policy_end:]
    return page_html.replace("</body>", body + "</body>")


def serve(body: str, kind: str):
    return lambda route: route.fulfill(body=body, content_type=kind)


def visit_injected(browser: Browser, server: str, html: str, routes: dict[str, tuple[str, str]] | None = None):
    """Open *html* as if served at the article's address; *routes* serves other paths (body, type)."""
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    context.route(server + ARTICLE, lambda route: route.fulfill(body=html, content_type="text/html"))
    for path, (body, kind) in (routes or {}).items():
        context.route(server + path, serve(body, kind))
    page.goto(server + ARTICLE, wait_until="load")
    page.wait_for_load_state("networkidle")
    return context, page


def test_the_policy_blocks_what_is_not_ours(browser, server, site):
    """The test above can fail: a page with injected code and another site's image gets them blocked."""
    html = (site.outdir / ARTICLE).read_text(encoding="utf-8")
    other_origin = "http://127.0.0.1:9/pixel.png"  # another port is another origin; nothing listens there
    evil = injected(
        html,
        body=f'<script>window.__ran = true</script><img src="{other_origin}" alt="">'
        '<p style="color: red" id="styled">x</p><a id="js" href="javascript:window.__clicked = true">x</a>',
    )
    context, page = visit_injected(browser, server, evil)
    try:
        page.click("#js")
        page.wait_for_timeout(200)
        violations = csp_violations(page)
        assert page.evaluate("window.__ran") is None
        assert page.evaluate("window.__clicked") is None
        assert any(v.startswith("script-src-elem inline") for v in violations), violations
        assert any(v.startswith(f"img-src {other_origin}") for v in violations), violations
        assert any(v.startswith("style-src-attr inline") for v in violations), violations
        assert page.evaluate("getComputedStyle(document.getElementById('styled')).color") != "rgb(255, 0, 0)"
    finally:
        context.close()


def test_read_the_docs_addons_are_same_origin_and_allowed(browser, server, site):
    """Read the Docs injects its addons script from the site's own origin (/_/static/...), which then
    calls its API there (/_/addons/): both are 'self', so the policy lets them be. Simulated here: the
    real script is not available offline."""
    html = (site.outdir / ARTICLE).read_text(encoding="utf-8")
    addons = (
        "fetch('/_/addons/?project-slug=x').then(r => r.json())"
        ".then(data => { window.__addons = data.ok; document.body.dataset.addons = 'loaded'; });"
    )
    page_html = injected(html, head='<script async src="/_/static/javascript/readthedocs-addons.js"></script>')
    routes = {
        "_/static/javascript/readthedocs-addons.js": (addons, "application/javascript"),
        "_/addons/?project-slug=x": ('{"ok": true}', "application/json"),
    }
    context, page = visit_injected(browser, server, page_html, routes)
    try:
        expect(page.locator("body[data-addons=loaded]")).to_have_count(1)
        assert page.evaluate("window.__addons") is True
        assert csp_violations(page) == []
    finally:
        context.close()
