"""Site drift: the site's markup changed under the crawl; judged from the first pages, and it stops.

A redesign or a new CMS makes item pages lose K2's item markup (div.itemView) or listings stop
linking items. Judged early from a few pages, such a crawl closes at once ("site_drift") rather than
filling the archive with generic extractions; the storage pipeline keeps those pages in `failures`
with a reason that says drift, so later runs retry them once the site or the parser is right again.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import _schedule_coro

from scraper import stats as stat

logger = logging.getLogger(__name__)

CLOSE_REASON = "site_drift"
# Below this many cleaned item pages the close-time verdict does not call drift: a lone odd page
# may go through the generic extractor (stored, but never counted as known by incremental runs).
MIN_PAGES_FOR_DRIFT = 2


def drift_reason(stats: dict[str, Any], rate: float, min_pages: int, early: bool = False) -> str | None:
    """What drifted, or None: listings linking no report, or most cleaned item pages not K2.

    Pure, and the one rule for both the early stop (`early`, `min_pages` = CACI_DRIFT_SAMPLE) and
    the verdict at close (`min_pages` = 2). The early stop looks only at pages without K2's item
    markup, which is what would otherwise be stored as junk; at close, K2 pages that mostly could
    not be cleaned (a changed date format, say) count too, and so do listings that link nothing.
    """
    listing_pages = stats.get(stat.LISTING_PAGES, 0)
    if not early and listing_pages and not stats.get(stat.LISTING_ITEMS):
        return f"{listing_pages} listing page(s) linked to no report"
    generic, failed = stats.get(stat.cleaned("generic"), 0), stats.get(stat.CLEANING_FAILED, 0)
    cleaned = stats.get(stat.cleaned("k2"), 0) + generic + failed
    if cleaned < max(1, min_pages):
        return None
    no_k2 = generic + stats.get(stat.CLEANING_FAILED_NO_K2, 0)
    if no_k2 / cleaned > rate:
        return f"{no_k2} of {cleaned} item pages had no K2 item markup (div.itemView)"
    if not early and (generic + failed) / cleaned > rate:
        return f"{generic + failed} of {cleaned} item pages could not be cleaned"
    return None


def crawl_drift(stats: dict[str, Any], rate: float) -> str | None:
    """The finished crawl's drift: what the early stop found, or the close-time rule's verdict."""
    return stats.get(stat.DRIFT) or drift_reason(stats, rate, MIN_PAGES_FOR_DRIFT)


class DriftGuard:
    """Closes the crawl as soon as the first pages show drift (CACI_DRIFT_SAMPLE of them)."""

    def __init__(self, crawler: Any, rate: float, sample: int) -> None:
        self.crawler = crawler
        self.rate = rate
        self.sample = sample
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> DriftGuard:
        settings = crawler.settings
        sample = settings.getint("CACI_DRIFT_SAMPLE")
        if sample <= 0:
            raise NotConfigured("CACI_DRIFT_SAMPLE is 0")
        guard = cls(crawler, settings.getfloat("CACI_DRIFT_GENERIC_RATE"), sample)
        # After each cleaned page, and after each response (a listing page has been parsed by then).
        crawler.signals.connect(guard.check, signal=signals.item_scraped)
        crawler.signals.connect(guard.check, signal=signals.response_received)
        return guard

    def check(self, *args: Any, **kwargs: Any) -> None:
        if self.closing:
            return
        stats = self.crawler.stats
        reason = drift_reason(stats.get_stats(), self.rate, self.sample, early=True)
        if reason is None:
            return
        self.closing = True
        stats.set_value(stat.DRIFT, reason)
        logger.error("Site drift: %s; stopping the crawl, storing nothing from these pages", reason)
        _schedule_coro(self.crawler.engine.close_spider_async(reason=CLOSE_REASON))
