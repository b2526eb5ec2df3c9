"""Storage: write reports and failures to SQLite through db/, counting what happened."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy.exceptions import NotConfigured

import db as store
from scraper.items import PageFailure, Report

logger = logging.getLogger(__name__)

DEFAULT_SQLITE_PATH = "data/caci.db"


class SQLitePipeline:
    """Upserts each Report (deduplicated by title + date) and records each PageFailure."""

    def __init__(self, path: str | Path, stats: Any) -> None:
        self.path = Path(path)
        self.stats = stats
        self.db = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> SQLitePipeline:
        settings = crawler.settings
        if not settings.getbool("SQLITE_ENABLED", True):
            raise NotConfigured("SQLITE_ENABLED is off")
        path = settings.get("SQLITE_PATH") or DEFAULT_SQLITE_PATH
        return cls(path, crawler.stats)

    def open_spider(self) -> None:
        self.db = store.open_db(self.path)
        logger.info("Storing reports in %s", self.path.resolve())

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Report):
            status = store.upsert_report(self.db, item.to_dict())
            self.stats.inc_value(f"sqlite/{status}")
            logger.debug("%s %s", status, item.url)
        elif isinstance(item, PageFailure):
            store.record_failure(self.db, item.url, item.reason, item.fetched_at or None,
                                 item.listing_title, item.listing_date)
            self.stats.inc_value("sqlite/failures")
        return item
