"""Storage: write reports and failures to SQLite through db/, counting what happened."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

import db as store
from analyst.model import DRIFT_PREFIX, PageFailure, Report
from pipelines import stats as stat
from pipelines.crawlrun import CrawlRun
from pipelines.drift import crawl_drift
from pipelines.writer import (
    Writes,
    close_database,
    write_failure,
    write_report,
)

logger = logging.getLogger(__name__)


class SQLitePipeline:
    """Upserts each Report (deduplicated by title + date) and records each PageFailure.

    What came from pages without K2 item markup (generic extractions, and such pages that could
    not be cleaned) is held until the crawl closes: if the crawl judged the site drifted, those
    pages become `failures` whose reason says drift, and no report is written from them.
    """

    def __init__(self, path: str | Path, crawler: Any, drift_rate: float) -> None:
        self.path = Path(path)
        self.crawler = crawler
        self.stats = crawler.stats
        self.drift_rate = drift_rate
        self.db = None
        self.writes: Writes | None = None
        self.held: list[Report | PageFailure] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> SQLitePipeline:
        settings = crawler.settings
        if not settings.getbool("SQLITE_ENABLED"):
            raise NotConfigured("SQLITE_ENABLED is off")
        return cls(settings.get("SQLITE_PATH"), crawler, settings.getfloat("CACI_DRIFT_GENERIC_RATE"))

    def open_spider(self) -> None:
        # Opened here in any case: a database that cannot be used stops the crawl before it
        # starts, and the schema is migrated before the writer process connects.
        self.db = store.open_db(self.path)
        self.writes = Writes.for_crawl(self.crawler, CrawlRun.of(self.crawler).writer,
                                       handed_over=lambda: close_database(str(self.path)))
        logger.info("Storing reports in %s%s", self.path.resolve(),
                    f" (from a writer process after {self.writes.after} writes)" if self.writes.wanted else "")

    async def close_spider(self) -> None:
        if self.db is None:
            return
        if self.failed:
            await self._finish()
            return
        drift = crawl_drift(self.stats.get_stats(), self.drift_rate)
        if self.held:
            logger.info("%d page(s) without K2 item markup: %s", len(self.held),
                        f"recorded as drift ({drift})" if drift else "stored")
        for item in self.held:
            if drift:
                why = item.reason if isinstance(item, PageFailure) else "no K2 item markup"
                await self._store(PageFailure(
                    url=item.url, reason=f"{DRIFT_PREFIX}{drift}; this page: {why}", fetched_at=item.fetched_at,
                    listing_title=getattr(item, "listing_title", None),
                    listing_date=getattr(item, "listing_date", None), k2_markup=False))
                self.stats.inc_value(stat.SQLITE_DRIFT_HELD)
            else:
                await self._store(item)
        self.held = []
        await self._finish()

    async def _finish(self) -> None:
        assert self.writes is not None and self.db is not None
        with contextlib.suppress(Exception):  # closing what could not be written: nothing more to lose
            await self.writes.run(close_database, str(self.path), last=True)
        self.writes.close()
        close_database(str(self.path))  # this process's connection too, if its writes used one
        self.db.close()
        self.db = None

    @property
    def failed(self) -> bool:
        """Whether storage stopped the crawl (then nothing more is written)."""
        return CrawlRun.of(self.crawler).storage_failure is not None

    async def process_item(self, item: Any) -> Any:
        if self.failed:
            return item  # writing is impossible; the next run fetches these pages again
        if isinstance(item, Report) and item.extraction != "k2" or (
                isinstance(item, PageFailure) and item.k2_markup is False):
            self.held.append(item)
            return item
        await self._store(item)
        return item

    async def _store(self, item: Any) -> None:
        """Write one item; a report the store refuses becomes a failure; a store that cannot be
        written at all stops the crawl at once, so the next run (with room) completes the archive."""
        with stop_on_storage_fault(self.crawler, self.path):
            if isinstance(item, Report):
                try:
                    status = await self.writes.run(write_report, str(self.path), item.to_dict())
                except ValueError as exc:  # e.g. a title without a word to deduplicate on
                    item = PageFailure(url=item.url, reason=f"parse: {exc}", fetched_at=item.fetched_at)
                else:
                    self.stats.inc_value(stat.stored(status))
                    logger.debug("%s %s", status, item.url)
                    return
            if isinstance(item, PageFailure):
                await self.writes.run(write_failure, str(self.path), item.url, item.reason,
                                      item.fetched_at or None, item.listing_title, item.listing_date)
                self.stats.inc_value(stat.SQLITE_FAILURES)


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
    reason = f"{path}: {exc}"
    if not CrawlRun.of(crawler).fail_storage(reason):
        return
    crawler.stats.set_value(stat.STORAGE_FAILED, reason)  # for the record and the verdict
    logger.error("Cannot write to storage, stopping the crawl: %s", reason)
    deferred_from_coro(crawler.engine.close_spider_async(reason="storage_failed"))
