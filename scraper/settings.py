"""Scrapy settings: polite defaults for a small institute's server, and the project's own."""

from __future__ import annotations

from analyst.urls import FIELD_REPORTS_URL
from scraper import __version__

BOT_NAME = "caci_field_reports"
SPIDER_MODULES = ["scraper.spiders"]
NEWSPIDER_MODULE = "scraper.spiders"
# Our `crawl` command adds a clear last line and a non-zero exit when the site is unreachable.
COMMANDS_MODULE = "scraper.commands"

# --- Politeness -------------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
USER_AGENT = (
    f"caci-field-reports/{__version__} (research archive crawler for the CACI Analyst's "
    "Field Reports; +https://github.com/caci-field-reports/caci-field-reports)"
)
CONCURRENT_REQUESTS = 2
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # a report page is ~20 kB; anything near this is not one
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# An unattended crawler opens no control port (newer Scrapy starts one by default).
REMOTE_CONTROL_ENABLED = False
# Scrapy's check for generator callbacks that return a value reads the callback's source again for
# nearly every response (its cache is keyed by short-lived bound methods): a tenth of the crawl's
# CPU. Our callbacks are checked by the tests instead (tests/test_crawl.py).
WARN_ON_GENERATOR_RETURN_VALUE = False
# Scrapy starts this many tasks for every response's callback output, whatever that output is
# (2.13+, scrapy.utils.asyncio._parallel_asyncio): at its default, 100, that was ~0.7 ms of the
# event loop per response (bench/crawl_throughput.py). A page of ours yields at most ~15 things,
# all of them cheap to schedule but one item, so eight at a time lose nothing.
CONCURRENT_ITEMS = 8

# Retries wait: 2 s, 4 s, 8 s ... (capped at 60 s) before each new attempt, or longer when a 429
# or 503 says Retry-After (honoured up to 10 minutes); the wait holds no download slot.
CACI_RETRY_BACKOFF_BASE = 2.0
CACI_RETRY_BACKOFF_MAX = 60.0
CACI_RETRY_AFTER_MAX = 600.0
DOWNLOADER_MIDDLEWARES = {
    "scraper.middlewares.ScopeRedirectMiddleware": 90,
    # Keeps each response as received: after the cache (900) and redirects (600), before
    # decompression (590).
    "scraper.archive.WarcArchiveMiddleware": 595,
    "scraper.middlewares.CrawlDelayMiddleware": 110,  # just after Scrapy's RobotsTxtMiddleware (100)
    # Scrapy's RetryMiddleware, with the pause: in its place (550).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "scraper.middlewares.RetryBackoffMiddleware": 550,
}

# --- Pipelines and extensions -----------------------------------------------------------------
ITEM_PIPELINES = {
    "pipelines.cleaning.CleaningPipeline": 300,
    "pipelines.storage.SQLitePipeline": 800,
}
EXTENSIONS = {
    "scraper.extensions.QuietNetworkErrors": 0,
    "pipelines.crawlrun.CrawlRun": 10,  # what the crawl's components share: made before them
    "scraper.state.CrawlStateExtension": 100,
    "scraper.monitor.CrawlMonitor": 500,
    "scraper.drift.DriftGuard": 510,
    "scraper.gctune.GcTuning": 900,
    "scraper.progress.CrawlProgress": 520,
}
# Our own last line says what a run stored (scraper/monitor.py); every stat is kept in `crawls.stats`.
STATS_DUMP = False

# --- Conditional re-fetches: an unchanged page costs a 304, not a download -----------------------
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "scraper.cache.RevalidateOnlyPolicy"  # RFC 2616, no stale copy for a 5xx
HTTPCACHE_DIR = "httpcache"  # under .scrapy/ in the project
HTTPCACHE_IGNORE_HTTP_CODES = [301, 302, 303, 307, 308, 403, 404, 408, 410, 429, 500, 502, 503, 504]
# Every request asks for revalidation (max-age=0), so a cached page is never taken on trust,
# and Joomla's habitual "no-cache" does not stop Scrapy from sending the validators.
HTTPCACHE_IGNORE_RESPONSE_CACHE_CONTROLS = ["no-cache"]
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Cache-Control": "max-age=0",
}

# --- Project settings (see the README's settings table) ------------------------------------------
SQLITE_PATH = "data/caci.db"
SQLITE_ENABLED = True
SQLITE_WRITER_PROCESS = "auto"  # WARC records, captures and reports written from a process of their own; "auto": on 2+ cores
SQLITE_WRITER_AFTER = 80  # writes a component makes itself before the writer process takes over (started after its first 20: a short crawl starts none)
CACI_CLEANING_ENABLED = True
CACI_MIN_BODY_WORDS = 20
CACI_CLEANING_WORKERS = "auto"  # processes that clean pages beside the crawl; "auto": cores - 1, ≤ 2
CACI_CLEANING_IDLE = True  # those processes take only CPU time nothing else wants (SCHED_IDLE)
CACI_START_URL = FIELD_REPORTS_URL
CACI_FULL_CRAWL = False
CACI_INCREMENTAL_STOP_PAGES = 1
CACI_MAX_ATTEMPTS = 3
CACI_MAX_FAILURE_RATE = 0.5
CACI_DRIFT_GENERIC_RATE = 0.5
CACI_DRIFT_SAMPLE = 5  # item pages cleaned before drift can stop a crawl early; 0 turns the early stop off
CACI_MONITOR_ENABLED = True
CACI_PROGRESS_INTERVAL = 30.0  # seconds between progress lines (and one at each listing page); 0: none
CACI_GC_TUNED = True  # start-up frozen, young objects collected every 10,000 allocations (scraper/gctune.py)
# Every fetched listing and item page kept as WARC, beside the database unless CACI_WARC_DIR says.
CACI_WARC_ENABLED = True
CACI_WARC_DIR = ""
CACI_WARC_MAX_BYTES = 100 * 1024 * 1024  # a new file past this size
# `python -m scraper cron`: empty means beside the database (data/caci.db.lock, data/logs/crawl.log)
CACI_LOCK_FILE = ""
CACI_LOG_FILE = ""
CACI_LOG_MAX_BYTES = 5 * 1024 * 1024
CACI_LOG_BACKUPS = 5

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
