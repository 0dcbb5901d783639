"""Scale: the benchmark corpus builds strictly and in parallel; the PDF cache remakes only what changed.

Timings are not asserted here (they are ``make bench``'s job): these tests check
that the generated corpus is a valid site, that the parallel build sees every
article, and which PDF files the PDF step rewrites.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import REPO, ROOTS, pdf_build, sphinx_build
from pybtex.database import parse_file

sys.path.insert(0, str(REPO / "benchmarks"))
from generate_corpus import SEED_ARTICLE, bib_keys, generate

pytestmark = [pytest.mark.slow]

CITE = re.compile(r"\{cite:[a-z]+\}`([^`]+)`")


def cited_keys(article: Path) -> list[str]:
    """The keys *article* cites, in the order it first cites them."""
    keys: dict[str, None] = {}
    for group in CITE.findall(article.read_text(encoding="utf-8")):
        for key in group.split(","):
            keys.setdefault(key.strip())
    return list(keys)


def letters(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def page(html: Path, name: str) -> BeautifulSoup:
    return BeautifulSoup((html / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


# -- The generator ---------------------------------------------------------------


def test_generated_articles_vary_and_cite_only_the_real_bibliography(tmp_path):
    articles = generate(20, tmp_path / "docs")
    assert len(articles) == 20
    assert articles[0].read_text(encoding="utf-8") == SEED_ARTICLE.read_text(encoding="utf-8")
    texts = [a.read_text(encoding="utf-8") for a in articles]
    titles = [re.search(r"(?m)^title: (.*)$", t).group(1) for t in texts]
    assert len(set(titles)) == 20
    assert len({a.stem for a in articles}) == 20
    known = set(bib_keys())
    citations = [tuple(cited_keys(a)) for a in articles]
    assert all(set(keys) <= known for keys in citations)
    assert len(set(citations)) > 10, "articles should cite different works"
    sections = [tuple(re.findall(r"(?m)^## (.*)$", t)) for t in texts]
    assert len(set(sections)) > 5, "articles should have different sections"
    for text in texts:
        assert text.count("```{disclaimer}") == 1
        assert text.count("```{bibliography}") == 1


def test_generated_corpus_builds_warning_free_in_parallel(tmp_path):
    """N = 20 under the strict build with -j 2: every article listed, each bibliography its own."""
    srcdir, builddir = tmp_path / "docs", tmp_path / "_build"
    articles = generate(20, srcdir)
    result = sphinx_build(srcdir, builddir, "html", "-j", "2")
    assert result.stderr == ""
    assert result.returncode == 0
    html = builddir / "html"

    # The A–Z lists every article; the landing page the 10 most recently reviewed.
    listed = {a["href"] for a in page(html, "a-z").select("ul.ch-az-list a")}
    assert listed == {f"articles/{a.stem}.html" for a in articles}
    assert len(page(html, "index").select("ul.ch-article-list a")) == 10
    # The corpus spreads across every topic of docs/conf.py.
    counts = [item.get_text() for item in page(html, "index").select("ul.ch-topic-list > li")]
    assert len(counts) == 6 and not any("no articles" in count for count in counts), counts

    bibliography = parse_file(str(srcdir / "references.bib")).entries
    for article in articles:
        entries = page(html, f"articles/{article.stem}").select("div.citation")
        keys = cited_keys(article)
        # Its own works, numbered from 1 in the order it first cites them.
        assert [e.select_one("span.label").get_text(strip=True) for e in entries] == [
            f"[{n}]" for n in range(1, len(keys) + 1)
        ]
        for entry, key in zip(entries, keys, strict=True):
            assert letters(bibliography[key].fields["title"]) in letters(entry.get_text()), (article.stem, key)


def test_article_list_follows_an_edit_in_a_parallel_incremental_build(tmp_path):
    """The article-list marker (env.metadata) survives the parallel read's merge."""
    srcdir, builddir = tmp_path / "docs", tmp_path / "_build"
    articles = generate(4, srcdir)
    assert sphinx_build(srcdir, builddir, "html", "-j", "2").returncode == 0
    edited = articles[2]
    text = edited.read_text(encoding="utf-8")
    edited.write_text(re.sub(r"(?m)^title: .*$", "title: A Retitled Article", text), encoding="utf-8")
    result = sphinx_build(srcdir, builddir, "html", "-j", "2")
    assert result.stderr == ""
    assert result.returncode == 0
    links = {a["href"]: a.get_text() for a in page(builddir / "html", "index").select("ul.ch-article-list a")}
    assert links[f"articles/{edited.stem}.html"] == "A Retitled Article"


