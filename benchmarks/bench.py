"""How fast the site builds as it grows, and how heavy an article page is: ``make bench``.

Prints one table and writes it as JSON to ``_build/bench/<UTC timestamp>.json``
and ``_build/bench/latest.json``, so runs can be compared across commits.

Rows (each timing is the median of ``--runs`` runs, at least 5 by default,
with min and max; wall-clock seconds, and the CPU seconds the build's
processes used, which other work on the machine disturbs less):

- cold HTML build (``make html``: ``sphinx-build -M html`` with the
  Makefile's options) of a corpus of N generated articles, N = 1, 50, 200
  and 1000 (spread across the site's topics; at 1000, at most 3 cold runs),
  with the peak memory of the build's processes (PSS, so forked ``-j``
  workers' shared pages count once), measured at the largest N in a run of
  its own that is not timed (sampling a process's memory every 50 ms slows
  it: ``make pdf`` at 200 articles took 18 s sampled, 15 s not);
- rebuild with no change; rebuild after editing one article (the same
  article, the real one, at every N; the sizes take turns, run by run) and
  the ratios of that edit at 200 and 1000 to 1;
- PDF (``make pdf``: our ``typst`` builder, ``sphinx-build -b typst -d
  <build>/doctrees``), cold at N = 1, 20 and 200, and after editing one
  article at N = 1 and 20, beside ``make html`` after the same edit (in a
  build folder of its own, so each build reads the edit itself), with which
  PDFs the edit remade (by the files' modification times); the LaTeX figures
  this replaced are printed as a reference line;
- live-preview edit latency, from ``benchmarks/preview_latency.py`` if that
  module is there (it comes from the live-preview work), and the preview's
  article-edit latency at the smallest and largest N;
- a no-change rebuild of the one-article site with and without a generated
  bibliography of ``--bib-entries`` works (17,000 by default; 0 skips it),
  and what the bibliography adds. The works are cited, all of them, from a
  generated reading-list page (``generate_corpus.add_library``), so every
  rule holds and nothing is suppressed; the two sites take turns, run by
  run. Each is built cold once first (formatting 17,000 entries takes
  minutes), not timed;
- the article page's weight: raw and gzip bytes of the page and everything it
  loads (stylesheets, scripts, fonts, images, read from the HTML and the CSS),
  and the number of files, at N = 1 and at the largest N.

Goals (issue 11): a 17,000-entry bibliography adds at most 1 s to a
no-change rebuild. Goals (issue 7): 200 articles cold in at most 30 s; one-article edit at 200
at most 1.2x the same edit at 1; after one edit, only that article's PDF is
remade; article page at most 30 KiB gzipped. Issue 12: ``make pdf`` after a
one-article edit at most 1.3x ``make html`` after the same edit; 200 articles
cold ``make pdf`` in at most 15 s. Issue 13: 1000 articles cold in at most
45 s; a one-article edit at 1000 at most 1.5x the same edit at 1; the live
preview's article edit at 1000 at most 0.15 s (median); the article page at
1000 at most 30 KiB gzipped; peak memory at 1000 at most 1 GiB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import importlib.util
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

from generate_corpus import SEED_ARTICLE, add_library, generate

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SPHINXOPTS = "-n -W --keep-going -j auto"
SLUG = SEED_ARTICLE.stem
GOALS = {
    "bibliography_added_seconds": 1.0,
    "cold_200_seconds": 30.0,
    "edit_ratio_200_to_1": 1.2,
    "page_gzip_bytes": 30 * 1024,
    "pdf_edit_to_html_edit": 1.3,
    "pdf_cold_200_seconds": 15.0,
    # Issue 13: a library of 1000 articles.
    "cold_1000_seconds": 45.0,
    "edit_ratio_1000_to_1": 1.5,
    "preview_edit_1000_seconds": 0.15,
    "peak_memory_1000_mib": 1024.0,
}

#: ``make pdf`` through LaTeX (xelatex + latexmk), before Typst replaced it,
#: measured on these machines (issue 12); printed for comparison.
LATEX_REFERENCE = (
    "LaTeX reference (xelatex + latexmk, before Typst): make pdf after a one-article edit 1.25 s "
    "against 0.49 s for make html; 20 articles cold 14.9 s"
)


# -- Running and timing -----------------------------------------------------------


def extension_env() -> dict[str, str]:
    """As the Makefile's PDF step: our extension importable as ``citedhealth``."""
    ext = str(REPO / "docs" / "_ext")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (ext, os.environ.get("PYTHONPATH")) if p)}


