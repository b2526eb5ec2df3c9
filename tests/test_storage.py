"""The SQLite pipeline, on a real database file, configured through settings."""

from __future__ import annotations

import pytest
from scrapy.exceptions import NotConfigured
from sqlite_utils import Database

from analyst.model import PageFailure, Report
from pipelines.storage import SQLitePipeline
from tests.conftest import project_crawler, run_async

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out

REPORT = Report(url="https://www.cacianalyst.org/publications/field-reports/item/1-a.html", item_id=1,
                title="A Report", published="2010-01-06", body="Some words here.",
                body_html="<p>Some words here.</p>", word_count=3, fetched_at="2026-01-01T00:00:00+00:00")


@pytest.fixture(params=["writer-process", "in-process"])
def pipeline(tmp_path, request):
    """A SQLitePipeline writing to tmp_path/out.db (from a writer process, or from the crawler
    process), with real stats; open it, feed it and close it inside one `run_async`."""
    crawler = project_crawler(**{"SQLITE_PATH": str(tmp_path / "sub" / "out.db"),
                                 "SQLITE_WRITER_PROCESS": request.param == "writer-process",
                                 "SQLITE_WRITER_AFTER": 0})
    crawler.stats.open_spider()
    return SQLitePipeline.from_crawler(crawler)


def test_reports_and_failures_are_written_and_counted(pipeline):
    async def run():
        pipeline.open_spider()
        same = await pipeline.process_item(REPORT) is REPORT
        await pipeline.process_item(REPORT)
        await pipeline.process_item(PageFailure(url="https://x/404.html", reason="fetch: HTTP 404"))
        await pipeline.close_spider()
        return same

    assert run_async(run())
    stats = pipeline.stats
    assert stats.get_value("sqlite/inserted") == 1
    assert stats.get_value("sqlite/unchanged") == 1
    assert stats.get_value("sqlite/failures") == 1
    database = Database(pipeline.path)
    assert [r["title"] for r in database.query("select title from reports")] == ["A Report"]
    assert [r["reason"] for r in database.query("select reason from failures")] == ["fetch: HTTP 404"]


def test_other_items_pass_through(pipeline):
    item = {"not": "a report"}

    async def run():
        pipeline.open_spider()
        try:
            return await pipeline.process_item(item)
        finally:
            await pipeline.close_spider()

    assert run_async(run()) is item


def test_disabled_by_setting():
    with pytest.raises(NotConfigured):
        SQLitePipeline.from_crawler(project_crawler(**{"SQLITE_ENABLED": False}))


def test_a_full_disk_stops_the_crawl_at_once_and_the_next_run_completes_it(small_disk, tmp_path, expected_crawl):
    """Issue 15: on a disk that fills up the crawl stored a few reports, logged errors, went on and
    exited 0. Now: one line, exit 1, the run stops; the next run, with room, stores every report."""
    import shutil

    from sqlite_utils import Database

    from sample.server import SiteServer
    from tests.conftest import SITE, run_crawl

    disk = small_disk(360)  # room for the empty (migrated) database, not for the archive
    db_path = disk / "caci.db"
    with SiteServer(SITE) as server:
        start = f"{server.url}/publications/field-reports.html"
        elsewhere = ["-s", f"HTTPCACHE_DIR={tmp_path / 'cache'}", "-s", f"CACI_LOCK_FILE={tmp_path / 'crawl.lock'}",
                     "-s", f"CACI_WARC_DIR={tmp_path / 'warc'}"]
        full = run_crawl(start, db_path, *elsewhere)
        assert full.returncode == 1, full.stderr[-2000:]
        last = full.stderr.strip().splitlines()[-1]
        assert last.startswith("caci-field-reports: the crawl stopped: storage cannot be written (")
        assert "database or disk is full" in last
        assert full.stderr.count("Cannot write to storage, stopping the crawl") == 1
        assert "Traceback" not in full.stderr
        roomy = tmp_path / "roomy"
        roomy.mkdir()
        for part in disk.glob("caci.db*"):
            shutil.copy(part, roomy / part.name)
        again = run_crawl(start, roomy / "caci.db", *elsewhere)
    assert again.returncode == 0, again.stderr[-2000:]
    assert Database(roomy / "caci.db")["reports"].count == len(expected_crawl["reports"])


def test_a_report_without_a_word_in_its_title_becomes_a_failure(pipeline):
    """Issue 15: such a report raised in storage and was neither stored nor in `failures`; the
    ValueError crosses from the writer process as it is raised in this one."""
    async def run():
        pipeline.open_spider()
        await pipeline.process_item(Report(**{**REPORT.__dict__, "title": "🙂 — !!", "url": REPORT.url + "?x"}))
        await pipeline.close_spider()

    run_async(run())
    [row] = Database(pipeline.path).query("select url, reason from failures")
    assert row["reason"].startswith("parse: ") and "no title words" in row["reason"]
