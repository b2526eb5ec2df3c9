"""`python -m scraper reclean`: the archived copies cleaned again, offline, by the crawl's rules."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_twisted
from sqlite_utils import Database

from db.warc import DamagedRecord, read_response
from sample.server import SiteServer
from tests.conftest import ROOT, SITE, _env, crawl, crawl_here, run_command

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out

CONTENT = "url, title, published, author, authors, category, tags, countries, body, body_html, author_bio, extraction, capture_id"


def _crawl_into(folder: Path, **settings: object) -> Path:
    db_path = folder / "caci.db"
    with SiteServer(SITE) as server:
        crawl_here(f"{server.url}/publications/field-reports.html", db_path, spider="analyst", **settings)
    assert (db_path.parent / "caci-warc").is_dir()
    return db_path


@pytest.fixture(scope="module")
def archived_crawl(tmp_path_factory) -> Path:
    """One crawl of the sample site's four sections with its WARC archive (copy before writing)."""
    return _crawl_into(tmp_path_factory.mktemp("reclean"))


@pytest.fixture
def archived(archived_crawl, tmp_path) -> Path:
    """A private copy of the archived crawl: its database and warc/ folder; the database path."""
    shutil.copytree(archived_crawl.parent, tmp_path / "data")
    return tmp_path / "data" / archived_crawl.name


def network_cut() -> list[str]:
    """A prefix that runs a command with no network at all (a fresh namespace), where possible."""
    try:
        ok = subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    except FileNotFoundError:
        ok = False
    return ["unshare", "-n"] if ok else []


def reclean(db_path: Path, *args: str, offline: bool = False) -> subprocess.CompletedProcess:
    if not offline:
        return run_command("scraper", ["reclean", str(db_path), *args])
    # A fresh Python in a namespace of its own: a fork of the tests' server cannot leave its network.
    cmd = [*network_cut(), sys.executable, "-m", "scraper", "reclean", str(db_path), *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env())


def rows(db_path: Path) -> dict[str, dict]:
    return {r["url"]: r for r in Database(db_path).query(f"select {CONTENT} from reports")}


def version_rows(db_path: Path) -> list[dict]:
    """Earlier versions kept, with their report's URL. The crawl itself may keep one: when a
    republished copy is fetched before its original, the original replaces the copy's text."""
    return list(Database(db_path).query(
        "select r.url, v.version, v.body from report_versions v join reports r on r.id = v.report_id "
        "order by r.url, v.version"))


def summary(result: subprocess.CompletedProcess) -> str:
    return result.stdout.strip().splitlines()[-1]


