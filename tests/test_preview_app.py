"""The live preview's web app and publication, in-process (Starlette's TestClient), as sphinx-autobuild tests its app.

No Sphinx process and no socket: the app is made as ``make livehtml`` makes it
(:func:`citedhealth.preview.server.create_app`), without its lifespan (no
build, no watcher); the served folder is written by the test. The whole
preview, with builds, is ``tests/test_preview.py``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from citedhealth.preview import publish, server
from citedhealth.preview.publish import Publisher
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

PAGE = '<!doctype html><html lang="en"><head><title>Page</title></head><body><p>{}</p></body></html>\n'


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """A source folder with a conf.py, and the folder the preview serves."""
    source = tmp_path / "docs"
    source.mkdir()
    (source / "conf.py").write_text("", encoding="utf-8")
    return source, tmp_path / "_build" / "preview" / "html"


def make_client(project) -> tuple[TestClient, Path]:
    source, served = project
    app, _ = server.create_app([str(source), str(served), "--port", "8123", "-d", str(served.parent / "doctrees")])
    return TestClient(app), served


def test_a_served_page_loads_the_preview_client_with_its_generation(project):
    client, served = make_client(project)
    (served / "index.html").write_text(PAGE.format("hello"), encoding="utf-8")
    response = client.get("/index.html")
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    assert page.p.get_text() == "hello"
    scripts = [s["src"] for s in page.find_all("script")]
    assert len(scripts) == 1 and scripts[0].startswith("/_preview/client.js?generation=")
    # No inline script: each page's Content-Security-Policy allows none it does not know.
    assert not [s for s in page.find_all("script") if s.string]
    assert int(response.headers["content-length"]) == len(response.content)


def test_the_client_script_knows_the_generation_and_is_never_cached(project):
    client, _ = make_client(project)
    response = client.get("/_preview/client.js", params={"generation": "42"})
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-store"
    assert "const pageGeneration = 42;" in response.text and "__GENERATION__" not in response.text
    # Anything but digits is not echoed into the script.
    hostile = client.get("/_preview/client.js", params={"generation": "1;alert(1)"}).text
    assert "const pageGeneration = 0;" in hostile and "alert(1)" not in hostile


def test_status_and_the_reload_socket_report_builds_and_errors(project):
    client, _ = make_client(project)
    status = client.get("/_preview/status").json()
    assert status["builds"] == 0 and status["errors"] == []
    with client.websocket_connect("/websocket-reload") as socket:
        assert json.loads(socket.receive_text()) == {**status, "reload": False}
        # The page says which it is and as of which generation; an older one than the site's reloads.
        socket.send_text(json.dumps({"page": "/articles/", "generation": status["generation"]}))
        assert json.loads(socket.receive_text()) == {**status, "reload": False}
        socket.send_text(json.dumps({"page": "/articles/", "generation": 0}))
        assert json.loads(socket.receive_text())["reload"] is False  # nothing published since (no build yet)


def test_a_missing_page_is_an_html_404_that_says_whether_a_build_succeeded(project):
    client, _ = make_client(project)
    response = client.get("/articles/nothing.html")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = BeautifulSoup(response.text, "html.parser")
    assert page.h1.get_text() == "No good build to show yet"
    assert page.p.get_text() == "/articles/nothing.html"
    # The page gets the client too, so the overlay shows the build's errors over it.
    assert page.find("script", src=lambda src: src and src.startswith("/_preview/client.js"))


# -- Publication ---------------------------------------------------------------------------


def run(coroutine):
    """``asyncio.run`` in a thread of its own: the session's Playwright keeps an event loop running in this one."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_publication_mirrors_the_build_and_copies_only_what_changed(tmp_path):
    staging, served = tmp_path / "staging", tmp_path / "served"
    write(staging / "index.html", "one")
    write(staging / "articles" / "a.html", "a")
    write(staging / ".doctrees" / "env.pickle", "not published")
    write(served / "stale.html", "from an earlier run")
    publisher = Publisher(staging, served, skip=[staging / ".doctrees"])
    assert sorted(run(publisher.publish())) == [
        "articles/a.html",
        "index.html",
        "stale.html",
    ]  # two copied, one removed
    assert {p.relative_to(served).as_posix() for p in served.rglob("*") if p.is_file()} == {
        "index.html",
        "articles/a.html",
    }
    write(staging / "index.html", "two")
    write(staging / "new.html", "new")
    # articles/a.html is unchanged: not copied again.
    assert sorted(run(publisher.publish())) == ["index.html", "new.html"]
    assert (served / "index.html").read_text(encoding="utf-8") == "two"
    assert (served / "new.html").is_file()
    (staging / "new.html").unlink()
    assert run(publisher.publish()) == ["new.html"]
    assert not (served / "new.html").exists()
    assert not list(served.rglob("*preview-partial"))


