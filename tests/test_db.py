"""The store: schema, dedup rule, URLs of duplicates, failures, full-text search, bad files."""

from __future__ import annotations

import json

import pytest
from sqlite_utils import Database

import db as store
from db import reading
from db.migrations import MIGRATIONS, migrate
from db.schema import report_columns
from tests.conftest import ROOT

REPORT = {
    "url": "https://www.cacianalyst.org/publications/field-reports/item/8050-turkmenistan.html",
    "item_id": 8050,
    "title": "Turkmenistan’s Neutrality Doctrine Under Strain",
    "published": "2016-08-17",
    "author": "Oliver Strand",
    "authors": ["Oliver Strand"],
    "category": "Field Reports",
    "hits": 8004,
    "tags": ["Turkmenistan"],
    "body": "For two decades, Turkmenistan has defined its foreign policy through neutrality.\n\nSecond.",
    "body_html": "<p>For two decades ...</p><p>Second.</p>",
    "word_count": 13,
    "extraction": "k2",
    "fetched_at": "2026-11-28T10:00:00+00:00",
}
COPY = REPORT | {
    "url": "https://www.cacianalyst.org/publications/field-reports/item/108050-turkmenistan.html",
    "item_id": 108050,
    "title": "TURKMENISTAN’S  NEUTRALITY DOCTRINE UNDER STRAIN ",
}


@pytest.fixture
def database(tmp_path):
    """A fresh database file with the schema in place."""
    database = store.open_db(tmp_path / "reports.db")
    yield database
    database.close()


def rows(database):
    return list(database.query("select * from reports order by id"))


def test_schema(database):
    assert {"reports", "report_urls", "failures", "reports_fts"} <= set(database.table_names())
    assert database["reports"].pks == ["id"]
    assert any(i.unique and i.columns == ["title_key", "published"] for i in database["reports"].indexes)
    assert database.journal_mode == "wal"
    assert [m.name for m in MIGRATIONS.applied(database)] == [m.name for m in MIGRATIONS._migrations]
    assert migrate(database) == []  # consulted: nothing runs twice


def test_the_reports_table_is_the_report_model():
    """Issue 12: the columns are declared once (Report); the table and Datasette's metadata follow it."""
    import dataclasses

    import yaml

    from analyst.model import Report

    columns = set(report_columns())
    assert {f.name for f in dataclasses.fields(Report)} - {"digest_items"} <= columns
    described = yaml.safe_load((ROOT / "scraper" / "web" / "metadata.yml").read_text())
    documented = described["databases"]["DATABASE"]["tables"]["reports"]["columns"]
    assert set(documented) == columns


def test_migrations_run_once_per_process_and_file(tmp_path, monkeypatch):
    calls = []
    real = store.migrate
    monkeypatch.setattr(store, "migrate", lambda db: calls.append(db) or real(db))
    path = tmp_path / "once.db"
    store._migrated.clear()
    for _ in range(3):
        store.open_db(path).close()
    assert len(calls) == 1
    path.unlink()  # another file at the same path is migrated again
    store.open_db(path).close()
    assert len(calls) == 2


def test_insert_then_unchanged_then_updated(database):
    assert store.upsert_report(database, REPORT) == "inserted"
    assert store.upsert_report(database, REPORT | {"hits": 9000}) == "unchanged"
    assert rows(database)[0]["hits"] == 9000
    assert store.upsert_report(database, REPORT | {"body": REPORT["body"] + " More."}) == "updated"
    [row] = rows(database)
    assert row["body"].endswith("More.")
    assert json.loads(row["authors"]) == ["Oliver Strand"] and json.loads(row["tags"]) == ["Turkmenistan"]


@pytest.mark.parametrize("order", [(REPORT, COPY), (COPY, REPORT)], ids=["original-first", "copy-first"])
def test_copy_under_another_url_is_one_row_spoken_for_by_the_original(database, order):
    statuses = [store.upsert_report(database, r) for r in order]
    assert statuses == ["inserted", "duplicate"]
    [row] = rows(database)
    assert row["url"] == REPORT["url"] and row["title"] == REPORT["title"]
    assert store.report_urls(database, row["id"]) == [REPORT["url"], COPY["url"]]
    assert store.upsert_report(database, COPY) == "unchanged"


