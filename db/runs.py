"""Runs: pages that failed and why, what the next crawl skips or retries, the history of crawls."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from analyst.model import DRIFT_PREFIX
from db.connection import now, write


def record_failure(db: Database, url: str, reason: str, when: str | None = None,
                   listing_title: str | None = None, listing_date: str | None = None) -> None:
    """Record (or count again) a page that could not be fetched or parsed."""
    when = when or now()
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


KILLED = "killed"  # the outcome of a run that ended without recording one (SIGKILL, power cut)


def start_crawl(db: Database, mode: str, started_at: str | None = None) -> int:
    """A new run's row. Runs still without an outcome ended without recording one (only one crawl
    of a database runs at a time: its lock), so they are marked as killed now, not left open."""
    with write(db):
        db.execute("update crawls set outcome = ?, close_reason = coalesce(close_reason, ?), listing_complete = 0 "
                   "where outcome is null", [KILLED, "killed: the run ended without recording an outcome"])
        return db["crawls"].insert({"started_at": started_at or now(), "mode": mode}).last_pk


def finish_crawl(db: Database, crawl_id: int, **fields: Any) -> None:
    """Complete a run's row in `crawls`; `stats` (a dict) is stored as JSON."""
    if "stats" in fields:
        fields["stats"] = json.dumps(fields["stats"], default=str, sort_keys=True)
    fields.setdefault("finished_at", now())
    with write(db):
        db["crawls"].update(crawl_id, fields)