def test_a_publication_waits_for_the_responses_being_answered(tmp_path):
    staging, served = tmp_path / "staging", tmp_path / "served"
    write(staging / "index.html", "new")
    served.mkdir()

    async def scenario() -> list[str]:
        publisher = Publisher(staging, served)
        events = []
        async with publisher:  # a response being answered
            task = asyncio.create_task(publisher.publish())
            await asyncio.sleep(0.05)
            events.append("published" if task.done() else "waiting")
            assert not (served / "index.html").exists()
            # Meanwhile new requests wait for the publication.
            assert not publisher.open.is_set()
        await task
        events.append("published")
        assert publisher.open.is_set()
        return events

    assert run(scenario()) == ["waiting", "published"]
    assert (served / "index.html").read_text(encoding="utf-8") == "new"


def gated_app(publisher: Publisher) -> Starlette:
    async def page(request):
        return PlainTextResponse("page")

    return Starlette(routes=[Route("/", page)], middleware=[Middleware(publish.PublishGate, publisher=publisher)])


def test_a_request_during_a_build_waits_for_it_up_to_the_hold(tmp_path, monkeypatch):
    monkeypatch.setattr(publish, "HOLD_SECONDS", 0.3)
    publisher = Publisher(tmp_path, tmp_path)
    client = TestClient(gated_app(publisher))
    start = time.monotonic()
    assert client.get("/").text == "page"
    assert time.monotonic() - start < 0.3  # no build: answered at once
    publisher.settled.clear()  # a build under way that never ends
    start = time.monotonic()
    assert client.get("/").text == "page"  # the last good build, after the hold
    assert time.monotonic() - start >= 0.3


# -- The early page ------------------------------------------------------------------------


def published_site(tmp_path: Path) -> tuple[Publisher, Path, Path, Path]:
    staging, served, early = tmp_path / "staging", tmp_path / "served", tmp_path / "early"
    write(staging / "index.html", "index")
    write(staging / "articles" / "a.html", "a as built before")
    write(staging / "_static" / "site.css", "css")
    publisher = Publisher(staging, served)
    run(publisher.publish())
    write(early / "articles" / "a.html", "a as saved")
    return publisher, staging, served, early


def test_an_early_page_is_served_during_its_build_and_the_build_publication_stands(tmp_path):
    publisher, staging, served, early = published_site(tmp_path)

    async def scenario() -> list[str]:
        publisher.settled.clear()  # the build under way
        waiting = asyncio.create_task(publisher.wait_for_build("/articles/a.html"))
        other = asyncio.create_task(publisher.wait_for_build("/index.html"))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # before the early page: every request waits for the build
        await publisher.publish_early(early, "articles/a.html")
        await asyncio.sleep(0.05)
        assert waiting.done() and not other.done()  # the early page's request goes; the others wait
        assert (served / "articles" / "a.html").read_text(encoding="utf-8") == "a as saved"
        assert publisher.answers_at_once("/articles/a.html")
        assert publisher.answers_at_once("/_static/site.css")
        assert not publisher.answers_at_once("/index.html")
        assert not publisher.answers_at_once("/pdf/a.pdf")
        # The build wrote the page as it was published early, and changed another.
        write(staging / "articles" / "a.html", "a as saved")
        write(staging / "index.html", "index, new")
        changed = await publisher.publish()
        publisher.settled.set()
        await other
        return changed

    assert run(scenario()) == ["index.html"]  # the early page is not copied, nor reloaded, again
    assert publisher.early_differed == []
    assert not publisher.answers_at_once("/articles/a.html")  # no build under way: nothing early
    assert not list(served.rglob(".*"))  # no copy of the page it replaced is left