def test_an_unchanged_cleaner_changes_nothing_with_the_network_cut(archived):
    """Offline (no server, and no network namespace where the machine allows one): the archive
    alone gives back exactly what the crawl stored."""
    before, versions = rows(archived), version_rows(archived)
    result = reclean(archived, offline=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{len(before)} unchanged" in summary(result) and "0 changed" in summary(result)
    assert rows(archived) == before
    assert version_rows(archived) == versions  # no version added
    assert re.search(r"cleaned in \d+ worker process(es)? \(fork\)", result.stderr)  # one thread: forked


def test_reports_an_older_cleaner_left_are_updated_and_their_versions_kept(archived):
    before, earlier = rows(archived), version_rows(archived)
    db = Database(archived)
    stale = sorted(before)[:3]
    for url in stale:  # as a cleaner with a bug left them
        db.execute("update reports set body = body || ' Share this article.', body_html = body_html || "
                   "'<p>Share this article.</p>' where url = ?", [url])
    db.conn.commit()
    result = reclean(archived)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "3 changed" in summary(result) and f"{len(before) - 3} unchanged" in summary(result)
    assert rows(archived) == before
    versions = [v for v in version_rows(archived) if v not in earlier]
    assert [v["url"] for v in versions] == stale
    assert all(v["body"].endswith("Share this article.") for v in versions)


def test_an_archive_from_before_countries_gains_them_without_a_crawl(archived):
    """The upgrade path: a database stored before reports had countries (no column, m007 not
    applied) gets the column from the migration and every report's countries from reclean."""
    before = rows(archived)
    assert all(r["countries"] not in (None, "[]") for r in before.values() if "Kazakhstan" in r["tags"])
    db = Database(archived)
    db.execute("alter table reports drop column countries")
    db.execute("delete from _sqlite_migrations where name = 'm007_countries'")
    db.conn.commit()
    db.close()
    result = reclean(archived, offline=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{len(before)} changed" in summary(result)
    assert rows(archived) == before  # every report's countries as the crawl stored them


def test_a_dry_run_counts_the_changes_and_writes_nothing(archived):
    db = Database(archived)
    db.execute("update reports set body = 'stale' where id = 1")
    db.conn.commit()
    db.close()
    digest = hashlib.sha256(archived.read_bytes()).hexdigest()
    result = reclean(archived, "--dry-run")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "nothing written" in summary(result) and "1 changed" in summary(result)
    assert hashlib.sha256(archived.read_bytes()).hexdigest() == digest
    assert Database(archived).execute("select body from reports where id = 1").fetchone()[0] == "stale"


@pytest_twisted.ensureDeferred
async def test_failures_that_now_parse_are_stored(archived_crawl, tmp_path):
    """Pages a stricter cleaner refused (too short) are failures; cleaned again, they are reports."""
    db_path = tmp_path / "caci.db"
    with SiteServer(SITE) as server:
        await crawl(f"{server.url}/publications/field-reports.html", db_path, spider="analyst",
                    CACI_MIN_BODY_WORDS=300)
    db = Database(db_path)
    refused = {r["url"] for r in db.query("select url from failures where reason like 'parse: no article text%'")}
    stored = db["reports"].count
    assert refused and stored
    result = reclean(db_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{len(refused)} newly stored" in summary(result)
    db = Database(db_path)
    assert not {r["url"] for r in db.query("select url from failures")} & refused
    assert refused <= {r["url"] for r in db.query("select url from report_urls")}
    # the same reports a crawl with the lenient cleaner stores (a republished copy is one report)
    lenient = Database(archived_crawl)
    assert db["reports"].count == lenient["reports"].count > stored
    lenient.close()  # the shared crawl's files stay as they are for the tests after


def test_a_report_the_cleaner_now_refuses_is_kept_as_it_was(archived):
    before = rows(archived)
    result = reclean(archived, "-s", "CACI_MIN_BODY_WORDS=100000")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{len(before)} no longer clean" in summary(result)
    assert rows(archived) == before


def test_a_damaged_record_is_named_and_skipped_and_the_rest_goes_on(archived):
    db = Database(archived)
    capture = next(db.query("select c.* from reports r join captures c on c.id = r.capture_id order by r.url"))
    path = archived.parent / "caci-warc" / capture["warc_file"]
    data = bytearray(path.read_bytes())
    middle = capture["offset"] + capture["length"] // 2
    data[middle:middle + 64] = b"\0" * 64  # a bad sector inside one gzip member
    path.write_bytes(bytes(data))
    total = db["reports"].count
    result = reclean(archived)
    assert result.returncode == 1
    assert "1 damaged" in summary(result) and f"{total - 1} unchanged" in summary(result)
    assert f"{capture['warc_file']} at offset {capture['offset']}" in result.stderr


def test_a_missing_warc_file_is_damage_too(archived):
    for path in (archived.parent / "caci-warc").glob("*.warc.gz"):
        path.unlink()
    result = reclean(archived)
    assert result.returncode == 1 and "0 unchanged" in summary(result)
    assert "FileNotFoundError" in result.stderr


def test_sections_and_since_narrow_the_reports(archived):
    digest = reclean(archived, "--sections", "news-digest")
    assert "1 unchanged" in summary(digest), digest.stderr[-2000:]
    since = Database(archived).execute("select count(*) from reports where published >= '2015-01-01'").fetchone()[0]
    recent = reclean(archived, "--since", "2015-01-01")
    assert 0 < since < Database(archived)["reports"].count
    assert f"{since} unchanged" in summary(recent)


@pytest.mark.parametrize("args, message", [
    (["--since", "last week"], "not a date"),
    (["--sections", "poetry"], "unknown section"),
])
def test_bad_arguments_exit_2_with_the_reason(archived, args, message):
    result = reclean(archived, *args)
    assert result.returncode == 2 and message in result.stderr


def test_no_database_is_exit_2(tmp_path):
    result = reclean(tmp_path / "none.db")
    assert result.returncode == 2 and "no database" in result.stderr and not (tmp_path / "none.db").exists()


def test_a_running_crawl_s_lock_is_respected(archived):
    from scraper.lock import crawl_lock

    with crawl_lock(archived.with_name(archived.name + ".lock")):
        result = reclean(archived)
    assert result.returncode == 75 and "another crawl is running" in result.stderr


def test_read_response_names_the_file_and_offset_of_a_truncated_record(archived):
    db = Database(archived)
    capture = next(db.query("select * from captures where status = 200 order by id desc"))
    path = archived.parent / "caci-warc" / capture["warc_file"]
    assert read_response(path.parent, capture["warc_file"], capture["offset"]).status == 200
    path.write_bytes(path.read_bytes()[:capture["offset"] + capture["length"] // 2])
    with pytest.raises(DamagedRecord, match=f"at offset {capture['offset']}"):
        read_response(path.parent, capture["warc_file"], capture["offset"])


def test_the_direct_read_of_a_plain_record_equals_warcio_s(archived):
    captures = list(Database(archived).query("select * from captures order by id"))
    folder = archived.parent / "caci-warc"
    assert len(captures) > 30
    for capture in captures:
        direct = read_response(folder, capture["warc_file"], capture["offset"], capture["length"])
        assert direct == read_response(folder, capture["warc_file"], capture["offset"])
        assert direct.url == capture["url"] and direct.status == capture["status"]


def test_a_record_whose_payload_no_longer_matches_its_digest_is_damaged(archived):
    """One flipped byte inside the page (the gzip member rewritten so it still inflates)."""
    import gzip

    capture = next(Database(archived).query("select * from captures where status = 200 order by id"))
    path = archived.parent / "caci-warc" / capture["warc_file"]
    data = path.read_bytes()
    start, end = capture["offset"], capture["offset"] + capture["length"]
    record = gzip.decompress(data[start:end]).replace(b"</html>", b"</htmL>", 1)
    path.write_bytes(data[:start] + gzip.compress(record) + data[end:])
    with pytest.raises(DamagedRecord, match="digest"):
        read_response(path.parent, capture["warc_file"], capture["offset"], len(gzip.compress(record)))


def test_storage_that_cannot_be_written_is_one_line_and_exit_4(archived, small_disk):
    """A database on read-only storage: one line naming the reason, the crawl's exit code for
    storage (4), no traceback; the archive is not touched."""
    from tests.conftest import remount_read_only

    disk = small_disk(4096)
    shutil.copytree(archived.parent, disk / "data")
    remount_read_only(disk)
    result = reclean(disk / "data" / archived.name)
    assert result.returncode == 4, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("reclean: cannot write")


def test_swapped_index_rows_are_damage_never_applied(archived):
    """Two captures rows with each other's offset and length: each record read back is another
    page's; reclean names both as damaged and stores neither under the wrong report."""
    db = Database(archived)
    a, b = db.query("select c.* from reports r join captures c on c.id = r.capture_id "
                    "where c.warc_file = (select min(warc_file) from captures) order by r.url limit 2")
    db.execute("update captures set \"offset\" = ?, length = ? where id = ?", [b["offset"], b["length"], a["id"]])
    db.execute("update captures set \"offset\" = ?, length = ? where id = ?", [a["offset"], a["length"], b["id"]])
    db.conn.commit()
    before = rows(archived)
    result = reclean(archived)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "2 damaged" in summary(result) and "0 changed" in summary(result)
    assert f"the record there is {b['url']}, not {a['url']}" in result.stderr
    after = rows(archived)
    assert after == before
    assert len({r["url"] for r in after.values()}) == len(after)


def test_a_bit_flipped_record_s_warning_is_one_short_line(archived):
    db = Database(archived)
    capture = next(db.query("select c.* from reports r join captures c on c.id = r.capture_id order by r.url"))
    path = archived.parent / "caci-warc" / capture["warc_file"]
    data = bytearray(path.read_bytes())
    for at in range(capture["offset"] + 10, capture["offset"] + capture["length"] - 8, 97):
        data[at] ^= 0x10  # bits flipped all through one gzip member
    path.write_bytes(bytes(data))
    result = reclean(archived)
    assert result.returncode == 1
    [warning] = [line for line in result.stderr.splitlines() if "Damaged WARC record" in line]
    assert len(warning) < 500 and warning.isprintable(), warning[:3000]


def test_reclean_never_takes_over_a_database_that_is_not_ours(tmp_path, not_ours):
    path = not_ours
    before = path.read_bytes()
    result = reclean(path)
    assert result.returncode == 4, result.stderr[-2000:]
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("reclean: ") and "refusing to touch it" in line
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_a_fifo_in_place_of_a_warc_file_is_damage_not_a_hang(archived):
    import os

    folder = archived.parent / "caci-warc"
    files = sorted(folder.glob("*.warc.gz"))
    victim = files[0]
    victim.unlink()
    os.mkfifo(victim)
    result = reclean(archived)
    assert result.returncode == 1, result.stderr[-2000:]
    assert f"{victim.name} at offset" in result.stderr and "not a regular file" in result.stderr
