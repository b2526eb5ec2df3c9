"""Close-time checks of a crawl (site drift, failure rate, nothing fetched) and its run history."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

import db as store
from pipelines import stats as stat
from pipelines.crawlrun import CrawlRun
from pipelines.drift import crawl_drift
from pipelines.storage import stop_on_storage_fault
from scraper.exits import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str  # "finished", or what went wrong ("site drift: ...", "site unreachable: ...")
    exit_code: int

    @property
    def message(self) -> str | None:
        """The last line a user sees: why the crawl failed, or None when it did not."""
        if self.ok:
            return None
        what, _, detail = self.reason.partition(": ")
        if what == "site unreachable":
            return f"the site cannot be reached, nothing was crawled: {detail}"
        if what == "storage failed":
            return (f"the crawl stopped: storage cannot be written ({detail}); pages fetched after that were not "
                    "stored: make room (or fix the file) and run again, the next run completes the archive")
        if what == "site drift":
            return (f"the crawl failed: site drift: {detail}; nothing was stored from those pages "
                    "(they are in `failures`, retried by later runs); check the site with `python -m scraper doctor`")
        if what == "listing incomplete":
            return (f"the listing walk is incomplete: {detail}; the reports listed there were not fetched, "
                    "and the next run walks the whole listing again")
        if what == "start page failed":
            # With several sections the others may have been crawled: say only what failed.
            return f"the start page could not be fetched: {detail}"
        return f"the crawl failed: {self.reason}"


# Below this many item pages a failure rate says little (an incremental run that only retries two
# known-bad pages is not a failed crawl); the failures are recorded and retried all the same.
MIN_PAGES_FOR_RATE = 10


def judge(stats: dict[str, Any], close_reason: str, max_failure_rate: float, drift_generic_rate: float) -> Verdict:
    """What a finished crawl's stats say about it. Pure: the same stats give the same verdict."""
    if unreachable := stats.get(stat.SITE_UNREACHABLE):
        return Verdict(False, f"site unreachable: {unreachable}", EXIT_UNREACHABLE)
    if start_failed := stats.get(stat.START_FAILED):
        return Verdict(False, f"start page failed: {start_failed}", EXIT_UNREACHABLE)
    if storage := stats.get(stat.STORAGE_FAILED):
        return Verdict(False, f"storage failed: {storage}", EXIT_FAILED)
    if drift := crawl_drift(stats, drift_generic_rate):
        return Verdict(False, f"site drift: {drift}", EXIT_FAILED)
    if close_reason != "finished":
        return Verdict(False, close_reason, EXIT_FAILED)
    if empty := stats.get(stat.LISTING_EMPTY):
        return Verdict(False, f"listing incomplete: {empty} listing page(s) showed no report "
                              f"(first {stats.get(stat.LISTING_EMPTY_URL)})", EXIT_FAILED)
    if not stats.get(stat.RESPONSES):
        return Verdict(False, "fetched nothing", EXIT_FAILED)
    items = stats.get(stat.ITEM_PAGES, 0)
    unparsed = stats.get(stat.CLEANING_FAILED, 0)
    failures = stats.get(stat.SQLITE_FAILURES, 0)
    attempted = items + failures - unparsed  # fetched item pages plus fetches that failed
    if attempted >= MIN_PAGES_FOR_RATE and failures / attempted > max_failure_rate:
        return Verdict(False, f"failure rate {failures}/{attempted} above {max_failure_rate:.0%}",
                       EXIT_FAILED)
    return Verdict(True, "finished", EXIT_OK)