def test_the_rest_of_the_build_waits_until_the_requests_held_for_its_early_page_are_answered(tmp_path):
    publisher, _, _, early = published_site(tmp_path)
    answered: list[str] = []

    async def request(path: str, answering: float) -> None:
        # What PublishGate does with a request: wait for the build, then answer it (taking *answering* s).
        await publisher.wait_for_build(path)
        async with publisher:
            await asyncio.sleep(answering)
        answered.append(path)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        publisher.settled.clear()  # the build under way
        page = asyncio.create_task(request("/articles/a.html", 0.1))
        other = asyncio.create_task(request("/index.html", 0))
        await asyncio.sleep(0.02)
        assert set(publisher.held) == {"/articles/a.html", "/index.html"}
        await publisher.publish_early(early, "articles/a.html")
        start = loop.time()
        assert await publisher.early_answered(1.0)
        # It waited for the page's answer, not for the request that waits for the whole build.
        assert loop.time() - start >= 0.09
        assert page.done() and answered == ["/articles/a.html"]
        assert not other.done() and set(publisher.held) == {"/index.html"}
        start = loop.time()
        assert await publisher.early_answered(1.0)  # nothing held for it: at once
        assert loop.time() - start < 0.05
        slow = asyncio.create_task(request("/articles/a.html", 0.5))
        await asyncio.sleep(0.01)
        assert not await publisher.early_answered(0.05)  # an answer slower than the wait: the build goes on
        await slow
        publisher.settled.set()
        await other
        assert publisher.held == {}

    run(scenario())


def test_an_early_page_the_build_wrote_otherwise_is_replaced_and_named(tmp_path):
    publisher, staging, served, early = published_site(tmp_path)
    run(publisher.publish_early(early, "articles/a.html"))
    write(staging / "articles" / "a.html", "a as the build wrote it")
    assert run(publisher.publish()) == ["articles/a.html"]
    assert publisher.early_differed == ["articles/a.html"]
    assert (served / "articles" / "a.html").read_text(encoding="utf-8") == "a as the build wrote it"


def test_a_failed_build_withdraws_its_early_pages(tmp_path):
    publisher, _, served, early = published_site(tmp_path)
    write(early / "articles" / "new.html", "a page the last good build did not have")
    run(publisher.publish_early(early, "articles/a.html"))
    run(publisher.publish_early(early, "articles/new.html"))
    assert sorted(run(publisher.withdraw_early())) == ["articles/a.html", "articles/new.html"]
    assert (served / "articles" / "a.html").read_text(encoding="utf-8") == "a as built before"
    assert not (served / "articles" / "new.html").exists()
    assert not list(served.rglob(".*"))
    assert run(publisher.withdraw_early()) == []


def preview_server(tmp_path: Path, publisher: Publisher) -> server.PreviewServer:
    return server.PreviewServer([str(tmp_path)], None, options={"url": ""}, publisher=publisher, debounce_ms=15)


def test_a_save_reloads_the_pages_it_changed_and_no_other(tmp_path):
    preview = preview_server(tmp_path, Publisher(tmp_path, tmp_path))
    before = preview.generation
    preview._note_changes(["articles/a.html", "searchindex.js", "pdf/a.pdf"])
    assert preview.reloads("articles/a.html", before)
    assert preview.reloads("search.html", before)  # it loads the search index
    assert not preview.reloads("articles/b.html", before)
    assert not preview.reloads("articles/a.html", preview.generation)  # loaded since
    middle = preview.generation
    preview._note_changes([])
    assert preview.generation == middle  # nothing changed: no new generation
    preview._note_changes(["_static/site.css"])  # what every page loads
    assert preview.reloads("articles/b.html", middle) and preview.reloads("index.html", middle)


