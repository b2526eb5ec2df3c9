"""Retry backoff and the out-of-scope redirect guard."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse

from scraper.middlewares import (
    RetryBackoffMiddleware,
    ScopeRedirectMiddleware,
    retry_after_seconds,
)
from scraper.spiders.analyst import FieldReportsSpider
from tests.conftest import project_crawler

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out


def backoff(**overrides):
    return RetryBackoffMiddleware.from_crawler(project_crawler(**{"CACI_RETRY_BACKOFF_BASE": 2.0,
                                                                  "CACI_RETRY_BACKOFF_MAX": 10.0} | overrides))


def test_backoff_doubles_and_is_capped():
    mw = backoff()
    for retry, low in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 10.0), (9, 10.0)]:
        delay = mw.delay(retry)
        assert low <= delay <= low * 1.25, (retry, delay)


def test_no_wait_when_the_base_is_zero():
    assert backoff(CACI_RETRY_BACKOFF_BASE=0).delay(3) == 0


@pytest.mark.parametrize("status,header,low,high", [
    (503, "30", 30, 30), (429, "30", 30, 30),  # longer than the backoff: honoured
    (503, "1", 2, 2.5),  # shorter: the backoff stands
    (503, "99999", 600, 600),  # capped by CACI_RETRY_AFTER_MAX
    (500, "30", 2, 2.5),  # only 429 and 503 carry it
    (503, "soon", 2, 2.5),
])
def test_retry_after_is_honoured_on_429_and_503(status, header, low, high):
    response = HtmlResponse("http://x/a", status=status, headers={"Retry-After": header})
    assert low <= backoff(CACI_RETRY_BACKOFF_MAX=60.0).delay(1, response) <= high


def test_retry_after_as_an_http_date():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30.0
    assert retry_after_seconds(b"120") == 120.0 and retry_after_seconds(None) is None


def test_waiting_retries_hold_no_download_slot(tmp_path):
    """Four pages answer 503 "Retry-After: 2" once. With one request slot, a wait inside the
    downloader would space their retries 2 s apart; waiting outside it, they come back together."""
    from sample.server import SiteServer
    from tests.conftest import SITE, run_crawl

    pages = ["/publications/field-reports/item/7101-kazakhstan-parliament-debates-new-rules-for-ngos.html",
             "/publications/field-reports/item/7102-caspian-ports-compete-for-transit-cargo.html",
             "/publications/field-reports/item/7103-bishkek-activists-rally-against-foreign-agent-bill.html",
             "/publications/field-reports/item/7104-a-quiet-succession-debate-in-astana.html"]
    server = SiteServer(SITE, fail_first=dict.fromkeys(pages, 1))
    for page in pages:
        server.routes[page]["retry_after"] = 2
    with server:
        result = run_crawl(f"{server.url}/publications/field-reports.html", tmp_path / "c.db",
                           "-s", "CONCURRENT_REQUESTS=1", "-s", "RETRY_TIMES=1", "-a", "full=1")
        times = {p: [r["t"] for r in server.requests if r["path"] == p] for p in pages}
    assert result.returncode == 0, result.stderr[-2000:]
    assert all(len(t) == 2 and t[1] - t[0] >= 1.9 for t in times.values()), times
    retries = [t[1] for t in times.values()]
    assert max(retries) - min(retries) < 1.5, times
    assert "Retry 1 of" in result.stderr and "in 2.0 s" in result.stderr


@pytest.fixture
def guard():
    """A ScopeRedirectMiddleware whose crawler runs the field_reports spider on 127.0.0.1:8000."""
    crawler = project_crawler(FieldReportsSpider, **{"SQLITE_ENABLED": False})
    crawler.spider = FieldReportsSpider.from_crawler(
        crawler, start_url="http://127.0.0.1:8000/publications/field-reports.html")
    return ScopeRedirectMiddleware.from_crawler(crawler)


@pytest.mark.parametrize("target,allowed", [
    ("http://127.0.0.1:8000/publications/field-reports/item/2-b.html", True),
    ("http://127.0.0.1:8000/publications/field-reports.html?start=4", True),
    ("http://127.0.0.1:8000/publications/analytical-articles/item/2-b.html", False),
    ("http://evil.example/publications/field-reports/item/2-b.html", False),
    ("http://127.0.0.1:8000/login.html", False),
])
def test_redirect_guard(guard, target, allowed):
    redirected = Request(target, meta={"redirect_urls": ["http://127.0.0.1:8000/publications/field-reports/item/1-a.html"]})
    if allowed:
        assert guard.process_request(redirected) is None
    else:
        with pytest.raises(IgnoreRequest, match="redirected out of the crawl's scope"):
            guard.process_request(redirected)
    assert guard.process_request(Request(target)) is None  # not a redirect: not its business


def test_robots_txt_crawl_delay_is_honoured(tmp_path):
    """Issue 15: with Crawl-delay 5 the gaps were 0.75-1.4 s. Now no two requests come closer than
    the delay, AutoThrottle on, and the delay in use is logged."""
    import shutil

    from sample.server import SiteServer
    from tests.conftest import SITE, run_crawl

    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    robots = site / "robots.txt"
    robots.write_text(robots.read_text().replace("User-agent: *", "User-agent: *\nCrawl-delay: 1", 1))
    with SiteServer(site) as server:
        result = run_crawl(f"{server.url}/publications/field-reports.html", tmp_path / "c.db",
                           "-s", "AUTOTHROTTLE_ENABLED=1", "-s", "CLOSESPIDER_PAGECOUNT=6")
        times = [r["t"] for r in server.requests if r["path"] != "/robots.txt"]
    assert len(times) >= 5, result.stderr[-2000:]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.95, gaps
    assert "robots.txt asks for a Crawl-delay of 1.0 s" in result.stderr
