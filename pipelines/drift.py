"""The site-drift rule: listings that link no report, or item pages without K2's markup. Pure, for
the early stop (scraper/drift.py), the verdict at close and the storage pipeline alike."""

from __future__ import annotations

from typing import Any

from pipelines import stats as stat

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
