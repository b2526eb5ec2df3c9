"""`python -m scraper doctor`: one listing page and one item page per section, parsed and shown.

A minute's check of the live site after a warning (or before a first cron run): for each section
it fetches the first listing page and the newest item it links, politely (robots.txt, the project's
User-Agent, no retries, at most 10 requests), shows what the parser found for every field, and ends
with one verdict line and an exit code: 0 healthy, 1 drift (the markup changed), 3 unreachable.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from twisted.python.failure import Failure

from analyst.model import ListingEntry
from analyst.pages import parse_listing
from analyst.sections import parse_sections
from analyst.urls import CrawlScope
from scraper.exits import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE
from scraper.extensions import describe_failure, is_unreachable

MAX_REQUESTS = 10
FIELDS = ("title", "published", "date_source", "author", "category", "hits", "tags", "countries", "word_count", "extraction")


@dataclass
class Finding:
    """What the parser made of one section's pages."""

    section: str
    listing_url: str
    listing: dict[str, Any] = field(default_factory=dict)
    item_url: str | None = None
    item: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what makes the check fail
    notes: list[str] = field(default_factory=list)  # worth a look, not a failure (a digest has no author)
    unreachable: str | None = None


class DoctorSpider(scrapy.Spider):
    name = "doctor"

    def __init__(self, start_url: str, sections: str, findings: dict[str, Finding], min_words: int,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.min_words = min_words
        start = CrawlScope.from_start_url(start_url)
        self.scopes = {s.slug: (s, CrawlScope(start.scheme, start.netloc, s.path)) for s in parse_sections(sections)}
        self.findings = findings

    async def start(self) -> Any:
        for slug, (_, scope) in self.scopes.items():
            url = scope.origin + scope.listing_path
            self.findings[slug] = Finding(slug, url)
            yield scrapy.Request(url, self.parse_listing, errback=self.failed, cb_kwargs={"slug": slug},
                                 dont_filter=True)

    def parse_listing(self, response: Response, slug: str) -> Any:
        finding, scope = self.findings[slug], self.scopes[slug][1]
        page = parse_listing(response.text, response.url)
        items = [e for e in page.entries if scope.item_url(e.url)]
        pages = [u for u in page.page_links if scope.listing_url(u)]
        first = items[0] if items else None
        finding.listing = {"K2 listing markup": page.is_k2_listing, "report links": len(items),
                           "further listing pages": len(pages),
                           "newest": f"{first.published or '(no date)'}  {first.title or '(no title)'}" if first else None}
        if not page.is_k2_listing:
            finding.problems.append("the listing page has no K2 listing markup (div.itemListView)")
        if first is None:
            finding.problems.append("the listing page links to no report")
            return
        finding.item_url = scope.item_url(first.url)
        yield scrapy.Request(finding.item_url, self.parse_item, errback=self.failed, dont_filter=True,
                             cb_kwargs={"slug": slug, "listing": ListingEntry(finding.item_url, first.title,
                                                                              first.published)})

    def parse_item(self, response: Response, slug: str, listing: ListingEntry) -> None:
        from pipelines.extract import CleaningError, clean_page

        finding = self.findings[slug]
        try:
            report = clean_page(response.text, response.url, listing, min_words=self.min_words,
                                section=self.scopes[slug][0].name)
        except CleaningError as exc:
            finding.problems.append(f"the item page gives no report: {exc}")
            return
        finding.item = {name: getattr(report, name) for name in FIELDS}
        body = " ¶ ".join(report.body.split("\n\n"))
        finding.item["body starts"] = body[:100] + ("…" if len(body) > 100 else "")
        if report.extraction != "k2":
            finding.problems.append("the item page has no K2 item markup (div.itemView)")
        if report.date_source != "item":
            finding.problems.append(f"no item date (span.itemDateCreated); the {report.date_source}'s was used")
        for name in ("author", "hits"):
            if finding.item[name] in (None, ""):
                finding.notes.append(f"no {name} on the item page")

    def failed(self, failure: Failure) -> None:
        slug = failure.request.cb_kwargs["slug"]
        reason = f"{failure.request.url}: {describe_failure(failure)}"
        if is_unreachable(failure):
            self.findings[slug].unreachable = reason
        else:
            self.findings[slug].problems.append(f"cannot fetch {reason}")


def verdict(findings: dict[str, Finding]) -> tuple[int, str]:
    """The exit code and the last line, from what every section showed."""
    if findings and all(f.unreachable for f in findings.values()):
        detail = next(iter(findings.values())).unreachable
        return EXIT_UNREACHABLE, f"caci-field-reports: the site cannot be reached, nothing was crawled: {detail}"
    bad = {slug: f.problems or [f"unreachable: {f.unreachable}"] for slug, f in findings.items()
           if f.problems or f.unreachable}
    if bad:
        return EXIT_FAILED, "doctor: PROBLEM — " + "; ".join(f"{slug}: {', '.join(p)}" for slug, p in bad.items())
    return EXIT_OK, f"doctor: OK — {len(findings)} section(s): listing and item pages parse with K2 markup, every field found"


def show(findings: dict[str, Finding], out: TextIO) -> None:
    for f in findings.values():
        print(f"\n== {f.section}\nlisting  {f.listing_url}", file=out)
        for name, value in f.listing.items():
            print(f"  {name:22} {value}", file=out)
        if f.item_url:
            print(f"item     {f.item_url}", file=out)
        for name, value in f.item.items():
            print(f"  {name:22} {value}", file=out)
        for note in f.notes:
            print(f"  ? {note}", file=out)
        for problem in f.problems:
            print(f"  ! {problem}", file=out)


def run_doctor(settings: Any, start_url: str | None = None, sections: str | None = None,
               out: TextIO = sys.stdout) -> int:
    """Check the live site; print the findings and one verdict line; return the exit code."""
    start_url = start_url or settings.get("CACI_START_URL")
    try:
        CrawlScope.from_start_url(start_url)
        parse_sections(sections or "all")
    except ValueError as exc:
        print(f"caci-field-reports: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # The crawl's politeness (robots.txt, User-Agent, delays), and fresh pages. A check writes
    # nothing: no database, no WARC file, no cache, no folder.
    settings.setdict({"ITEM_PIPELINES": {}, "EXTENSIONS": {"scraper.extensions.QuietNetworkErrors": 0},
                      "SQLITE_ENABLED": False, "CACI_WARC_ENABLED": False,
                      "HTTPCACHE_ENABLED": False, "RETRY_ENABLED": False, "LOG_LEVEL": "ERROR",
                      "LOG_INSTALL_ROOT_HANDLER": False,
                      "CLOSESPIDER_PAGECOUNT": MAX_REQUESTS, "JOBDIR": None}, priority="cmdline")
    findings: dict[str, Finding] = {}
    process = CrawlerProcess(settings)
    process.crawl(DoctorSpider, start_url=start_url, sections=sections or "all", findings=findings,
                  min_words=settings.getint("CACI_MIN_BODY_WORDS"))
    process.start()
    show(findings, out)
    code, line = verdict(findings)
    print(line, file=out if code == EXIT_OK else sys.stderr)
    return code
