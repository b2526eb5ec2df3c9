"""Progress a person can read during a long crawl, and every run's last line."""

from __future__ import annotations

import re

import pytest

from sample.server import SiteServer
from scraper.progress import estimate
from tests.conftest import SITE, run_crawl

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out

LISTING = "/publications/field-reports.html"


def test_a_slow_crawl_says_where_it_is_how_much_is_left_and_what_it_stored(tmp_path):
    db_path = tmp_path / "caci.db"
    with SiteServer(SITE, delay=0.1) as server:
        result = run_crawl(server.url + LISTING, db_path, "-s", "CACI_PROGRESS_INTERVAL=0.5")
    assert result.returncode == 0, result.stderr[-3000:]
    progress = [line for line in result.stderr.splitlines() if "Progress: " in line]
    assert any("field-reports listing page 2 of 6" in line for line in progress)
    assert any(re.search(r"~\d+ requests left, ~\d+ s at [\d.]+ pages/s, ending about \d\d:\d\d UTC", line)
               for line in progress)
    last = result.stderr.strip().splitlines()[-1]
    assert last == (f"caci-field-reports: finished: 24 reports new, 0 changed, 0 unchanged, 2 failures; "
                    f"listing walk complete; {last.split('; ')[2]}; database {db_path}")
    assert re.fullmatch(r"[\d.]+ s", last.split("; ")[2])
    assert "'downloader/request_count'" not in result.stderr  # no stats dump: they are in `crawls`

    with SiteServer(SITE) as server:  # nothing new: says where it stopped, and why
        again = run_crawl(server.url + LISTING, db_path)
    assert "Stopped field-reports at page 1 of 6: nothing new" in again.stderr
    assert again.stderr.strip().splitlines()[-1].startswith(
        "caci-field-reports: finished: 0 reports new, 0 changed, 0 unchanged, 2 failures; "
        "listing walk stopped where the archive is known (field-reports at page 1 of 6); ")


def test_a_failed_run_says_what_it_stored_then_why_it_failed(archive, tmp_path):
    site, _ = archive
    (site / "listing-2.html").write_text((site / "listing-1.html").read_text().replace("catItemView", "x"))
    with SiteServer(site) as server:
        result = run_crawl(server.url + LISTING, tmp_path / "caci.db")
    summary, reason = result.stderr.strip().splitlines()[-2:]
    assert summary.startswith("caci-field-reports: failed: 8 reports new, 0 changed, 0 unchanged, 0 failures; "
                              "listing walk incomplete (the next run walks it all); ")
    assert reason.startswith("caci-field-reports: the listing walk is incomplete")


@pytest.mark.parametrize("stats, positions, elapsed, left", [
    ({}, {}, 10.0, None),  # nothing fetched yet: no pace, no estimate
    # 10 pages in 10 s; 2 listing pages brought 8 new reports: 4 pages left × (1 + 4) + 3 queued
    ({"downloader/response_count": 10, "caci/listing_pages": 2, "caci/listing_items_new": 8,
      "scheduler/enqueued": 13, "scheduler/dequeued": 10}, {"field-reports": (2, 6)}, 10.0, "~23 requests left, ~23 s"),
    ({"downloader/response_count": 3600, "caci/listing_pages": 100, "caci/listing_items_new": 400},
     {"field-reports": (100, 750), "news-digest": (1, 2)}, 3600.0, "~3255 requests left, ~54 min"),
])
def test_estimate_from_the_pace_so_far(stats, positions, elapsed, left):
    found = estimate(stats, positions, elapsed)
    assert (found is None) if left is None else found.startswith(left)


def test_counted_work_off_a_terminal_is_logged_and_every_item_passes(caplog):
    """reclean's and export's progress: off a terminal (cron, a pipe) a log line, not a bar."""
    import logging

    from scraper.progress import counted

    with caplog.at_level(logging.INFO, logger="scraper.progress"):
        assert list(counted(iter(range(3)), 3, "export", "report", every=0)) == [0, 1, 2]
    said = [r.getMessage() for r in caplog.records if r.name == "scraper.progress"]
    assert said[-1].startswith("export: 3/3 reports (100%), ") and said[-1].endswith(" reports/s")