# -- The PDF cache ------------------------------------------------------------------


def pdf_files(pdfdir: Path) -> dict[str, tuple[int, int, bytes]]:
    """slug -> (inode, mtime in ns, content) of each PDF."""
    return {p.stem: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in pdfdir.glob("*.pdf")}


def rewritten(before: dict, after: dict) -> set[str]:
    assert before.keys() == after.keys()
    return {slug for slug in before if before[slug][:2] != after[slug][:2]}


def test_pdf_cache_remakes_exactly_the_changed_articles(tmp_path):
    srcdir, builddir = tmp_path / "docs", tmp_path / "_build"
    articles = generate(3, srcdir)
    slugs = {a.stem for a in articles}
    pdfdir = builddir / "pdf"
    # An image in one article: its bytes are part of that PDF's inputs.
    shutil.copyfile(ROOTS / "test-images" / "square.svg", srcdir / "articles" / "square.svg")
    pictured = articles[2]
    text = pictured.read_text(encoding="utf-8")
    pictured.write_text(text.replace("## Conclusion\n\n", "## Conclusion\n\n![A black square](square.svg)\n\n", 1))

    def make_pdf(*options: str) -> dict:
        result = pdf_build(srcdir, builddir, *options)
        assert result.stderr == ""
        assert result.returncode == 0
        return pdf_files(pdfdir)

    first = make_pdf()
    assert first.keys() == slugs

    # Nothing changed: nothing is remade.
    second = make_pdf()
    assert rewritten(first, second) == set()

    # One article's text: only its PDF.
    edited = articles[1]
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("## Conclusion\n\n", "## Conclusion\n\nAn added sentence. ", 1), encoding="utf-8")
    third = make_pdf()
    assert rewritten(second, third) == {edited.stem}

    # One bibliography entry: only the articles that cite it.
    citing = {a.stem: set(cited_keys(a)) for a in articles}
    key = next(k for k in bib_keys() if 0 < sum(k in keys for keys in citing.values()) < len(articles))
    expected = {slug for slug, keys in citing.items() if key in keys}
    bibfile = srcdir / "references.bib"
    bib = bibfile.read_text(encoding="utf-8")
    entry = re.search(rf"@\w+\{{{re.escape(key)},.*?\n\}}", bib, flags=re.DOTALL)
    changed = re.sub(r"(title\s*=\s*\{)", r"\1Corrected: ", entry.group(0), count=1)
    assert changed != entry.group(0)
    bibfile.write_text(bib.replace(entry.group(0), changed), encoding="utf-8")
    fourth = make_pdf()
    assert rewritten(third, fourth) == expected

    # An image's bytes: only the article showing it.
    svg = srcdir / "articles" / "square.svg"
    svg.write_text(svg.read_text(encoding="utf-8").replace("<svg", "<svg data-changed='1'", 1), encoding="utf-8")
    fifth = make_pdf()
    assert rewritten(fourth, fifth) == {pictured.stem}

    # Something every article shares (the configuration): every PDF.
    sixth = make_pdf("-D", "citedhealth_disclaimer_title=Medical disclaimer")
    assert rewritten(fifth, sixth) == slugs


# -- Parallel builds only when they pay --------------------------------------------


