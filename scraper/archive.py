"""Keep the bytes the crawl fetched: WARC (ISO 28500) request and response records, and their index.

A downloader middleware placed after the HTTP cache and redirects but before decompression, so
what it keeps is the response as the server sent it. Files go beside the database
(`<its folder>/warc/`), gzip per record, one series per crawl, a new file past
CACI_WARC_MAX_BYTES; a file is only ever appended to, so a crash loses at most the record being
written, and the next run starts a file of its own. A page answered from the cache (a 304
revalidation) writes nothing: its bytes are in an earlier capture. Each response is indexed in
`captures` (file, offset, length, digest), and the page's RawPage carries its capture id. The
writing itself (db/archive.py) is done by the crawl's writer process (pipelines/writer.py), or
here without one.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

import db as store
from db.archive import FetchedPage
from pipelines import stats as stat
from pipelines.crawlrun import CrawlRun
from pipelines.storage import stop_on_storage_fault
from pipelines.writer import (
    Writes,
    archive,
    close_database,
    close_series,
)
from scraper import __version__

logger = logging.getLogger(__name__)

# Hop-by-hop framing that no longer describes the body as kept (it is de-chunked).
_DROP_HEADERS = {"transfer-encoding"}
SOFTWARE = f"caci-field-reports/{__version__} (Scrapy, warcio)"


def _headers(headers: Any) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1"))
            for name, values in headers.items() for value in values
            if name.decode("latin-1").lower() not in _DROP_HEADERS]


def warc_folder(settings: Any) -> Path:
    """CACI_WARC_DIR, or the database's own folder beside it (data/caci.db: data/caci-warc/), so a
    demo or a second database in the same folder never mixes its files into another's archive.

    An archive begun before each database had its own folder kept its files in warc/ beside it:
    while that folder holds this database's files (and its own folder does not exist), it stays.
    """
    if settings.get("CACI_WARC_DIR"):
        return Path(settings.get("CACI_WARC_DIR"))
    database = Path(settings.get("SQLITE_PATH"))
    own, legacy = database.with_name(f"{database.stem}-warc"), database.parent / "warc"
    if not own.exists() and legacy.is_dir() and (name := store.first_warc_file(database)) and (legacy / name).is_file():
        return legacy
    return own


class WarcArchiveMiddleware:
    def __init__(self, crawler: Any, folder: Path, max_bytes: int) -> None:
        self.crawler = crawler
        self.folder = folder
        self.max_bytes = max_bytes
        # Time, process and a random part: two crawls in one process (a CrawlerProcess running two
        # spiders, the tests) within one second must not reach for the same file name.
        self.series = f"caci-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}-{secrets.token_hex(3)}"
        self.db_path: str | None = None
        self.writes: Writes | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcArchiveMiddleware:
        settings = crawler.settings
        if not settings.getbool("CACI_WARC_ENABLED"):
            raise NotConfigured("CACI_WARC_ENABLED is off")
        middleware = cls(crawler, warc_folder(settings), settings.getint("CACI_WARC_MAX_BYTES"))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Any) -> None:
        if self.crawler.settings.getbool("SQLITE_ENABLED"):
            self.db_path = str(self.crawler.settings.get("SQLITE_PATH"))
        # Handed over, the series goes on in the writer's next file; this process's is closed.
        self.writes = Writes.for_crawl(self.crawler, CrawlRun.of(self.crawler).writer,
                                       handed_over=lambda: close_series(self.series))

    async def spider_closed(self, spider: Any) -> None:
        if self.writes is not None:
            with stop_on_storage_fault(self.crawler, self.folder):
                await self.writes.run(close_series, self.series, last=True)
            self.writes.close()
            self.writes = None
        if self.db_path is not None:
            close_database(self.db_path)  # this process's connection, if its writes used one

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if "cached" in response.flags or request.url.endswith("/robots.txt") or self.writes is None:
            return response
        page = FetchedPage(
            url=response.url, status=response.status, headers=_headers(response.headers), body=response.body,
            request_url=request.url, method=request.method, request_headers=_headers(request.headers),
            request_body=request.body, fetched_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
            crawl_id=CrawlRun.of(self.crawler).crawl_id)
        # A full or read-only disk stops the crawl, as for the database, rather than let pages go
        # on unarchived.
        with stop_on_storage_fault(self.crawler, self.folder):
            capture_id, opened = await self.writes.run(
                archive, self.db_path, str(self.folder), self.series, self.max_bytes, SOFTWARE, page)
            request.meta["caci_capture_id"] = capture_id
            self.crawler.stats.inc_value(stat.WARC_RECORDS)
            if opened:
                self.crawler.stats.inc_value(stat.WARC_FILES, opened)
        return response
