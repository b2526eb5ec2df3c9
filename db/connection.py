"""Opening the SQLite file safely, and the write transaction every write goes through."""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database


class DatabaseError(RuntimeError):
    """The database file cannot be used; the message says why and what to do."""


# SQLite's words for a store that cannot take writes at all (as opposed to one bad row).
_FATAL = ("database or disk is full", "disk i/o error", "readonly database", "read-only file system",
          "unable to open database file", "no space left", "database disk image is malformed")


def is_storage_fault(exc: BaseException) -> bool:
    """Whether `exc` means nothing more can be written: disk full, read-only, I/O error."""
    if isinstance(exc, DatabaseError):
        exc = exc.__cause__ or exc
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno in (errno.ENOSPC, errno.EROFS, errno.EIO, errno.EDQUOT, errno.EACCES)
    return isinstance(exc, (sqlite3.DatabaseError, OSError, DatabaseError)) and \
        any(word in str(exc).lower() for word in _FATAL)


def check_writable(db: Database) -> None:
    """Take the write lock and give it back at once: a store that cannot be written says so now."""
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"cannot write to the database: {exc}") from exc


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@contextlib.contextmanager
def write(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock first (BEGIN IMMEDIATE).

    A deferred transaction that reads before it writes fails at once with "database is
    locked" when another connection writes meanwhile; asking for the lock up front makes it
    wait (busy_timeout) instead, so a writer elsewhere delays the crawl but never loses a row.
    Nested in another write, it is a savepoint of that transaction.
    """
    if db.conn.in_transaction:
        # Inside a caller's transaction (a batch of writes): a savepoint, so this part alone
        # can be undone and the batch commits once.
        db.execute("SAVEPOINT caci_write")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK TO caci_write")
            db.execute("RELEASE caci_write")
            raise
        else:
            db.execute("RELEASE caci_write")
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    else:
        db.execute("COMMIT")


def check_database(path: str | Path) -> None:
    """Raise DatabaseError if `path` exists and is not an SQLite database (nothing is written).

    Asked through SQLite, never by reading the file with open(): closing any descriptor of a
    file drops every POSIX lock the process holds on it, SQLite's included, and another process
    would then take itself for the last connection and checkpoint away the WAL this process is
    still writing (SQLite's "how to corrupt" list, 2.2). SQLite's own VFS keeps those locks.
    """
    path = Path(path)
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a database file")
    if not path.exists() or path.stat().st_size == 0:
        return
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            raise DatabaseError(f"{path} exists but is not an SQLite database; refusing to touch it") from exc
        raise DatabaseError(f"cannot open {path}: {exc}") from exc  # read-only folder, permissions
    finally:
        conn.close()


def connect(path: Path, busy_timeout_ms: int) -> Database:
    """The database at `path` (created with its folder), in WAL mode; not SQLite: DatabaseError."""
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
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"cannot open {path}: {exc}") from exc
    return db
