"""Downloader middlewares: back off before retrying, and never follow a redirect out of scope."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured

logger = logging.getLogger(__name__)


class RetryBackoffMiddleware:
    """Waits base × 2^(n-1) seconds (with jitter, capped) before the n-th retry of a request.

    Scrapy's RetryMiddleware re-sends at once; a struggling server deserves a pause.
    """

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryBackoffMiddleware:
        base = crawler.settings.getfloat("CACI_RETRY_BACKOFF_BASE")
        if base <= 0:
            raise NotConfigured("CACI_RETRY_BACKOFF_BASE is 0")
        return cls(base, crawler.settings.getfloat("CACI_RETRY_BACKOFF_MAX"))

    def delay(self, retry: int) -> float:
        return min(self.cap, self.base * 2 ** (retry - 1)) * random.uniform(1.0, 1.25)

    async def process_request(self, request: Request) -> None:
        retry = request.meta.get("retry_times", 0)
        if retry:
            wait = self.delay(retry)
            logger.debug("Backing off %.1f s before retry %d of %s", wait, retry, request.url)
            await asyncio.sleep(wait)
        return None


class ScopeRedirectMiddleware:
    """Refuses a redirect whose target leaves the crawl's scope (another host or section)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> ScopeRedirectMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("redirect_urls"):
            return None
        spider = self.crawler.spider
        if not hasattr(spider, "in_scope") or spider.in_scope(request.url):
            return None
        if request.url.endswith("/robots.txt"):
            return None
        raise IgnoreRequest(f"redirected out of the crawl's scope to {request.url}")
