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
        assert json.loads(socket.receive_text()) == status


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
    assert run(publisher.publish()) == 3  # two copied, one removed
    assert {p.relative_to(served).as_posix() for p in served.rglob("*") if p.is_file()} == {
        "index.html",
        "articles/a.html",
    }
    write(staging / "index.html", "two")
    write(staging / "new.html", "new")
    # articles/a.html is unchanged: not copied again.
    assert run(publisher.publish()) == 2
    assert (served / "index.html").read_text(encoding="utf-8") == "two"
    assert (served / "new.html").is_file()
    (staging / "new.html").unlink()
    assert run(publisher.publish()) == 1
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
