"""Report dates: an impossible date on the item page is passed over for the byline's or the listing's."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from analyst.model import ListingEntry
from analyst.text import Byline
from pipelines.extract import CleaningError, clean_page
from pipelines.report import report_dates
from tests.conftest import MIN_WORDS, fixture_html

URL = "https://www.cacianalyst.org/publications/field-reports/item/7101-x.html"
TODAY = date(2026, 12, 3)


@pytest.mark.parametrize("shown", ["Friday, 31 December 9999 00:00", "Monday, 01 January 0001 00:00",
                                   "Saturday, 14 March 1998 00:00"])
def test_an_impossible_item_date_falls_back_to_the_byline(shown, caplog):
    html = fixture_html("item-7101.html").replace("Wednesday, 22 October 2003 00:00", shown)
    assert shown in html
    with caplog.at_level(logging.WARNING):
        report = clean_page(html, URL, ListingEntry(URL, "T", "2003-10-21"), min_words=MIN_WORDS)
    assert (report.published, report.date_source) == ("2003-10-22", "byline")  # the byline agrees
    assert "Impossible item date" in caplog.text


@pytest.mark.parametrize(("page", "byline", "listing", "expected"), [
    ("2003-10-22", None, None, ("2003-10-22", "item")),
    ("9999-12-31", "2003-10-20", "2003-10-21", ("2003-10-20", "byline")),
    ("0001-01-01", None, "2003-10-21", ("2003-10-21", "listing")),
    ("2026-12-04", None, "2003-10-21", ("2026-12-04", "item")),  # tomorrow: the site's time zone
    ("2026-12-05", None, "2003-10-21", ("2003-10-21", "listing")),
    ("1999-01-01", None, None, ("1999-01-01", "item")),
    ("1998-12-31", None, "1998-12-30", None),  # nothing plausible: no date at all
])
def test_report_dates_takes_the_first_plausible(page, byline, listing, expected):
    entry = ListingEntry(URL, "T", listing) if listing else None
    by = Byline(["A"], byline) if byline else None
    if expected is None:
        with pytest.raises(CleaningError, match="no date"):
            report_dates(page, entry, by, TODAY)
    else:
        assert report_dates(page, entry, by, TODAY) == expected
