"""Cleaning in worker processes: one page to a Report or a PageFailure, for the crawl and for reclean.

Kept free of Scrapy and of the database, so a crawl's cleaning worker starts quickly: it imports
this module and the cleaning stages, nothing of the crawler (reclean_page alone reads the archive).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyst.model import ListingEntry, PageFailure, RawPage, Report
from analyst.pages import decode_html
from pipelines.extract import CleaningError, NotK2PageError, clean_page
from pipelines.worker import die_with_parent, lower_priority

if TYPE_CHECKING:
    from db.warc import DamagedRecord

logger = logging.getLogger(__name__)


def cleaning_workers(setting: str | int | None) -> int:
    """Worker processes for cleaning: "auto" leaves one core to Scrapy and uses the rest (≤ 2)."""
    if setting in (None, "", "auto"):
        return min(2, (os.cpu_count() or 1) - 1)
    return max(0, int(setting))


def idle_cleaner() -> None:
    """A crawl's cleaning worker at idle priority: nothing waits on a page's cleaning to fetch the
    next page, but the event loop, when this worker held the core it woke up on, waited for it
    (9-13% of a crawl on two cores: bench/crawl_throughput.py). The writer keeps its priority: the
    loop awaits its capture ids."""
    die_with_parent()
    lower_priority()


def clean_or_fail(item: RawPage, min_words: int) -> Report | PageFailure:
    """Clean one page; every way it can go wrong becomes a PageFailure with the reason."""
    k2_markup: bool | None = True
    try:
        report = clean_page(item.html, item.url, item.listing, item.fetched_at, min_words=min_words,
                            section=item.section)
        report.capture_id = item.capture_id
        return report
    except NotK2PageError as exc:
        reason, k2_markup = f"parse: {exc}", False
    except CleaningError as exc:
        reason = f"parse: {exc}"
    except Exception as exc:  # noqa: BLE001 - a bug must not lose the page: record it instead
        logger.exception("Unexpected error cleaning %s", item.url)
        reason, k2_markup = f"parse: internal error: {type(exc).__name__}: {exc}", None
    listing = item.listing
    return PageFailure(url=item.url, reason=reason, fetched_at=item.fetched_at,
                       listing_title=listing.title if listing else None,
                       listing_date=listing.published if listing else None, k2_markup=k2_markup)


def start_method() -> str:
    """fork where the process has only its main thread, as reclean has when it starts its pool: a
    forked worker is ready in milliseconds with the cleaning modules imported, a spawned one starts
    Python and imports them (~0.3 s). spawn where it has threads: a lock another thread held when
    the process forked is never released in the child."""
    alone = threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
    return "fork" if alone else "spawn"


def cleaning_pool(workers: int, method: str = "spawn") -> ProcessPoolExecutor:
    """reclean's worker processes (the crawl's are pipelines.worker.WorkerProcess: no threads in
    the crawler to serve them)."""
    context = multiprocessing.get_context(method)
    return ProcessPoolExecutor(workers, mp_context=context, initializer=die_with_parent)


def reclean_page(folder: str, min_words: int, job: dict[str, Any]) -> Report | PageFailure | DamagedRecord | None:
    """One archived page cleaned again: a Report, a PageFailure, the damage that stopped it, or
    None where the report's stored row (its `stored` fingerprint) is already exactly what storing
    it would write (most pages of a re-clean: the process that writes then has nothing to do).

    `job` is a row of db.latest_captures: the capture's file and offset, and what the database
    knows of the page's listing (a report's own title and date, the fallbacks it was stored
    with, or what a failure kept of its listing).
    """
    # Imported here: a crawl's cleaning worker never reads the archive, and the db package
    # brings sqlite_utils (~0.1 s of its start-up).
    from db.reports import unchanged
    from db.warc import DamagedRecord, read_response  # noqa: F811 - at run time, not only for the hints

    try:
        # The record must be the one indexed: a damaged index row pointing at another page's
        # record would otherwise rewrite this report with that page.
        response = read_response(Path(folder), job["warc_file"], job["offset"], job["length"],
                                 job.get("capture_url"), job.get("payload_digest"))
    except DamagedRecord as exc:
        return exc
    page = RawPage(url=job["url"], html=decode_html(response.body, response.content_type),
                   fetched_at=job["fetched_at"], status=response.status,
                   listing=ListingEntry(job["url"], job["title"], job["published"]),
                   section=job["category"], capture_id=job["capture_id"])
    result = clean_or_fail(page, min_words)
    if isinstance(result, Report) and unchanged(result.to_dict(), job.get("stored")):
        return None
    return result
