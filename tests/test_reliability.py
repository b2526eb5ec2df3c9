"""Faults: bad pages, bad networks and interrupted runs lose nothing and crash nothing."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from datetime import date

import pytest
from sqlite_utils import Database

from sample.server import SiteServer
from tests.conftest import run_crawl, start_command
from tests.fixtures.make_site import Spec, archive_specs, paragraph, write_archive

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out

LISTING = "/publications/field-reports.html"
CATEGORY = "/publications/field-reports"


def spec(item_id: int, title: str, **kwargs) -> Spec:
    import random

    rng = random.Random(item_id)
    return Spec(item_id, title, date(2015, 1, 1 + item_id % 28), ["Fault Author"],
                [paragraph(rng) for _ in range(4)], variant="C", **kwargs)


GOOD = archive_specs(6, seed=11)
FAULTS = {  # name -> (spec, route changes, expected failure reason prefix or None if stored)
    "always-503": (spec(1, "Always Failing Page"), {"status": 503}, "fetch: HTTP 503"),
    "timeout": (spec(2, "Slow Page"), {"delay": 3}, "fetch: DownloadTimeoutError"),
    "forbidden": (spec(3, "Forbidden Page"), {"status": 403}, "fetch: HTTP 403"),
    "gone": (spec(4, "Gone Page"), {"status": 410}, "fetch: HTTP 410"),
    "missing": (spec(5, "Missing Page"), {"status": 404}, "fetch: HTTP 404"),
    "truncated": (spec(6, "Truncated Page"), {"truncate": 3000}, "fetch: ResponseDataLossError"),
    "empty": (spec(7, "Empty Page"), {"empty": True}, "parse: empty page"),
    "chrome-only": (spec(8, "Chrome Only Page"), {"chrome_only": True}, "parse: no article text"),
    "malformed-junk": (spec(9, "Malformed Junk Page"), {"junk": True}, "parse: no article text"),
    "oversized": (spec(10, "Oversized Page"), {"size": 3_000_000}, "fetch: "),
    "gzip-bomb": (spec(11, "Compressed Bomb Page"), {"size": 60_000_000, "gzip": True}, "fetch: "),
    "off-host-redirect": (spec(12, "Redirected Away Page"), {"redirect": "OTHER_HOST"}, "fetch: "),
    "off-section-redirect": (spec(13, "Redirected Section Page"),
                             {"redirect": "/publications/analytical-articles/item/5123-other.html"},
                             "fetch: redirected out of the crawl's scope"),
    "unparsable-date": (spec(14, "Undated Page", item_date=False, byline="none"), {"bad_listing_date": True},
                        "parse: no date"),
    "untitled": (spec(15, "Untitled Page"), {"untitled": True}, "parse: no title"),
    # stored, despite what they carry:
    "malformed-article": (spec(16, "Malformed But Readable Page"), {"malformed": True}, None),
    "wrong-charset-header": (spec(17, "Wrong Charset Header Page", charset="windows-1252"),
                             {"charset": "utf-8"}, None),
    "invalid-bytes": (spec(18, "Invalid Bytes Page"), {"invalid_bytes": True}, None),
    "hostile": (spec(19, "Hostile Markup Page"), {"hostile": True}, None),
}


def build_site(root, other_url: str) -> None:
    """The archive plus one listed item per fault; their pages and routes then broken to order."""
    specs = [*GOOD, *(s for s, _, _ in FAULTS.values())]
    wrong = FAULTS["wrong-charset-header"][0]
    wrong.paragraphs[1] = "Prices rose in Batumi’s markets—by a third, traders said."  # cp1252 bytes
    write_archive(root, specs, page_size=5)
    routes = json.loads((root / "routes.json").read_text())
    for name, (s, change, _) in FAULTS.items():
        route = routes[s.path]
        page = root / route["file"]
        if change.pop("empty", False):
            page.write_bytes(b"")
        if change.pop("chrome_only", False):
            html = page.read_text()
            page.write_text(html[:html.index("<!-- Start K2")] + html[html.index("<!-- End K2 Item Layout -->"):])
        if change.pop("junk", False):
            page.write_text("<html><body><form><div><form><table><tr><td>Menu<div><p>Log in"
                            "<form><input name=x><span>Search</body>")
        if change.pop("malformed", False):
            html = page.read_text()
            page.write_text(html.replace("</p>", "", 3).replace('<div class="itemFullText">',
                                                                '<div class="itemFullText"><form><form>'))
        if change.pop("invalid_bytes", False):
            data = page.read_bytes()
            cut = data.index(b"<p>", data.index(b"itemFullText")) + 3
            page.write_bytes(data[:cut] + b"\xff\xfe\xc3(" + data[cut:])
        if change.pop("hostile", False):
            html = page.read_text()
            html = html.replace('<h2 class="itemTitle">Hostile Markup Page</h2>',
                                '<h2 class="itemTitle">Hostile &lt;b&gt;Markup&lt;/b&gt; Page</h2>')
            html = html.replace('<div class="itemFullText">', '<div class="itemFullText"><p onclick="steal()">'
                                'Click <a href="javascript:steal()">here</a> or <a href="/ok.html" onmouseover="x()">there</a>.'
                                '<script>steal()</script><img src=x onerror="steal()"></p>')
            page.write_text(html)
        if change.pop("untitled", False):
            html = page.read_text().replace('<h2 class="itemTitle">Untitled Page</h2>', '<h2 class="itemTitle"></h2>')
            page.write_text(html)
            for listing in root.glob("listing-*.html"):
                listing.write_text(listing.read_text().replace(">Untitled Page</a>", "></a>"))
        if change.pop("bad_listing_date", False):
            for listing in root.glob("listing-*.html"):
                text = listing.read_text()
                marker = f'{s.item_id}-{s.slug}.html">Undated Page'
                if marker in text:
                    at = text.index(marker)
                    start = text.rindex('<span class="catItemDateCreated">', 0, at)
                    end = text.index("</span>", start)
                    listing.write_text(text[:start] + '<span class="catItemDateCreated">Someday, 99 Smarch 20XX'
                                       + text[end:])
        if "size" in change:
            route.pop("file")
        if change.get("redirect") == "OTHER_HOST":
            change["redirect"] = other_url + "/publications/field-reports/item/1-elsewhere.html"
        if "redirect" in change:
            change["status"] = 302
        route.update(change)
    (root / "routes.json").write_text(json.dumps(routes))


@pytest.fixture(scope="module")
def faulty_crawl(tmp_path_factory):
    """One crawl of a site where every fault above happens: (servers' logs, db path, result)."""
    tmp = tmp_path_factory.mktemp("faults")
    other_root = tmp / "other"
    write_archive(other_root, archive_specs(1, seed=3), page_size=5)
    with SiteServer(other_root) as other:
        other_url = other.url.replace("127.0.0.1", "localhost")  # another host, not just a port
        build_site(tmp / "site", other_url)
        with SiteServer(tmp / "site") as server:
            db_path = tmp / "faults.db"
            started = time.monotonic()
            result = run_crawl(f"{server.url}{LISTING}", db_path, "-s", "DOWNLOAD_TIMEOUT=1",
                               "-s", "DOWNLOAD_MAXSIZE=1000000", "-s", "CACI_RETRY_BACKOFF_BASE=0.3",
                               "-s", "CACI_MAX_FAILURE_RATE=0.9", timeout=300)
            elapsed = time.monotonic() - started
            log = list(server.requests), list(other.requests)
    return log, db_path, result, elapsed


def test_the_crawl_survives_every_fault(faulty_crawl):
    _, _, result, _ = faulty_crawl
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", [n for n, (_, _, reason) in FAULTS.items() if reason])
def test_each_failure_is_recorded_with_its_reason(faulty_crawl, name):
    _, db_path, _, _ = faulty_crawl
    s, _, reason = FAULTS[name]
    failures = {r["url"].split("127.0.0.1:")[1].split("/", 1)[1]: r["reason"]
                for r in Database(db_path).query("select url, reason from failures")}
    assert failures.get(s.path.lstrip("/"), "").startswith(reason), failures.get(s.path.lstrip("/"))
    assert not list(Database(db_path).query("select 1 from reports where title like ?", [s.title]))


def test_nothing_else_is_lost_or_invented(faulty_crawl):
    _, db_path, _, _ = faulty_crawl
    database = Database(db_path)
    stored = {r["title"] for r in database.query("select title from reports")}
    expected = {s.title for s in GOOD} | {s.title for n, (s, _, reason) in FAULTS.items() if not reason}
    expected = {t if t != "Hostile Markup Page" else "Hostile <b>Markup</b> Page" for t in expected}
    assert stored == expected
    assert database["failures"].count == sum(1 for _, _, reason in FAULTS.values() if reason)
    assert all(r["word_count"] >= 20 for r in database.query("select word_count from reports"))


def test_retries_back_off_and_client_errors_are_not_retried(faulty_crawl):
    (requests, _), _, _, _ = faulty_crawl
    paths = [r["path"] for r in requests]
    assert paths.count(FAULTS["always-503"][0].path) == 3  # 1 + RETRY_TIMES=2
    assert paths.count(FAULTS["timeout"][0].path) == 3
    for name in ("forbidden", "gone", "missing"):
        assert paths.count(FAULTS[name][0].path) == 1, name


def test_redirects_out_of_scope_are_not_followed(faulty_crawl):
    (requests, other_requests), _, _, _ = faulty_crawl
    assert other_requests == []
    assert not [r for r in requests if "analytical-articles" in r["path"]]


def test_decoding_never_crashes(faulty_crawl):
    _, db_path, _, _ = faulty_crawl
    database = Database(db_path)
    [wrong] = database.query("select body from reports where title = 'Wrong Charset Header Page'")
    assert "Prices rose in Batumi\ufffds markets\ufffdby a third" in wrong["body"]
    [invalid] = database.query("select body from reports where title = 'Invalid Bytes Page'")
    assert "\ufffd" in invalid["body"]


def test_hostile_markup_is_stored_as_text_or_sanitised(faulty_crawl):
    _, db_path, _, _ = faulty_crawl
    [row] = Database(db_path).query("select title, body, body_html from reports where item_id = 19")
    assert row["title"] == "Hostile <b>Markup</b> Page"  # text, as the page wrote it
    html = row["body_html"]
    assert "script" not in html and "onclick" not in html and "onmouseover" not in html
    assert "javascript:" not in html and "onerror" not in html and "<img" not in html
    assert 'href="http://127.0.0.1:' in html and "/ok.html" in html  # the harmless link stays
    assert row["body"].startswith("Click here or there.")


def test_writes_wait_for_a_lock_held_by_another_connection(archive, tmp_path):
    """Another process holding the write lock for 2 s: the crawl waits (busy timeout), loses nothing."""
    import db as store

    site, _ = archive
    db_path = tmp_path / "locked.db"
    store.open_db(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    holder.execute("begin immediate")  # the write lock, as a writing tool would hold it
    release = threading.Timer(2.0, lambda: holder.execute("commit"))
    release.start()
    try:
        with SiteServer(site) as server:
            result = run_crawl(f"{server.url}{LISTING}", db_path)
    finally:
        release.join()
        holder.close()
    assert result.returncode == 0, result.stderr[-2000:]
    assert Database(db_path)["reports"].count == 12


def test_a_file_that_is_not_a_database_stops_the_crawl_untouched(site_server, tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("my notes\n" * 100)
    before = path.read_bytes()
    result = run_crawl(f"{site_server.url}{LISTING}", path)
    assert result.returncode == 4
    assert result.stderr.strip().splitlines()[-1] == (
        f"caci-field-reports: {path} exists but is not an SQLite database; refusing to touch it")
    assert path.read_bytes() == before
    assert site_server.requests == []  # nothing was fetched either


def test_sigterm_commits_what_was_scraped_and_the_next_run_finishes(archive, tmp_path):
    site, _ = archive
    db_path = tmp_path / "term.db"
    with SiteServer(site, delay=0.2) as server:
        crawl = start_command("scrapy", ["crawl", "field_reports", "-a", f"start_url={server.url}{LISTING}",
                                         "-s", f"SQLITE_PATH={db_path}", "-s", "DOWNLOAD_DELAY=0",
                                         "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "CONCURRENT_REQUESTS=1",
                                         "-s", f"HTTPCACHE_DIR={tmp_path / 'cache'}"])
        # Stopped once three report pages were served, by the server's own log: counting stored
        # rows instead let a busy machine's cleaners fall behind until every page was fetched.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum("/item/" in path for path in server.paths()) < 3:
            time.sleep(0.05)
        crawl.send_signal(signal.SIGTERM)
        _, err = crawl.communicate(timeout=60)
        assert crawl.returncode == 1
        assert err.strip().splitlines()[-1] == "caci-field-reports: the crawl failed: shutdown"
        database = Database(db_path)
        stored = database["reports"].count
        assert 3 <= stored < 12
        [run] = database.query("select close_reason, outcome, listing_complete from crawls")
        assert run == {"close_reason": "shutdown", "outcome": "failed", "listing_complete": 0}
        again = run_crawl(f"{server.url}{LISTING}", db_path)
        assert again.returncode == 0, again.stderr[-2000:]
    assert Database(db_path)["reports"].count == 12
