"""The cleaning pipeline: each RawPage becomes a Report or a PageFailure, in worker processes."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from scrapy.exceptions import NotConfigured

from pipelines.extract import CleaningError, NotK2PageError, clean_page
from scraper import stats as stat
from scraper.model import PageFailure, RawPage, Report
from scraper.settings import CACI_MIN_BODY_WORDS

logger = logging.getLogger(__name__)


def cleaning_workers(setting: str | int | None) -> int:
    """Worker processes for cleaning: "auto" leaves one core to Scrapy and uses the rest (≤ 2)."""
    if setting in (None, "", "auto"):
        return min(2, (os.cpu_count() or 1) - 1)
    return max(0, int(setting))


def _die_with_parent() -> None:
    """In a cleaning worker: be terminated when the crawler process dies, even by SIGKILL,
    rather than linger (Linux's PR_SET_PDEATHSIG; elsewhere the pool's own shutdown does)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _clean_or_fail(item: RawPage, min_words: int) -> Report | PageFailure:
    """Clean one page; every way it can go wrong becomes a PageFailure with the reason."""
    k2_markup: bool | None = True
    try:
        report = clean_page(item.html, item.url, item.listing, item.fetched_at, min_words, section=item.section)
        report.capture_id = item.capture_id
        return report
    except NotK2PageError as exc:
        reason, k2_markup = f"parse: {exc}", False
    except CleaningError as exc:
        reason = f"parse: {exc}"
    except Exception as exc:  # noqa: BLE001 - a bug must not lose the page: record it instead
        logger.exception("Unexpected error cleaning %s", item.url)
        reason, k2_markup = f"parse: internal error: {type(exc).__name__}: {exc}", None
    listing = item.listing
    return PageFailure(url=item.url, reason=reason, fetched_at=item.fetched_at,
                       listing_title=listing.title if listing else None,
                       listing_date=listing.published if listing else None, k2_markup=k2_markup)


class CleaningPipeline:
    """Turns each RawPage into a Report, or into a PageFailure that says why it could not.

    Cleaning is CPU work (HTML trees); with CACI_CLEANING_WORKERS > 0 it runs in worker
    processes, so parsing pages and fetching the next ones use different cores.
    """

    def __init__(self, stats: Any, min_words: int = CACI_MIN_BODY_WORDS, workers: int = 0) -> None:
        self.stats = stats
        self.min_words = min_words
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CleaningPipeline:
        settings = crawler.settings
        if not settings.getbool("CACI_CLEANING_ENABLED"):
            raise NotConfigured("CACI_CLEANING_ENABLED is off")
        return cls(crawler.stats, settings.getint("CACI_MIN_BODY_WORDS"),
                   cleaning_workers(settings.get("CACI_CLEANING_WORKERS")))

    def open_spider(self) -> None:
        if self.workers:
            # spawn, not fork: the crawler process has threads, and a forked lock can hang.
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_die_with_parent)

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    async def _clean(self, item: RawPage) -> Report | PageFailure:
        if self.pool is None:
            return _clean_or_fail(item, self.min_words)
        try:
            return await asyncio.wrap_future(self.pool.submit(_clean_or_fail, item, self.min_words))
        except BrokenProcessPool:
            logger.error("A cleaning worker died; cleaning in the crawler process from now on")
            self.pool = None
            return _clean_or_fail(item, self.min_words)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawPage):
            return item
        result = await self._clean(item)
        if isinstance(result, PageFailure):
            self.stats.inc_value(stat.CLEANING_FAILED)
            if result.k2_markup is False:
                self.stats.inc_value(stat.CLEANING_FAILED_NO_K2)
            logger.warning("Cannot clean %s: %s", item.url, result.reason)
            return result
        self.stats.inc_value(stat.cleaned(result.extraction))
        if result.date_source != "item":
            self.stats.inc_value(stat.date_from(result.date_source))
            logger.info("%s has no item date; used the %s date %s", item.url,
                        result.date_source, result.published)
        return result
