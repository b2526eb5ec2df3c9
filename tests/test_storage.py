"""The SQLite pipeline, on a real database file, configured through settings."""

from __future__ import annotations

import pytest
from scrapy.exceptions import NotConfigured
from sqlite_utils import Database

from pipelines.storage import SQLitePipeline
from scraper.model import PageFailure, Report
from tests.conftest import project_crawler

REPORT = Report(url="https://www.cacianalyst.org/publications/field-reports/item/1-a.html", item_id=1,
                title="A Report", published="2010-01-06", body="Some words here.",
                body_html="<p>Some words here.</p>", word_count=3, fetched_at="2026-01-01T00:00:00+00:00")


@pytest.fixture
def pipeline(tmp_path):
    """An opened SQLitePipeline writing to tmp_path/out.db, with real stats."""
    crawler = project_crawler(**{"SQLITE_PATH": str(tmp_path / "sub" / "out.db")})
    crawler.stats.open_spider()
    pipeline = SQLitePipeline.from_crawler(crawler)
    pipeline.open_spider()
    yield pipeline
    pipeline.close_spider()


def test_reports_and_failures_are_written_and_counted(pipeline):
    assert pipeline.process_item(REPORT) is REPORT
    pipeline.process_item(REPORT)
    pipeline.process_item(PageFailure(url="https://x/404.html", reason="fetch: HTTP 404"))
    stats = pipeline.stats
    assert stats.get_value("sqlite/inserted") == 1
    assert stats.get_value("sqlite/unchanged") == 1
    assert stats.get_value("sqlite/failures") == 1
    pipeline.close_spider()
    database = Database(pipeline.path)
    assert [r["title"] for r in database.query("select title from reports")] == ["A Report"]
    assert [r["reason"] for r in database.query("select reason from failures")] == ["fetch: HTTP 404"]


def test_other_items_pass_through(pipeline):
    item = {"not": "a report"}
    assert pipeline.process_item(item) is item


def test_disabled_by_setting():
    with pytest.raises(NotConfigured):
        SQLitePipeline.from_crawler(project_crawler(**{"SQLITE_ENABLED": False}))
