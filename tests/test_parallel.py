"""How parallel builds share out their documents (parallel.py); the builds themselves are in test_scale.py."""

from __future__ import annotations

import pytest
from citedhealth.parallel import FIRST_WRITE_CHUNK, even_chunks, write_chunks
from sphinx.util.parallel import make_chunks

#: Site sizes and -j values every way of chunking is tried with.
SIZES = pytest.mark.parametrize("count", [1, 2, 6, 7, 9, 20, 41, 200, 1000, 1001])
JOBS = pytest.mark.parametrize("nproc", [2, 3, 4])


def chunked(chunking, count: int, nproc: int) -> tuple[list[str], list[list[str]]]:
    """The documents and *chunking*'s chunks of them, checked to hold every document once, in order."""
    items = [f"articles/a{i:04d}" for i in range(count)]
    chunks = chunking(items, nproc)
    assert [item for chunk in chunks for item in chunk] == items
    assert all(chunks)
    return items, chunks


@SIZES
@JOBS
def test_chunks_keep_every_document_once_in_order_and_workers_share_them_evenly(count, nproc):
    items, chunks = chunked(even_chunks, count, nproc)
    sizes = {len(chunk) for chunk in chunks}
    assert max(sizes) - min(sizes) <= 1
    # No last round with a worker left idle, unless every chunk is a single document.
    assert len(chunks) % nproc == 0 or sizes == {1}
    # About as many as Sphinx would make (it balances fork costs against the chunks' sizes).
    assert len(make_chunks(items, nproc)) <= len(chunks) < len(make_chunks(items, nproc)) + nproc


@SIZES
@JOBS
def test_write_chunks_start_and_end_short_and_keep_every_document_once_in_order(count, nproc):
    items, chunks = chunked(write_chunks, count, nproc)
    even = even_chunks(items, nproc)
    if len(even) <= nproc:
        assert chunks == even
        return
    usual = max(len(chunk) for chunk in even)
    # A writer starts after a few documents are resolved, not a whole chunk ...
    assert len(chunks[0]) <= FIRST_WRITE_CHUNK
    # ... and the last chunks, which the writers finish alone, are a quarter of the usual size.
    assert all(len(chunk) <= -(-usual // 4) for chunk in chunks[-nproc:])
    assert max(len(chunk) for chunk in chunks) <= usual


def started_order(monkeypatch, handed_over: list[tuple[int, list[str]]], nproc: int) -> list[int]:
    """The order in which Sphinx's ParallelTasks starts (forks) tasks handed over in *handed_over*'s order."""
    import multiprocessing.context
    import time

    from sphinx.util.parallel import ParallelTasks

    started: list[int] = []
    start = multiprocessing.context.ForkProcess.start

    def noting_start(process) -> None:
        started.append(process._args[2])  # ParallelTasks' Process(args=(pipe, task_func, arg))
        start(process)

    def task(index: int) -> None:
        time.sleep(0.2)  # far longer than handing the rest over takes

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", noting_start)
    tasks = ParallelTasks(nproc)
    for index, _chunk in handed_over:
        tasks.add_task(task, index)
    tasks.join()
    monkeypatch.undo()
    return started


@pytest.mark.parametrize("nproc", [2, 3])
def test_chunks_start_in_their_order(monkeypatch, nproc):
    """parallel.in_start_order: Sphinx's ParallelTasks starts queued tasks last-added first; handed
    over in this order, the chunks start in chunk order (a write's short last chunks last)."""
    from citedhealth.parallel import in_start_order

    chunks = [[f"doc{i}"] for i in range(7)]
    assert started_order(monkeypatch, in_start_order(chunks, nproc), nproc) == list(range(7))
    # Why: handed over in chunk order, they do not start in it.
    assert started_order(monkeypatch, list(enumerate(chunks)), nproc) != list(range(7))
