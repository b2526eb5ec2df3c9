"""Keep the bytes the crawl fetched: WARC (ISO 28500) request and response records, and their index.

A downloader middleware placed after the HTTP cache and redirects but before decompression, so
what it keeps is the response as the server sent it. Files go beside the database
(`<its folder>/warc/`), gzip per record, one series per crawl, a new file past
CACI_WARC_MAX_BYTES; a file is only ever appended to, so a crash loses at most the record being
written, and the next run starts a file of its own. A page answered from the cache (a 304
revalidation) writes nothing: its bytes are in an earlier capture. Each response is indexed in
`captures` (file, offset, length, digest), and the page's RawPage carries its capture id.
"""

from __future__ import annotations

import http
import logging
import os
import secrets
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import db as store
from pipelines.storage import stop_on_storage_fault
from scraper import __version__
from scraper import stats as stat

logger = logging.getLogger(__name__)

# Hop-by-hop framing that no longer describes the body as kept (it is de-chunked).
_DROP_HEADERS = {"transfer-encoding"}


def _headers(headers: Any) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1"))
            for name, values in headers.items() for value in values
            if name.decode("latin-1").lower() not in _DROP_HEADERS]


def warc_folder(settings: Any) -> Path:
    """CACI_WARC_DIR, or warc/ beside the database."""
    return Path(settings.get("CACI_WARC_DIR") or Path(settings.get("SQLITE_PATH")).parent / "warc")


class WarcArchiveMiddleware:
    def __init__(self, crawler: Any, folder: Path, max_bytes: int) -> None:
        self.crawler = crawler
        self.folder = folder
        self.max_bytes = max_bytes
        # Time, process and a random part: two crawls in one process (a CrawlerProcess running two
        # spiders, the tests) within one second must not reach for the same file name.
        self.series = f"caci-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}-{secrets.token_hex(3)}"
        self.number = 0
        self.file: BinaryIO | None = None
        self.writer: WARCWriter | None = None
        self.db = None

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
            self.db = store.open_db(self.crawler.settings.get("SQLITE_PATH"))

    def spider_closed(self, spider: Any) -> None:
        self._close_file()
        if self.db is not None:
            self.db.close()
            self.db = None

    def _close_file(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file, self.writer = None, None

    def _open_file(self) -> WARCWriter:
        if self.writer is not None and self.file is not None and self.file.tell() < self.max_bytes:
            return self.writer
        self._close_file()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.number += 1
        name = f"{self.series}-{self.number:05d}.warc.gz"
        # "xb": a new file, never an older one rewritten.
        self.file = (self.folder / name).open("xb")
        self.writer = WARCWriter(self.file, gzip=True)
        self.writer.write_record(self.writer.create_warcinfo_record(name, {
            "software": f"caci-field-reports/{__version__} (Scrapy, warcio)", "format": "WARC File Format 1.1",
            "isPartOf": self.series}))
        self.crawler.stats.inc_value(stat.WARC_FILES)
        return self.writer

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if "cached" in response.flags or request.url.endswith("/robots.txt"):
            return response
        # A full or read-only disk stops the crawl, as for the database, rather than let pages go
        # on unarchived.
        with stop_on_storage_fault(self.crawler, self.folder):
            request.meta["caci_capture_id"] = self._archive(request, response)
        return response

    def _archive(self, request: Request, response: Response) -> int | None:
        writer = self._open_file()
        assert self.file is not None
        fetched_at = datetime.now(UTC).replace(microsecond=0)
        warc_date = fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            phrase = http.HTTPStatus(response.status).phrase
        except ValueError:
            phrase = ""
        # With its length given, warcio digests the payload where it is; without, it first copies
        # every payload into a temporary file (a third of the archive's cost per page).
        reply = writer.create_warc_record(
            response.url, "response", payload=BytesIO(response.body), length=len(response.body),
            http_headers=StatusAndHeaders(f"{response.status} {phrase}", _headers(response.headers),
                                          protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": warc_date})
        path = request.url.split("/", 3)[3] if request.url.count("/") >= 3 else ""
        ask = writer.create_warc_record(
            request.url, "request", payload=BytesIO(request.body), length=len(request.body),
            http_headers=StatusAndHeaders(f"{request.method} /{path} HTTP/1.1", _headers(request.headers),
                                          is_http_request=True),
            warc_headers_dict={"WARC-Date": warc_date,
                               "WARC-Concurrent-To": reply.rec_headers.get_header("WARC-Record-ID")})
        offset = self.file.tell()
        writer.write_record(reply)
        length = self.file.tell() - offset
        writer.write_record(ask)
        self.file.flush()
        self.crawler.stats.inc_value(stat.WARC_RECORDS)
        if self.db is None:
            return None
        return store.record_capture(
            self.db, url=response.url, fetched_at=fetched_at.isoformat(), status=response.status,
            payload_digest=reply.rec_headers.get_header("WARC-Payload-Digest"),
            warc_file=Path(self.file.name).name, offset=offset, length=length,
            crawl_id=self.crawler.stats.get_value(stat.CRAWL_ID))