def test_parallel_build_goes_serial_for_a_few_documents(tmp_path, make_app):
    """Under -j 2 a cold build of 9 documents uses worker processes; a one-article
    rebuild reads and writes in the main process (and still shows the edit)."""
    srcdir = tmp_path / "docs"
    articles = generate(8, srcdir)
    app = make_app("html", srcdir=srcdir, parallel=2, freshenv=True)
    calls: list[str] = []
    for name in ("_read_parallel", "_read_serial", "_write_parallel", "_write_serial"):
        original = getattr(app.builder, name)
        setattr(app.builder, name, lambda *args, _f=original, _n=name, **kw: (calls.append(_n), _f(*args, **kw))[1])
    app.build()
    assert app.warning.getvalue() == ""
    assert calls == ["_read_parallel", "_write_parallel"]

    edited = articles[3]
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("## Conclusion\n\n", "## Conclusion\n\nA serial edit. ", 1), encoding="utf-8")
    calls.clear()
    app.build()
    assert app.warning.getvalue() == ""
    assert calls == ["_read_serial", "_write_serial"]
    assert app.parallel == 2
    assert "A serial edit." in (app.outdir / "articles" / f"{edited.stem}.html").read_text(encoding="utf-8")


def test_parallel_read_workers_send_back_only_what_they_read_and_the_site_is_the_serial_one(
    tmp_path, make_app, monkeypatch
):
    """Each read worker is forked before any merge (parallel.read_in_parallel): the environment
    it sends back holds its own chunk's documents and the one document the main process read
    before forking, not those merged before it; the pages equal a serial build's."""
    import pickle

    from sphinx.environment import BuildEnvironment

    srcdir = tmp_path / "docs"
    generate(40, srcdir)
    result = sphinx_build(srcdir, tmp_path / "serial", "html", "-j", "1")
    assert result.returncode == 0, result.stderr
    serial_html = tmp_path / "serial" / "html"

    received: list[set[str]] = []
    loads = pickle.loads

    def recording(data, *args, **kwargs):
        value = loads(data, *args, **kwargs)
        if isinstance(value, BuildEnvironment):
            received.append(set(value.all_docs))
        return value

    monkeypatch.setattr(pickle, "loads", recording)
    parallel = make_app("html", srcdir=srcdir, builddir=tmp_path / "parallel", parallel=2, freshenv=True)
    parallel.build()
    monkeypatch.undo()
    assert parallel.warning.getvalue() == ""
    assert len(received) > 2  # several chunks, each read in a worker
    read_first = set.intersection(*received)  # read in the main process, inherited by every worker
    assert len(read_first) == 1
    # Apart from that one, no document sent back twice.
    assert sum(len(docs - read_first) for docs in received) + 1 == len(parallel.env.all_docs)
    assert set().union(*received) == set(parallel.env.all_docs)

    pages = sorted(p.relative_to(serial_html) for p in serial_html.rglob("*.html"))
    assert pages == sorted(p.relative_to(parallel.outdir) for p in Path(parallel.outdir).rglob("*.html"))
    for name in [*pages, "searchindex.js"]:
        assert (Path(parallel.outdir) / name).read_bytes() == (serial_html / name).read_bytes(), name


def record_processes(app, folder: Path) -> None:
    """Each page's resolving and writing process (pid, niceness), one file per page and event."""
    import os

    folder.mkdir()

    def note(event: str, docname: str) -> None:
        (folder / f"{event}-{docname.replace('/', '_')}").write_text(f"{os.getpid()} {os.nice(0)}", encoding="utf-8")

    app.connect("doctree-resolved", lambda app, doctree, docname: note("resolved", docname))
    app.connect(
        "html-page-context",
        lambda app, pagename, templatename, context, doctree: doctree is not None and note("written", pagename),
    )


def processes(folder: Path, event: str) -> dict[str, tuple[int, int]]:
    return {
        f.name.split("-", 1)[1]: tuple(map(int, f.read_text(encoding="utf-8").split()))
        for f in folder.iterdir()
        if f.name.startswith(f"{event}-")
    }


