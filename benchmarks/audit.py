"""Lighthouse on the built site: accessibility, best practices, SEO and performance (mobile).

Serves the built HTML on 127.0.0.1 (a free port), runs npm's Lighthouse (the
version pinned in package-lock.json, installed by ``npm ci``) with Debian's
chromium against the landing page and every article, prints the four scores
of each page and saves the JSON reports beside the HTML (``<build>/lighthouse``).
The server compresses text as static hosts do.
Exits 1 if a page misses a goal: accessibility, best practices and SEO 1.00,
performance at least 0.98; the audits that cost points are listed.

Usage (``make audit`` builds the site and installs Lighthouse first)::

    python benchmarks/audit.py _build/html [--runs 3]

Lighthouse's performance score is simulated (a throttled mid-range phone) and
varies from run to run with the machine's load: ``--runs`` keeps the median.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import io
import json
import os
import statistics
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIGHTHOUSE = REPO / "node_modules" / ".bin" / "lighthouse"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --no-first-run"
CATEGORIES = ("accessibility", "best-practices", "seo", "performance")
COMPRESSIBLE = {"application/javascript", "application/json", "image/svg+xml", "text/javascript"}
GOALS = {"accessibility": 1.0, "best-practices": 1.0, "seo": 1.0, "performance": 0.98}


class StaticHostHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files as a static host does: text gzipped for clients that accept it.

    Read the Docs and every common static host compress text; without it,
    Lighthouse would measure a slower transfer than readers get.
    """

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        kind = self.guess_type(str(path))
        compressible = kind.startswith("text/") or kind in COMPRESSIBLE
        if not (path.is_file() and compressible and "gzip" in self.headers.get("Accept-Encoding", "")):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(StaticHostHandler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def lighthouse(url: str, report: Path) -> dict:
    """One Lighthouse run (mobile, its default); the parsed JSON report."""
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags={CHROME_FLAGS}",
        ],
        check=True,
        env={**os.environ, "CHROME_PATH": CHROME},
    )
    return json.loads(report.read_text(encoding="utf-8"))


def lost_points(result: dict, category: str) -> list[str]:
    """The weighted audits of a category that did not score full marks."""
    refs = result["categories"][category]["auditRefs"]
    lost = []
    for ref in refs:
        audit = result["audits"][ref["id"]]
        if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
            lost.append(f"{ref['id']} ({audit['score']:.2f}): {audit.get('displayValue') or audit['title']}")
    return lost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built HTML folder, e.g. _build/html")
    parser.add_argument("--runs", type=int, default=1, help="runs per page; the median score is kept")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE} is missing: run `npm ci` (make audit does)")
    articles = sorted(str(p.relative_to(args.site)) for p in (args.site / "articles").glob("*.html"))
    pages = ["index.html", *articles]
    reports = args.site.parent / "lighthouse"
    reports.mkdir(exist_ok=True)

    server, base = serve(args.site)
    failures = []
    try:
        print(f"Lighthouse (mobile) on {base}, {args.runs} run(s) per page, median")
        print(f"{'page':58} " + " ".join(f"{c:>14}" for c in CATEGORIES))
        for page in pages:
            scores: dict[str, list[float]] = {c: [] for c in CATEGORIES}
            for run in range(args.runs):
                report = reports / f"{page.replace('/', '_').removesuffix('.html')}-{run + 1}.json"
                result = lighthouse(base + page, report)
                for category in CATEGORIES:
                    scores[category].append(result["categories"][category]["score"])
            median = {c: statistics.median(s) for c, s in scores.items()}
            print(f"{page:58} " + " ".join(f"{median[c]:>14.2f}" for c in CATEGORIES))
            for category, goal in GOALS.items():
                if median[category] < goal:
                    failures.append(f"{page}: {category} {median[category]:.2f} < {goal:.2f}")
                    failures += [f"    {line}" for line in lost_points(result, category)]
    finally:
        server.shutdown()
        server.server_close()
    print(f"Reports: {reports}")
    if failures:
        print("Below the goals:", *failures, sep="\n", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
