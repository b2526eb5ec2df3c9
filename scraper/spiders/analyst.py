"""Spiders: walk the K2 listings of the Analyst's sections, hand every item page on as a RawPage.

`analyst` crawls the sections named by `-a sections=` (default all four); `field_reports` is the
same spider with the Field Reports section (or the listing given as `start_url`) alone.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from analyst.model import ListingEntry, PageFailure, RawPage
from analyst.pages import parse_listing
from analyst.sections import Section, parse_sections, section_for_path
from analyst.urls import SITE_HOSTS, CrawlScope
from pipelines import stats as stat
from scraper.extensions import describe_failure, is_unreachable
from scraper.middlewares import RetryLater
from scraper.preflight import parse_flag
from scraper.progress import CrawlProgress
from scraper.state import CrawlState, CrawlStateExtension

logger = logging.getLogger(__name__)

# Empty listing pages in a row the walk steps over before it gives up (a politeness bound for a
# site that stopped listing anything: the run is incomplete either way).
MAX_EMPTY_IN_A_ROW = 3


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@lru_cache(maxsize=4096)  # a listing page's pager links are mostly the next page's too
def _offset(url: str) -> int:
    return int(parse_qs(urlsplit(url).query).get("start", ["0"])[0])


class AnalystSpider(scrapy.Spider):
    """Incremental by default: each section stops paging once its listing brings nothing new.

    `-a full=1` (or CACI_FULL_CRAWL) walks the whole listings and fetches every report again.
    `-a start_url=` points the crawl at another origin (a mirror); `-a sections=` picks sections.
    """

    name = "analyst"
    default_sections = "all"

    def __init__(self, start_url: str | None = None, full: str | bool = False,
                 sections: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._start_url_arg = start_url
        self._full_arg = parse_flag(full)  # "maybe" is refused, not taken for "no"
        self._sections_arg = sections

    def _scopes(self, start: CrawlScope) -> dict[str, tuple[Section, CrawlScope]]:
        """Each section to crawl, with its scope on the start URL's origin."""
        chosen = parse_sections(self.default_sections if self._sections_arg is None else self._sections_arg)
        return {s.slug: (s, CrawlScope(start.scheme, start.netloc, s.path)) for s in chosen}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> AnalystSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.start_url = spider._start_url_arg or settings.get("CACI_START_URL")
        start = CrawlScope.from_start_url(spider.start_url)
        spider.sections = spider._scopes(start)
        # Scrapy's offsite filter then also stops redirects that would leave the site.
        spider.allowed_domains = sorted({start.host, *SITE_HOSTS})
        spider.full = spider._full_arg or settings.getbool("CACI_FULL_CRAWL")
        spider.stop_after = max(1, settings.getint("CACI_INCREMENTAL_STOP_PAGES"))
        # What the archive holds comes from CrawlStateExtension when the crawl starts.
        spider.known, spider.retry, spider.catch_up = set(), [], False
        spider.stale_pages = dict.fromkeys(spider.sections, 0)
        spider.walked: set[str] = set()  # sections whose listing walk is done
        spider.progress = None
        spider.requested: set[str] = set()
        # Every listing page each section's pagination has shown (an incremental walk's), for a
        # page that shows none of its own (an empty page of a server hiccup).
        spider.pager_seen: dict[str, set[str]] = {slug: set() for slug in spider.sections}
        # Empty listing pages in a row, per section (None until the section's walk has listed a
        # report: a first page that lists none is a broken or redesigned site, not a hiccup).
        spider.empty_in_a_row: dict[str, int | None] = dict.fromkeys(spider.sections)
        return spider

    def in_scope(self, url: str) -> bool:
        """Whether `url` is a listing or item page of a section this crawl covers."""
        return any(scope.item_url(url) or scope.listing_url(url) for _, scope in self.sections.values())

    @property
    def mode(self) -> str:
        return "full" if self.full else "incremental"

    def _request(self, url: str, callback: Any, **kwargs: Any) -> scrapy.Request | None:
        """A request for a page not yet asked for in this run.

        The spider deduplicates itself rather than through Scrapy's dupefilter, whose memory
        (in JOBDIR) outlives a killed run and would then hide the pages that run never got.
        """
        if url in self.requested:
            return None
        self.requested.add(url)
        return scrapy.Request(url, callback=callback, errback=self.on_error, dont_filter=True, **kwargs)

    def _load_state(self) -> None:
        self.progress = self.crawler.get_extension(CrawlProgress)  # None when turned off
        extension = self.crawler.get_extension(CrawlStateExtension)
        state = extension.state if extension is not None else CrawlState()
        self.known = set() if self.full else state.known
        self.retry, self.catch_up = state.retry, state.catch_up

    async def start(self) -> AsyncIterator[Any]:
        self._load_state()
        logger.info("Crawling %s of %s (%s%s; %d reports held; %d failed pages to retry)",
                    ", ".join(self.sections), self.start_url, self.mode,
                    ", catching up after an unfinished walk" if self.catch_up else "",
                    len(self.known), len(self.retry))
        for slug, (_, scope) in self.sections.items():
            yield self._request(scope.listing_url(scope.origin + scope.listing_path), self.parse_listing,
                                meta={"caci_start": True, "caci_listing": True, "caci_section": slug})
        for failure in self.retry:
            # By path on this crawl's origin: the failure may have been met through another.
            path = urlsplit(failure["url"]).path
            for slug, (_, scope) in self.sections.items():
                item_url = scope.item_url(scope.origin + path)
                if item_url and (request := self._item_request(
                        item_url, ListingEntry(item_url, failure["listing_title"], failure["listing_date"]),
                        slug)):
                    yield request

    def _item_request(self, url: str, listing: ListingEntry, section: str) -> scrapy.Request | None:
        return self._request(url, self.parse_item, cb_kwargs={"listing": listing},
                             meta={"caci_section": section})

    def _listing_request(self, url: str, section: str) -> scrapy.Request | None:
        return self._request(url, self.parse_listing, meta={"caci_listing": True, "caci_section": section})

    def _walk_done(self, section: str) -> None:
        self.walked.add(section)
        if self.walked >= set(self.sections):
            self.crawler.stats.set_value(stat.LISTING_COMPLETE, 1)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        section = response.meta["caci_section"]
        scope = self.sections[section][1]
        page = parse_listing(response.text, response.url)
        in_scope = new = 0
        for entry in page.entries:
            url = scope.item_url(entry.url)
            if url is None:
                continue
            in_scope += 1
            if urlsplit(url).path in self.known:
                continue
            new += 1
            if request := self._item_request(url, ListingEntry(url, entry.title, entry.published), section):
                yield request
        stats = self.crawler.stats
        stats.inc_value(stat.LISTING_PAGES)
        stats.inc_value(stat.LISTING_ITEMS, in_scope)
        stats.inc_value(stat.LISTING_ITEMS_NEW, new)
        pages = {u for u in map(scope.listing_url, page.page_links) if u is not None}
        if self.progress is not None:
            self.progress.listing_page(section, response.url, page.position)
        if in_scope:
            self.empty_in_a_row[section] = 0
        elif not self._step_over_empty(response.url, section):
            return
        if self.full:
            for url in sorted(pages):
                if request := self._listing_request(url, section):
                    yield request
            return
        # Incremental: walk page by page, newest first, and stop where the archive is known.
        if in_scope:
            self.stale_pages[section] = 0 if new else self.stale_pages[section] + 1
        if self.stale_pages[section] >= self.stop_after and not self.catch_up:
            at = f"page {page.position[0]} of {page.position[1]}" if page.position else response.url
            logger.info("Stopped %s at %s: nothing new (%d listing page(s) in a row brought no new report)",
                        section, at, self.stale_pages[section])
            stats.set_value(stat.incremental_stop(section), response.url)
            self._walk_done(section)
            return
        here = _offset(response.url)
        self.pager_seen[section] |= pages
        # The next page as this page's pager shows it; a page that shows no pager (an empty one)
        # is stepped over with what earlier pages showed.
        later = [u for u in pages if _offset(u) > here] or [u for u in self.pager_seen[section] if _offset(u) > here]
        later.sort(key=_offset)
        if not later:
            self._walk_done(section)  # the end of the listing
        elif request := self._listing_request(later[0], section):
            yield request

    def _step_over_empty(self, url: str, section: str) -> bool:
        """A listing page that lists no report is not "known ground": what it should have listed was
        not seen, so this run's walk is incomplete (the next walks the whole listing again). Whether
        the walk goes on past it: yes, unless nothing was listed yet or too many were empty."""
        stats = self.crawler.stats
        stats.inc_value(stat.LISTING_EMPTY)
        if not stats.get_value(stat.LISTING_EMPTY_URL):
            stats.set_value(stat.LISTING_EMPTY_URL, url)
        in_a_row = self.empty_in_a_row[section]
        if in_a_row is None or in_a_row + 1 >= MAX_EMPTY_IN_A_ROW:
            logger.warning("Listing page %s links to no report: the walk of %s stops here, incomplete; "
                           "the next run walks the whole listing again", url, section)
            return False
        self.empty_in_a_row[section] = in_a_row + 1
        logger.warning("Listing page %s links to no report: stepping over it; this run's listing walk is "
                       "incomplete and the next run walks the whole listing again", url)
        return True

    def parse_item(self, response: Response, listing: ListingEntry | None = None) -> Iterator[Any]:
        self.crawler.stats.inc_value(stat.ITEM_PAGES)
        section = self.sections[response.meta["caci_section"]][0]
        yield RawPage(url=response.url, html=response.text, fetched_at=_now(), status=response.status,
                      listing=listing, section=section.name, capture_id=response.meta.get("caci_capture_id"))

    def on_error(self, failure: Failure) -> Iterator[Any]:
        if failure.check(RetryLater):
            return  # not a failure: the retry comes back after its pause
        request = failure.request
        reason = describe_failure(failure)
        # A redirect's failure carries the target; the page we asked for is the first URL.
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        if request.meta.get("caci_start"):
            name = stat.SITE_UNREACHABLE if is_unreachable(failure) else stat.START_FAILED
            self.crawler.stats.set_value(name, f"{url}: {reason}")
        if request.meta.get("caci_listing"):
            self.crawler.stats.inc_value(stat.LISTING_FAILED)
        logger.warning("Cannot fetch %s: %s", url, reason)
        listing = request.cb_kwargs.get("listing")
        yield PageFailure(url=url, reason=f"fetch: {reason}", fetched_at=_now(),
                          listing_title=listing.title if listing else None,
                          listing_date=listing.published if listing else None)


class FieldReportsSpider(AnalystSpider):
    """The Field Reports alone: the listing at `start_url` (default CACI_START_URL)."""

    name = "field_reports"

    def _scopes(self, start: CrawlScope) -> dict[str, tuple[Section, CrawlScope]]:
        if self._sections_arg is not None:
            return super()._scopes(start)
        section = section_for_path(start.category_path)
        return {section.slug: (section, start)}