def test_parallel_write_uses_as_many_writers_as_jobs_each_resolving_its_pages_and_the_site_is_the_serial_one(
    tmp_path, make_app, monkeypatch
):
    """With ``-j 2`` two worker processes write pages (Sphinx alone forks one, ``-j`` minus one, and a
    core stands idle), and each resolves the pages it writes (parallel.write_in_parallel); the pages
    and the search index equal a serial build's."""
    import os

    from citedhealth import parallel as parallel_module

    srcdir = tmp_path / "docs"
    articles = generate(24, srcdir)
    # A figure on a page a worker writes: the image it picks comes back to the main process, which copies it.
    figured = articles[15]
    text = figured.read_text(encoding="utf-8")
    figure = ":::{figure} ../_static/favicon.svg\n:alt: The logo\n\nOur logo.\n:::\n\n"
    figured.write_text(text.replace("## Conclusion\n\n", "## Conclusion\n\n" + figure, 1), encoding="utf-8")
    result = sphinx_build(srcdir, tmp_path / "serial", "html", "-j", "1")
    assert result.returncode == 0, result.stderr
    serial_html = tmp_path / "serial" / "html"
    assert [p.name for p in (serial_html / "_images").iterdir()] == ["favicon.svg"]

    pools: list[int] = []

    class Recording(parallel_module.ParallelTasks):
        def __init__(self, nproc: int) -> None:
            pools.append(nproc)
            super().__init__(nproc)

    monkeypatch.setattr(parallel_module, "ParallelTasks", Recording)
    parallel = make_app("html", srcdir=srcdir, builddir=tmp_path / "parallel", parallel=2, freshenv=True)
    record_processes(parallel, tmp_path / "processes")
    handed_back: list[list[str]] = []
    parallel.connect("citedhealth-resolved-in-worker", lambda app, docnames: handed_back.append(docnames))
    parallel.build()
    assert parallel.warning.getvalue() == ""
    assert pools == [2, 2]  # the read's workers, then the write's: two each
    resolved, written = processes(tmp_path / "processes", "resolved"), processes(tmp_path / "processes", "written")
    assert len(written) == len(parallel.env.all_docs)
    assert resolved == written  # each page resolved in the process that wrote it
    in_main = [page for page, (pid, _) in written.items() if pid == os.getpid()]
    assert len(in_main) == 1  # the first page, written before any fork
    assert len({pid for pid, _ in written.values()}) >= 3
    assert sorted(page.replace("/", "_") for chunk in handed_back for page in chunk) == sorted(
        page for page in written if page not in in_main
    )

    pages = sorted(p.relative_to(serial_html) for p in serial_html.rglob("*.html"))
    assert pages == sorted(p.relative_to(parallel.outdir) for p in Path(parallel.outdir).rglob("*.html"))
    for name in [*pages, "searchindex.js", Path("_images/favicon.svg")]:
        assert (Path(parallel.outdir) / name).read_bytes() == (serial_html / name).read_bytes(), name
    assert figured.stem not in in_main[0]


def test_a_builder_with_its_own_serialising_step_resolves_in_the_main_process_as_sphinx_does(tmp_path, make_app):
    """A builder whose ``write_doc_serialized`` is not the HTML builder's may keep state we cannot
    hand back: its pages are resolved (and that step run) in the main process, and written by niced
    workers (parallel.write_resolved_here)."""
    import os

    from citedhealth import parallel as parallel_module

    srcdir = tmp_path / "docs"
    generate(12, srcdir)
    app = make_app("html", srcdir=srcdir, builddir=tmp_path / "build", parallel=2, freshenv=True)
    serialised: list[tuple[str, int]] = []
    base = type(app.builder)

    class OwnStep(base):
        def write_doc_serialized(self, docname, doctree):
            serialised.append((docname, os.getpid()))
            super().write_doc_serialized(docname, doctree)

    app.builder.__class__ = OwnStep
    assert not parallel_module.resolves_in_writers(app.builder)
    record_processes(app, tmp_path / "processes")
    app.build()
    assert app.warning.getvalue() == ""
    resolved, written = processes(tmp_path / "processes", "resolved"), processes(tmp_path / "processes", "written")
    assert len(written) == len(app.env.all_docs)
    assert {pid for pid, _ in resolved.values()} == {os.getpid()}
    assert sorted(page for page, _ in serialised) == sorted(app.env.all_docs)
    assert {pid for _, pid in serialised} == {os.getpid()}
    workers = [nice for page, (pid, nice) in written.items() if pid != os.getpid()]
    assert len(workers) == len(written) - 1
    assert set(workers) == {os.nice(0) + parallel_module.WRITER_NICENESS}


