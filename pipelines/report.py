"""A Report from what the stages found: its dates, its word count, or the reason there is none."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scraper.model import ListingEntry, Report
from scraper.text import Byline, title_key, word_count
from scraper.urls import item_id


class CleaningError(ValueError):
    """The page holds no report we can store; the message is the recorded reason."""


class NotK2PageError(CleaningError):
    """A page without K2 item markup that the generic extractor could not use either."""


def report_dates(page_date: str | None, listing: ListingEntry | None,
                  byline: Byline | None) -> tuple[str, str]:
    if page_date:
        return page_date, "item"
    if byline and byline.issue_date:
        return byline.issue_date, "byline"
    if listing and listing.published:
        return listing.published, "listing"
    raise CleaningError("no date: the page has no parsable itemDateCreated, no dated byline and no listing date")


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def finish(url: str, dates: tuple[str, str], body: str, min_words: int, issue_date: str | None,
            **fields: Any) -> Report:
    """The Report, with what every extraction fills the same way; too short a body is refused."""
    if not title_key(fields.get("title")):
        raise CleaningError(f"no title: {fields.get('title')!r} has no word to deduplicate on")
    count = word_count(body)
    if count < min_words:
        raise CleaningError(f"no article text: {count} words of body (fewer than {min_words})")
    published, date_source = dates
    return Report(url=url, item_id=item_id(url), published=published, date_source=date_source,
                  issue_date=issue_date, body=body, word_count=count, **fields)
