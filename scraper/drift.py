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
from scrapy.utils.defer import deferred_from_coro

from pipelines import stats as stat
from pipelines.drift import drift_reason

logger = logging.getLogger(__name__)

CLOSE_REASON = "site_drift"


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
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=CLOSE_REASON))