def test_a_warning_raised_while_a_worker_resolves_is_reported_once_in_every_build_until_fixed(tmp_path):
    """A reference to a missing page warns when the page is resolved, in a writer process under -j 2:
    the warning names file and line and fails the build, and so does every later build (the page
    written again, or not), once each time (diagnostics.py notes the writers' pages)."""
    srcdir = tmp_path / "docs"
    articles = generate(12, srcdir)
    broken = articles[7]
    text = broken.read_text(encoding="utf-8")
    broken.write_text(text.replace("## Conclusion\n\n", "## Conclusion\n\nSee {doc}`nowhere`. ", 1), encoding="utf-8")
    line = (
        broken.read_text(encoding="utf-8")
        .splitlines()
        .index(next(x for x in broken.read_text(encoding="utf-8").splitlines() if "{doc}`nowhere`" in x))
        + 1
    )
    builddir = tmp_path / "build"
    location = f"{broken.relative_to(srcdir.parent).as_posix()}:{line}"
    conf = srcdir / "conf.py"
    for round_, change in enumerate((None, None, "title")):
        if change:  # every page written again, none read again
            conf.write_text(conf.read_text(encoding="utf-8") + '\nhtml_title = "Another title"\n', encoding="utf-8")
        result = sphinx_build(srcdir, builddir, "html", "-j", "2")
        assert result.returncode != 0, (round_, result.stderr)
        warnings = [w for w in result.stderr.splitlines() if "nowhere" in w]
        assert len(warnings) == 1, (round_, result.stderr)
        assert location in warnings[0], (round_, warnings)


def test_parallel_pdf_build_equals_a_serial_one_and_reports_from_its_workers(tmp_path):
    """``make pdf -j 2`` on more than a few articles typesets in worker processes: the same bytes as
    ``-j 1``, and a warning raised in a worker still names the file and line."""
    srcdir = tmp_path / "docs"
    articles = generate(8, srcdir)
    epoch = {"SOURCE_DATE_EPOCH": "1764000000"}
    serial = pdf_build(srcdir, tmp_path / "serial", "-j", "1", env=epoch)
    parallel = pdf_build(srcdir, tmp_path / "parallel", "-j", "2", env=epoch)
    assert serial.returncode == parallel.returncode == 0, parallel.stderr
    first, second = pdf_files(tmp_path / "serial" / "pdf"), pdf_files(tmp_path / "parallel" / "pdf")
    assert first.keys() == second.keys() == {a.stem for a in articles}
    assert all(first[slug][2] == second[slug][2] for slug in first)
    assert re.search(r"writing output\.\.\. \[\s*\d+%\] articles/\S+ \.\. articles/", parallel.stdout)

    broken = articles[-1]
    text = broken.read_text(encoding="utf-8")
    broken.write_text(text.replace("## Conclusion\n\n", "## Conclusion\n\nSay 針.\n\n", 1), encoding="utf-8")
    line = text[: text.index("## Conclusion")].count("\n") + 3
    failed = pdf_build(srcdir, tmp_path / "parallel-cold", "-j", "2", env=epoch)
    assert failed.returncode != 0
    assert f"{broken}:{line}: WARNING: the PDF font" in failed.stderr
    assert not (tmp_path / "parallel-cold" / "pdf" / f"{broken.stem}.pdf").exists()
    # Written in chunks by worker processes (Sphinx shows a chunk as "first .. last").
    assert re.search(r"writing output\.\.\. \[\s*\d+%\] articles/\S+ \.\. articles/", failed.stdout)
