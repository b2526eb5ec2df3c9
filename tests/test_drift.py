"""The drift rule on its own: what the early stop and the close-time verdict call drift."""

from __future__ import annotations

import pytest

from pipelines.drift import crawl_drift, drift_reason

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out


@pytest.mark.parametrize("stats,min_pages,want", [
    ({"cleaning/generic": 5}, 5, "5 of 5 item pages had no K2 item markup (div.itemView)"),
    ({"cleaning/generic": 4}, 5, None),  # not yet enough pages to judge
    ({"cleaning/generic": 3, "cleaning/k2": 3}, 5, None),  # half is not most
    ({"cleaning/generic": 2, "cleaning/failed": 2, "cleaning/k2": 1}, 5, "4 of 5 item pages could not be cleaned"),
    ({"cleaning/generic": 2, "cleaning/failed": 2, "cleaning/failed_no_k2": 1, "cleaning/k2": 1}, 5,
     "3 of 5 item pages had no K2 item markup (div.itemView)"),
    ({"cleaning/failed": 1, "cleaning/k2": 9}, 5, None),
    ({"caci/listing_pages": 3, "caci/listing_items": 0}, 5, "3 listing page(s) linked to no report"),
])
def test_drift_reason(stats, min_pages, want):
    assert drift_reason(stats, 0.5, min_pages) == want


def test_the_early_stop_ignores_listings():
    """A listing that links nothing stores nothing: only the verdict at close names it."""
    stats = {"caci/listing_pages": 1, "caci/listing_items": 0}
    assert drift_reason(stats, 0.5, 5, early=True) is None
    assert crawl_drift(stats, 0.5) == "1 listing page(s) linked to no report"


def test_the_early_stop_ignores_k2_pages_that_fail():
    """K2 pages without a date or title are faults of those pages, not a redesign: no early stop."""
    stats = {"cleaning/failed": 5, "cleaning/k2": 4}
    assert drift_reason(stats, 0.5, 5, early=True) is None
    assert drift_reason(stats, 0.5, 5) == "5 of 9 item pages could not be cleaned"


def test_what_the_early_stop_found_stands_at_close():
    assert crawl_drift({"caci/drift": "x", "cleaning/k2": 100}, 0.5) == "x"


def _rows(db_path):
    from sqlite_utils import Database

    return list(Database(db_path).query("select * from reports order by id"))


def test_a_drifted_site_stores_nothing_and_the_next_healthy_run_heals(drifted_site, tmp_path, expected_crawl):
    """Issue 11: the crawl stops early with exit 1, adds and changes no report, keeps the drifted
    pages as `failures` that say drift; the healthy site's next default run stores every report."""
    from sqlite_utils import Database

    from sample.server import SiteServer
    from tests.conftest import SITE, run_crawl

    db_path = tmp_path / "caci.db"
    with SiteServer(drifted_site) as server:
        # A short delay, as the polite defaults have (1 s): the guard judges while the crawl goes on.
        # Cleaned in the crawler's process: a cleaning worker at idle priority on a loaded machine
        # (the suite's other workers) cleaned its five pages only after every page was fetched.
        result = run_crawl(f"{server.url}/publications/field-reports.html", db_path, "-s", "DOWNLOAD_DELAY=0.5",
                           "-s", "CACI_CLEANING_WORKERS=0")
        item_requests = [p for p in server.paths() if "/item/" in p]
        port = server.port
    assert result.returncode == 1, result.stderr[-2000:]
    assert "site drift" in result.stderr.strip().splitlines()[-1]
    assert _rows(db_path) == []
    failures = list(Database(db_path).query("select url, reason from failures"))
    drifted = [f for f in failures if f["reason"].startswith("drift: ")]
    assert drifted and all("no K2 item markup" in f["reason"] for f in drifted)
    # Stopped early: the five pages the guard judges, and what was fetched while they were cleaned
    # (more on a loaded machine: the suite runs on four workers).
    assert len(item_requests) < 16 < len(expected_crawl["reports"])
    [crawl] = Database(db_path).query("select outcome, close_reason from crawls")
    assert crawl["outcome"] == "failed" and crawl["close_reason"].startswith("site drift: ")
    assert "Closing spider (site_drift)" in result.stderr

    with SiteServer(SITE, port=port) as server:  # the same origin, its markup right again
        healed = run_crawl(f"{server.url}/publications/field-reports.html", db_path)
    assert healed.returncode == 0, healed.stderr[-2000:]
    rows = _rows(db_path)
    assert sorted((r["title"], r["published"]) for r in rows) == \
        sorted((w["title"], w["published"]) for w in expected_crawl["reports"])
    assert {r["extraction"] for r in rows} == {"k2"}
    left = {f["reason"] for f in Database(db_path).query("select reason from failures")}
    assert not [r for r in left if r.startswith("drift: ")]


def test_a_full_crawl_of_a_drifted_site_changes_no_stored_report(crawled_db, drifted_site, tmp_path):
    """The measured failure: `full=1` overwrote good rows with generic ones. Now: exit 1, rows equal."""
    import shutil

    from sample.server import SiteServer
    from tests.conftest import run_crawl

    db_path = tmp_path / "copy.db"
    shutil.copy(crawled_db, db_path)
    before = _rows(db_path)
    with SiteServer(drifted_site) as server:
        result = run_crawl(f"{server.url}/publications/field-reports.html", db_path, "-a", "full=1")
    assert result.returncode == 1, result.stderr[-2000:]
    assert _rows(db_path) == before
