"""The SQLite store: schema, the dedup rule, and every read and write the crawler makes."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from scraper.model import DRIFT_PREFIX
from scraper.text import title_key

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
SQLITE_HEADER = b"SQLite format 3\x00"
# Columns compared to tell an updated report from an unchanged one; hits and fetched_at move on
# every visit and are refreshed without counting as a change.
CONTENT_COLUMNS = ("title", "published", "author", "authors", "category", "tags", "body", "body_html",
                   "author_bio", "extraction")


class DatabaseError(RuntimeError):
    """The database file cannot be used; the message says why and what to do."""


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@contextlib.contextmanager
def write(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock first (BEGIN IMMEDIATE).

    A deferred transaction that reads before it writes fails at once with "database is
    locked" when another connection writes meanwhile; asking for the lock up front makes it
    wait (busy_timeout) instead, so a writer elsewhere delays the crawl but never loses a row.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    else:
        db.execute("COMMIT")


def check_database(path: str | Path) -> None:
    """Raise DatabaseError if `path` exists and is not an SQLite database (nothing is written)."""
    path = Path(path)
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a database file")
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as f:
            if f.read(16) != SQLITE_HEADER:
                raise DatabaseError(f"{path} exists but is not an SQLite database; refusing to touch it")


def open_db(path: str | Path, busy_timeout_ms: int = 30_000) -> Database:
    """Open (creating if needed) the database at `path`, in WAL mode, with the schema ensured.

    A file that is not SQLite is refused with DatabaseError and left untouched.
    """
    path = Path(path)
    check_database(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = Database(path)
        # Readers (Datasette) never block the crawl for long: WAL, and writers wait, not fail.
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        db.enable_wal()
        # In WAL mode NORMAL still never corrupts the file, even on SIGKILL; it only skips the
        # fsync per commit (a power cut may lose the last reports, which the next run re-fetches).
        db.execute("PRAGMA synchronous = NORMAL")
        ensure_schema(db)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"cannot open {path}: {exc}") from exc
    return db


REPORTS_COLUMNS: dict[str, type] = {
    "id": int, "url": str, "item_id": int, "title": str, "title_key": str, "published": str,
    "year": int,
    "date_source": str, "issue_date": str, "author": str, "authors": str, "category": str,
    "hits": int, "tags": str, "body": str, "body_html": str, "word_count": int, "extraction": str,
    "first_seen": str, "fetched_at": str, "author_bio": str, "categories": str,
}
TABLES: dict[str, dict[str, Any]] = {
    "reports": {"columns": REPORTS_COLUMNS, "pk": "id",
                "not_null": {"url", "title", "title_key", "published", "body", "body_html"}},
    "report_urls": {"columns": {"url": str, "report_id": int, "item_id": int, "first_seen": str,
                                "last_seen": str},
                    "pk": "url", "not_null": {"report_id"},
                    "foreign_keys": [("report_id", "reports", "id")]},
    "failures": {"columns": {"url": str, "reason": str, "attempts": int, "first_seen": str,
                             "last_seen": str, "listing_title": str, "listing_date": str},
                 "pk": "url", "not_null": {"reason"}},
    "report_versions": {"columns": {"report_id": int, "version": int, "fetched_at": str,
                                    "title": str, "body": str},
                        "pk": ("report_id", "version"),
                        "foreign_keys": [("report_id", "reports", "id")]},
    "digest_items": {"columns": {"report_id": int, "position": int, "headline": str, "text": str,
                                 "source": str},
                     "pk": ("report_id", "position"),
                     "foreign_keys": [("report_id", "reports", "id")]},
    "crawls": {"columns": {"id": int, "started_at": str, "finished_at": str, "mode": str,
                           "close_reason": str, "outcome": str, "pages_fetched": int,
                           "listing_pages": int, "item_pages": int, "reports_new": int,
                           "reports_updated": int, "reports_unchanged": int,
                           "reports_duplicate": int, "failures": int, "requests": int,
                           "listing_complete": int, "stats": str},
               "pk": "id"},
}


def ensure_schema(db: Database) -> None:
    """Create what is missing — tables, columns added since, indexes, the full-text index.

    Safe on every start, and on a database an older version of this project wrote: changes
    are additive, so no row is touched.
    """
    with write(db):
        for name, spec in TABLES.items():
            table = db[name]
            table.create(spec["columns"], pk=spec["pk"], not_null=spec.get("not_null"),
                         foreign_keys=spec.get("foreign_keys"), if_not_exists=True)
            have = table.columns_dict
            for column, kind in spec["columns"].items():
                if column not in have:
                    table.add_column(column, kind)
        # Rows written before the year column existed (a no-op afterwards).
        db.execute("update reports set year = cast(substr(published, 1, 4) as integer) "
                   "where year is null and published is not null")
        db["reports"].create_index(["title_key", "published"], unique=True, if_not_exists=True,
                                   index_name="reports_dedup")
        db["report_urls"].create_index(["report_id"], if_not_exists=True)
    if not db["reports_fts"].exists():
        db["reports"].enable_fts(["title", "body"], create_triggers=True, tokenize="porter")
    if not db["digest_items_fts"].exists():
        db["digest_items"].enable_fts(["headline", "text"], create_triggers=True, tokenize="porter")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _row(report: dict[str, Any]) -> dict[str, Any]:
    row = {k: report.get(k) for k in (
        "url", "item_id", "title", "published", "date_source", "issue_date", "author", "category",
        "hits", "body", "body_html", "word_count", "extraction", "fetched_at", "author_bio")}
    row["authors"] = json.dumps(report.get("authors") or [], ensure_ascii=False)
    row["tags"] = json.dumps(report.get("tags") or [], ensure_ascii=False)
    row["title_key"] = title_key(report["title"])
    row["categories"] = json.dumps([report["category"]] if report.get("category") else [], ensure_ascii=False)
    # Stored, not computed in queries, so Datasette can facet and chart by it.
    row["year"] = int(row["published"][:4]) if row.get("published") else None
    return row


def _preferred(new_item_id: int | None, old_item_id: int | None) -> bool:
    """Whether a copy with `new_item_id` should speak for the report over `old_item_id`.

    The lowest K2 id is the original; republished copies get new, higher ids. The choice does
    not depend on the order pages were fetched in.
    """
    if old_item_id is None:
        return new_item_id is not None
    return new_item_id is not None and new_item_id < old_item_id


def upsert_report(db: Database, report: dict[str, Any]) -> str:
    """Store one report, deduplicated by normalised title + published date.

    Returns "inserted", "updated" (same report, new content), "unchanged", or "duplicate"
    (a known report under a URL not seen before; the URL is kept in report_urls).
    """
    row = _row(report)
    if not row["title_key"]:
        raise ValueError(f"report from {row['url']} has no title words to deduplicate on")
    now = row["fetched_at"] or _now()
    with write(db):
        existing = next(db.query(
            "select * from reports where title_key = ? and published = ?",
            [row["title_key"], row["published"]]), None)
        if existing is None:
            # The same URL stored before under another title/date: the page changed, not a new report.
            known = next(db.query(
                "select r.* from report_urls u join reports r on r.id = u.report_id where u.url = ?",
                [row["url"]]), None)
            if known is None:
                row["first_seen"] = now
                report_id = db["reports"].insert(row).last_pk
                status = "inserted"
            elif _downgrade(known, row):
                return "unchanged"
            else:
                report_id = known["id"]
                _keep_version(db, known)
                db["reports"].update(report_id, row)
                status = "updated"
            _store_digest(db, report_id, report.get("digest_items"))
        else:
            report_id = existing["id"]
            url_known = db.execute("select 1 from report_urls where url = ? and report_id = ?",
                                   [row["url"], report_id]).fetchone() is not None
            speaks = (row["url"] == existing["url"] or _preferred(row["item_id"], existing["item_id"])) \
                and not _downgrade(existing, row)
            # An article listed in two sections is one report that knows both.
            row["categories"] = _merged(existing["categories"], row["categories"])
            if speaks:
                changed = any(row[c] != existing[c] for c in CONTENT_COLUMNS) or row["url"] != existing["url"]
                if existing["title"] != row["title"] or existing["body"] != row["body"]:
                    _keep_version(db, existing)
                db["reports"].update(report_id, row)
                _store_digest(db, report_id, report.get("digest_items"))
            else:
                changed = False
                db.execute("update reports set hits = max(coalesce(hits, 0), coalesce(?, 0)), "
                           "categories = ? where id = ?", [row["hits"], row["categories"], report_id])
            status = "duplicate" if not url_known else ("updated" if changed else "unchanged")
        db.execute(
            """insert into report_urls (url, report_id, item_id, first_seen, last_seen)
               values (?, ?, ?, ?, ?)
               on conflict(url) do update set report_id = excluded.report_id,
                                              last_seen = excluded.last_seen""",
            [row["url"], report_id, row["item_id"], now, now],
        )
        db.execute("delete from failures where url = ?", [row["url"]])
    return status


def _downgrade(existing: dict[str, Any], row: dict[str, Any]) -> bool:
    """A generic extraction never overwrites what K2's own markup gave (a page of a drifted site)."""
    return existing["extraction"] == "k2" and row["extraction"] != "k2"


