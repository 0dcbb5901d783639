"""Save-to-served time of the live preview, beside stock sphinx-autobuild in the same run.

For each server (our ``citedhealth.preview`` and stock ``sphinx-autobuild``
with the same sphinx-build options), on its own copy of ``docs/``: start it
for real on a free port, then make N edits of each kind (an article's text,
a bibliography entry's title, ``conf.py``'s ``html_title``) and time each
from the file write until the page served over HTTP holds the new text.

Run ``make bench-preview`` (or ``python benchmarks/preview_latency.py N``);
``measure(n)`` returns the figures for a larger ``make bench``.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
SPHINXOPTS = ["-n", "-W", "--keep-going"]
ARTICLE_MD = "articles/can-acupuncture-help-with-nerve-pain.md"
ARTICLE_PAGE = "articles/can-acupuncture-help-with-nerve-pain.html"

#: kind: (file edited, text replaced, new text with {i}, page to poll); the page then
#: shows "edit{i}" (lower case: the bibliography style capitalises titles as sentences).
EDITS = {
    "article text": (ARTICLE_MD, "## Understanding Acupuncture", "## Understanding Acupuncture edit{i}", ARTICLE_PAGE),
    "bibliography entry": (
        "references.bib",
        "Acupuncture and endorphins",
        "Acupuncture and endorphins edit{i}",
        ARTICLE_PAGE,
    ),
    "conf.py": ("conf.py", 'html_title = "Cited Health"', 'html_title = "Cited Health edit{i}"', "index.html"),
}
SERVERS = ("preview", "sphinx-autobuild")
POLL = 0.002  # seconds between two requests for the page
TIMEOUT = 60  # seconds an edit may take before the run gives up
SETTLE = 0.5  # seconds after each served edit, so that no build overlaps the next edit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: Responses cut short (served while being written), per server.
TORN: dict[str, int] = {}
#: Edits a server had not shown after TIMEOUT seconds, per server.
NEVER_SHOWN: dict[str, int] = {}


def fetch(url: str, server: str = "") -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.read().decode("utf-8")
    except http.client.HTTPException:
        TORN[server] = TORN.get(server, 0) + 1
        return None
    except OSError:
        return None


def wait_until(condition, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(POLL)


def start(server: str, root: Path, port: int) -> subprocess.Popen:
    docs, served, doctrees = root / "docs", root / "_build" / "html", root / "_build" / "doctrees"
    options = [str(docs), str(served), "--port", str(port), *SPHINXOPTS, "-d", str(doctrees)]
    if server == "preview":
        command = [sys.executable, "-m", "citedhealth.preview", *options]
    else:
        command = [str(Path(sys.executable).with_name("sphinx-autobuild")), *options]
    env = {**os.environ, "PYTHONPATH": str(docs / "_ext")}
    log = (root / f"{server}.log").open("w")
    return subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)


def copy_docs(target: Path) -> None:
    shutil.copytree(DOCS, target, ignore=shutil.ignore_patterns("__pycache__"))


#: How long a server may take to build a site before serving it: a cold build of
#: 1000 articles in the preview's one process takes minutes.
START_TIMEOUT = 1200.0


def builds_done(url: str) -> int | None:
    """Our preview's build count (its status waits for a build under way, up to two seconds)."""
    text = fetch(url + "_preview/status")
    return json.loads(text)["builds"] if text else None


