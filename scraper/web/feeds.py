"""Atom feeds (RFC 4287) of canned queries that select atom_* columns: new reports, saved searches.

In the project rather than datasette-atom, which fails with a server error on a feed with no
entry yet — the normal state of a freshly saved search — and needs bleach for HTML content that
these feeds do not carry (their content is text).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

REQUIRED = {"atom_id", "atom_title", "atom_updated"}
NS = "http://www.w3.org/2005/Atom"


def can_render(columns: list[str]) -> bool:
    return REQUIRED <= set(columns)


def _updated(value: Any) -> str:
    """An RFC 3339 timestamp: a bare date gets midnight UTC."""
    text = str(value or "")
    return f"{text}T00:00:00Z" if len(text) == 10 else text


def atom(rows: list[Any], feed_id: str, title: str, archive_page: Any = None) -> str:
    """The rows as an Atom feed document. An entry's <published> is the report's own date, its
    <updated> when the archive stored it; it links to the original (alternate) and, with
    `archive_page(id)`, to the archive's page of it (related)."""
    ET.register_namespace("", NS)
    feed = ET.Element(f"{{{NS}}}feed")
    entries = [dict(row) for row in rows]
    ET.SubElement(feed, f"{{{NS}}}id").text = feed_id
    ET.SubElement(feed, f"{{{NS}}}title").text = title
    ET.SubElement(feed, f"{{{NS}}}updated").text = max(
        (_updated(e["atom_updated"]) for e in entries), default=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    ET.SubElement(feed, f"{{{NS}}}link", rel="self", href=feed_id)
    for row in entries:
        entry = ET.SubElement(feed, f"{{{NS}}}entry")
        ET.SubElement(entry, f"{{{NS}}}id").text = str(row["atom_id"])  # the report's URL: permanent
        ET.SubElement(entry, f"{{{NS}}}title").text = str(row["atom_title"])
        ET.SubElement(entry, f"{{{NS}}}updated").text = _updated(row["atom_updated"])
        if row.get("atom_published"):
            ET.SubElement(entry, f"{{{NS}}}published").text = _updated(row["atom_published"])
        if row.get("atom_link"):
            ET.SubElement(entry, f"{{{NS}}}link", rel="alternate", href=str(row["atom_link"]))
        if archive_page is not None and row.get("atom_archive_id") is not None:
            ET.SubElement(entry, f"{{{NS}}}link", rel="related", href=archive_page(row["atom_archive_id"]))
        if row.get("atom_author_name"):
            author = ET.SubElement(entry, f"{{{NS}}}author")
            ET.SubElement(author, f"{{{NS}}}name").text = str(row["atom_author_name"])
        if row.get("atom_content"):
            ET.SubElement(entry, f"{{{NS}}}content", type="text").text = str(row["atom_content"])
    return ET.tostring(feed, encoding="unicode", xml_declaration=True)
