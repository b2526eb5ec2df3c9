"""Storage: write reports and failures to SQLite through db/, counting what happened."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy.exceptions import NotConfigured

import db as store
from scraper.drift import crawl_drift
from scraper.model import DRIFT_PREFIX, PageFailure, Report
from scraper import stats as stat

logger = logging.getLogger(__name__)



class SQLitePipeline:
    """Upserts each Report (deduplicated by title + date) and records each PageFailure.

    What came from pages without K2 item markup (generic extractions, and such pages that could
    not be cleaned) is held until the crawl closes: if the crawl judged the site drifted, those
    pages become `failures` whose reason says drift, and no report is written from them.
    """

    def __init__(self, path: str | Path, stats: Any, drift_rate: float = 0.5) -> None:
        self.path = Path(path)
        self.stats = stats
        self.drift_rate = drift_rate
        self.db = None
        self.held: list[Report | PageFailure] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> SQLitePipeline:
        settings = crawler.settings
        if not settings.getbool("SQLITE_ENABLED"):
            raise NotConfigured("SQLITE_ENABLED is off")
        return cls(settings.get("SQLITE_PATH"), crawler.stats, settings.getfloat("CACI_DRIFT_GENERIC_RATE"))

    def open_spider(self) -> None:
        self.db = store.open_db(self.path)
        logger.info("Storing reports in %s", self.path.resolve())

    def close_spider(self) -> None:
        if self.db is None:
            return
        drift = crawl_drift(self.stats.get_stats(), self.drift_rate)
        if self.held:
            logger.info("%d page(s) without K2 item markup: %s", len(self.held),
                        f"recorded as drift ({drift})" if drift else "stored")
        for item in self.held:
            if drift:
                why = item.reason if isinstance(item, PageFailure) else "no K2 item markup"
                self._store(PageFailure(
                    url=item.url, reason=f"{DRIFT_PREFIX}{drift}; this page: {why}", fetched_at=item.fetched_at,
                    listing_title=getattr(item, "listing_title", None),
                    listing_date=getattr(item, "listing_date", None), k2_markup=False))
                self.stats.inc_value(stat.SQLITE_DRIFT_HELD)
            else:
                self._store(item)
        self.held = []
        self.db.close()
        self.db = None

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Report) and item.extraction != "k2" or (
                isinstance(item, PageFailure) and item.k2_markup is False):
            self.held.append(item)
            return item
        self._store(item)
        return item

    def _store(self, item: Any) -> None:
        if isinstance(item, Report):
            status = store.upsert_report(self.db, item.to_dict())
            self.stats.inc_value(stat.stored(status))
            logger.debug("%s %s", status, item.url)
        elif isinstance(item, PageFailure):
            store.record_failure(self.db, item.url, item.reason, item.fetched_at or None,
                                 item.listing_title, item.listing_date)
            self.stats.inc_value(stat.SQLITE_FAILURES)