class CrawlMonitor:
    """Judges each crawl when it closes, logs what went wrong, and records the run in `crawls`."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.max_failure_rate = settings.getfloat("CACI_MAX_FAILURE_RATE")
        self.drift_generic_rate = settings.getfloat("CACI_DRIFT_GENERIC_RATE")
        self.db_path = Path(settings.get("SQLITE_PATH")) if settings.getbool("SQLITE_ENABLED") else None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlMonitor:
        if not crawler.settings.getbool("CACI_MONITOR_ENABLED"):
            raise NotConfigured("CACI_MONITOR_ENABLED is off")
        monitor = cls(crawler)
        crawler.signals.connect(monitor.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(monitor.spider_closed, signal=signals.spider_closed)
        return monitor

    def spider_opened(self, spider: Any) -> None:
        if self.db_path is None:
            return
        with stop_on_storage_fault(self.crawler, self.db_path):
            database = store.open_db(self.db_path)
            try:
                CrawlRun.of(self.crawler).crawl_id = store.start_crawl(database, getattr(spider, "mode", "full"))
            finally:
                database.close()

    @staticmethod
    def _listing_complete(spider: Any, stats: dict[str, Any], reason: str) -> bool:
        """Whether this run walked the listing as far as it meant to (else the next catches up)."""
        if stats.get(stat.LISTING_FAILED) or stats.get(stat.LISTING_EMPTY) or reason != "finished":
            return False
        return getattr(spider, "mode", "full") == "full" or bool(stats.get(stat.LISTING_COMPLETE))

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        verdict = judge(stats, reason, self.max_failure_rate, self.drift_generic_rate)
        self.crawler.stats.set_value(stat.OUTCOME, verdict.reason)
        if not verdict.ok:
            logger.error("Crawl failed: %s", verdict.reason)
        if CrawlRun.of(self.crawler).crawl_id is None:
            return
        try:
            self._record(spider, stats, verdict, reason)
        except Exception as exc:
            if not store.is_storage_fault(exc):
                raise
            # The run's verdict is in the log and the exit code; the next run walks the listing.
            logger.error("Cannot record this run in `crawls`: %s", exc)

    def _record(self, spider: Any, stats: dict[str, Any], verdict: Verdict, reason: str) -> None:
        database = store.open_db(self.db_path)
        try:
            store.finish_crawl(
                database, CrawlRun.of(self.crawler).crawl_id,
                finished_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
                close_reason=verdict.reason,
                outcome="ok" if verdict.ok else "failed",
                pages_fetched=stats.get(stat.RESPONSES, 0),
                listing_pages=stats.get(stat.LISTING_PAGES, 0),
                item_pages=stats.get(stat.ITEM_PAGES, 0),
                reports_new=stats.get(stat.stored("inserted"), 0),
                reports_updated=stats.get(stat.stored("updated"), 0),
                reports_unchanged=stats.get(stat.stored("unchanged"), 0),
                reports_duplicate=stats.get(stat.stored("duplicate"), 0),
                failures=stats.get(stat.SQLITE_FAILURES, 0),
                requests=stats.get(stat.REQUESTS, 0),
                listing_complete=int(self._listing_complete(spider, stats, reason)),
                stats={k: v for k, v in stats.items()
                       if k.split("/")[0] in ("caci", "cleaning", "sqlite", "downloader", "retry",
                                              "httpcache", "robotstxt", "finish_reason", "elapsed_time_seconds")
                       and "exception_type" not in k},
            )
        finally:
            database.close()


def verdict_of(crawler: Any) -> Verdict:
    """The verdict on a finished crawl, by its settings' limits."""
    stats = crawler.stats.get_stats() if crawler.stats else {}
    settings = crawler.settings
    return judge(stats, stats.get("finish_reason", "finished"), settings.getfloat("CACI_MAX_FAILURE_RATE"),
                 settings.getfloat("CACI_DRIFT_GENERIC_RATE"))


def walk_said(stats: dict[str, Any], complete: bool) -> str:
    """How the listing walk ended, in words: complete, stopped where the archive is known, or not."""
    stops = {key.rsplit("/", 1)[1]: value for key, value in stats.items()
             if key.startswith(stat.incremental_stop(""))}
    if not complete:
        return "listing walk incomplete (the next run walks it all)"
    if stops:
        where = ", ".join(f"{section} at page {stats.get(stat.listing_position(section), '?').replace('/', ' of ')}"
                          for section in stops)
        return f"listing walk stopped where the archive is known ({where})"
    return "listing walk complete"


def summary(crawler: Any, verdict: Verdict) -> str:
    """The run's last line, success included: outcome, reports, failures, the walk, time, database."""
    stats = crawler.stats.get_stats() if crawler.stats else {}
    settings = crawler.settings
    spider = getattr(crawler, "spider", None)
    complete = CrawlMonitor._listing_complete(spider, stats, stats.get("finish_reason", "finished"))
    database = Path(settings.get("SQLITE_PATH")).resolve() if settings.getbool("SQLITE_ENABLED") else "none"
    return (f"{'finished' if verdict.ok else 'failed'}: {stats.get(stat.stored('inserted'), 0)} reports new, "
            f"{stats.get(stat.stored('updated'), 0)} changed, {stats.get(stat.stored('unchanged'), 0)} unchanged, "
            f"{stats.get(stat.SQLITE_FAILURES, 0)} failures; {walk_said(stats, complete)}; "
            f"{stats.get('elapsed_time_seconds', 0):.1f} s; database {database}")
