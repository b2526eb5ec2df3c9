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
    payload_digest: str | None = None  # WARC-Payload-Digest, as the captures table keeps it


def _short(text: str, limit: int = 200) -> str:
    """An error's text fit for one log line: a damaged record's exception may quote kilobytes
    of its binary content."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def check_identity(found: ArchivedResponse, where: str, url: str | None, digest: str | None) -> ArchivedResponse:
    """`found` if it is the capture the index names (its URL, its payload digest), else DamagedRecord:
    an index row pointing at another page's record must never clean that page under this one's URL."""
    if url is not None and found.url != url:
        raise DamagedRecord(f"{where}: the record there is {_short(found.url)}, not {url} (index and file disagree)")
    if digest is not None and found.payload_digest != digest:
        raise DamagedRecord(f"{where}: the record's payload digest {found.payload_digest} is not the "
                            f"indexed {digest} (index and file disagree)")
    return found


def read_response(folder: Path, warc_file: str, offset: int, length: int | None = None,
                  url: str | None = None, digest: str | None = None) -> ArchivedResponse:
    """The response record at `offset` of `folder/warc_file`; DamagedRecord if it cannot be read,
    or if it is not the capture of `url` with payload `digest` (where given: the index's own).

    With the record's `length` (the captures table has it), a plain record (one gzip member, no
    transfer or content coding) is read directly, its payload digest checked; warcio reads
    anything else, and says what is wrong with a record that fails the direct read.
    """
    where = f"{warc_file} at offset {offset}"
    if (folder / warc_file).exists() and not (folder / warc_file).is_file():
        raise DamagedRecord(f"{where}: not a regular file")  # a FIFO would block the read for ever
    try:
        with (folder / warc_file).open("rb") as fh:
            fh.seek(offset)
            if length and (plain := _read_plain(fh.read(length))) is not None:
                return check_identity(plain, where, url, digest)
            fh.seek(offset)
            record = next(iter(ArchiveIterator(fh, check_digests="raise")), None)
            if record is None or record.rec_type != "response" or record.http_headers is None:
                raise DamagedRecord(f"{where}: no response record there")
            body = record.content_stream().read()
            # warcio checks the digests only at a record's end, and a record cut short (a crash
            # mid-write, a truncated copy) never gets there: its missing bytes are the sign.
            if missing := getattr(record.raw_stream, "limit", 0):
                raise DamagedRecord(f"{where}: record cut short, {missing} bytes missing")
            return check_identity(ArchivedResponse(
                url=record.rec_headers.get_header("WARC-Target-URI"),
                status=int(record.http_headers.get_statuscode()),
                content_type=record.http_headers.get_header("Content-Type"),
                body=body, payload_digest=record.rec_headers.get_header("WARC-Payload-Digest")),
                where, url, digest)
    except DamagedRecord:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a damaged record raises, it is that record's fault
        raise DamagedRecord(f"{where}: {type(exc).__name__}: {_short(str(exc))}") from exc


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
                            content_type=http.get("content-type"), body=payload,
                            payload_digest=warc["warc-payload-digest"])
