"""The unattended entry point: one crawl at a time under a lock, a rotating log, a clear exit code."""

from __future__ import annotations

import logging
import logging.handlers
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from scraper.exits import EXIT_DATABASE, EXIT_USAGE
from scraper.preflight import check_settings
from scraper.run import run_locked

logger = logging.getLogger(__name__)


def project_settings(overrides: dict[str, Any]) -> Any:
    """The project's Scrapy settings with `-s NAME=VALUE` overrides applied."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "scraper.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


def _log_to(path: Path, max_bytes: int, backups: int) -> logging.Handler:
    """Everything at INFO to a rotating file. Nothing goes to the terminal: cron mails whatever
    a job prints, so a healthy run prints nothing and a failed one prints one line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups,
                                                   encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    to_file.setLevel(logging.INFO)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(to_file)
    return to_file


def run_cron(full: bool = False, start_url: str | None = None,
             overrides: dict[str, Any] | None = None, sections: str | None = None) -> int:
    """Run one crawl unless another holds the lock; return the process exit code.

    `sections` ("all", or slugs with commas) crawls those sections with the `analyst` spider;
    without it, the Field Reports alone.
    """
    settings = project_settings(overrides or {})
    if problem := check_settings(settings):  # before the log, the lock or the database is made
        print(f"caci-field-reports: {problem}", file=sys.stderr)
        return EXIT_USAGE
    data_dir = Path(settings.get("SQLITE_PATH")).parent
    log_path = Path(settings.get("CACI_LOG_FILE") or data_dir / "logs" / "crawl.log")
    spider = "analyst" if sections else "field_reports"
    jobdir = Path(settings.get("JOBDIR") or data_dir / "jobs" / spider)
    try:
        handler = _log_to(log_path, settings.getint("CACI_LOG_MAX_BYTES"), settings.getint("CACI_LOG_BACKUPS"))
    except OSError as exc:  # no log to write the reason to: the one line says it
        print(f"caci-field-reports: cannot write the log {log_path}: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    spargs: dict[str, Any] = {"full": "1" if full else "0"}
    if start_url:
        spargs["start_url"] = start_url
    if sections is not None:  # an empty one is refused, not taken for the default
        spargs["sections"] = sections
    try:
        end = run_locked(settings, spargs, lambda: _crawl(settings, jobdir, spider, spargs))
        if end.finished:
            # Nothing is left to resume, and a kept dupefilter would only get in the next run's way.
            shutil.rmtree(jobdir, ignore_errors=True)
        if end.ran:
            logger.info("Crawl summary: %s", end.lines[0])  # in the log: a healthy run prints nothing
        if end.code:
            return _refuse(end.code, end.lines[-1], ran=end.ran)
        return end.code
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def _refuse(code: int, message: str, ran: bool = False) -> int:
    """One line on stderr (cron mails it), the same reason in the log; the exit code."""
    logger.error(message if ran else f"Not crawling: {message}")
    print(f"caci-field-reports: {message}", file=sys.stderr)
    return code


def _crawl(settings: Any, jobdir: Path, spider: str, spargs: dict[str, Any]) -> tuple[Any, Any]:
    from scrapy.crawler import CrawlerProcess

    if jobdir.exists():
        logger.info("Resuming the interrupted crawl kept in %s", jobdir)
    settings.set("JOBDIR", str(jobdir), priority="cmdline")
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")  # our rotating file only
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider)
    process.crawl(crawler, **spargs)
    process.start()
    return process, crawler
