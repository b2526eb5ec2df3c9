"""`scrapy crawl`, with a clear last line and a non-zero exit when the site cannot be reached."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from scraper.monitor import exit_status, preflight


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name, e.g. `scrapy crawl field_reports`")
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        if problem := preflight(crawler.settings, opts.spargs.get("start_url"), opts.spargs.get("sections")):
            self.exitcode, message = problem  # say what is wrong, without a traceback
            print(f"caci-field-reports: {message}", file=sys.stderr)
            return
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        code, message = exit_status(crawler)
        if message:
            print(f"caci-field-reports: {message}", file=sys.stderr)
        self.exitcode = code
