"""One crawl per database: every crawl takes the lock, not only cron's."""

from __future__ import annotations

import time

import pytest

from sample.server import SiteServer
from scraper.exits import EXIT_LOCKED
from tests.conftest import SITE, _test_settings, run_crawl, start_command

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out


def test_a_second_scrapy_crawl_on_the_same_database_does_not_start(tmp_path):
    """Issue 15: two `scrapy crawl` runs on one database both ran and counted every failure twice."""
    db_path = tmp_path / "caci.db"
    with SiteServer(SITE, delay=0.5) as server:  # still crawling when the second has started Python
        start = f"{server.url}/publications/field-reports.html"
        first = start_command("scrapy", ["crawl", "field_reports", "-a", f"start_url={start}",
                                         *_test_settings(db_path, retries=1)])
        lock = tmp_path / "caci.db.lock"
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        second = run_crawl(start, db_path)
        out, err = first.communicate(timeout=120)
    assert second.returncode == EXIT_LOCKED
    assert second.stderr.strip().splitlines()[-1] == (
        f"caci-field-reports: another crawl is running (lock {lock} held by pid {first.pid}); not starting a second one")
    assert "Spider opened" not in second.stderr
    assert first.returncode == 0, err[-2000:]


def test_two_databases_in_one_folder_are_crawled_at_once(tmp_path):
    """The lock is the database's (a.db.lock), not the folder's: b.db crawls while a.db's is held."""
    from scraper.lock import crawl_lock

    with SiteServer(SITE) as server, crawl_lock(tmp_path / "a.db.lock"):
        other = run_crawl(f"{server.url}/publications/field-reports.html", tmp_path / "b.db")
        same = run_crawl(f"{server.url}/publications/field-reports.html", tmp_path / "a.db")
    assert other.returncode == 0, other.stderr[-2000:]
    assert same.returncode == EXIT_LOCKED