def test_same_title_on_another_date_is_another_report(database):
    store.upsert_report(database, REPORT)
    assert store.upsert_report(database, REPORT | {"url": REPORT["url"] + "x", "published": "2016-08-18",
                                                   "item_id": 9000}) == "inserted"
    assert len(rows(database)) == 2


def test_a_page_whose_title_changed_updates_its_row(database):
    store.upsert_report(database, REPORT)
    assert store.upsert_report(database, REPORT | {"title": "Turkmenistan’s Neutrality Doctrine Under Pressure"}) == "updated"
    [row] = rows(database)
    assert row["title"].endswith("Pressure")


def test_sql_metacharacters_are_stored_verbatim(database):
    evil = REPORT | {"title": "Robert'); DROP TABLE reports;--", "body": "x' OR '1'='1 \"; --" * 5}
    store.upsert_report(database, evil)
    [row] = rows(database)
    assert row["title"] == evil["title"] and row["body"] == evil["body"]


def test_failures_count_attempts_and_clear_on_success(database):
    store.record_failure(database, REPORT["url"], "fetch: HTTP 503", "2026-01-01T00:00:00+00:00")
    store.record_failure(database, REPORT["url"], "fetch: HTTP 404", "2026-01-02T00:00:00+00:00")
    [failure] = database.query("select * from failures")
    assert failure == {"url": REPORT["url"], "reason": "fetch: HTTP 404", "attempts": 2,
                       "first_seen": "2026-01-01T00:00:00+00:00", "last_seen": "2026-01-02T00:00:00+00:00",
                       "listing_title": None, "listing_date": None}
    store.upsert_report(database, REPORT)
    assert list(database.query("select * from failures")) == []


def test_full_text_search_follows_writes(database):
    store.upsert_report(database, REPORT)
    found = list(database["reports"].search("neutrality"))
    assert [r["url"] for r in found] == [REPORT["url"]]
    store.upsert_report(database, REPORT | {"body": "Completely different words now.", "title": REPORT["title"]})
    assert list(database["reports"].search("decades")) == []


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 10)
    before = path.read_bytes()
    with pytest.raises(store.DatabaseError, match="not an SQLite database"):
        store.open_db(path)
    assert path.read_bytes() == before


def test_report_without_title_words_is_refused(database):
    with pytest.raises(ValueError, match="no title words"):
        store.upsert_report(database, REPORT | {"title": "!!!"})


def test_changed_title_or_body_keeps_the_previous_version(database):
    store.upsert_report(database, REPORT)
    store.upsert_report(database, REPORT | {"body": "Revised text.", "fetched_at": "2026-12-01T00:00:00+00:00"})
    store.upsert_report(database, REPORT | {"body": "Revised again.", "fetched_at": "2026-12-02T00:00:00+00:00"})
    versions = list(database.query("select version, fetched_at, title, body from report_versions order by version"))
    assert versions == [
        {"version": 1, "fetched_at": REPORT["fetched_at"], "title": REPORT["title"], "body": REPORT["body"]},
        {"version": 2, "fetched_at": "2026-12-01T00:00:00+00:00", "title": REPORT["title"], "body": "Revised text."},
    ]
    assert rows(database)[0]["body"] == "Revised again."
    store.upsert_report(database, REPORT | {"body": "Revised again.", "hits": 1})  # hits only: no version
    assert database["report_versions"].count == 2


def test_crawl_state_skips_held_pages_and_retries_failures_up_to_a_cap(database):
    store.upsert_report(database, REPORT)
    store.record_failure(database, "http://127.0.0.1:9/publications/field-reports/item/2-b.html", "fetch: HTTP 503",
                         listing_title="B", listing_date="2010-01-01")
    for _ in range(3):
        store.record_failure(database, "https://www.cacianalyst.org/publications/field-reports/item/3-c.html", "fetch: HTTP 404")
    known, retry = store.crawl_state(database, max_attempts=3)
    assert known == {"/publications/field-reports/item/8050-turkmenistan.html",
                     "/publications/field-reports/item/3-c.html"}
    assert [(r["url"], r["listing_title"], r["listing_date"]) for r in retry] == [
        ("http://127.0.0.1:9/publications/field-reports/item/2-b.html", "B", "2010-01-01")]


