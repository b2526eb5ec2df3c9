"""One crawl per database at a time: an exclusive lock file beside it (<database>.lock), held for the whole crawl."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO


class LockedError(RuntimeError):
    """Another crawl holds the lock; the message says which process."""


def lock_path(settings: Any) -> Path:
    """CACI_LOCK_FILE, or the database's own lock beside it (data/caci.db.lock): two databases in
    one folder are crawled at once without waiting for each other."""
    if settings.get("CACI_LOCK_FILE"):
        return Path(settings.get("CACI_LOCK_FILE"))
    database = Path(settings.get("SQLITE_PATH"))
    return database.with_name(database.name + ".lock")


@contextlib.contextmanager
def crawl_lock(path: Path) -> Iterator[TextIO]:
    """Hold the lock at `path` (created with its folder) or raise LockedError at once.

    flock, so a crawl killed even by SIGKILL gives the lock back with its process.
    OSError (a read-only or full disk) is left to the caller.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise LockedError(f"another crawl is running (lock {path} held by pid {holder}); "
                              "not starting a second one") from None
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield lock
