"""The data model: what flows from listing pages to the database. Plain dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from analyst.text import clean_ws


@dataclass(frozen=True)
class ListingEntry:
    """One report as a category page shows it; its date and title are the item's fallbacks."""

    url: str
    title: str | None = None
    published: str | None = None


@dataclass
class RawPage:
    """An item page as fetched, with what its listing page said of it."""

    url: str
    html: str
    fetched_at: str
    status: int = 200
    listing: ListingEntry | None = None
    section: str | None = None  # the section whose listing led here, as the site names it
    capture_id: int | None = None  # the WARC capture of this response (captures table)


@dataclass
class Report:
    """One clean field report: the row the storage pipeline keeps."""

    url: str
    title: str
    published: str  # YYYY-MM-DD, the item's creation date
    body: str  # plain text, paragraphs separated by one blank line
    body_html: str  # the same content as minimal sanitised HTML
    item_id: int | None = None
    date_source: str = "item"  # item | listing | byline
    issue_date: str | None = None  # from the byline, may differ from `published` by days
    author: str | None = None  # display form, several authors joined with " and "
    authors: list[str] = field(default_factory=list)
    category: str | None = None
    hits: int | None = None
    tags: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)  # what it is about (analyst.countries), common names
    word_count: int = 0
    extraction: str = "k2"  # k2 | generic (trafilatura on a page without K2 item markup)
    fetched_at: str = ""
    author_bio: str | None = None  # an analytical article's closing "AUTHOR'S BIO:", out of the body
    digest_items: list[dict[str, Any]] = field(default_factory=list)  # a news digest's pieces
    capture_id: int | None = None  # the archived response this report was cleaned from

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (a shallow copy: asdict's deep copy was a third of storing a report)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


# How the reason of a page that failed because the site drifted starts: such pages are retried
# by every later run, whatever their attempts.
DRIFT_PREFIX = "drift: "


@dataclass
class PageFailure:
    """A page that could not be fetched or parsed, and why: recorded, never dropped."""

    url: str
    reason: str
    fetched_at: str = ""
    listing_title: str | None = None  # kept so a retry in a later run still has its fallbacks
    listing_date: str | None = None
    k2_markup: bool | None = None  # whether the page had K2 item markup (None: not parsed)


@dataclass
class Block:
    """One paragraph of a body: plain text, inline HTML, and what kind of block holds it."""

    kind: str  # "p", "quote" or "li"
    lines: list[tuple[str, str]] = field(default_factory=list)  # (text, html) per <br> line
    list_tag: str = "ul"
    has_image: bool = False

    # Cached: the stages ask for a block's text many times. A block's lines are never changed in
    # place (a stage that changes them makes a new Block with dataclasses.replace).
    @cached_property
    def text(self) -> str:
        return clean_ws(" ".join(t for t, _ in self.lines))

    @cached_property
    def html(self) -> str:
        return " ".join(h for _, h in self.lines if h.strip()).strip()