def time_edits(server: str, n: int, edits: dict = EDITS, populate=copy_docs) -> dict[str, list[float]]:
    """Seconds from write to served, per kind of edit, for one server on a fresh site (a copy of docs/).

    For our preview, ``"<kind> (whole build)"`` is the time until the whole
    build is published too (the saved page may be served before it)."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{server}-") as tmp:
        root = Path(tmp)
        populate(root / "docs")
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        process = start(server, root, port)
        try:
            wait_until(lambda: fetch(url + ARTICLE_PAGE) is not None, f"{server} to serve the article", START_TIMEOUT)
            time.sleep(2 * SETTLE)
            TORN[server] = 0
            times: dict[str, list[float]] = {}
            for kind, (relpath, old, new, page) in edits.items():
                path = root / "docs" / relpath
                original = path.read_text(encoding="utf-8")
                times[kind] = []
                whole = times[f"{kind} (whole build)"] = []
                for i in range(n):
                    marker = f"edit{i}"
                    text = original.replace(old, new.format(i=i), 1)
                    builds = builds_done(url) if server == "preview" else None
                    start_time = time.perf_counter()
                    path.write_text(text, encoding="utf-8")
                    try:
                        wait_until(lambda: marker in (fetch(url + page, server) or ""), f"{server}: {kind} edit {i}")  # noqa: B023
                    except TimeoutError:
                        # Never shown (stock sphinx-autobuild does not follow every kind of edit):
                        # counted as the timeout, and said so in the report.
                        NEVER_SHOWN[server] = NEVER_SHOWN.get(server, 0) + 1
                        times[kind].append(float(TIMEOUT))
                        builds = None
                        continue
                    times[kind].append(time.perf_counter() - start_time)
                    if builds is not None:
                        wait_until(lambda: (builds_done(url) or 0) > builds, f"{server}: {kind} edit {i} built")  # noqa: B023
                        whole.append(time.perf_counter() - start_time)
                    time.sleep(SETTLE)
                path.write_text(original, encoding="utf-8")
                time.sleep(3 * SETTLE)
            return times
        finally:
            process.terminate()
            try:
                process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def summary(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "n": 0}
    return {"median": statistics.median(seconds), "min": min(seconds), "max": max(seconds), "n": len(seconds)}


def measure(n: int = 10) -> dict:
    """``{kind: {server: {median, min, max, n}, "ratio": stock / preview median}, "torn": {server: count}}``.

    ``torn`` counts the responses that arrived cut short, while the server
    was writing the page, over all of a server's polls.
    """
    raw = {server: time_edits(server, n) for server in SERVERS}
    result: dict = {
        "torn": {server: TORN.get(server, 0) for server in SERVERS},
        "never_shown": {server: NEVER_SHOWN.get(server, 0) for server in SERVERS},
    }
    for kind in EDITS:
        row = {server: summary(raw[server][kind]) for server in SERVERS}
        row["ratio"] = row["sphinx-autobuild"]["median"] / row["preview"]["median"]
        row["preview whole build"] = summary(raw["preview"][f"{kind} (whole build)"])
        result[kind] = row
    return result


def measure_scaling(sizes: tuple[int, ...] = (1, 200), n: int = 10) -> dict:
    """Our preview's article-edit latency on generated sites of each size: ``{size: {median, min, max, n}}``.

    The site stays warm in the preview's worker, so this is what an author
    waits for at each size (``make html`` reloads the environment each time)."""
    from generate_corpus import generate

    article = {"article text": EDITS["article text"]}
    result = {}
    for size in sizes:
        times = time_edits("preview", n, article, populate=lambda target, size=size: generate(size, target))
        result[size] = summary(times["article text"])
        result[size]["whole build"] = summary(times["article text (whole build)"])
    return result


def report(result: dict) -> str:
    lines = [
        "Save-to-served time in seconds (median, min-max), live preview vs stock sphinx-autobuild",
        f"{'edit':<20} {'preview':>24} {'sphinx-autobuild':>24} {'speed-up':>9}",
    ]
    for kind in EDITS:
        row = result[kind]
        cells = [f"{row[s]['median']:.3f} ({row[s]['min']:.3f}-{row[s]['max']:.3f})" for s in SERVERS]
        lines.append(f"{kind:<20} {cells[0]:>24} {cells[1]:>24} {row['ratio']:>8.1f}x")
    lines.append("our preview, until the whole build is published (the saved page may be served before):")
    for kind in EDITS:
        whole = result[kind]["preview whole build"]
        lines.append(f"{kind:<20} {whole['median']:.3f} ({whole['min']:.3f}-{whole['max']:.3f})")
    n = result[next(iter(EDITS))]["preview"]["n"]
    lines.append("responses cut short while polling: " + ", ".join(f"{s} {c}" for s, c in result["torn"].items()))
    never = result.get("never_shown", {})
    lines.append(
        f"edits not shown within {TIMEOUT} s (counted as {TIMEOUT} s): "
        + ", ".join(f"{s} {never.get(s, 0)}" for s in SERVERS)
    )
    lines.append(f"{n} edits of each kind per server; targets: article median <= 0.20 s, conf.py <= 1 s")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 10)))
