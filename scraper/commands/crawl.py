"""`scrapy crawl`, with a clear last line and a non-zero exit when the site cannot be reached."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from scraper.exits import EXIT_DATABASE, EXIT_FAILED, EXIT_LOCKED
from scraper.lock import LockedError, crawl_lock, lock_path
from scraper.monitor import exit_status, summary
from scraper.preflight import preflight


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name, e.g. `scrapy crawl field_reports`")
        assert self.crawler_process
        crawler = self.crawler_process.create_crawler(args[0])
        spargs = opts.spargs
        if problem := preflight(crawler.settings, spargs.get("start_url"), spargs.get("sections"), spargs.get("full")):
            self.exitcode, message = problem  # say what is wrong, without a traceback
            print(f"caci-field-reports: {message}", file=sys.stderr)
            return
        # Any crawl, not only cron's, holds the database's lock: two at once would both write.
        try:
            with crawl_lock(lock_path(crawler.settings)):
                self.crawler_process.crawl(crawler, **opts.spargs)
                self.crawler_process.start()
        except LockedError as exc:
            self.exitcode = EXIT_LOCKED
            print(f"caci-field-reports: {exc}", file=sys.stderr)
            return
        except OSError as exc:
            self.exitcode = EXIT_DATABASE
            print(f"caci-field-reports: cannot take the crawl lock: {exc}", file=sys.stderr)
            return
        if self.crawler_process.bootstrap_failed:
            self.exitcode = EXIT_FAILED
            return
        code, message = exit_status(crawler)
        # Every run's last line says what it stored; a failure's reason then follows it.
        print(f"caci-field-reports: {summary(crawler)}", file=sys.stderr)
        if message:
            print(f"caci-field-reports: {message}", file=sys.stderr)
        self.exitcode = code
