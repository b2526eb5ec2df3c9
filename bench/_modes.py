"""The crawl benchmark's modes: the fetch-only baseline, then our crawl built up stage by stage.

Kept apart from the runner so that the bench, which only names them, does not import Scrapy.
"""

from __future__ import annotations

from typing import Any

# None of our pipelines, extensions, or archive (the WARC writer is a downloader middleware, so
# clearing the pipelines alone left it writing).
BASELINE_OFF = {"ITEM_PIPELINES": {}, "EXTENSIONS": {}, "CACI_WARC_ENABLED": False, "SQLITE_ENABLED": False}
# What each mode runs: the fetch-only baseline, then our crawl built up stage by stage.
MODES = {
    "baseline": "fetches the pages, parses nothing, yields nothing",
    "baseline-items": "the baseline, yielding one small item per item page (what Scrapy's item path costs)",
    "spider": "our spider alone: the listing walk and a RawPage per item page; no pipelines or archive, of our "
              "extensions only the garbage-collection tuning",
    "no-archive": "our crawl without the WARC archive",
    "ours": "our crawl",
}
MODE_SETTINGS: dict[str, dict[str, Any]] = {
    "baseline": BASELINE_OFF,
    "baseline-items": BASELINE_OFF,
    # The crawler process's garbage collection as in our crawl: without it, what the spider
    # allocates would be charged full collections of Scrapy's heap that our crawl never pays.
    "spider": {**BASELINE_OFF, "EXTENSIONS": {"scraper.gctune.GcTuning": 900}},
    "no-archive": {"CACI_WARC_ENABLED": False},
}
