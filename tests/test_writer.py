"""The crawl's writer process: shared by the archive and storage, and replaced by the crawler if it dies."""

from __future__ import annotations

import os
import signal

from pipelines.writer import START_AFTER, SharedWriter, Writes
from tests.conftest import run_async


def where() -> int:
    return os.getpid()


def test_one_writer_per_crawl_closed_by_the_last_to_release():
    """The archive middleware and the storage pipeline of one crawl share a writer process; it
    stays up until both have released it, in either order; another crawl gets its own."""
    crawl, other = SharedWriter(), SharedWriter()  # each crawl's, as its CrawlRun holds it
    first, second, third = crawl.acquire(), crawl.acquire(), other.acquire()

    async def run():
        # All in one thread: the writer is told to end with the thread that started it.
        pid = await first.call(where)
        process = first.process
        crawl.release()
        alive = process.is_alive()
        crawl.release()
        return pid, alive, process

    try:
        assert first is second and third is not first
        pid, alive_after_one, process = run_async(run())
        assert alive_after_one
        assert not process.is_alive() and process.exitcode == 0 and pid != os.getpid()
    finally:
        other.release()


def test_writes_go_on_in_the_crawler_once_the_writer_died(caplog):
    """A writer process killed mid-crawl: that write and the ones after it are done in the
    crawler process (an upsert done twice stores one row), and the log says so once."""
    crawl = SharedWriter()
    writes = Writes(crawl)

    async def run():
        pid = await writes.run(where)
        os.kill(pid, signal.SIGKILL)
        return pid, [await writes.run(where) for _ in range(3)]

    try:
        pid, after = run_async(run())
    finally:
        writes.close()
    assert pid != os.getpid() and after == [os.getpid()] * 3
    assert not writes.elsewhere
    assert caplog.text.count("The writer process died") == 1


def test_without_a_writer_process_writes_are_done_here():
    """SQLITE_WRITER_PROCESS off (or one core): the same functions, in the crawler process."""
    writes = Writes(SharedWriter(), in_process_only=True)
    assert not writes.elsewhere and run_async(writes.run(where)) == os.getpid()


def test_the_writer_takes_over_after_the_first_writes():
    """SQLITE_WRITER_AFTER: a component's first writes are made here (a short crawl starts no
    process), the rest by the writer; the component is told once, when the writer takes over."""
    told = []
    writes = Writes(SharedWriter(), after=3, handed_over=lambda: told.append(os.getpid()))

    async def run():
        return [await writes.run(where) for _ in range(6)]

    try:
        pids = run_async(run())
    finally:
        writes.close()
    assert pids[:3] == [os.getpid()] * 3
    assert len(set(pids[3:])) == 1 and pids[3] != os.getpid()
    assert told == [os.getpid()]


def test_a_short_crawl_starts_no_writer():
    """A component's first START_AFTER writes (more than a cron run makes) start no process,
    whatever SQLITE_WRITER_AFTER; the next one starts the writer, which then has until the
    SQLITE_WRITER_AFTER-th write to import."""
    writes = Writes(SharedWriter(), after=80)

    async def run():
        for _ in range(START_AFTER):
            assert await writes.run(where) == os.getpid()
        started_early = writes.standby is not None
        await writes.run(where)
        return started_early

    try:
        assert run_async(run()) is False
        assert writes.standby is not None and not writes.elsewhere
    finally:
        writes.close()


def test_a_closing_call_starts_no_writer():
    """The call that closes a component's files is not a write: one that would reach the
    writer's start (START_AFTER writes) spawns no process at the very end."""
    writes = Writes(SharedWriter(), after=101)

    async def run():
        for _ in range(START_AFTER - 1):
            await writes.run(where)
        return await writes.run(where, last=True)

    try:
        assert run_async(run()) == os.getpid()
        assert writes.standby is None and writes.writes == START_AFTER - 1
    finally:
        writes.close()
