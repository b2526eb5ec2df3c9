"""`scrapy crawl`, with a clear last line and a non-zero exit when the site cannot be reached."""

from __future__ import annotations

import argparse
import logging
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from scraper.spiders.field_reports import START_FAILED_STAT, UNREACHABLE_STAT
from scraper.urls import CrawlScope

logger = logging.getLogger(__name__)

EXIT_UNREACHABLE = 3


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name, e.g. `scrapy crawl field_reports`")
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        start_url = opts.spargs.get("start_url") or crawler.settings.get("CACI_START_URL")
        try:
            CrawlScope.from_start_url(start_url)
        except ValueError as exc:  # say what is wrong with the URL, without a traceback
            print(f"caci-field-reports: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        stats = crawler.stats
        if unreachable := stats and stats.get_value(UNREACHABLE_STAT):
            print(f"caci-field-reports: the site cannot be reached, nothing was crawled: {unreachable}",
                  file=sys.stderr)
            self.exitcode = EXIT_UNREACHABLE
        elif start_failed := stats and stats.get_value(START_FAILED_STAT):
            print(f"caci-field-reports: the start page could not be fetched, nothing was crawled: "
                  f"{start_failed}", file=sys.stderr)
            self.exitcode = EXIT_UNREACHABLE