def _merged(old_json: str | None, new_json: str) -> str:
    """The union of two JSON lists of section names, sorted (the same whatever the crawl order)."""
    return json.dumps(sorted({*json.loads(old_json or "[]"), *json.loads(new_json)}), ensure_ascii=False)


def _store_digest(db: Database, report_id: int, pieces: list[dict[str, Any]] | None) -> None:
    """Replace a report's digest pieces (a news digest page's short news items)."""
    db.execute("delete from digest_items where report_id = ?", [report_id])
    for piece in pieces or []:
        db.execute("insert into digest_items (report_id, position, headline, text, source) values (?, ?, ?, ?, ?)",
                   [report_id, piece["position"], piece["headline"], piece["text"], piece.get("source")])


def _keep_version(db: Database, old: dict[str, Any]) -> None:
    """Archive a report's current title and body before they are overwritten."""
    db.execute(
        """insert into report_versions (report_id, version, fetched_at, title, body)
           select ?, coalesce(max(version), 0) + 1, ?, ?, ? from report_versions where report_id = ?""",
        [old["id"], old["fetched_at"], old["title"], old["body"], old["id"]],
    )


def record_failure(db: Database, url: str, reason: str, when: str | None = None,
                   listing_title: str | None = None, listing_date: str | None = None) -> None:
    """Record (or count again) a page that could not be fetched or parsed."""
    when = when or _now()
    with write(db):
        db.execute(
            """insert into failures (url, reason, attempts, first_seen, last_seen, listing_title, listing_date)
               values (?, ?, 1, ?, ?, ?, ?)
               on conflict(url) do update set reason = excluded.reason,
                                              attempts = attempts + 1,
                                              last_seen = excluded.last_seen,
                                              listing_title = coalesce(excluded.listing_title, listing_title),
                                              listing_date = coalesce(excluded.listing_date, listing_date)""",
            [url, reason, when, when, listing_title, listing_date],
        )


