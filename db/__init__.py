"""The SQLite store: schema, the dedup rule, and every read and write the crawler makes."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from scraper.text import title_key

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SQLITE_HEADER = b"SQLite format 3\x00"
# Columns compared to tell an updated report from an unchanged one; hits and fetched_at move on
# every visit and are refreshed without counting as a change.
CONTENT_COLUMNS = ("title", "published", "author", "authors", "category", "tags", "body", "body_html")


class DatabaseError(RuntimeError):
    """The database file cannot be used; the message says why and what to do."""


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def open_db(path: str | Path, busy_timeout_ms: int = 30_000) -> Database:
    """Open (creating if needed) the database at `path`, in WAL mode, with the schema ensured.

    A file that is not SQLite is refused with DatabaseError and left untouched.
    """
    path = Path(path)
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as f:
            if f.read(16) != SQLITE_HEADER:
                raise DatabaseError(f"{path} exists but is not an SQLite database; refusing to touch it")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = Database(path)
        # Readers (Datasette) never block the crawl for long: WAL, and writers wait, not fail.
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        db.enable_wal()
        ensure_schema(db)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"cannot open {path}: {exc}") from exc
    return db


def ensure_schema(db: Database) -> None:
    """Create the tables, indexes and full-text index if missing; safe to run on every start."""
    with db.atomic():
        db["reports"].create(
            {
                "id": int,
                "url": str,
                "item_id": int,
                "title": str,
                "title_key": str,
                "published": str,
                "date_source": str,
                "issue_date": str,
                "author": str,
                "authors": str,
                "category": str,
                "hits": int,
                "tags": str,
                "body": str,
                "body_html": str,
                "word_count": int,
                "extraction": str,
                "first_seen": str,
                "fetched_at": str,
            },
            pk="id",
            not_null={"url", "title", "title_key", "published", "body", "body_html"},
            if_not_exists=True,
        )
        db["reports"].create_index(["title_key", "published"], unique=True, if_not_exists=True,
                                   index_name="reports_dedup")
        db["report_urls"].create(
            {"url": str, "report_id": int, "item_id": int, "first_seen": str, "last_seen": str},
            pk="url",
            not_null={"report_id"},
            foreign_keys=[("report_id", "reports", "id")],
            if_not_exists=True,
        )
        db["report_urls"].create_index(["report_id"], if_not_exists=True)
        db["failures"].create(
            {"url": str, "reason": str, "attempts": int, "first_seen": str, "last_seen": str},
            pk="url",
            not_null={"reason"},
            if_not_exists=True,
        )
    if not db["reports_fts"].exists():
        db["reports"].enable_fts(["title", "body"], create_triggers=True, tokenize="porter")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _row(report: dict[str, Any]) -> dict[str, Any]:
    row = {k: report.get(k) for k in (
        "url", "item_id", "title", "published", "date_source", "issue_date", "author", "category",
        "hits", "body", "body_html", "word_count", "extraction", "fetched_at")}
    row["authors"] = json.dumps(report.get("authors") or [], ensure_ascii=False)
    row["tags"] = json.dumps(report.get("tags") or [], ensure_ascii=False)
    row["title_key"] = title_key(report["title"])
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
    with db.atomic():
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
            else:
                report_id = known["id"]
                db["reports"].update(report_id, row)
                status = "updated"
        else:
            report_id = existing["id"]
            url_known = db.execute("select 1 from report_urls where url = ? and report_id = ?",
                                   [row["url"], report_id]).fetchone() is not None
            speaks = row["url"] == existing["url"] or _preferred(row["item_id"], existing["item_id"])
            if speaks:
                changed = any(row[c] != existing[c] for c in CONTENT_COLUMNS) or row["url"] != existing["url"]
                db["reports"].update(report_id, row)
            else:
                changed = False
                db.execute("update reports set hits = max(coalesce(hits, 0), coalesce(?, 0)) where id = ?",
                           [row["hits"], report_id])
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


def record_failure(db: Database, url: str, reason: str, when: str | None = None) -> None:
    """Record (or count again) a page that could not be fetched or parsed."""
    when = when or _now()
    with db.atomic():
        db.execute(
            """insert into failures (url, reason, attempts, first_seen, last_seen)
               values (?, ?, 1, ?, ?)
               on conflict(url) do update set reason = excluded.reason,
                                              attempts = attempts + 1,
                                              last_seen = excluded.last_seen""",
            [url, reason, when, when],
        )


def report_urls(db: Database, report_id: int) -> list[str]:
    return [r["url"] for r in db.query(
        "select url from report_urls where report_id = ? order by item_id, url", [report_id])]
