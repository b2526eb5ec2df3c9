"""The crawl's writes, per page: WARC records, their index, reports and failures, in one writer process.

The crawler's event loop is what limits a crawl (its CPU decides the rate: bench/crawl_throughput.py);
writing WARC and storing a report were ~1 ms of it per item page, most of it zlib and SQLite. Here
they run in a process of their own that owns every per-page write, so no two writers take turns
at SQLite's lock. The same functions run in the crawler process when there is no writer process
(one core, SQLITE_WRITER_PROCESS off) or after it died. Free of Scrapy, so the process starts
quickly.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import db as store
from db.archive import FetchedPage, WarcSeries
from pipelines.worker import WorkerDied, WorkerProcess, die_with_parent

logger = logging.getLogger(__name__)

# In whichever process runs the functions below: open connections by database path, and WARC
# series by name.
_dbs: dict[str, Any] = {}
_series: dict[str, WarcSeries] = {}


def _db(path: str | None) -> Any:
    if path is None:
        return None
    if path not in _dbs:
        _dbs[path] = store.open_db(path)
    return _dbs[path]


def archive(db_path: str | None, folder: str, series: str, max_bytes: int, software: str,
            page: FetchedPage) -> tuple[int | None, int]:
    """Write `page` to its crawl's WARC series (indexed in the database if there is one): its
    capture id and the number of files opened (WarcSeries.write)."""
    if series not in _series:
        _series[series] = WarcSeries(Path(folder), series, max_bytes, software)
    return _series[series].write(page, _db(db_path))


def close_series(series: str) -> None:
    if (found := _series.pop(series, None)) is not None:
        found.close()


def write_report(db_path: str, report: dict[str, Any]) -> str:
    """Upsert one report (a Report's dict); the upsert's status."""
    return store.upsert_report(_db(db_path), report)


def write_failure(db_path: str, url: str, reason: str, fetched_at: str | None, listing_title: str | None,
                  listing_date: str | None) -> None:
    store.record_failure(_db(db_path), url, reason, fetched_at, listing_title, listing_date)


def close_database(db_path: str) -> None:
    """The last write of a crawl to `db_path` (the last connection's close checkpoints the WAL)."""
    if (found := _dbs.pop(db_path, None)) is not None:
        found.close()


class SharedWriter:
    """One writer process per crawl, shared by the archive middleware and the storage pipeline
    (the crawl's CrawlRun holds it): the first to acquire it starts it, the last to release it
    stops it, whichever order Scrapy closes them in."""

    def __init__(self) -> None:
        self.process: WorkerProcess | None = None
        self.users = 0

    def acquire(self) -> WorkerProcess:
        if self.process is None:
            self.process = WorkerProcess(die_with_parent, "caci-writer")
        self.users += 1
        return self.process

    def release(self) -> None:
        if self.process is None:
            return
        self.users -= 1
        if self.users <= 0:
            self.process.close()
            self.process, self.users = None, 0


# Writes a component makes before it starts the writer process: more than a cron run on the real
# site makes (a listing page or two per section, and the few new reports).
START_AFTER = 20


class Writes:
    """How one component of a crawl hands over its writes: the first `after` are done here, the
    rest by the crawl's writer process (started after the component's first START_AFTER, so it has
    imported by the time it takes over); without one, or once it has died, all here. A short crawl
    (a cron run's few pages) never starts a writer: a process costs more to start than its writes
    would. `handed_over` runs here when the writer takes over (the component's own state for it)."""

    def __init__(self, shared: SharedWriter, in_process_only: bool = False, after: int = 0,
                 handed_over: Any = None) -> None:
        self.shared = shared
        self.wanted = not in_process_only
        self.after = after
        self.handed_over = handed_over
        self.writes = 0
        self.standby: WorkerProcess | None = None  # the crawl's writer, once this component holds it
        self.worker: WorkerProcess | None = None  # the same, once it takes the writes
        self._advance()

    @classmethod
    def for_crawl(cls, crawler: Any, shared: SharedWriter, handed_over: Any = None) -> Writes:
        """A component's Writes as the crawl's settings say: SQLITE_WRITER_PROCESS ("auto": where
        there is a core to spare for it) and SQLITE_WRITER_AFTER."""
        settings = crawler.settings
        if settings.get("SQLITE_WRITER_PROCESS") in (None, "", "auto"):
            wanted = (os.cpu_count() or 1) > 1
        else:
            wanted = settings.getbool("SQLITE_WRITER_PROCESS")
        return cls(shared, in_process_only=not wanted, after=settings.getint("SQLITE_WRITER_AFTER"),
                   handed_over=handed_over)

    @property
    def elsewhere(self) -> bool:
        return self.worker is not None

    def _advance(self) -> None:
        if not self.wanted or self.worker is not None:
            return
        if self.standby is None and self.writes >= min(START_AFTER, self.after):
            self.standby = self.shared.acquire()
            self.standby.start_soon()
        if self.standby is not None and self.writes >= self.after:
            self.worker = self.standby
            if self.handed_over is not None:
                self.handed_over()

    async def run(self, function: Any, *args: Any, last: bool = False) -> Any:
        """`function(*args)` where this component's writes go; `last` (a closing call) neither
        counts nor starts a writer."""
        if not last:
            self._advance()
            self.writes += 1
        if self.worker is not None:
            try:
                return await self.worker.call(function, *args)
            except WorkerDied as exc:
                # Done again here: a write the writer made before it died is an upsert (the same
                # row again) or a WARC record kept twice, never a lost one.
                logger.error("The writer process died (%s); writing from the crawler process from now on", exc)
                self.close()
        return function(*args)

    def close(self) -> None:
        """No more writes from this component; the writer ends when the crawl's last one closes."""
        self.wanted = False
        self.worker = None
        if self.standby is not None:
            self.standby = None
            self.shared.release()
