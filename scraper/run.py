"""One run of a crawl, the same for `scrapy crawl` (and so the demo) and cron: what is checked before
anything is opened, the database's lock, the crawl, its verdict, the exit code and the lines to say."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scraper.exits import EXIT_DATABASE, EXIT_FAILED, EXIT_LOCKED
from scraper.lock import LockedError, crawl_lock, lock_path
from scraper.monitor import summary, verdict_of
from scraper.preflight import preflight

logger = logging.getLogger(__name__)


@dataclass
class RunEnd:
    code: int
    lines: list[str] = field(default_factory=list)  # what to say; the reason for a non-zero code last
    ran: bool = False  # the crawl ran (its summary is lines[0]); else it was refused before it started
    finished: bool = False  # it ran to its end: nothing is left to resume


def run_locked(settings: Any, spargs: dict[str, Any], crawl: Callable[[], tuple[Any, Any]]) -> RunEnd:
    """Check, lock, crawl, judge. `crawl()` runs the crawl to its end and returns its process and
    crawler; it runs only when the checks pass and the lock is held (two crawls of one database
    would both write)."""
    if problem := preflight(settings, spargs.get("start_url"), spargs.get("sections"), spargs.get("full")):
        code, message = problem
        return RunEnd(code, [message])
    try:
        with crawl_lock(lock_path(settings)):
            process, crawler = crawl()
    except LockedError as exc:
        return RunEnd(EXIT_LOCKED, [str(exc)])
    except OSError as exc:
        return RunEnd(EXIT_DATABASE, [f"cannot take the crawl lock: {exc}"])
    except Exception as exc:  # noqa: BLE001 - an unattended run must say what broke and exit non-zero
        logger.exception("The crawl could not run")
        return RunEnd(EXIT_FAILED, [f"the crawl could not run: {type(exc).__name__}: {exc}"])
    if process.bootstrap_failed:
        return RunEnd(EXIT_FAILED, ["the crawl could not start (see the log)"])
    verdict = verdict_of(crawler)
    # Every run's summary says what it stored; a failure's reason then follows it.
    lines = [summary(crawler, verdict), *([verdict.message] if verdict.message else [])]
    return RunEnd(verdict.exit_code, lines, ran=True,
                  finished=crawler.stats.get_value("finish_reason") == "finished")
