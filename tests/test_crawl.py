"""The real spider through Scrapy's engine, against the fixture site served on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections import Counter

import pytest
import pytest_twisted
from sqlite_utils import Database

from scraper.settings import USER_AGENT
from tests.conftest import body_f1, crawl, finished, run_crawl

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """One crawl of the fixture site, shared by this file's tests: (server, database path, finished
    process, the paths the server was asked for by that crawl). Tests that crawl again copy it."""
    from sample.server import SiteServer
    from tests.conftest import SITE

    db_path = tmp_path_factory.mktemp("crawl") / "crawl.db"
    with SiteServer(SITE) as server:
        result = run_crawl(f"{server.url}/publications/field-reports.html", db_path)
        assert result.returncode == 0, result.stderr[-3000:]
        yield server, db_path, result, server.paths()


def test_crawl_stores_exactly_the_expected_reports(crawled, expected_crawl):
    server, db_path, _, _ = crawled
    database = Database(db_path)
    rows = list(database.query("select * from reports order by published, url"))
    want = expected_crawl["reports"]
    assert [(r["title"], r["published"]) for r in rows] == [(w["title"], w["published"]) for w in want]
    for row, exp in zip(rows, want):
        assert row["url"] == server.url + exp["url"]
        assert row["author"] == exp["author"]
        assert json.loads(row["authors"]) == exp["authors"]
        assert row["category"] == exp["category"]
        assert row["hits"] == exp["hits"]
        assert json.loads(row["tags"]) == exp["tags"]
        assert body_f1(row["body"], exp["body"]) >= 0.99
        urls = [u["url"] for u in database.query(
            "select url from report_urls where report_id = ? order by item_id", [row["id"]])]
        assert urls == [server.url + u for u in exp["urls"]]


def test_crawl_records_failures_and_dates_an_undated_item_by_its_byline(crawled, expected_crawl):
    server, db_path, _, _ = crawled
    database = Database(db_path)
    failures = {r["url"]: r["reason"] for r in database.query("select url, reason from failures")}
    assert failures == {server.url + path: reason for path, reason in expected_crawl["failures"].items()}
    [row] = database.query("select date_source, published from reports where item_id = 7114")
    assert row == {"date_source": "byline", "published": "2008-08-20"}


def test_crawl_requests_each_page_once_politely(crawled, expected_crawl):
    server, _, result, paths = crawled
    counts = Counter(paths)
    assert paths[0] == "/robots.txt"
    assert {r["ua"] for r in server.requests[:len(paths)]} == {USER_AGENT}
    for listing in expected_crawl["listing_pages"]:
        assert counts[listing.replace("limitstart=", "start=")] == 1, listing
    for path in expected_crawl["never_requested"]:
        assert path not in counts
    assert not [p for p in counts if "print=1" in p or "tag" in p or "mailto" in p or "analytical" in p]
    retried = [p for p, n in counts.items() if n > 1]
    assert retried == ["/publications/field-reports/item/7115-dushanbe-power-cuts-return.html"]
    assert counts[retried[0]] == 2  # one 503, then the page
    assert "Traceback" not in result.stderr


def test_second_crawl_changes_nothing(crawled, tmp_path):
    import shutil

    server, shared_db, _, _ = crawled
    db_path = tmp_path / "crawl.db"
    shutil.copy(shared_db, db_path)
    shutil.copytree(shared_db.parent / "httpcache", tmp_path / "httpcache")
    before = list(Database(db_path).query("select id, url, title, body from reports order by id"))
    again = run_crawl(f"{server.url}/publications/field-reports.html", db_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "'sqlite/inserted'" not in again.stderr and "'sqlite/updated'" not in again.stderr
    assert list(Database(db_path).query("select id, url, title, body from reports order by id")) == before


def test_unreachable_site_ends_with_one_clear_line_and_non_zero_exit(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_crawl(f"http://127.0.0.1:{port}/publications/field-reports.html", tmp_path / "x.db",
                       "-s", "RETRY_TIMES=0")
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("caci-field-reports: the site cannot be reached")
    assert f"127.0.0.1:{port}" in last
    assert "Traceback" not in result.stderr


def test_bad_start_url_is_a_usage_error(tmp_path):
    result = run_crawl("ftp://example.org/x", tmp_path / "x.db")
    assert result.returncode == 2
    assert "start_url must be an absolute http(s) URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_start_page_fails_the_crawl_clearly(site_server, tmp_path):
    result = run_crawl(f"{site_server.url}/publications/no-such-section.html", tmp_path / "x.db")
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("caci-field-reports: the start page could not be fetched")
    assert last.endswith("HTTP 404")


def test_a_site_that_answers_503_is_unreachable(tmp_path):
    from sample.server import SiteServer

    site = tmp_path / "site"
    site.mkdir()
    (site / "down.html").write_text("<h1>Service Unavailable</h1>")
    (site / "routes.json").write_text(json.dumps(
        {"/publications/field-reports.html": {"file": "down.html", "status": 503}}))
    with SiteServer(site) as server:
        result = run_crawl(f"{server.url}/publications/field-reports.html", tmp_path / "x.db",
                           "-s", "RETRY_TIMES=1")
        assert server.paths().count("/publications/field-reports.html") == 2  # retried once
    assert result.returncode == 3
    assert "the site cannot be reached" in result.stderr.strip().splitlines()[-1]
    assert "HTTP 503" in result.stderr.strip().splitlines()[-1]


def test_no_spider_callback_is_a_generator_that_returns_a_value():
    """What Scrapy's WARN_ON_GENERATOR_RETURN_VALUE would check on every response (turned off
    in the settings for its cost), checked here once for every callback of every spider."""
    import inspect

    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.misc import is_generator_with_return_value

    from tests.conftest import project_crawler

    loader = SpiderLoader.from_settings(project_crawler().settings)
    callbacks = [method for name in loader.list()
                 for _, method in inspect.getmembers(loader.load(name), inspect.isfunction)
                 if inspect.isgeneratorfunction(method)]
    assert len(callbacks) >= 3  # parse_listing, parse_item, on_error at least
    assert not [c.__qualname__ for c in callbacks if is_generator_with_return_value(c)]


def _empty_listing(html: str, how: str) -> str:
    """Listing page 2 as a server hiccup or a bad edit renders it."""
    import re

    if how == "links-off-site":
        return re.sub(r'href="(http://cacianalyst\.org)?/publications/field-reports/item/',
                      'href="http://elsewhere.example/publications/field-reports/item/', html)
    html = re.sub(r'<div class="itemContainer">.*?</div></div>', "", html, flags=re.S)
    if how == "no-entries-no-pager":
        html = re.sub(r'<div class="k2Pagination">.*?</div>', "", html, flags=re.S)
    return html


@pytest.mark.parametrize("how", ["no-entries", "no-entries-no-pager", "links-off-site"])
@pytest_twisted.ensureDeferred
async def test_an_empty_listing_page_mid_walk_is_stepped_over_and_the_run_is_not_complete(archive, tmp_path, how):
    from sample.server import SiteServer

    site, specs = archive  # 12 reports, 3 listing pages of 4
    page2 = site / "listing-2.html"
    good = page2.read_text()
    page2.write_text(_empty_listing(good, how))
    assert "catItemView" not in page2.read_text() or how == "links-off-site"
    db_path = tmp_path / "caci.db"
    with SiteServer(site) as server:
        start = f"{server.url}/publications/field-reports.html"
        stats = await crawl(start, db_path)
        # Page 3's reports were reached past the empty page; the run says it is not complete.
        assert Database(db_path)["reports"].count == 8
        assert stats["caci/outcome"].startswith("listing incomplete: 1 listing page(s) showed no report")
        [run] = Database(db_path).query("select outcome, listing_complete from crawls")
        assert run == {"outcome": "failed", "listing_complete": 0}
        page2.write_text(good)  # the hiccup is over: the next (incremental) run walks it all again
        stats = await crawl(start, db_path)
    assert finished(stats), stats
    assert Database(db_path)["reports"].count == 12
    last = list(Database(db_path).query("select outcome, listing_complete, mode from crawls order by id"))[-1]
    assert last == {"outcome": "ok", "listing_complete": 1, "mode": "incremental"}


def test_an_empty_listing_page_fails_the_command_with_one_line(archive, tmp_path):
    site, _ = archive
    page2 = site / "listing-2.html"
    page2.write_text(_empty_listing(page2.read_text(), "no-entries"))
    from sample.server import SiteServer

    with SiteServer(site) as server:
        result = run_crawl(f"{server.url}/publications/field-reports.html", tmp_path / "caci.db")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("caci-field-reports: the listing walk is incomplete: 1 listing page(s) showed no report")
    assert "next run walks the whole listing again" in last


def test_a_database_that_is_not_ours_is_never_taken_over(tmp_path, not_ours):
    """`scrapy crawl -s SQLITE_PATH=other.db` on another program's database, or on a 0-byte file:
    one line, exit 4, the file as it was (no table added, no WAL beside it)."""
    path = not_ours
    before = path.read_bytes()
    result = run_crawl("http://127.0.0.1:9/publications/field-reports.html", path)
    assert result.returncode == 4, result.stderr[-2000:]
    line = result.stderr.strip().splitlines()[-1]  # after Scrapy's start-up lines
    assert line.startswith("caci-field-reports: ") and "refusing to touch it" in line
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]