def process_tree_pss_kib(root: int) -> int:
    """The proportional set size (KiB) of process *root* and its descendants, from /proc.

    PSS shares each page among the processes that map it, so forked ``-j``
    workers (copy-on-write children of the build) are not counted twice."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


class PeakMemory:
    """Samples a running command's process tree every 50 ms; ``peak`` in MiB (0 where /proc is missing)."""

    def __init__(self, pid: int) -> None:
        import threading

        self.pid, self.peak_kib = pid, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        if os.path.exists("/proc/self/smaps_rollup"):
            self.thread.start()

    def sample(self) -> None:
        while not self.done.wait(0.05):
            self.peak_kib = max(self.peak_kib, process_tree_pss_kib(self.pid))

    def stop(self) -> float:
        self.done.set()
        if self.thread.is_alive():
            self.thread.join()
        return self.peak_kib / 1024


def run(command: list[str], cwd: Path | None = None, memory: bool = False) -> tuple[float, float, str, float | None]:
    """Run *command*; return (wall seconds, CPU seconds of its processes, stdout, peak memory in MiB). Fail loudly.

    The memory is sampled only with *memory* (else None): reading a process's
    ``smaps_rollup`` takes its memory map's lock, so sampling slows what it
    measures, and a timed run is never sampled."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=extension_env()
    )
    sampler = PeakMemory(process.pid) if memory else None
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - start
    peak = sampler.stop() if sampler is not None else None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {shlex.join(command)}\n{stdout[-3000:]}{stderr}")
    return wall, cpu, stdout, peak


def sphinx(
    builder: str, srcdir: Path, builddir: Path, options: list[str], memory: bool = False
) -> tuple[float, float, float | None]:
    command = [sys.executable, "-m", "sphinx", "-M", builder, str(srcdir), str(builddir), *options]
    wall, cpu, _, peak = run(command, memory=memory)
    return wall, cpu, peak


def summary(samples: list[tuple[float, ...]]) -> dict:
    """Median, min and max wall time, median CPU, and the largest peak memory (MiB) of the samples."""
    walls = [sample[0] for sample in samples]
    cpus = [sample[1] for sample in samples]
    peaks = [sample[2] for sample in samples if len(sample) > 2 and sample[2] is not None]
    return {
        "median": statistics.median(walls),
        "min": min(walls),
        "max": max(walls),
        "cpu_median": statistics.median(cpus),
        "peak_mib": max(peaks) if peaks else None,
        "runs": len(samples),
        "samples": [round(w, 4) for w in walls],
    }


class Editor:
    """Edits the real article of a corpus, a different sentence each time, so every edit is a change."""

    def __init__(self, srcdir: Path):
        self.path = srcdir / "articles" / f"{SLUG}.md"
        self.original = self.path.read_text(encoding="utf-8")
        self.count = 0

    def edit(self) -> None:
        self.count += 1
        marker = "## Conclusion\n\n"
        text = self.original.replace(marker, f"{marker}Benchmark edit number {self.count}. ", 1)
        if text == self.original:
            raise SystemExit(f"cannot edit {self.path}: no Conclusion section")
        self.path.write_text(text, encoding="utf-8")


# -- HTML --------------------------------------------------------------------------


#: From this many articles, a cold build is timed at most COLD_RUNS_LARGE times (each takes minutes).
LARGE = 1000
COLD_RUNS_LARGE = 3


def cold_runs(n: int, runs: int) -> int:
    return min(runs, COLD_RUNS_LARGE) if n >= LARGE else runs


def bench_html(sizes: list[int], workdir: Path, runs: int, options: list[str], seed: int) -> list[dict]:
    """Cold and unchanged rebuilds size by size; then the edits, taking turns across sizes.

    The edit timings are compared across sizes (the N=200 / N=1 ratio), so
    they are measured interleaved: run k edits and rebuilds every size before
    run k+1, and a change in the machine's load during the benchmark falls
    on all sizes alike instead of on whichever size was being timed."""
    corpora = []
    for n in sizes:
        srcdir, builddir = workdir / f"html-{n}" / "docs", workdir / f"html-{n}" / "_build"
        generate(n, srcdir, seed)
        cold = []
        for _ in range(cold_runs(n, runs)):
            shutil.rmtree(builddir, ignore_errors=True)
            cold.append(sphinx("html", srcdir, builddir, options))
            progress(f"html N={n} cold", cold[-1])
        unchanged = []
        for _ in range(runs):
            unchanged.append(sphinx("html", srcdir, builddir, options))
            progress(f"html N={n} no change", unchanged[-1])
        corpora.append((n, srcdir, builddir, Editor(srcdir), cold, unchanged, []))
    for _ in range(runs):
        for n, srcdir, builddir, editor, _cold, _unchanged, edited in corpora:
            editor.edit()
            edited.append(sphinx("html", srcdir, builddir, options))
            progress(f"html N={n} one edit", edited[-1])
    rows = [
        {
            "articles": n,
            "cold": summary(cold),
            "no_change": summary(unchanged),
            "one_edit": summary(edited),
            "html": builddir / "html",
        }
        for n, _srcdir, builddir, _editor, cold, unchanged, edited in corpora
    ]
    # The peak memory of the largest site, each kind of build once more, sampled and not timed.
    if corpora:
        n, srcdir, builddir, editor, *_ = corpora[-1]
        editor.edit()
        rows[-1]["one_edit"]["peak_mib"] = sphinx("html", srcdir, builddir, options, memory=True)[2]
        rows[-1]["no_change"]["peak_mib"] = sphinx("html", srcdir, builddir, options, memory=True)[2]
        shutil.rmtree(builddir, ignore_errors=True)
        rows[-1]["cold"]["peak_mib"] = sphinx("html", srcdir, builddir, options, memory=True)[2]
        peaks = ", ".join(f"{kind} {rows[-1][kind]['peak_mib'] or 0:.0f}" for kind in ("cold", "no_change", "one_edit"))
        print(f"  html N={n} peak memory in MiB, runs not timed: {peaks}", file=sys.stderr, flush=True)
    return rows


# -- A large bibliography ----------------------------------------------------------


def bench_bibliography(entries: int, workdir: Path, runs: int, options: list[str], seed: int) -> dict:
    """No-change rebuilds of the one-article site, without and with *entries* generated, cited works."""
    sites = {}
    for name, size in (("without", 0), ("with", entries)):
        srcdir, builddir = workdir / f"bib-{name}" / "docs", workdir / f"bib-{name}" / "_build"
        generate(1, srcdir, seed)
        if size:
            add_library(srcdir, size, seed)
        progress(f"bibliography {name} {entries} entries: cold (not timed)", sphinx("html", srcdir, builddir, options))
        sites[name] = (srcdir, builddir, [])
    for _ in range(runs):
        for name, (srcdir, builddir, samples) in sites.items():
            samples.append(sphinx("html", srcdir, builddir, options))
            progress(f"html N=1 no change, {name} {entries} bibliography entries", samples[-1])
    without, with_ = (summary(sites[name][2]) for name in ("without", "with"))
    return {"entries": entries, "without": without, "with": with_, "added": with_["median"] - without["median"]}


# -- PDF ---------------------------------------------------------------------------


def make_pdf(
    srcdir: Path, builddir: Path, options: list[str], memory: bool = False
) -> tuple[float, float, float | None]:
    """``make pdf``: our ``typst`` builder into ``builddir/pdf``, on ``builddir/doctrees``."""
    wall, cpu, _, peak = run(
        [sys.executable, "-m", "sphinx", "-b", "typst", "-d", str(builddir / "doctrees"), str(srcdir),
         str(builddir / "pdf"), *options],
        memory=memory,
    )  # fmt: skip
    return wall, cpu, peak


def pdf_mtimes(pdfdir: Path) -> dict[str, int]:
    return {p.stem: p.stat().st_mtime_ns for p in pdfdir.glob("*.pdf")}


#: From this many articles, a cold PDF build's peak memory is measured (in a run of its own).
LARGE_PDF = 200


def bench_pdf(n: int, workdir: Path, runs: int, options: list[str], seed: int, edits: bool) -> dict:
    srcdir = workdir / f"pdf-{n}" / "docs"
    builddir, htmldir = workdir / f"pdf-{n}" / "_build", workdir / f"pdf-{n}" / "_build-html"
    generate(n, srcdir, seed)
    cold = []
    for _ in range(runs):
        shutil.rmtree(builddir, ignore_errors=True)
        cold.append(make_pdf(srcdir, builddir, options))
        made = pdf_mtimes(builddir / "pdf")
        if len(made) != n:
            raise SystemExit(f"cold PDF build at N={n} made {len(made)} PDFs, not {n}")
        progress(f"pdf N={n} cold", cold[-1])
    result = {"articles": n, "cold": summary(cold)}
    if n >= LARGE_PDF:
        shutil.rmtree(builddir, ignore_errors=True)
        result["cold"]["peak_mib"] = make_pdf(srcdir, builddir, options, memory=True)[2]
    if not edits:
        return result
    sphinx("html", srcdir, htmldir, options)
    editor = Editor(srcdir)
    edited, html_edited, rebuilt = [], [], set()
    for _ in range(runs):
        before = pdf_mtimes(builddir / "pdf")
        editor.edit()
        edited.append(make_pdf(srcdir, builddir, options))
        progress(f"pdf N={n} one edit", edited[-1])
        html_edited.append(sphinx("html", srcdir, htmldir, options))
        progress(f"html N={n} the same edit", html_edited[-1])
        after = pdf_mtimes(builddir / "pdf")
        rebuilt |= {slug for slug, mtime in after.items() if before.get(slug) != mtime}
    result.update(
        one_edit=summary(edited),
        html_one_edit=summary(html_edited),
        rebuilt_after_edit=sorted(rebuilt),
    )
    return result


# -- Page weight -----------------------------------------------------------------


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def local_file(base: Path, reference: str, root: Path) -> Path | None:
    """The file *reference* (relative to *base*'s folder) names inside *root*, or None if remote/data."""
    reference = urldefrag(reference)[0]
    parts = urlsplit(reference)
    if parts.scheme or parts.netloc or not parts.path or reference.startswith("data:"):
        return None
    path = (base.parent / parts.path).resolve()
    return path if path.is_file() and root.resolve() in path.parents else None


def page_resources(page: Path, root: Path) -> list[Path]:
    """The page and every local file a browser loads for it: stylesheets (and what they import),
    scripts, icons, preloads, images."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    found: list[Path] = [page.resolve()]

    def add(base: Path, reference: str | None) -> Path | None:
        path = local_file(base, reference, root) if reference else None
        if path is not None and path not in found:
            found.append(path)
            return path
        return None

    for link in soup.find_all("link", href=True):
        rel = {r.lower() for r in link.get("rel", [])}
        if rel & {"stylesheet", "icon", "shortcut", "preload", "modulepreload", "manifest", "apple-touch-icon"}:
            add(page, link["href"])
    for tag in soup.find_all(["script", "img", "source", "video", "audio", "iframe", "embed"]):
        add(page, tag.get("src"))
    for tag in soup.find_all(style=True):
        for match in CSS_URL.finditer(tag["style"]):
            add(page, match.group(1) or match.group(2))
    for style in soup.find_all("style"):
        for match in CSS_URL.finditer(style.get_text()):
            add(page, match.group(1) or match.group(2))
    # Stylesheets load fonts, images and other stylesheets.
    for path in found:
        if path.suffix == ".css":
            for match in CSS_URL.finditer(path.read_text(encoding="utf-8", errors="replace")):
                add(path, match.group(1) or match.group(2))
    return found


def page_weight(html_root: Path, pagename: str) -> dict:
    files = page_resources(html_root / f"{pagename}.html", html_root)
    rows = []
    for path in files:
        data = path.read_bytes()
        # Level 6: what web servers use by default (nginx gzip_comp_level 1..9; Apache, Caddy 6).
        rows.append(
            {"file": str(path.relative_to(html_root.resolve())), "raw": len(data), "gzip": len(gzip.compress(data, 6))}
        )
    return {
        "page": f"{pagename}.html",
        "files": len(rows),
        "raw": sum(r["raw"] for r in rows),
        "gzip": sum(r["gzip"] for r in rows),
        "each": rows,
    }


# -- Live preview ------------------------------------------------------------------


def bench_preview(runs: int) -> dict:
    if importlib.util.find_spec("preview_latency") is None:
        return {"available": False}
    import preview_latency

    try:
        result = preview_latency.measure(runs)
    except Exception as error:  # reported in the table; the other figures stay
        return {"available": True, "error": f"{type(error).__name__}: {error}", "report": f"failed: {error}"}
    text = preview_latency.report(result) if hasattr(preview_latency, "report") else json.dumps(result, indent=2)
    return {"available": True, "result": result, "report": text}


def bench_preview_scaling(runs: int, sizes: list[int]) -> dict:
    """The preview's article-edit latency at each corpus size (its worker keeps the site warm)."""
    if importlib.util.find_spec("preview_latency") is None:
        return {}
    import preview_latency

    try:
        return preview_latency.measure_scaling(tuple(sizes), runs)
    except Exception as error:  # reported in the output; the other figures stay
        print(f"  live preview by site size failed: {type(error).__name__}: {error}", file=sys.stderr)
        return {}


# -- Report ------------------------------------------------------------------------


def progress(label: str, sample: tuple[float, ...]) -> None:
    memory = f", peak {sample[2]:.0f} MiB" if len(sample) > 2 and sample[2] else ""
    print(f"  {label}: {sample[0]:.2f} s (CPU {sample[1]:.2f} s{memory})", file=sys.stderr, flush=True)


def machine() -> dict:
    import sphinx as sphinx_module

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return result.stdout.strip()

    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sphinx": sphinx_module.__version__,
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain")),
    }


