"""Scheduled crawls: incremental runs, conditional re-fetches, the lock, resumption, history, drift."""

from __future__ import annotations

import re
import signal
import sqlite3
import time
from contextlib import closing
from datetime import date

import pytest
from sqlite_utils import Database

import db as store
from sample.server import SiteServer
from scraper.exits import EXIT_LOCKED
from tests.conftest import SITE, run_cron
from tests.fixtures.make_site import Spec, paragraph, write_archive

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out

LISTING = "/publications/field-reports.html"


def count_reports(db_path) -> int:
    """Reports stored so far, read without holding the file open (the crawl is writing)."""
    try:
        with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            return conn.execute("select count(*) from reports").fetchone()[0]
    except sqlite3.Error:
        return 0


def reports(db_path):
    return list(Database(db_path).query("select title, published, body from reports order by published desc"))


def test_incremental_reruns_cost_a_handful_of_requests(archive, tmp_path):
    site, specs = archive
    db_path = tmp_path / "data" / "c.db"
    with SiteServer(site) as server:
        first = run_cron(db_path, server.url + LISTING)
        assert first.returncode == 0, first.stderr
        assert first.stdout == "" and first.stderr == ""  # cron mails only trouble
        assert len(reports(db_path)) == 12
        assert server.paths().count(LISTING + "?start=8") == 1  # walked to the end

        server.requests.clear()
        second = run_cron(db_path, server.url + LISTING)
        assert second.returncode == 0, second.stderr
        assert sorted(server.paths()) == ["/publications/field-reports.html", "/robots.txt"]
        assert sorted(server.conditional()) == sorted(server.paths())  # both answered 304

        new = Spec(29999, "Breaking Report From Aktau", date(2016, 10, 19), ["New Author"],
                   [paragraph(__import__("random").Random(9)) for _ in range(4)])
        write_archive(site, [new, *specs], page_size=4)
        server.reload()
        server.requests.clear()
        third = run_cron(db_path, server.url + LISTING)
        assert third.returncode == 0, third.stderr
        listing_pages = [p for p in server.paths() if p.startswith(LISTING)]
        assert listing_pages == [LISTING, LISTING + "?start=4"]  # one more listing page at most
        assert new.path in server.paths()
        assert [r["title"] for r in reports(db_path)][0] == "Breaking Report From Aktau"
        assert len(reports(db_path)) == 13
    runs = list(Database(db_path).query("select mode, outcome, close_reason, reports_new, listing_complete from crawls"))
    assert runs == [
        {"mode": "incremental", "outcome": "ok", "close_reason": "finished", "reports_new": 12, "listing_complete": 1},
        {"mode": "incremental", "outcome": "ok", "close_reason": "finished", "reports_new": 0, "listing_complete": 1},
        {"mode": "incremental", "outcome": "ok", "close_reason": "finished", "reports_new": 1, "listing_complete": 1},
    ]


def test_two_cron_runs_at_once_one_crawls_one_exits_with_the_lock_code(archive, tmp_path):
    """The second run opens the database (its preflight) while the first writes. This found a
    loss: the file check read the database with open()/close(), which dropped the writer's
    POSIX locks, and the second run's connection, closing as the "last" one, took the WAL with
    the first run's 12 reports away. The check now asks SQLite (db/connection.py)."""
    site, _ = archive
    db_path = tmp_path / "data" / "c.db"
    # Slow enough pages that the first run is still crawling when the second has started Python,
    # even with the suite's other workers on the same two cores.
    with SiteServer(site, delay=0.5) as server:
        first = run_cron(db_path, server.url + LISTING, wait=False)
        deadline = time.monotonic() + 30
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)  # the first run holds the lock once it is fetching
        second = run_cron(db_path, server.url + LISTING)
        out, err = first.communicate(timeout=120)
    assert second.returncode == EXIT_LOCKED
    assert "another crawl is running" in second.stderr
    assert first.returncode == 0, err
    assert len(reports(db_path)) == 12


def test_a_killed_crawl_is_completed_by_the_next_run_without_damage(archive, tmp_path):
    site, _ = archive
    db_path = tmp_path / "data" / "c.db"
    with SiteServer(site, delay=0.15) as server:
        victim = run_cron(db_path, server.url + LISTING, "-s", "CONCURRENT_REQUESTS=1", wait=False)
        deadline = time.monotonic() + 60
        while count_reports(db_path) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=30)
        stored_before = Database(db_path)["reports"].count
        assert 3 <= stored_before < 12
        again = run_cron(db_path, server.url + LISTING)
        assert again.returncode == 0, again.stderr
    database = Database(db_path)
    assert database.execute("pragma integrity_check").fetchone()[0] == "ok"
    rows = list(database.query("select title_key, published, count(*) as n from reports group by 1, 2"))
    assert len(rows) == 12 and {r["n"] for r in rows} == {1}
    assert not (tmp_path / "data" / "jobs" / "field_reports").exists()  # finished: nothing to resume
    log = (tmp_path / "data" / "logs" / "crawl.log").read_text()
    assert "Resuming the interrupted crawl" in log and "catching up after an unfinished walk" in log
    killed, completed = database.query("select finished_at, outcome, listing_complete from crawls order by id")
    # The killed run recorded nothing; the next marked it, instead of leaving it open for ever.
    assert killed == {"finished_at": None, "outcome": "killed", "listing_complete": 0}
    assert completed["outcome"] == "ok" and completed["listing_complete"] == 1


