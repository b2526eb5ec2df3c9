"""The close-time verdict of a crawl, from its stats alone."""

from __future__ import annotations

import pytest

from scraper.exits import EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE
from scraper.monitor import judge
from scraper.settings import CACI_DRIFT_GENERIC_RATE as DRIFT
from scraper.settings import CACI_MAX_FAILURE_RATE as RATE

HEALTHY = {"downloader/response_count": 40, "caci/listing_pages": 5, "caci/listing_items": 20,
           "caci/item_pages": 20, "cleaning/k2": 20, "sqlite/inserted": 20}


@pytest.mark.parametrize("change,reason,code", [
    ({}, "finished", EXIT_OK),
    ({"caci/site_unreachable": "u: DNS"}, "site unreachable: u: DNS", EXIT_UNREACHABLE),
    ({"caci/start_failed": "u: HTTP 404"}, "start page failed: u: HTTP 404", EXIT_UNREACHABLE),
    ({"downloader/response_count": 0}, "fetched nothing", EXIT_FAILED),
    ({"caci/listing_items": 0}, "site drift: 5 listing page(s) linked to no report", EXIT_FAILED),
    ({"cleaning/generic": 15, "cleaning/k2": 5},
     "site drift: 15 of 20 item pages had no K2 item markup (div.itemView)", EXIT_FAILED),
    ({"cleaning/failed": 11, "cleaning/k2": 9}, "site drift: 11 of 20 item pages could not be cleaned", EXIT_FAILED),
    ({"cleaning/generic": 1, "cleaning/k2": 0}, "finished", EXIT_OK),  # a lone odd page is no drift
    ({"caci/drift": "5 of 5 item pages had no K2 item markup (div.itemView)"},
     "site drift: 5 of 5 item pages had no K2 item markup (div.itemView)", EXIT_FAILED),
    ({"sqlite/failures": 25}, "failure rate 25/45 above 50%", EXIT_FAILED),
    ({"caci/item_pages": 2, "sqlite/failures": 3}, "finished", EXIT_OK),  # too few pages to judge a rate
])
def test_judge(change, reason, code):
    verdict = judge(HEALTHY | change, "finished", RATE, DRIFT)
    assert (verdict.reason, verdict.exit_code, verdict.ok) == (reason, code, code == EXIT_OK)


def test_a_shutdown_is_a_failed_run_with_its_reason():
    verdict = judge(HEALTHY, "shutdown", RATE, DRIFT)
    assert (verdict.ok, verdict.reason, verdict.message) == (False, "shutdown", "the crawl failed: shutdown")


def test_messages_say_what_failed():
    assert judge({"caci/site_unreachable": "u: refused"}, "finished", RATE, DRIFT).message == \
        "the site cannot be reached, nothing was crawled: u: refused"
    assert judge(HEALTHY | {"caci/start_failed": "u: HTTP 404"}, "finished", RATE, DRIFT).message == \
        "the start page could not be fetched: u: HTTP 404"
    assert judge(HEALTHY, "finished", RATE, DRIFT).message is None


def test_drift_closes_with_its_reason_and_says_what_to_do():
    """The early stop closes the crawl as "site_drift"; the verdict names the drift, not the close."""
    verdict = judge(HEALTHY | {"caci/drift": "5 of 5 item pages had no K2 item markup"}, "site_drift", RATE, DRIFT)
    assert (verdict.ok, verdict.exit_code) == (False, EXIT_FAILED)
    assert verdict.reason == "site drift: 5 of 5 item pages had no K2 item markup"
    assert verdict.message.startswith("the crawl failed: site drift: 5 of 5 item pages had no K2 item markup;")
    assert "python -m scraper doctor" in verdict.message


def test_thresholds_are_settings():
    stats = HEALTHY | {"sqlite/failures": 5}
    assert judge(stats, "finished", 0.5, DRIFT).ok
    assert not judge(stats, "finished", 0.1, DRIFT).ok