def test_an_older_database_gains_new_columns_without_losing_rows(tmp_path):
    """A v1 database (no listing columns in failures, no crawls table) is brought up to date."""
    from sqlite_utils import Database

    path = tmp_path / "old.db"
    old = Database(path)
    old["failures"].create({"url": str, "reason": str, "attempts": int, "first_seen": str, "last_seen": str}, pk="url")
    old["failures"].insert({"url": "u", "reason": "r", "attempts": 1, "first_seen": "a", "last_seen": "b"})
    old.execute("pragma user_version = 1")
    old.close()
    database = store.open_db(path)
    assert list(database.query("select url, reason, listing_title from failures")) == [
        {"url": "u", "reason": "r", "listing_title": None}]
    assert {"crawls", "report_versions"} <= set(database.table_names())
    assert not MIGRATIONS.pending(database)


def test_a_database_from_before_migrations_is_upgraded(tmp_path):
    """A v2 database (ensure_schema era: every table, user_version 2, no migrations table, no
    author_bio/categories/year columns yet) keeps its rows and gains what it lacks."""
    from sqlite_utils import Database

    path = tmp_path / "v2.db"
    old = Database(path)
    columns = {k: v for k, v in report_columns().items() if k not in ("author_bio", "categories", "year")}
    old["reports"].create(columns, pk="id")
    old["reports"].insert({"url": "u", "title": "T", "title_key": "t", "published": "2005-04-20", "body": "b",
                           "body_html": "<p>b</p>", "extraction": "k2"})
    old["reports"].enable_fts(["title", "body"], create_triggers=True, tokenize="porter")
    old.execute("pragma user_version = 2")
    old.close()
    database = store.open_db(path)
    [row] = database.query("select title, year, categories from reports")
    assert row == {"title": "T", "year": 2005, "categories": None}
    assert "_sqlite_migrations" in database.table_names() and not MIGRATIONS.pending(database)
    assert store.upsert_report(database, REPORT) == "inserted"
    assert [r["title"] for r in database.query("select title from reports_fts where reports_fts match 'neutrality'")] \
        == [REPORT["title"]]


# --- properties of the dedup rule ---------------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TITLE_WORDS = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüçşğ", min_size=1, max_size=8),
                       min_size=1, max_size=6)
VARIANT = st.sampled_from([
    lambda t: t, str.upper, str.lower, str.title,
    lambda t: t.replace(" ", "  "), lambda t: " " + t + " ", lambda t: t.replace(" ", "\u00a0"),
    lambda t: t.replace("'", "’"), lambda t: t.replace("'", "‘"), lambda t: f"“{t}”", lambda t: f'"{t}"',
])
DATES = st.dates(min_value=__import__("datetime").date(2000, 1, 1), max_value=__import__("datetime").date(2016, 12, 31))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=TITLE_WORDS, variants=st.lists(VARIANT, min_size=1, max_size=4), day=DATES,
       other_day=DATES)
def test_dedup_rule(tmp_path_factory, words, variants, day, other_day):
    """Variants of one title on one date are one report, stored idempotently; another date is
    always another report."""
    database = store.open_db(tmp_path_factory.mktemp("prop") / "p.db")
    title = f"{words[0]}'s " + " ".join(words[1:])
    for i, variant in enumerate(variants):
        store.upsert_report(database, REPORT | {"title": variant(title), "published": day.isoformat(),
                                                "url": f"{REPORT['url']}?v={i}", "item_id": 100 + i})
    assert database["reports"].count == 1
    before = list(database.query("select * from reports"))
    assert store.upsert_report(database, REPORT | {"title": variants[0](title), "published": day.isoformat(),
                                                   "url": f"{REPORT['url']}?v=0", "item_id": 100}) == "unchanged"
    assert list(database.query("select * from reports")) == before
    if other_day != day:
        store.upsert_report(database, REPORT | {"title": title, "published": other_day.isoformat(),
                                                "url": REPORT["url"] + "?other", "item_id": 999})
        assert database["reports"].count == 2
    database.close()


