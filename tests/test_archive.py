"""The WARC archive: every fetched page kept as received, indexed, readable by standard tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import pytest_twisted
from sqlite_utils import Database
from warcio.archiveiterator import ArchiveIterator

from sample.server import SITE_ORIGIN, SiteServer
from tests.conftest import SITE, crawl, crawl_here, finished, run_crawl

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out


def record_at(folder: Path, capture: dict):
    with (folder / capture["warc_file"]).open("rb") as fh:
        fh.seek(capture["offset"])
        record = next(iter(ArchiveIterator(fh)))
        return record, record.content_stream().read()


# Where the writes are made: the writer process from the first, the crawler process alone, or
# the crawler process first and the writer process from the 10th write of each component on.
WRITERS = {"writer-process": (True, 0), "in-process": (False, 0), "handed-over": (True, 10)}


@pytest.fixture(scope="module", params=list(WRITERS))
def archived(tmp_path_factory, request):
    """One crawl of the sample site with its archive, each way of writing it (WRITERS):
    (server url, database path, warc folder, routes)."""
    db_path = tmp_path_factory.mktemp("archived") / "caci.db"
    process, after = WRITERS[request.param]
    with SiteServer(SITE) as server:
        assert finished(crawl_here(f"{server.url}/publications/field-reports.html", db_path,
                                   SQLITE_WRITER_PROCESS=process, SQLITE_WRITER_AFTER=after))
        yield server.url, db_path, db_path.parent / "caci-warc", server.routes


def test_every_fetched_page_is_kept_byte_for_byte(archived):
    url, db_path, folder, routes = archived
    captures = list(Database(db_path).query("select * from captures order by id"))
    assert captures and {c["status"] for c in captures} >= {200, 404}
    for capture in captures:
        record, body = record_at(folder, capture)
        assert record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == capture["url"]
        assert record.http_headers.get_statuscode() == str(capture["status"])
        assert record.rec_headers.get_header("WARC-Payload-Digest") == capture["payload_digest"]
        route = routes.get(capture["url"].removeprefix(url))
        if capture["status"] == 200 and route and "file" in route:
            assert body == (SITE / route["file"]).read_bytes().replace(SITE_ORIGIN, url.encode())


def test_each_report_links_to_its_capture(archived):
    _, db_path, _, _ = archived
    rows = list(Database(db_path).query(
        "select r.url as report, c.url as captured, c.status from reports r join captures c on c.id = r.capture_id"))
    assert len(rows) == Database(db_path)["reports"].count
    assert all(r["report"] == r["captured"] and r["status"] == 200 for r in rows)


def test_standard_tools_read_the_files(archived):
    _, _, folder, _ = archived
    files = sorted(map(str, folder.glob("*.warc.gz")))
    warcio = [sys.executable, "-m", "warcio.cli"]
    check = subprocess.run([*warcio, "check", *files], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    index = subprocess.run([*warcio, "index", *files], capture_output=True, text=True)
    assert index.returncode == 0 and '"warc-type": "response"' in index.stdout


@pytest_twisted.ensureDeferred
async def test_an_unchanged_page_writes_no_second_copy_and_old_files_are_never_rewritten(tmp_path):
    db_path = tmp_path / "caci.db"
    with SiteServer(SITE) as server:
        start = f"{server.url}/publications/field-reports.html"
        assert finished(await crawl(start, db_path))
        [first] = (tmp_path / "caci-warc").glob("*.warc.gz")
        before = first.read_bytes()
        listing = Database(db_path).execute("select count(*) from captures where url = ?", [start]).fetchone()[0]
        assert finished(await crawl(start, db_path))  # its listing page answers 304
    assert Database(db_path).execute("select count(*) from captures where url = ?", [start]).fetchone()[0] == listing
    assert first.read_bytes() == before


@pytest_twisted.ensureDeferred
async def test_a_page_answered_from_the_cache_keeps_its_report_s_capture(tmp_path):
    """A 304 writes no capture, and the report keeps the link to the copy it was cleaned from."""
    db_path = tmp_path / "caci.db"
    with SiteServer(SITE) as server:
        start = f"{server.url}/publications/field-reports.html"
        assert finished(await crawl(start, db_path))
        before = dict(Database(db_path).execute("select url, capture_id from reports").fetchall())
        assert finished(await crawl(start, db_path, args={"full": "1"}))  # every page answers 304
    after = dict(Database(db_path).execute("select url, capture_id from reports").fetchall())
    assert len(after) == 24 and after == before and None not in after.values()


@pytest_twisted.ensureDeferred
async def test_a_file_cut_short_by_a_crash_is_survived(tmp_path):
    """A crash mid-write loses at most the record being written; the next run starts a new file."""
    db_path = tmp_path / "caci.db"
    with SiteServer(SITE) as server:
        start = f"{server.url}/publications/field-reports.html"
        assert finished(await crawl(start, db_path))
        [first] = (tmp_path / "caci-warc").glob("*.warc.gz")
        first.write_bytes(first.read_bytes()[:-500])  # the last record half written
        cut = first.read_bytes()
        assert finished(await crawl(start, db_path, args={"full": "1"}))
    assert len(list((tmp_path / "caci-warc").glob("*.warc.gz"))) == 2 and first.read_bytes() == cut
    kept = 0
    with first.open("rb") as fh:
        try:
            for _ in ArchiveIterator(fh):
                kept += 1
        except Exception:  # noqa: BLE001 - the cut record itself is what is lost
            pass
    assert kept >= Database(db_path)["captures"].count // 2  # the whole first run but its last record


@pytest_twisted.ensureDeferred
async def test_the_archive_can_be_turned_off(tmp_path):
    with SiteServer(SITE) as server:
        stats = await crawl(f"{server.url}/publications/field-reports.html", tmp_path / "c.db",
                           CACI_WARC_ENABLED=False)
    assert finished(stats) and not (tmp_path / "c-warc").exists() and not (tmp_path / "warc").exists()
    assert Database(tmp_path / "c.db")["captures"].count == 0


def test_an_archive_disk_that_fills_up_stops_the_crawl(small_disk, tmp_path):
    """Nothing lost in silence: pages are not fetched on without their archived copy."""
    warc = small_disk(64)
    with SiteServer(SITE) as server:
        result = run_crawl(f"{server.url}/publications/field-reports.html", tmp_path / "c.db",
                           "-s", f"CACI_WARC_DIR={warc}")
    assert result.returncode == 1, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"caci-field-reports: the crawl stopped: storage cannot be written ({warc}")
    assert "No space left on device" in last


def test_two_crawls_of_one_process_write_files_of_their_own(tmp_path):
    """A CrawlerProcess running two spiders starts two archives within one second: their WARC
    files must not share a name (a new file is opened "xb", never an old one rewritten)."""
    from scraper.archive import WarcArchiveMiddleware
    from tests.conftest import project_crawler

    settings = {"SQLITE_PATH": str(tmp_path / "c.db"), "SQLITE_ENABLED": False}
    first, second = (WarcArchiveMiddleware.from_crawler(project_crawler(**settings)) for _ in range(2))
    assert first.series != second.series


def test_a_series_taken_over_goes_on_past_the_files_there(tmp_path):
    """A writer process that dies leaves its series' files; the crawler process, writing the
    series from then on, starts the next file rather than touch (or fail on) an existing one."""
    from db.archive import FetchedPage, WarcSeries

    page = FetchedPage(url="http://x/a.html", status=200, headers=[("Content-Type", "text/html")],
                       body=b"<p>a</p>", request_url="http://x/a.html", method="GET", request_headers=[],
                       request_body=b"", fetched_at="2026-11-29T04:00:00+00:00")
    first = WarcSeries(tmp_path, "caci-test", 1 << 20, "test")
    first.write(page)
    first.close()
    before = (tmp_path / "caci-test-00001.warc.gz").read_bytes()
    again = WarcSeries(tmp_path, "caci-test", 1 << 20, "test")
    assert again.write(page) == (None, 1)
    again.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["caci-test-00001.warc.gz", "caci-test-00002.warc.gz"]
    assert (tmp_path / "caci-test-00001.warc.gz").read_bytes() == before


@pytest_twisted.ensureDeferred
async def test_each_database_has_its_own_warc_folder_and_an_older_archive_keeps_warc(tmp_path):
    """Two databases in one folder never mix their files (a demo beside the real archive did);
    an archive from before keeps its files in warc/, where its captures say they are."""
    with SiteServer(SITE) as server:
        start = f"{server.url}/publications/field-reports.html"
        assert finished(await crawl(start, tmp_path / "old.db", CACI_WARC_DIR=str(tmp_path / "warc")))
        assert finished(await crawl(start, tmp_path / "demo.db"))
        assert finished(await crawl(start, tmp_path / "old.db", args={"full": "1"}, HTTPCACHE_ENABLED=False))
    demo = {c["warc_file"] for c in Database(tmp_path / "demo.db").query("select warc_file from captures")}
    old = {c["warc_file"] for c in Database(tmp_path / "old.db").query("select warc_file from captures")}
    assert demo and {p.name for p in (tmp_path / "demo-warc").iterdir()} == demo
    assert {p.name for p in (tmp_path / "warc").iterdir()} == old and len(old) == 2  # both runs there
    assert not (tmp_path / "old-warc").exists()


@pytest_twisted.ensureDeferred
async def test_captures_carry_their_crawl_and_the_components_share_one_run(tmp_path):
    """The crawl id comes from the run the crawl's components share (it was read back from a stats
    key): every capture names the crawl that made it."""
    db_path = tmp_path / "caci.db"
    with SiteServer(SITE) as server:
        assert finished(await crawl(f"{server.url}/publications/field-reports.html", db_path))
    [run] = Database(db_path).query("select id from crawls")
    ids = {c["crawl_id"] for c in Database(db_path).query("select crawl_id from captures")}
    assert ids == {run["id"]}
