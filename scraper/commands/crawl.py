"""`scrapy crawl`, through the one run sequence (scraper/run.py): a last line for every run, and an
exit code that says how it ended."""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from scraper.run import run_locked


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name, e.g. `scrapy crawl field_reports`")
        process = self.crawler_process
        assert process
        crawler = process.create_crawler(args[0])

        def crawl() -> tuple:
            process.crawl(crawler, **opts.spargs)
            process.start()
            return process, crawler

        end = run_locked(crawler.settings, opts.spargs, crawl)
        for line in end.lines:
            print(f"caci-field-reports: {line}", file=sys.stderr)
        self.exitcode = end.code
