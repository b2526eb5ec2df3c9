"""Storage: write reports and failures to SQLite through db/, counting what happened."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import _schedule_coro

import db as store
from scraper import stats as stat
from scraper.drift import crawl_drift
from scraper.model import DRIFT_PREFIX, PageFailure, Report

logger = logging.getLogger(__name__)


class SQLitePipeline:
    """Upserts each Report (deduplicated by title + date) and records each PageFailure.

    What came from pages without K2 item markup (generic extractions, and such pages that could
    not be cleaned) is held until the crawl closes: if the crawl judged the site drifted, those
    pages become `failures` whose reason says drift, and no report is written from them.

    The database is written from a thread of the pipeline's own (the connection lives there): the
    crawl goes on while SQLite writes, and a write that waits for another writer's lock delays
    storage, not the downloads. Counting and stopping stay in the crawl's thread.
    """

    def __init__(self, path: str | Path, crawler: Any, drift_rate: float) -> None:
        self.path = Path(path)
        self.crawler = crawler
        self.stats = crawler.stats
        self.drift_rate = drift_rate
        self.db = None
        self.thread: ThreadPoolExecutor | None = None
        self.held: list[Report | PageFailure] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> SQLitePipeline:
        settings = crawler.settings
        if not settings.getbool("SQLITE_ENABLED"):
            raise NotConfigured("SQLITE_ENABLED is off")
        return cls(settings.get("SQLITE_PATH"), crawler, settings.getfloat("CACI_DRIFT_GENERIC_RATE"))

    def open_spider(self) -> None:
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="caci-sqlite")
        self.db = self.thread.submit(store.open_db, self.path).result()
        logger.info("Storing reports in %s", self.path.resolve())

    def close_spider(self) -> None:
        if self.db is None or self.thread is None:
            return
        if not self.failed:
            self._store_held()
        self.thread.submit(self.db.close).result()
        self.thread.shutdown()
        self.db, self.thread = None, None

    def _store_held(self) -> None:
        drift = crawl_drift(self.stats.get_stats(), self.drift_rate)
        if self.held:
            logger.info("%d page(s) without K2 item markup: %s", len(self.held),
                        f"recorded as drift ({drift})" if drift else "stored")
        for item in self.held:
            if drift:
                why = item.reason if isinstance(item, PageFailure) else "no K2 item markup"
                item = PageFailure(
                    url=item.url, reason=f"{DRIFT_PREFIX}{drift}; this page: {why}", fetched_at=item.fetched_at,
                    listing_title=getattr(item, "listing_title", None),
                    listing_date=getattr(item, "listing_date", None), k2_markup=False)
                self.stats.inc_value(stat.SQLITE_DRIFT_HELD)
            assert self.thread is not None
            with stop_on_storage_fault(self.crawler, self.path):
                self._count(item, self.thread.submit(self._write, item).result())
        self.held = []

    @property
    def failed(self) -> bool:
        """Whether storage stopped the crawl (then nothing more is written)."""
        return bool(self.stats.get_value(stat.STORAGE_FAILED))

    async def process_item(self, item: Any) -> Any:
        if self.failed or self.thread is None or not isinstance(item, (Report, PageFailure)):
            return item  # failed: writing is impossible; the next run fetches these pages again
        if isinstance(item, Report) and item.extraction != "k2" or (
                isinstance(item, PageFailure) and item.k2_markup is False):
            self.held.append(item)
            return item
        # A store that cannot be written at all stops the crawl at once, so the next run (with
        # room) completes the archive.
        with stop_on_storage_fault(self.crawler, self.path):
            self._count(item, await asyncio.wrap_future(self.thread.submit(self._write, item)))
        return item

    def _write(self, item: Report | PageFailure) -> str:
        """In the storage thread: write one item; the upsert's status, or "failure". A report the
        store refuses (e.g. a title without a word to deduplicate on) becomes a failure."""
        if isinstance(item, Report):
            try:
                return store.upsert_report(self.db, item.to_dict())
            except ValueError as exc:
                item = PageFailure(url=item.url, reason=f"parse: {exc}", fetched_at=item.fetched_at)
        store.record_failure(self.db, item.url, item.reason, item.fetched_at or None,
                             item.listing_title, item.listing_date)
        return "failure"

    def _count(self, item: Report | PageFailure, status: str) -> None:
        if status == "failure":
            self.stats.inc_value(stat.SQLITE_FAILURES)
        else:
            self.stats.inc_value(stat.stored(status))
            logger.debug("%s %s", status, item.url)


@contextlib.contextmanager
def stop_on_storage_fault(crawler: Any, path: Path) -> Iterator[None]:
    """Around a write: if storage cannot be written at all, stop the crawl instead of raising."""
    try:
        yield
    except Exception as exc:
        if not store.is_storage_fault(exc):
            raise
        stop_for_storage(crawler, path, exc)


def stop_for_storage(crawler: Any, path: Path, exc: BaseException) -> None:
    """Writing is impossible (disk full, read-only, I/O error): say so once and stop the crawl."""
    if crawler.stats.get_value(stat.STORAGE_FAILED):
        return
    reason = f"{path}: {exc}"
    crawler.stats.set_value(stat.STORAGE_FAILED, reason)
    logger.error("Cannot write to storage, stopping the crawl: %s", reason)
    _schedule_coro(crawler.engine.close_spider_async(reason="storage_failed"))