def test_a_generic_extraction_never_overwrites_a_k2_report(database):
    """A drifted page of a known report (even under full=1) leaves the K2 row as it was."""
    assert store.upsert_report(database, REPORT) == "inserted"
    before = list(database.query("select * from reports"))
    generic = REPORT | {"body": "Menu Home Search. " + REPORT["body"] + " Tagged under", "extraction": "generic",
                        "tags": [], "hits": None, "fetched_at": "2026-12-01T10:00:00+00:00"}
    assert store.upsert_report(database, generic) == "unchanged"
    renamed = generic | {"title": "Cacianalyst.org - Turkmenistan"}  # the same URL, another title
    assert store.upsert_report(database, renamed) == "unchanged"
    assert list(database.query("select * from reports")) == before
    assert not list(database.query("select * from report_versions"))


def test_a_generic_report_is_not_known_and_is_retried_until_k2_replaces_it(database):
    generic = REPORT | {"extraction": "generic"}
    store.upsert_report(database, generic)
    known, retry = store.crawl_state(database, max_attempts=3)
    path = "/publications/field-reports/item/8050-turkmenistan.html"
    assert path not in known
    assert [r["url"] for r in retry] == [REPORT["url"]]
    assert retry[0]["listing_title"] == REPORT["title"] and retry[0]["listing_date"] == REPORT["published"]
    assert store.upsert_report(database, REPORT) == "updated"  # K2's markup gives the report
    known, retry = store.crawl_state(database, max_attempts=3)
    assert path in known and retry == []


def test_drift_failures_are_retried_whatever_their_attempts(database):
    url = "https://www.cacianalyst.org/publications/field-reports/item/9-x.html"
    for _ in range(5):
        store.record_failure(database, url, "drift: 5 of 5 item pages had no K2 item markup; this page: ...")
    known, retry = store.crawl_state(database, max_attempts=3)
    assert [r["url"] for r in retry] == [url] and "/publications/field-reports/item/9-x.html" not in known


