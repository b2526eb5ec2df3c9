"""Writing the archive: a crawl's series of WARC files (gzip per record, rotated by size), and their index.

Free of Scrapy: the crawl's archive middleware hands over each response as a FetchedPage, and the
series may live in the crawler process or in its writer process. A file is only ever appended
to (opened "xb": never an older one), so a crash loses at most the record being written.
"""

from __future__ import annotations

import http
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from db.captures import record_capture


@dataclass
class FetchedPage:
    """A request and the response it got, as the archive keeps them."""

    url: str  # the response's
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    request_url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    fetched_at: str  # ISO 8601, seconds, UTC
    crawl_id: int | None = None


class WarcSeries:
    """The WARC files of one crawl: `<series>-00001.warc.gz`, ... in `folder`, each up to `max_bytes`."""

    def __init__(self, folder: Path, series: str, max_bytes: int, software: str) -> None:
        self.folder = Path(folder)
        self.series = series
        self.max_bytes = max_bytes
        self.software = software
        self.number = 0
        self.file: BinaryIO | None = None
        self.writer: WARCWriter | None = None

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file, self.writer = None, None

    def _open(self) -> tuple[WARCWriter, int]:
        """The writer for the next record, and how many files that opened (0 or 1)."""
        if self.writer is not None and self.file is not None and self.file.tell() < self.max_bytes:
            return self.writer, 0
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            self.number += 1
            name = f"{self.series}-{self.number:05d}.warc.gz"
            try:
                # "xb": a new file, never an older one rewritten (a series taken over from a
                # writer process that died goes on past the files it left).
                self.file = (self.folder / name).open("xb")
                break
            except FileExistsError:
                continue
        self.writer = WARCWriter(self.file, gzip=True)
        self.writer.write_record(self.writer.create_warcinfo_record(name, {
            "software": self.software, "format": "WARC File Format 1.1", "isPartOf": self.series}))
        return self.writer, 1

    def write(self, page: FetchedPage, db: Any = None) -> tuple[int | None, int]:
        """Append the response and request records of `page`; index them in `db` if given.

        Returns the capture's id (None without a database) and the number of files opened.
        """
        writer, opened = self._open()
        assert self.file is not None
        warc_date = page.fetched_at.replace("+00:00", "Z")
        try:
            phrase = http.HTTPStatus(page.status).phrase
        except ValueError:
            phrase = ""
        # With its length given, warcio digests the payload where it is; without, it first copies
        # every payload into a temporary file (a third of the archive's cost per page).
        reply = writer.create_warc_record(
            page.url, "response", payload=BytesIO(page.body), length=len(page.body),
            http_headers=StatusAndHeaders(f"{page.status} {phrase}", page.headers, protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": warc_date})
        path = page.request_url.split("/", 3)[3] if page.request_url.count("/") >= 3 else ""
        ask = writer.create_warc_record(
            page.request_url, "request", payload=BytesIO(page.request_body), length=len(page.request_body),
            http_headers=StatusAndHeaders(f"{page.method} /{path} HTTP/1.1", page.request_headers,
                                          is_http_request=True),
            warc_headers_dict={"WARC-Date": warc_date,
                               "WARC-Concurrent-To": reply.rec_headers.get_header("WARC-Record-ID")})
        offset = self.file.tell()
        writer.write_record(reply)
        length = self.file.tell() - offset
        writer.write_record(ask)
        self.file.flush()
        if db is None:
            return None, opened
        return record_capture(
            db, url=page.url, fetched_at=page.fetched_at, status=page.status,
            payload_digest=reply.rec_headers.get_header("WARC-Payload-Digest"),
            warc_file=Path(self.file.name).name, offset=offset, length=length, crawl_id=page.crawl_id), opened
