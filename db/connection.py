"""Opening the SQLite file safely, and the write transaction every write goes through."""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
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


MIGRATION_SET = "caci-field-reports"  # the name this project's migrations are recorded under


@dataclass(frozen=True)
class FileSchema:
    """What an existing SQLite file holds, read without writing: its tables, and whether its
    migrations are this project's."""

    tables: frozenset[str]
    migrated_here: bool


@contextlib.contextmanager
def read_only(path: Path, immutable: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection that cannot write (`immutable`: nor lock, for a file on read-only storage)."""
    mode = "immutable=1" if immutable else "mode=ro"
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def _read_schema(path: Path, immutable: bool = False) -> FileSchema:
    with read_only(path, immutable) as conn:
        tables = frozenset(row[0] for row in conn.execute("select name from sqlite_master where type = 'table'"))
        ours = "_sqlite_migrations" in tables and conn.execute(
            "select 1 from _sqlite_migrations where migration_set = ? limit 1", [MIGRATION_SET]).fetchone() is not None
        return FileSchema(tables, ours)


def check_database(path: str | Path) -> FileSchema | None:
    """Raise DatabaseError if `path` exists and is not an SQLite database, or is an empty file
    (nothing is written); what it holds, or None where nothing is there yet.

    Asked through SQLite, never by reading the file with open(): closing any descriptor of a
    file drops every POSIX lock the process holds on it, SQLite's included, and another process
    would then take itself for the last connection and checkpoint away the WAL this process is
    still writing (SQLite's "how to corrupt" list, 2.2). SQLite's own VFS keeps those locks.
    """
    path = Path(path)
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a database file")
    if not path.exists():
        return None
    if not path.is_file():
        raise DatabaseError(f"{path} is not a regular file; refusing to touch it")
    if path.stat().st_size == 0:
        raise DatabaseError(f"{path} is an empty file, not a caci-field-reports database; refusing to touch it "
                            "(remove it, or name a path that does not exist yet)")
    try:
        return _read_schema(path)
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            raise DatabaseError(f"{path} exists but is not an SQLite database; refusing to touch it") from exc
        if "unable to open" in str(exc):
            try:  # a WAL database on read-only storage, which nothing can be writing to then
                return _read_schema(path, immutable=True)
            except sqlite3.DatabaseError:
                pass
        raise DatabaseError(f"cannot open {path}: {exc}") from exc  # read-only folder, permissions


def connect(path: Path, busy_timeout_ms: int, checked: bool = False) -> Database:
    """The database at `path` (created with its folder), in WAL mode; not SQLite: DatabaseError.
    `checked`: the caller has just checked the file (open_db, with check_ours)."""
    if not checked:
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
