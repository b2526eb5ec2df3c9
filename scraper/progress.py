"""Where a long crawl is, how much is left, and how it ended: lines a person can read.

At the site's pace (about a request a second) a first crawl of one section is about an hour. Every
CACI_PROGRESS_INTERVAL seconds, and at each listing page, an INFO line says which listing page each
section has reached out of how many (the pagination's own counter or End link: no page size is
assumed), the reports stored so far, and an estimate of what is left at the pace so far. The same
lines go to the terminal, to `scrapy crawl`'s log and to cron's log file.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from pipelines import stats as stat

logger = logging.getLogger(__name__)

T = TypeVar("T")


def counted(items: Iterable[T], total: int, desc: str, unit: str, every: float = 10.0) -> Iterator[T]:
    """`items`, with a progress bar on a terminal (the long work of `reclean` and `export`);
    otherwise a plain log line every `every` seconds."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        yield from tqdm(items, total=total, unit=unit, desc=desc)
        return
    start = last = time.monotonic()
    for done, item in enumerate(items, 1):
        yield item
        now = time.monotonic()
        if now - last >= every:
            last = now
            logger.info("%s: %d/%d %ss (%.0f%%), %.0f %ss/s", desc, done, total, unit, 100 * done / max(total, 1),
                        done / (now - start), unit)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def stored_counts(stats: dict[str, Any]) -> str:
    return (f"new {stats.get(stat.stored('inserted'), 0)}, changed {stats.get(stat.stored('updated'), 0)}, "
            f"failed {stats.get(stat.SQLITE_FAILURES, 0)}")


def estimate(stats: dict[str, Any], positions: dict[str, tuple[int, int]], elapsed: float) -> str | None:
    """What is left and when it should end, at the pace so far; None before there is a pace.

    Left: the requests already queued, and for each section whose page count is known, its
    listing pages still to walk, each with as many new reports as the pages so far brought.
    """
    done = stats.get(stat.RESPONSES, 0)
    if not done or elapsed <= 0:
        return None
    pace = done / elapsed
    queued = max(0, stats.get("scheduler/enqueued", 0) - stats.get("scheduler/dequeued", 0))
    pages = stats.get(stat.LISTING_PAGES, 0)
    per_page = stats.get(stat.LISTING_ITEMS_NEW, 0) / pages if pages else 0
    pages_left = sum(total - page for page, total in positions.values())
    left = queued + pages_left * (1 + per_page)
    ends = datetime.now(UTC) + timedelta(seconds=left / pace)
    return f"~{left:.0f} requests left, ~{_duration(left / pace)} at {pace:.2f} pages/s, ending about {ends:%H:%M} UTC"


class CrawlProgress:
    """Logs the crawl's progress: at each listing page (the spider reports it) and every interval."""

    def __init__(self, crawler: Any, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.positions: dict[str, tuple[int, int]] = {}
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlProgress:
        interval = crawler.settings.getfloat("CACI_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured("CACI_PROGRESS_INTERVAL is 0")
        progress = cls(crawler, interval)
        crawler.signals.connect(progress.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(progress.spider_closed, signal=signals.spider_closed)
        return progress

    def spider_opened(self, spider: Any = None) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.log)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Any = None) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def where(self, section: str) -> str:
        page, total = self.positions.get(section, (0, 0))
        return f"page {page} of {total}" if total else "its first listing page" if not page else f"page {page}"

    def listing_page(self, section: str, url: str, position: tuple[int, int] | None) -> None:
        """A listing page of `section` was read; `position` is (page, of how many) if it says."""
        if position is not None:
            self.positions[section] = position
            self.crawler.stats.set_value(stat.listing_position(section), f"{position[0]}/{position[1]}")
        self.log()

    def line(self) -> str:
        stats = self.crawler.stats.get_stats()
        places = "; ".join(f"{section} listing {self.where(section)}" for section in self.positions)
        places = places or "no listing page counted yet"
        stored = stats.get(stat.stored("inserted"), 0) + stats.get(stat.stored("updated"), 0)
        text = f"Progress: {places}; {stored} reports stored so far ({stored_counts(stats)})"
        if guess := estimate(stats, self.positions, time.monotonic() - self.started):
            text += f"; {guess}"
        return text

    def log(self) -> None:
        logger.info(self.line())