def test_full_recrawl_keeps_the_previous_version_of_a_changed_report(archive, tmp_path):
    site, specs = archive
    db_path = tmp_path / "data" / "c.db"
    with SiteServer(site) as server:
        assert run_cron(db_path, server.url + LISTING).returncode == 0
        changed = specs[5]
        old_body = next(r["body"] for r in reports(db_path) if r["title"] == changed.title)
        changed.paragraphs = [*changed.paragraphs[:-1], "A corrected final paragraph, added by the editors later on."]
        write_archive(site, specs, page_size=4)
        server.reload()
        result = run_cron(db_path, server.url + LISTING, "--full")
        assert result.returncode == 0, result.stderr
    database = Database(db_path)
    [version] = database.query("select v.version, v.body, r.body as now from report_versions v "
                               "join reports r on r.id = v.report_id")
    assert version["version"] == 1 and version["body"] == old_body
    assert version["now"].endswith("added by the editors later on.")
    last = list(database.query("select mode, reports_updated, reports_unchanged from crawls order by id"))[-1]
    assert last == {"mode": "full", "reports_updated": 1, "reports_unchanged": 11}


@pytest.mark.parametrize("drift,reason", [
    (lambda html: html.replace("catItemView", "newsCard").replace("/item/", "/story/"),
     r"site drift: 1 listing page\(s\) linked to no report"),
    # The early stop judges after 5 cleaned pages; how many more were in flight then varies.
    (lambda html: html.replace('class="itemView"', 'class="articleView"'),
     r"site drift: (\d+) of \1 item pages had no K2 item markup \(div.itemView\)"),
])
def test_site_drift_fails_the_run_loudly(archive, tmp_path, drift, reason):
    site, _ = archive
    for page in site.glob("*.html"):
        page.write_text(drift(page.read_text()))
    db_path = tmp_path / "data" / "c.db"
    with SiteServer(site) as server:
        result = run_cron(db_path, server.url + LISTING)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert re.fullmatch(f"caci-field-reports: the crawl failed: {reason}; nothing was stored from those pages "
                        r"\(they are in `failures`, retried by later runs\); check the site with "
                        r"`python -m scraper doctor`", line), line
    [run] = Database(db_path).query("select outcome, close_reason from crawls")
    assert run["outcome"] == "failed" and re.fullmatch(reason, run["close_reason"])
    assert re.search(f"ERROR: Crawl failed: {reason}", (tmp_path / "data" / "logs" / "crawl.log").read_text())
    assert not list(Database(db_path).query("select 1 from reports"))


def test_read_only_storage_is_one_line_and_the_reason_is_in_the_log(small_disk, tmp_path):
    """Issue 15: cron on read-only storage printed 64 lines of tracebacks and the log lacked the reason."""
    from tests.conftest import remount_read_only

    disk = small_disk(2048)
    store.open_db(disk / "caci.db").close()
    remount_read_only(disk)
    log = tmp_path / "logs" / "crawl.log"
    with SiteServer(SITE) as server:
        result = run_cron(disk / "caci.db", server.url + LISTING, "-s", f"CACI_LOG_FILE={log}",
                          "-s", f"CACI_LOCK_FILE={tmp_path / 'crawl.lock'}", "-s", f"HTTPCACHE_DIR={tmp_path / 'cache'}")
        assert not [p for p in server.paths() if p != "/robots.txt"]  # nothing fetched
    assert result.returncode == 4
    [line] = result.stderr.strip().splitlines()
    # Found before anything is opened: the archive's folder beside the database cannot be made.
    assert line == f"caci-field-reports: the WARC folder {disk / 'caci-warc'} cannot be written ({disk} is not writable)", line
    assert line.removeprefix("caci-field-reports: ") in log.read_text()
    # Everything read-only, the log too: still one line.
    everything = run_cron(disk / "caci.db", server.url + LISTING)
    assert everything.returncode == 4 and len(everything.stderr.strip().splitlines()) == 1, everything.stderr
