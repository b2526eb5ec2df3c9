"""What the crawl already holds: known reports, pages to retry, whether the last walk finished.

Read once from the database when the crawl starts, by this extension (the way scrapy-deltafetch
keeps "seen before" out of the spider); the spider asks it, and only routes requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy.exceptions import NotConfigured

import db as store


@dataclass
class CrawlState:
    known: set[str] = field(default_factory=set)  # URL paths of reports held (and pages given up on)
    retry: list[dict[str, Any]] = field(default_factory=list)  # pages worth another attempt
    catch_up: bool = False  # the last run's listing walk did not finish: walk it all once


class CrawlStateExtension:
    """Reads the crawl state from SQLITE_PATH (an absent file is an empty archive)."""

    def __init__(self, state: CrawlState) -> None:
        self.state = state

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlStateExtension:
        settings = crawler.settings
        if not settings.getbool("SQLITE_ENABLED"):
            raise NotConfigured("SQLITE_ENABLED is off: every crawl starts from an empty archive")
        return cls(read_state(Path(settings.get("SQLITE_PATH")), settings.getint("CACI_MAX_ATTEMPTS")))


def read_state(path: Path, max_attempts: int) -> CrawlState:
    if not path.is_file():
        return CrawlState()
    database = store.open_db(path)
    try:
        known, retry = store.crawl_state(database, max_attempts)
        last = store.last_crawl(database)
    finally:
        database.close()
    # An interrupted walk leaves holes behind the pages it reached: walk the whole listing once
    # (fetching only what is missing) instead of stopping at known pages.
    return CrawlState(known, retry, catch_up=bool(last) and not last["listing_complete"])
