"""Reading the archive back: the HTTP response of one WARC record, found by file and offset."""

from __future__ import annotations

import base64
import hashlib
import zlib
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


def read_response(folder: Path, warc_file: str, offset: int, length: int | None = None) -> ArchivedResponse:
    """The response record at `offset` of `folder/warc_file`; DamagedRecord if it cannot be read.

    With the record's `length` (the captures table has it), a plain record (one gzip member, no
    transfer or content coding) is read directly, its payload digest checked; warcio reads
    anything else, and says what is wrong with a record that fails the direct read.
    """
    where = f"{warc_file} at offset {offset}"
    try:
        with (folder / warc_file).open("rb") as fh:
            fh.seek(offset)
            if length and (plain := _read_plain(fh.read(length))) is not None:
                return plain
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


def _fields(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}


def _read_plain(member: bytes) -> ArchivedResponse | None:
    """The response in one gzip member, read without warcio (ten times faster: warcio parses
    headers line by line through a decompressing reader); None for anything not plain or not
    intact, which warcio then reads or reports."""
    try:
        record = zlib.decompress(member, wbits=31)
    except zlib.error:
        return None
    head, found, rest = record.partition(b"\r\n\r\n")
    if not found or not head.startswith(b"WARC/"):
        return None
    warc = _fields(head)
    if warc.get("warc-type") != "response" or not warc.get("content-length", "").isdigit():
        return None
    block = rest[:int(warc["content-length"])]
    http_head, found, payload = block.partition(b"\r\n\r\n")
    if len(block) != int(warc["content-length"]) or not found:
        return None
    algorithm, _, digest = warc.get("warc-payload-digest", "").partition(":")
    if algorithm != "sha1" or base64.b32encode(hashlib.sha1(payload).digest()).decode() != digest:
        return None
    http = _fields(http_head)
    if http.get("content-encoding", "identity") != "identity" or "transfer-encoding" in http:
        return None
    status = http_head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or not status[1].isdigit():
        return None
    return ArchivedResponse(url=warc.get("warc-target-uri", ""), status=int(status[1]),
                            content_type=http.get("content-type"), body=payload)