def test_a_build_that_fails_after_its_early_page_serves_the_last_good_page_again(tmp_path):
    publisher, _, served, early = published_site(tmp_path)
    preview = preview_server(tmp_path, publisher)
    preview.builds = 1
    seen_during_build = []

    class FailingLater:
        alive = True

        async def build(self, fresh, changed, on_early):
            assert not fresh
            await on_early({"early": "articles/a.html", "dir": str(early)})
            seen_during_build.append((served / "articles" / "a.html").read_text(encoding="utf-8"))
            return {"ok": False, "errors": [{"file": "index.md", "line": 3, "message": "broken"}]}

    preview.worker = FailingLater()
    before = preview.generation
    run(preview.build({tmp_path / "docs" / "articles" / "a.md"}))
    assert seen_during_build == ["a as saved"]
    assert (served / "articles" / "a.html").read_text(encoding="utf-8") == "a as built before"
    assert not early.exists()  # the early page's folder is removed once served
    assert preview.reloads("articles/a.html", before) and not preview.reloads("index.html", before)
    assert [e["message"] for e in preview.status()["errors"]] == ["broken"]


def test_a_page_written_again_as_it_was_is_not_published_again(tmp_path):
    publisher, staging, served, _ = published_site(tmp_path)
    page = staging / "index.html"
    page.write_text(page.read_text(encoding="utf-8"), encoding="utf-8")  # new time, same bytes
    os.utime(page, ns=(page.stat().st_atime_ns, page.stat().st_mtime_ns + 10**9))
    assert run(publisher.publish()) == []
    write(staging / "index.html", "xedni")  # same size, other bytes
    assert run(publisher.publish()) == ["index.html"]
    assert (served / "index.html").read_text(encoding="utf-8") == "xedni"


def test_an_early_page_the_build_wrote_otherwise_is_named_unless_saved_again(tmp_path, capsys):
    from citedhealth.preview.worker import static_stamp

    publisher, staging, served, early = published_site(tmp_path)
    source = tmp_path / "docs" / "articles" / "a.md"
    write(source, "as the early page read it")
    preview = preview_server(tmp_path, publisher)
    preview.builds = 1

    class Worker:
        alive = True
        save_again = False

        async def build(self, fresh, changed, on_early):
            write(early / "articles" / "a.html", "a as saved")
            stamp = list(static_stamp(source))
            await on_early({"early": "articles/a.html", "dir": str(early), "source": str(source), "stamp": stamp})
            if self.save_again:
                write(source, "saved again while the build ran")
                os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
            write(staging / "articles" / "a.html", "a as the build wrote it")
            return {"ok": True, "errors": []}

    preview.worker = Worker()
    run(preview.build({source}))
    assert "wrote articles/a.html otherwise than its early page" in capsys.readouterr().out
    preview.worker.save_again = True
    run(preview.build({source}))
    assert "otherwise than its early page" not in capsys.readouterr().out  # a newer save explains it
    assert (served / "articles" / "a.html").read_text(encoding="utf-8") == "a as the build wrote it"


def test_after_a_build_that_read_many_documents_a_new_process_takes_over(tmp_path, monkeypatch):
    publisher, _, _, _ = published_site(tmp_path)
    preview = preview_server(tmp_path, publisher)
    started, builds = [], []

    class Worker:
        def __init__(self, context, options):
            started.append(self)
            self.alive = True

        async def build(self, fresh, changed, on_early):
            builds.append((started.index(self), fresh, sorted(changed)))
            reads = {0: server.COMPACT_AFTER_READING, 1: 0, 2: 3}
            return {"ok": True, "errors": [], "read": reads[len(builds) - 1]}

        async def stop(self):
            self.alive = False

    monkeypatch.setattr(server, "Worker", Worker)
    monkeypatch.setattr(preview, "_context", lambda: None)

    async def scenario():
        await preview.build(set())  # the first build reads the whole site
        assert preview.wake.is_set()  # and asks for one more
        preview.wake.clear()
        await preview.build(set())  # a new process, from the saved environment (not fresh)
        assert not preview.wake.is_set()
        await preview.build({tmp_path / "docs" / "articles" / "a.md"})  # then warm as ever

    run(scenario())
    assert builds == [(0, False, []), (1, False, []), (1, False, [tmp_path / "docs" / "articles" / "a.md"])]
    assert not started[0].alive and started[1].alive