def fmt(row: dict) -> str:
    peak = row.get("peak_mib")
    memory = f" {peak:9.0f}" if peak else f" {'-':>9}"
    return f"{row['median']:8.2f} {row['min']:8.2f} {row['max']:8.2f} {row['cpu_median']:8.2f} {row['runs']:>4}{memory}"


def table(results: dict) -> str:
    lines = []
    facts = results["machine"]
    lines.append(
        f"Machine: {facts['cores']} cores, Python {facts['python']}, Sphinx {facts['sphinx']}, "
        f"load average at start {facts['load_average_at_start']}, load at end {facts.get('load_average_at_end')}"
    )
    lines.append(f"Commit {facts['commit'][:12]}{' (with local changes)' if facts['dirty'] else ''}")
    lines.append(f"Sphinx options: {results['sphinxopts']}")
    lines.append("")
    head = (
        f"{'seconds (wall; CPU = all processes)':<46} {'median':>8} {'min':>8} {'max':>8} {'CPU':>8} {'runs':>4}"
        f" {'peak MiB':>9}"
    )
    lines += [head, "-" * len(head)]
    for item in results["html"]:
        n = item["articles"]
        lines.append(f"{f'HTML cold, N={n}':<46} {fmt(item['cold'])}")
        lines.append(f"{f'HTML rebuild, no change, N={n}':<46} {fmt(item['no_change'])}")
        lines.append(f"{f'HTML rebuild, one article edited, N={n}':<46} {fmt(item['one_edit'])}")
    bibliography = results.get("bibliography")
    if bibliography:
        entries = f"{bibliography['entries']:,}"
        lines.append(f"{'HTML rebuild, no change, N=1 (bibliography bench)':<46} {fmt(bibliography['without'])}")
        lines.append(f"{f'  the same with {entries} more cited entries':<46} {fmt(bibliography['with'])}")
        lines.append(f"{f'  added by the {entries} entries (median)':<46} {bibliography['added']:8.2f}")
    for item in results["pdf"]:
        n = item["articles"]
        lines.append(f"{f'make pdf (Typst) cold, N={n}':<46} {fmt(item['cold'])}")
        if "one_edit" in item:
            lines.append(f"{f'make pdf, one article edited, N={n}':<46} {fmt(item['one_edit'])}")
            lines.append(f"{f'  make html after the same edit, N={n}':<46} {fmt(item['html_one_edit'])}")
            ratio = item["one_edit"]["median"] / item["html_one_edit"]["median"]
            lines.append(f"  make pdf / make html after the edit, N={n}: {ratio:.2f}x")
            lines.append(f"  PDFs remade after edits, N={n}: {item['rebuilt_after_edit']}")
    if results["pdf"]:
        lines.append(LATEX_REFERENCE)
    lines.append("")
    preview = results["preview"]
    if preview["available"]:
        lines.append("Live preview edit latency (benchmarks/preview_latency.py):")
        lines.append(preview["report"])
    elif preview.get("skipped"):
        lines.append("Live preview edit latency: skipped (--no-preview)")
    else:
        lines.append("Live preview edit latency: not available (benchmarks/preview_latency.py is not here)")
    scaling = results.get("preview_scaling") or {}
    if scaling:
        lines.append("")
        lines.append("Live preview, article edit to served, by site size (seconds):")
        for size, row in sorted(scaling.items()):
            spread = f"min {row['min']:.3f}  max {row['max']:.3f}  ({row['n']} edits)"
            whole = row.get("whole build")
            built = f"; whole build published: median {whole['median']:.3f}" if whole else ""
            lines.append(f"  N={size:<5} median {row['median']:.3f}  {spread}{built}")
    lines.append("")
    for weight in results["page_weight"]:
        lines.append(
            f"Article page weight, N={weight['articles']}: {weight['raw']:,} bytes raw, "
            f"{weight['gzip']:,} bytes gzip ({weight['gzip'] / 1024:.1f} KiB), {weight['files']} files"
        )
        for row in weight["each"]:
            lines.append(f"    {row['file']:<58} {row['raw']:>9,} {row['gzip']:>9,}")
    lines.append("")
    lines.append("Goals:")
    for name, (value, goal, ok) in results["goals"].items():
        lines.append(f"  {name:<44} {value:>10.3f}  goal {goal:<10} {'met' if ok else 'NOT MET'}")
    return "\n".join(lines)


