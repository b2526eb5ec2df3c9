"""Reports: the dedup upsert, the URLs a report was found at, its earlier versions, digest pieces."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlite_utils import Database

from analyst.text import title_key
from db.connection import now, write
from db.schema import DERIVED_COLUMNS, JSON_COLUMNS, TABLES

# Columns compared to tell an updated report from an unchanged one; hits and fetched_at move on
# every visit and are refreshed without counting as a change.
CONTENT_COLUMNS = ("title", "published", "author", "authors", "category", "tags", "countries", "body",
                   "body_html", "author_bio", "extraction")


def _row(report: dict[str, Any]) -> dict[str, Any]:
    """The `reports` row of a Report (as a dict): its fields, lists as JSON, the derived columns."""
    row = {c: report.get(c) for c in TABLES["reports"]["columns"] if c not in DERIVED_COLUMNS}
    for column in JSON_COLUMNS:
        row[column] = json.dumps(report.get(column) or [], ensure_ascii=False)
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
    if row["capture_id"] is None:
        # Answered from the HTTP cache (a 304): no new capture, the stored link still holds.
        del row["capture_id"]
    if not row["title_key"]:
        raise ValueError(f"report from {row['url']} has no title words to deduplicate on")
    when = row["fetched_at"] or now()
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
                row["first_seen"] = row["changed_at"] = when
                report_id = db.execute(
                    f"insert into reports ({', '.join(f'[{c}]' for c in row)}) values ({', '.join('?' * len(row))})",
                    list(row.values())).lastrowid
                status = "inserted"
            elif _downgrade(known, row):
                return "unchanged"
            else:
                report_id = known["id"]
                _keep_version(db, known)
                _update(db, report_id, row | {"changed_at": when}, known)
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
                _update(db, report_id, row | ({"changed_at": when} if changed else {}), existing)
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
            [row["url"], report_id, row["item_id"], when, when],
        )
        db.execute("delete from failures where url = ?", [row["url"]])
    return status


# The columns a Report's row carries (what _row builds): a stored row's fingerprint is taken over them.
ROW_COLUMNS = tuple(c for c in TABLES["reports"]["columns"] if c not in ("id", "first_seen", "changed_at"))


def fingerprint(row: dict[str, Any]) -> str:
    """A digest of a row's ROW_COLUMNS: equal digests, equal columns (values as SQLite gives them).

    Each value goes in with its type and length, so no two different rows run together into the
    same bytes; text is hashed as UTF-8 (JSON-encoding every body first was 2/3 of the cost)."""
    digest = hashlib.sha1()
    for column in ROW_COLUMNS:
        value = row.get(column)
        data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else repr(value).encode()
        digest.update(b"%s:%d:" % (type(value).__name__.encode(), len(data)))
        digest.update(data)
    return digest.hexdigest()


def stored_fingerprints(db: Database) -> dict[int, str | None]:
    """Every stored report's fingerprint by id; None for a report with digest pieces (the upsert
    compares those itself). Read row by row: a re-clean of the whole archive keeps 40 bytes per
    report in memory, not its text."""
    return {row["id"]: None if row["digest_pieces"] else fingerprint(row) for row in db.query(
        "select r.*, (select count(*) from digest_items d where d.report_id = r.id) as digest_pieces "
        "from reports r")}


def unchanged(report: dict[str, Any], stored: str | None) -> bool:
    """Whether upserting `report` over the stored row whose fingerprint is `stored` would change
    nothing at all: every column equal, and no digest pieces on either side."""
    return stored is not None and not report.get("digest_items") and fingerprint(_row(report)) == stored


def _downgrade(existing: dict[str, Any], row: dict[str, Any]) -> bool:
    """A generic extraction never overwrites what K2's own markup gave (a page of a drifted site)."""
    return existing["extraction"] == "k2" and row["extraction"] != "k2"


def _merged(old_json: str | None, new_json: str) -> str:
    """The union of two JSON lists of section names, sorted (the same whatever the crawl order)."""
    return json.dumps(sorted({*json.loads(old_json or "[]"), *json.loads(new_json)}), ensure_ascii=False)


def _update(db: Database, report_id: int, row: dict[str, Any], stored: dict[str, Any]) -> None:
    """Write the columns of `row` that differ from the `stored` row (nothing if none does).

    Plain SQL: sqlite-utils' Table.update reads the table's schema and the row again on every
    call, which made it most of the cost of re-storing an unchanged archive.
    """
    changed = {column: value for column, value in row.items() if stored.get(column) != value}
    if changed:
        db.execute(f"update reports set {', '.join(f'[{c}] = ?' for c in changed)} where id = ?",
                   [*changed.values(), report_id])


_DIGEST_COLUMNS = tuple(TABLES["digest_items"]["columns"])


def _store_digest(db: Database, report_id: int, pieces: list[dict[str, Any]] | None) -> None:
    """Replace a report's digest pieces (a news digest page's short news items), if they changed."""
    new = [tuple(({"report_id": report_id, "source": None} | piece).get(c) for c in _DIGEST_COLUMNS)
           for piece in pieces or []]
    marks = ", ".join("?" * len(_DIGEST_COLUMNS))
    old = db.execute(f"select {', '.join(_DIGEST_COLUMNS)} from digest_items where report_id = ? order by position",
                     [report_id]).fetchall()
    if old == sorted(new, key=lambda piece: piece[_DIGEST_COLUMNS.index("position")]):
        return
    db.execute("delete from digest_items where report_id = ?", [report_id])
    db.conn.executemany(f"insert into digest_items ({', '.join(_DIGEST_COLUMNS)}) values ({marks})", new)


def _keep_version(db: Database, old: dict[str, Any]) -> None:
    """Archive a report's current title and body before they are overwritten."""
    db.execute(
        """insert into report_versions (report_id, version, fetched_at, title, body)
           select ?, coalesce(max(version), 0) + 1, ?, ?, ? from report_versions where report_id = ?""",
        [old["id"], old["fetched_at"], old["title"], old["body"], old["id"]],
    )


def report_urls(db: Database, report_id: int) -> list[str]:
    return [r["url"] for r in db.query(
        "select url from report_urls where report_id = ? order by item_id, url", [report_id])]
