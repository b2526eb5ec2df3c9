"""`python -m scraper reclean`: clean the archived copy of every report and failure again, offline.

A better cleaner then reaches the whole archive without a re-crawl: each report's and each
failure's latest WARC capture is read back, decoded as the crawl decoded it, and cleaned in a
process pool; what changed is stored by the crawl's own dedup upsert (the previous text goes to
`report_versions`), and failures that now parse become reports. No request leaves the machine.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

import db as store
from analyst.model import DRIFT_PREFIX, PageFailure, Report
from db.warc import DamagedRecord
from pipelines.workers import cleaning_pool, reclean_page, start_method
from scraper.archive import warc_folder
from scraper.exits import EXIT_DATABASE, EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE
from scraper.lock import LockedError, crawl_lock, lock_path
from scraper.progress import counted

logger = logging.getLogger(__name__)

BATCH = 200
OUTCOMES = ("changed", "unchanged", "newly stored", "still failing", "no longer clean", "damaged")


def _store(db: Any, job: dict[str, Any], result: Report | PageFailure | DamagedRecord | None,
           sections: list[str] | None) -> str:
    """Keep one result by the crawl's rules; which of OUTCOMES it was."""
    if result is None:  # the worker found the stored row exactly as it would store it
        return "unchanged"
    if isinstance(result, DamagedRecord):
        logger.warning("Damaged WARC record, skipped (%s): %s", job["url"], result)
        return "damaged"
    if isinstance(result, PageFailure):
        if job["kind"] == "report":  # the report stays as it was; the cleaner needs a look
            logger.warning("No longer cleans, report kept as stored: %s: %s", job["url"], result.reason)
            return "no longer clean"
        return "still failing"
    if job["kind"] == "failure":
        # A page of a drifted site is not stored from a generic extraction, as in the crawl.
        drifted = job["reason"].startswith(DRIFT_PREFIX) and result.extraction != "k2"
        if drifted or (sections and result.category not in sections):
            return "still failing"
    status = store.upsert_report(db, result.to_dict())
    if job["kind"] == "failure":
        return "newly stored"
    return "changed" if status in ("updated", "inserted") else "unchanged"


def _working_copy(db_path: Path, folder: Path) -> Path:
    """A private copy of the database (SQLite's backup, consistent while a crawl writes)."""
    copy = folder / db_path.name
    source = store.connect(db_path, 30_000)
    target = store.connect(copy, 30_000)
    source.conn.backup(target.conn)
    source.close()
    target.close()
    return copy


def reclean(db_path: Path, folder: Path, min_words: int, workers: int, sections: list[str] | None = None,
            since: str | None = None) -> tuple[Counter[str], int]:
    """Re-clean into the database at `db_path`; the count of each outcome, and the number of
    reports and failures with no archived copy (stored before the archive existed)."""
    method = start_method()
    pool = cleaning_pool(workers, method) if workers else None
    try:
        if pool is not None:
            for _ in range(workers):  # the workers start (and import) while the database is read
                pool.submit(int)
        db = store.open_db(db_path)
        try:
            jobs = list(store.latest_captures(db, sections, since))
            archived = [job for job in jobs if job["warc_file"]]
            stored = store.stored_fingerprints(db)
            for job in archived:  # so a worker can tell an unchanged report without the database
                job["stored"] = stored.get(job["report_id"])
            logger.info("reclean: %d archived pages, cleaned in %s", len(archived),
                        f"{workers} worker process{'es' if workers > 1 else ''} ({method})" if pool
                        else "this process")
            counts: Counter[str] = Counter({outcome: 0 for outcome in OUTCOMES})
            clean = partial(reclean_page, str(folder), min_words)
            results: Iterable[Any] = pool.map(clean, archived, chunksize=32) if pool else map(clean, archived)
            pairs = zip(archived, counted(results, len(archived), "reclean", "page"), strict=True)
            while chunk := list(islice(pairs, BATCH)):
                with store.write(db):  # one commit per BATCH pages, not one per page
                    for job, result in chunk:
                        counts[_store(db, job, result, sections)] += 1
            return counts, len(jobs) - len(archived)
        finally:
            db.close()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def run_reclean(settings: Any, db_path: Path, sections: list[str] | None = None, since: str | None = None,
                dry_run: bool = False, workers: int | None = None) -> int:
    """The command: 0 done, 1 some record was damaged, 2 no database, 4 storage cannot be written,
    75 a crawl holds the lock."""
    if not db_path.is_file():
        print(f"reclean: no database at {db_path}", file=sys.stderr)
        return EXIT_USAGE
    try:
        store.check_ours(db_path)  # before anything is written beside it (the lock, a copy)
    except store.DatabaseError as exc:
        print(f"reclean: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    settings.set("SQLITE_PATH", str(db_path), priority="cmdline")
    folder = warc_folder(settings)
    min_words = settings.getint("CACI_MIN_BODY_WORDS")
    # No crawl to leave a core to: every core cleans.
    workers = workers if workers is not None else os.cpu_count() or 1
    start = time.monotonic()
    try:
        if dry_run:
            with tempfile.TemporaryDirectory(prefix="caci-reclean-") as scratch:
                counts, unarchived = reclean(_working_copy(db_path, Path(scratch)), folder, min_words, workers,
                                             sections, since)
        else:
            # Not beside a crawl of the same database: both would write the same reports.
            with crawl_lock(lock_path(settings)):
                counts, unarchived = reclean(db_path, folder, min_words, workers, sections, since)
    except LockedError as exc:
        print(f"reclean: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except store.DatabaseError as exc:  # not SQLite, or not this project's: one line, untouched
        print(f"reclean: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except Exception as exc:
        if not (isinstance(exc, OSError) or store.is_storage_fault(exc)):
            raise
        # A read-only or full disk, an I/O error: the lock, the database or the copy cannot be
        # written. What was committed stays; a later run with room starts again.
        print(f"reclean: cannot write beside {db_path}: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    seconds = time.monotonic() - start
    pages = sum(counts.values())
    verb = "dry run, nothing written; would be" if dry_run else "done"
    print(f"reclean: {pages} archived pages in {seconds:.1f} s ({pages / max(seconds, 1e-9):.0f} pages/s, "
          f"{workers} workers), {verb}: " + ", ".join(f"{counts[o]} {o}" for o in OUTCOMES)
          + f"; {unarchived} without an archived page (fetch failures, or stored before the archive)")
    return EXIT_FAILED if counts["damaged"] else EXIT_OK


__all__ = ["OUTCOMES", "reclean", "reclean_page", "run_reclean"]
