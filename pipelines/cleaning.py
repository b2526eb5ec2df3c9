"""The cleaning pipeline: each RawPage becomes a Report or a PageFailure, in worker processes."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import NotConfigured

from analyst.model import PageFailure, RawPage, Report
from pipelines import stats as stat
from pipelines.worker import WorkerDied, WorkerProcess, die_with_parent
from pipelines.workers import clean_or_fail, cleaning_workers, idle_cleaner

logger = logging.getLogger(__name__)


class CleaningPipeline:
    """Turns each RawPage into a Report, or into a PageFailure that says why it could not.

    Cleaning is CPU work (HTML trees); with CACI_CLEANING_WORKERS > 0 it runs in worker
    processes, so parsing pages and fetching the next ones use different cores, at idle priority
    (CACI_CLEANING_IDLE) so that fetching never waits for cleaning.
    """

    def __init__(self, stats: Any, min_words: int, workers: int, idle: bool) -> None:
        self.stats = stats
        self.min_words = min_words
        self.workers = workers
        self.idle = idle
        self.pool: list[WorkerProcess] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> CleaningPipeline:
        settings = crawler.settings
        if not settings.getbool("CACI_CLEANING_ENABLED"):
            raise NotConfigured("CACI_CLEANING_ENABLED is off")
        return cls(crawler.stats, settings.getint("CACI_MIN_BODY_WORDS"),
                   cleaning_workers(settings.get("CACI_CLEANING_WORKERS")),
                   settings.getbool("CACI_CLEANING_IDLE"))

    def open_spider(self) -> None:
        initializer = idle_cleaner if self.idle else die_with_parent
        self.pool = [WorkerProcess(initializer, "caci-cleaner") for _ in range(self.workers)]
        for worker in self.pool:
            worker.start_soon()  # importing while the first pages are fetched

    def close_spider(self) -> None:
        for worker in self.pool:
            worker.close()
        self.pool = []

    async def _clean(self, item: RawPage) -> Report | PageFailure:
        if not self.pool:
            return clean_or_fail(item, self.min_words)
        worker = min(self.pool, key=lambda w: len(w.pending))  # the least busy
        try:
            return await worker.call(clean_or_fail, item, self.min_words)
        except WorkerDied as exc:
            if self.pool:  # said once, by the first of the pages the dead worker had
                logger.error("A cleaning worker died (%s); cleaning in the crawler process from now on", exc)
                for other in self.pool:
                    other.close()
                self.pool = []
            return clean_or_fail(item, self.min_words)

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
