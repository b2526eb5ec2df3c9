"""The crawl's own stat names, each written once: the components that count and the checks that read."""

from __future__ import annotations

# The spider's listing walk and item pages.
LISTING_PAGES = "caci/listing_pages"
LISTING_ITEMS = "caci/listing_items"  # report links in scope on the listing pages walked
LISTING_ITEMS_NEW = "caci/listing_items_new"
LISTING_FAILED = "caci/listing_failed"
LISTING_COMPLETE = "caci/listing_complete"
# Listing pages that showed no report in scope (a server hiccup, links gone off-site): what they
# listed was not fetched, so the walk is not complete whatever else it reached.
LISTING_EMPTY = "caci/listing_empty"
LISTING_EMPTY_URL = "caci/listing_empty_url"  # the first of them
ITEM_PAGES = "caci/item_pages"
SITE_UNREACHABLE = "caci/site_unreachable"
START_FAILED = "caci/start_failed"
OUTCOME = "caci/outcome"  # the verdict's reason, set at close
DRIFT = "caci/drift"  # what the early drift stop found
STORAGE_FAILED = "caci/storage_failed"  # why the database could not be written any more


def incremental_stop(section: str) -> str:
    return f"caci/incremental_stop/{section}"


def listing_position(section: str) -> str:
    """The last listing page the walk of `section` read, "page/of": "2/750"."""
    return f"caci/listing_position/{section}"


# Cleaning outcomes.
CLEANING_FAILED = "cleaning/failed"
CLEANING_FAILED_NO_K2 = "cleaning/failed_no_k2"  # of those, pages without K2 item markup


def cleaned(extraction: str) -> str:
    """Pages cleaned into a report by an extraction: "cleaning/k2", "cleaning/generic"."""
    return f"cleaning/{extraction}"


def date_from(source: str) -> str:
    return f"cleaning/date_from_{source}"


# The WARC archive.
WARC_RECORDS = "warc/responses"
WARC_FILES = "warc/files"


# Storage outcomes.
SQLITE_FAILURES = "sqlite/failures"
SQLITE_DRIFT_HELD = "sqlite/drift_held"


def stored(status: str) -> str:
    """Reports by upsert status: "sqlite/inserted", "sqlite/updated", "sqlite/unchanged", "sqlite/duplicate"."""
    return f"sqlite/{status}"


# Scrapy's own, read by the verdict.
RESPONSES = "downloader/response_count"
REQUESTS = "downloader/request_count"
