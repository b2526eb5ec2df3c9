"""What one crawl's components share: its row in `crawls`, its writer process, why storage failed.

One extension per crawl, reached through the crawler (`CrawlRun.of(crawler)`), instead of stats
keys read back as state or module globals keyed by the crawler's id(): the archive takes the run's
crawl id from here, the storage pipeline and the archive share the writer process through it, and
the first storage fault is kept here (and in the stats, for the record and the verdict).
"""

from __future__ import annotations

import logging
from typing import Any

from pipelines.writer import SharedWriter

logger = logging.getLogger(__name__)


class CrawlRun:
    def __init__(self) -> None:
        self.crawl_id: int | None = None  # set by the monitor when it opens the run's `crawls` row
        self.storage_failure: str | None = None
        self.writer = SharedWriter()

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlRun:
        return cls()

    @classmethod
    def of(cls, crawler: Any) -> CrawlRun:
        """The crawl's run. A crawler made without the project's extensions (a test's) gets one of
        its own, kept on it, so its components still share one."""
        try:
            found = crawler.get_extension(cls)
        except RuntimeError:  # asked before the extensions exist
            found = None
        if found is None:
            found = crawler.__dict__.setdefault("caci_run", cls())
        return found

    def fail_storage(self, reason: str) -> bool:
        """Record the first storage fault; whether this one was the first."""
        if self.storage_failure is not None:
            return False
        self.storage_failure = reason
        return True
