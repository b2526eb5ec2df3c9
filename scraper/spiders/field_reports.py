"""The field_reports spider: walks the K2 listing and hands every report page on as a RawPage."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from scraper.items import PageFailure, RawPage
from scraper.pages import ListingEntry, parse_listing
from scraper.urls import SITE_HOSTS, CrawlScope
from scraper.extensions import describe_failure, is_unreachable

logger = logging.getLogger(__name__)

UNREACHABLE_STAT = "caci/site_unreachable"
START_FAILED_STAT = "caci/start_failed"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class FieldReportsSpider(scrapy.Spider):
    name = "field_reports"

    def __init__(self, start_url: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._start_url_arg = start_url

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> FieldReportsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.start_url = spider._start_url_arg or crawler.settings.get("CACI_START_URL")
        spider.scope = CrawlScope.from_start_url(spider.start_url)
        # Scrapy's offsite filter then also stops redirects that would leave the site.
        spider.allowed_domains = sorted({spider.scope.host, *SITE_HOSTS})
        return spider

    async def start(self) -> AsyncIterator[Any]:
        url = self.scope.listing_url(self.start_url)
        logger.info("Crawling %s (staying on %s)", url, self.scope.origin)
        yield scrapy.Request(url, callback=self.parse_listing, errback=self.on_error,
                             meta={"caci_start": True})

    def parse_listing(self, response: Response) -> Iterator[Any]:
        page = parse_listing(response.text, response.url)
        items = 0
        for entry in page.entries:
            url = self.scope.item_url(entry.url)
            if url is None:
                continue
            items += 1
            yield scrapy.Request(url, callback=self.parse_item, errback=self.on_error,
                                 cb_kwargs={"listing": ListingEntry(url, entry.title, entry.published)})
        for link in page.page_links:
            url = self.scope.listing_url(link)
            if url is not None:
                yield scrapy.Request(url, callback=self.parse_listing, errback=self.on_error)
        self.crawler.stats.inc_value("caci/listing_pages")
        self.crawler.stats.inc_value("caci/listing_items", items)
        if items == 0:
            logger.warning("Listing page %s links to no report", response.url)

    def parse_item(self, response: Response, listing: ListingEntry | None = None) -> Iterator[Any]:
        self.crawler.stats.inc_value("caci/item_pages")
        yield RawPage(url=response.url, html=response.text, fetched_at=_now(),
                      status=response.status, listing=listing)

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request
        reason = describe_failure(failure)
        if request.meta.get("caci_start"):
            stat = UNREACHABLE_STAT if is_unreachable(failure) else START_FAILED_STAT
            self.crawler.stats.set_value(stat, f"{request.url}: {reason}")
        logger.warning("Cannot fetch %s: %s", request.url, reason)
        yield PageFailure(url=request.url, reason=f"fetch: {reason}", fetched_at=_now())