def crawl_state(db: Database, max_attempts: int) -> tuple[set[str], list[dict[str, Any]]]:
    """What an incremental crawl skips and what it retries.

    Returns the URL paths already held (reports stored from K2 markup, and failures that used
    up their attempts), and the pages worth another attempt: failures (drifted ones always) and
    generically extracted reports. Paths, not URLs: the same report
    reached over http or https, with or without www, or through a mirror, is the same page.
    """
    known = {urlsplit(r["url"]).path for r in db.query("select url from report_urls")}
    retry = []
    # A generic extraction is provisional: fetched again until K2's markup gives the report.
    for row in db.query("select u.url, r.title, r.published from report_urls u join reports r "
                        "on r.id = u.report_id where r.extraction != 'k2' order by u.url"):
        known.discard(urlsplit(row["url"]).path)
        retry.append({"url": row["url"], "listing_title": row["title"], "listing_date": row["published"]})
    for failure in db.query("select * from failures order by url"):
        # A page that failed because the site drifted is retried until the site is right again.
        if failure["attempts"] >= max_attempts and not failure["reason"].startswith(DRIFT_PREFIX):
            known.add(urlsplit(failure["url"]).path)
        else:
            retry.append(failure)
    return known, retry


def last_crawl(db: Database) -> dict[str, Any] | None:
    """The most recent run in `crawls`, finished or not."""
    return next(db.query("select * from crawls order by id desc limit 1"), None)


def start_crawl(db: Database, mode: str, started_at: str | None = None) -> int:
    with write(db):
        return db["crawls"].insert({"started_at": started_at or _now(), "mode": mode}).last_pk


def finish_crawl(db: Database, crawl_id: int, **fields: Any) -> None:
    """Complete a run's row in `crawls`; `stats` (a dict) is stored as JSON."""
    if "stats" in fields:
        fields["stats"] = json.dumps(fields["stats"], default=str, sort_keys=True)
    fields.setdefault("finished_at", _now())
    with write(db):
        db["crawls"].update(crawl_id, fields)


def report_urls(db: Database, report_id: int) -> list[str]:
    return [r["url"] for r in db.query(
        "select url from report_urls where report_id = ? order by item_id, url", [report_id])]
