"""The HTTP cache's policy: revalidation, but no stale copy standing in for a site that is down."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from sample.server import SiteServer
from tests.conftest import SITE, run_crawl

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out


def test_a_warm_cache_does_not_hide_a_dead_site(tmp_path):
    """Issue 15: with the site answering 503 everywhere after a warm crawl, a crawl into a fresh
    database stored every report from the cache and exited 0. Now the site's failure is the verdict."""
    cache = ["-s", f"HTTPCACHE_DIR={tmp_path / 'cache'}"]
    with SiteServer(SITE) as server:
        warm = run_crawl(f"{server.url}/publications/field-reports.html", tmp_path / "warm.db", *cache)
        port = server.port
    assert warm.returncode == 0, warm.stderr[-2000:]
    down = SiteServer(SITE, port=port, fail_first={path: 10**6 for path in SiteServer(SITE).routes})
    with down:
        result = run_crawl(f"{down.url}/publications/field-reports.html", tmp_path / "fresh.db", *cache)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "the site cannot be reached" in result.stderr.strip().splitlines()[-1]
    assert Database(tmp_path / "fresh.db")["reports"].count == 0
