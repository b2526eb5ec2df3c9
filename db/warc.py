"""Reading the archive back: the HTTP response of one WARC record, found by file and offset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator


class DamagedRecord(Exception):
    """A WARC record that cannot be read; the message names its file and offset."""


@dataclass
class ArchivedResponse:
    url: str
    status: int
    content_type: str | None
    body: bytes  # the payload, de-chunked and decompressed as the crawl's response was


def read_response(folder: Path, warc_file: str, offset: int) -> ArchivedResponse:
    """The response record at `offset` of `folder/warc_file`; DamagedRecord if it cannot be read."""
    where = f"{warc_file} at offset {offset}"
    try:
        with (folder / warc_file).open("rb") as fh:
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh, check_digests="raise")), None)
            if record is None or record.rec_type != "response" or record.http_headers is None:
                raise DamagedRecord(f"{where}: no response record there")
            body = record.content_stream().read()
            # warcio checks the digests only at a record's end, and a record cut short (a crash
            # mid-write, a truncated copy) never gets there: its missing bytes are the sign.
            if missing := getattr(record.raw_stream, "limit", 0):
                raise DamagedRecord(f"{where}: record cut short, {missing} bytes missing")
            return ArchivedResponse(
                url=record.rec_headers.get_header("WARC-Target-URI"),
                status=int(record.http_headers.get_statuscode()),
                content_type=record.http_headers.get_header("Content-Type"),
                body=body)
    except DamagedRecord:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a damaged record raises, it is that record's fault
        raise DamagedRecord(f"{where}: {type(exc).__name__}: {exc}") from exc
