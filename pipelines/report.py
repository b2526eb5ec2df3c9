"""A Report from what the stages found: its dates, its word count, or the reason there is none."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from analyst.countries import countries_of, lead_of
from analyst.model import ListingEntry, Report
from analyst.text import Byline, title_key, word_count
from analyst.urls import item_id

logger = logging.getLogger(__name__)

# The Analyst's first issue appeared in 1999: an earlier date is a template's placeholder or a typo
# ("0001", "9999"), not a report's.
FIRST_YEAR = 1999


class CleaningError(ValueError):
    """The page holds no report we can store; the message is the recorded reason."""


class NotK2PageError(CleaningError):
    """A page without K2 item markup that the generic extractor could not use either."""


def plausible(iso: str | None, today: date) -> bool:
    """Whether `iso` (YYYY-MM-DD) can be a report's date: from 1999 to tomorrow (a report dated in
    the site's time zone may be a day ahead of ours)."""
    if not iso:
        return False
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return False
    return day.year >= FIRST_YEAR and day <= today + timedelta(days=1)


def report_dates(page_date: str | None, listing: ListingEntry | None,
                 byline: Byline | None, today: date | None = None) -> tuple[str, str]:
    """The report's date and where it came from (item page, byline, listing), the first of them
    that is a plausible date; an impossible one is logged and passed over like a missing one."""
    today = today or datetime.now(UTC).date()
    candidates = (("item", page_date), ("byline", byline.issue_date if byline else None),
                  ("listing", listing.published if listing else None))
    for source, value in candidates:
        if not value:
            continue
        if plausible(value, today):
            return value, source
        logger.warning("Impossible %s date %s (before %d or after tomorrow): not used", source, value, FIRST_YEAR)
    raise CleaningError("no date: the page has no plausible itemDateCreated, no dated byline and no listing date")


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def finish(url: str, dates: tuple[str, str], body: str, min_words: int, issue_date: str | None,
            **fields: Any) -> Report:
    """The Report, with what every extraction fills the same way (dates, words, countries); too
    short a body is refused."""
    if not title_key(fields.get("title")):
        raise CleaningError(f"no title: {fields.get('title')!r} has no word to deduplicate on")
    count = word_count(body)
    if count < min_words:
        raise CleaningError(f"no article text: {count} words of body (fewer than {min_words})")
    published, date_source = dates
    # From the cleaned title, lead and tags only: the page around the article is gone by now.
    countries = countries_of(fields["title"], lead_of(body), fields.get("tags") or [])
    return Report(url=url, item_id=item_id(url), published=published, date_source=date_source,
                  issue_date=issue_date, body=body, word_count=count, countries=countries, **fields)