def test_an_old_database_is_migrated_while_another_connection_writes(tmp_path):
    """The upgrade waits for a writer elsewhere instead of failing with "database is locked"."""
    import sqlite3
    import threading
    import time

    from sqlite_utils import Database

    path = tmp_path / "old.db"
    old = Database(path)
    old["failures"].create({"url": str, "reason": str, "attempts": int, "first_seen": str, "last_seen": str}, pk="url")
    old.enable_wal()
    old.close()
    holder = sqlite3.connect(path, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("insert into failures (url, reason) values ('x', 'y')")
    threading.Timer(1.0, holder.commit).start()
    started = time.monotonic()
    database = store.open_db(path)
    assert time.monotonic() - started >= 0.9
    assert not MIGRATIONS.pending(database)
    assert [r["url"] for r in database.query("select url from failures")] == ["x"]



def test_a_write_inside_a_batch_is_a_savepoint_undone_alone(tmp_path):
    """Nested in a batch's transaction, a failed write is undone alone; the batch commits once."""
    path = tmp_path / "c.db"
    db = store.open_db(path)
    with store.write(db):
        db.execute("insert into failures (url, reason) values ('a', 'x')")
        with pytest.raises(RuntimeError):
            with store.write(db):
                db.execute("insert into failures (url, reason) values ('b', 'x')")
                raise RuntimeError("this page only")
        with store.write(db):
            db.execute("insert into failures (url, reason) values ('c', 'x')")
        assert db.conn.in_transaction
    assert not db.conn.in_transaction
    other = store.open_db(path)
    assert [r["url"] for r in other.query("select url from failures order by url")] == ["a", "c"]


def test_a_database_of_the_previous_schema_gains_the_reading_indexes(tmp_path):
    """m005, m006: a database migrated to m004 gets the indexes the reader's newest-first pages
    and section counts use; its rows stay."""
    import shutil

    first = tmp_path / "first.db"
    database = store.open_db(first)
    store.upsert_report(database, REPORT)
    database.execute("drop index reports_published")
    database.execute("drop index reports_first_seen")
    database.execute("drop index reports_categories_year")
    database.execute("delete from _sqlite_migrations where name in ('m005_reading_indexes', 'm006_sections_index')")
    database.conn.commit()
    database.close()
    previous = tmp_path / "previous.db"  # another file: migrations are consulted once per file and process
    shutil.copy(first, previous)
    database = store.open_db(previous)
    assert {"reports_published", "reports_first_seen", "reports_categories_year"} <= {
        i.name for i in database["reports"].indexes}
    assert [r["title"] for r in database.query("select title from reports")] == [REPORT["title"]]
    plan = " ".join(r["detail"] for r in database.query(
        "explain query plan select * from reports order by published desc limit 20"))
    assert "reports_published" in plan
    plan = " ".join(r["detail"] for r in database.query(f"explain query plan {reading.SECTIONS}"))
    assert "COVERING INDEX reports_categories_year" in plan


def test_a_stored_report_s_fingerprint_tells_an_unchanged_report(tmp_path):
    """What reclean's workers use to skip storing a report the upsert would leave as it is."""
    from db.reports import unchanged

    database = store.open_db(tmp_path / "c.db")
    report = REPORT | {"capture_id": 7, "fetched_at": "2026-11-28T10:00:00+00:00"}
    store.upsert_report(database, report)
    [stored] = store.stored_fingerprints(database).values()
    assert unchanged(report, stored)
    assert not unchanged(report | {"body": report["body"] + " More."}, stored)
    assert not unchanged(report | {"capture_id": 8}, stored)
    assert not unchanged(report | {"hits": 9000}, stored)  # a new read count is written too
    assert not unchanged(report, None)  # digest pieces: the upsert compares them itself


def test_rows_that_differ_have_different_fingerprints():
    """Values go into the digest with their type and length: no two rows run together."""
    from db.reports import ROW_COLUMNS, fingerprint

    base = dict.fromkeys(ROW_COLUMNS, "x") | {"title": "a", "body": "b", "hits": 0}
    changes = [
        {"title": "ab", "body": "c"}, {"title": "a", "body": "bc"},  # characters across a boundary
        {"title": "None"}, {"title": None}, {"title": ""},  # None is not its name nor empty text
        {"hits": 1}, {"hits": "1"}, {"hits": 1.0},  # a number is not its text, an int not a float
        {"body": "é"}, {"body": "e\u0301"},  # one spelling of a letter is not another
    ]
    rows = [base] + [base | change for change in changes]
    assert len({fingerprint(row) for row in rows}) == len(rows)
    assert fingerprint(base) == fingerprint(dict(base))


def _foreign(path):
    Database(path)["notes"].insert({"id": 1, "text": "mine"}, pk="id")


def _legacy(path):
    """An archive written before migrations existed: the tables every version had, no migrations."""
    Database(path)["reports"].insert({"id": 1, "url": "u"}, pk="id")
    Database(path)["failures"].insert({"url": "v", "reason": "r"}, pk="url")


@pytest.mark.parametrize("make, refused", [
    (_foreign, "an SQLite database of something else (tables: notes)"),
    (lambda p: p.write_bytes(b""), "is an empty file"),
    (lambda p: None, None),  # a path that does not exist yet
    (_legacy, None),
    (lambda p: store.open_db(p).close(), None),  # this project's
])
def test_only_a_new_path_or_this_project_s_database_is_opened(tmp_path, make, refused):
    path = tmp_path / "x.db"
    make(path)
    before = path.read_bytes() if path.exists() else None
    if refused:
        with pytest.raises(store.DatabaseError, match=refused.replace("(", r"\(").replace(")", r"\)")):
            store.open_db(path)
        assert path.read_bytes() == before
        assert not path.with_name("x.db-wal").exists()
    else:
        store.open_db(path).close()
        assert "reports" in Database(path).table_names()


def test_the_migrations_give_every_column_of_today_s_model(tmp_path):
    """The migrations are frozen (each states its own columns); a field added to the Report model
    without a migration of its own leaves a column missing here."""
    database = store.open_db(tmp_path / "fresh.db")
    for name, spec in store.TABLES.items():
        have = database[name].columns_dict
        assert {c: have.get(c) for c in spec["columns"]} == spec["columns"], name

