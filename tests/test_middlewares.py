"""Retry backoff and the out-of-scope redirect guard."""

from __future__ import annotations

import asyncio
import time

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured

from scraper.middlewares import RetryBackoffMiddleware, ScopeRedirectMiddleware
from scraper.spiders.analyst import FieldReportsSpider

from tests.conftest import project_crawler


def test_backoff_doubles_and_is_capped():
    mw = RetryBackoffMiddleware(base=2.0, cap=10.0)
    for retry, low in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 10.0), (9, 10.0)]:
        delay = mw.delay(retry)
        assert low <= delay <= low * 1.25, (retry, delay)


def test_backoff_waits_only_before_a_retry():
    mw = RetryBackoffMiddleware(base=0.2, cap=1.0)

    async def timed(request):
        started = time.monotonic()
        await mw.process_request(request)
        return time.monotonic() - started

    assert asyncio.run(timed(Request("http://x/a"))) < 0.05
    assert asyncio.run(timed(Request("http://x/a", meta={"retry_times": 1}))) >= 0.2


def test_backoff_off_when_base_is_zero():
    with pytest.raises(NotConfigured):
        RetryBackoffMiddleware.from_crawler(project_crawler(**{"CACI_RETRY_BACKOFF_BASE": 0}))


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
