"""Downloader middlewares: retry after a pause the server can ask for, never follow a redirect out of scope."""

from __future__ import annotations

import logging
import random
import time
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import DontCloseSpider, IgnoreRequest, NotConfigured
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from scrapy.utils.asyncio import call_later
from scrapy.utils.response import response_status_message

from scraper.compat import hold_host_delay

logger = logging.getLogger(__name__)


class RetryLater(IgnoreRequest):
    """The request failed transiently and was scheduled again after a pause: not a failure yet."""


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """A Retry-After header's wait in seconds: delta-seconds or an HTTP date; None if absent or bad."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryBackoffMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, but a retry waits: base × 2^(n-1) s (jittered, capped), or what
    the server asks in Retry-After on 429/503 (up to CACI_RETRY_AFTER_MAX), whichever is longer.

    The wait happens outside the downloader: the failed request leaves it at once and its retry
    is put back into the crawl when the time comes, so other pages go on being fetched meanwhile
    and a sleeping retry never holds one of the few concurrent request slots.
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("CACI_RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("CACI_RETRY_BACKOFF_MAX")
        self.retry_after_max = settings.getfloat("CACI_RETRY_AFTER_MAX")
        self.waiting = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryBackoffMiddleware:
        middleware = super().from_crawler(crawler)
        crawler.signals.connect(middleware.keep_open_while_waiting, signal=signals.spider_idle)
        return middleware

    def delay(self, retry: int, response: Response | None = None) -> float:
        wait = min(self.cap, self.base * 2 ** (retry - 1)) * random.uniform(1.0, 1.25) if self.base > 0 else 0.0
        if response is not None and response.status in (429, 503):
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            if asked is not None:
                wait = max(wait, min(asked, self.retry_after_max))
        return wait

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self.retry_request(request, response_status_message(response.status))
        return response if retry is None else self._later(retry, self.delay(retry.meta["retry_times"], response))

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Request | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self.retry_request(request, exception)
        return None if retry is None else self._later(retry, self.delay(retry.meta["retry_times"]))

    def retry_request(self, request: Request, reason: str | Exception) -> Request | None:
        """The next attempt, or None once RETRY_TIMES are used up: Scrapy's public
        get_retry_request, with the request's own limits where its meta sets them."""
        return get_retry_request(
            request, reason=reason, spider=self.crawler.spider,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust))

    def _later(self, retry: Request, wait: float) -> Request:
        if wait <= 0:
            return retry
        self.waiting += 1
        logger.info("Retry %d of %s in %.1f s", retry.meta["retry_times"], retry.url, wait)
        call_later(wait, self._send, retry)
        raise RetryLater(f"retry {retry.meta['retry_times']} of {retry.url} in {wait:.1f} s")

    def _send(self, retry: Request) -> None:
        self.waiting -= 1
        if self.crawler.engine is not None and self.crawler.engine.spider is not None:
            self.crawler.engine.crawl(retry)

    def keep_open_while_waiting(self) -> None:
        if self.waiting:
            raise DontCloseSpider


class CrawlDelayMiddleware:
    """Honours robots.txt's Crawl-delay: at least that long between two requests to the host.

    Scrapy reads robots.txt (Protego) but only for allow/disallow. Here the delay it asks for
    becomes the floor of the host's download slot, without the ±50 % jitter (which would halve
    it), and of AutoThrottle's delay (which would otherwise lower it again); it is logged once.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.applied: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlDelayMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured("ROBOTSTXT_OBEY is off")
        return cls(crawler)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return None
        robots = self.crawler.get_downloader_middleware(RobotsTxtMiddleware)
        parser = await robots.robot_parser(request) if robots is not None else None
        crawl_delay = getattr(parser, "crawl_delay", None)
        delay = crawl_delay(request.headers.get(b"User-Agent") or b"*") if crawl_delay else None
        if delay:
            self._apply(request, float(delay))
        return None

    def _apply(self, request: Request, delay: float) -> None:
        key = self.crawler.engine.downloader.get_slot_key(request)
        if self.applied.get(key) == delay:
            return
        self.applied[key] = delay
        hold_host_delay(self.crawler, request, delay)
        if throttle := self.crawler.get_extension(AutoThrottle):
            throttle.mindelay = max(throttle.mindelay, delay)
        logger.info("robots.txt asks for a Crawl-delay of %.1f s: waiting at least that long between requests to %s",
                    delay, key)


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