def goals(results: dict) -> dict:
    by_n = {item["articles"]: item for item in results["html"]}
    out = {}
    bibliography = results.get("bibliography")
    if bibliography:
        added, goal = bibliography["added"], GOALS["bibliography_added_seconds"]
        out[f"no-change rebuild, added by {bibliography['entries']:,} entries (s)"] = (
            added,
            f"<= {goal}",
            added <= goal,
        )
    if 200 in by_n:
        cold = by_n[200]["cold"]["median"]
        out["HTML cold at N=200 (s)"] = (cold, f"<= {GOALS['cold_200_seconds']}", cold <= GOALS["cold_200_seconds"])
    if 1 in by_n and 200 in by_n:
        ratio = by_n[200]["one_edit"]["median"] / by_n[1]["one_edit"]["median"]
        goal = GOALS["edit_ratio_200_to_1"]
        out["one-article edit, N=200 / N=1"] = (ratio, f"<= {goal}", ratio <= goal)
    if 1000 in by_n:
        cold = by_n[1000]["cold"]["median"]
        goal = GOALS["cold_1000_seconds"]
        out["HTML cold at N=1000 (s)"] = (cold, f"<= {goal}", cold <= goal)
        peak = max(by_n[1000][row]["peak_mib"] or 0 for row in ("cold", "no_change", "one_edit"))
        goal = GOALS["peak_memory_1000_mib"]
        out["peak memory of the N=1000 builds (MiB, PSS)"] = (peak, f"<= {goal:.0f}", 0 < peak <= goal)
    if 1 in by_n and 1000 in by_n:
        ratio = by_n[1000]["one_edit"]["median"] / by_n[1]["one_edit"]["median"]
        goal = GOALS["edit_ratio_1000_to_1"]
        out["one-article edit, N=1000 / N=1"] = (ratio, f"<= {goal}", ratio <= goal)
    scaling = results.get("preview_scaling") or {}
    if 1 in scaling and 200 in scaling:
        ratio = scaling[200]["median"] / scaling[1]["median"]
        goal = GOALS["edit_ratio_200_to_1"]
        out["live-preview article edit, N=200 / N=1"] = (ratio, f"<= {goal}", ratio <= goal)
    if 1000 in scaling:
        value = scaling[1000]["median"]
        goal = GOALS["preview_edit_1000_seconds"]
        out["live-preview article edit at N=1000 (s)"] = (value, f"<= {goal}", value <= goal)
    for item in results["pdf"]:
        n = item["articles"]
        if n == 200:
            cold = item["cold"]["median"]
            goal = GOALS["pdf_cold_200_seconds"]
            out["make pdf cold at N=200 (s)"] = (cold, f"<= {goal}", cold <= goal)
        if "one_edit" in item:
            rebuilt = item["rebuilt_after_edit"]
            out[f"PDFs remade after an edit, N={n} (count)"] = (len(rebuilt), f"== 1 ({SLUG})", rebuilt == [SLUG])
            ratio = item["one_edit"]["median"] / item["html_one_edit"]["median"]
            goal = GOALS["pdf_edit_to_html_edit"]
            out[f"make pdf / make html after an edit, N={n}"] = (ratio, f"<= {goal}", ratio <= goal)
    for weight in results["page_weight"]:
        value = weight["gzip"]
        out[f"article page gzip, N={weight['articles']} (KiB)"] = (
            value / 1024,
            "<= 30",
            value <= GOALS["page_gzip_bytes"],
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per timing (default 5; fewer only for quick tries)")
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[1, 50, 200, 1000], help="corpus sizes for HTML (none: skip)"
    )
    parser.add_argument(
        "--pdf-sizes", type=int, nargs="*", default=[1, 20, 200], help="corpus sizes for PDF, cold (none: skip)"
    )
    parser.add_argument(
        "--pdf-edit-sizes", type=int, nargs="*", default=[1, 20], help="of those, where to time a one-article edit"
    )
    parser.add_argument("--sphinxopts", default=DEFAULT_SPHINXOPTS, help=f"sphinx-build options ({DEFAULT_SPHINXOPTS})")
    parser.add_argument("--seed", type=int, default=0, help="corpus generator seed")
    parser.add_argument("--no-preview", action="store_true", help="skip the live-preview latency")
    parser.add_argument(
        "--bib-entries", type=int, default=17_000, help="generated bibliography for the no-change row (0: skip)"
    )
    parser.add_argument("--output", type=Path, default=REPO / "_build" / "bench", help="where the JSON goes")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.runs < 5:
        print(f"note: {args.runs} run(s) per timing; the benchmark's figures use 5 or more", file=sys.stderr)
    options = shlex.split(args.sphinxopts)

    results: dict = {"machine": machine(), "sphinxopts": args.sphinxopts, "runs": args.runs}
    started = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="citedhealth-bench-") as tmp:
        workdir = Path(tmp)
        html = bench_html(sorted(args.sizes), workdir, args.runs, options, args.seed) if args.sizes else []
        weights = []
        for item in (html[0], html[-1]) if len(html) > 1 else html[:1]:
            weight = page_weight(item["html"], f"articles/{SLUG}")
            weights.append({"articles": item["articles"], **weight})
        for item in html:
            del item["html"]
        results["html"] = html
        results["page_weight"] = weights
        results["pdf"] = [
            bench_pdf(n, workdir, args.runs, options, args.seed, n in args.pdf_edit_sizes)
            for n in sorted(args.pdf_sizes)
        ]
        if args.bib_entries:
            results["bibliography"] = bench_bibliography(args.bib_entries, workdir, args.runs, options, args.seed)
    results["preview"] = {"available": False, "skipped": True} if args.no_preview else bench_preview(max(args.runs, 5))
    if not args.no_preview:
        scaling_sizes = sorted({min(args.sizes), max(args.sizes)}) if args.sizes else [1]
        results["preview_scaling"] = bench_preview_scaling(max(args.runs, 5), scaling_sizes)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["goals"] = goals(results)
    results["started"] = started.isoformat(timespec="seconds")
    results["seconds"] = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1)

    text = table(results)
    print(text)
    args.output.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(results, indent=2, default=str) + "\n"
    stamped = args.output / f"{started:%Y%m%dT%H%M%SZ}.json"
    stamped.write_text(payload, encoding="utf-8")
    (args.output / "latest.json").write_text(payload, encoding="utf-8")
    print(f"\nwrote {stamped} and {args.output / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
