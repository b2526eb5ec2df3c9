"""Clean one item page: the K2 stages in order (blocks, byline, intro, labels, render), or the generic extractor."""

from __future__ import annotations

from dataclasses import asdict

from analyst.model import ListingEntry, Report
from analyst.pages import ItemPage, parse_item
from analyst.sections import NEWS_DIGEST
from analyst.text import split_names
from pipelines.blocks import extract_blocks
from pipelines.byline import take_byline
from pipelines.generic import clean_generic
from pipelines.intro import drop_repeated_intro
from pipelines.render import render_html
from pipelines.report import CleaningError, NotK2PageError, finish, now, report_dates
from pipelines.structure import digest_pieces, label_sections, take_author_bio

__all__ = ["CleaningError", "NotK2PageError", "clean_k2", "clean_page"]


def clean_k2(page: ItemPage, url: str, listing: ListingEntry | None, fetched_at: str,
             min_words: int, section: str | None = None) -> Report:
    base = page.base
    intro = extract_blocks(page.intro, base)
    full = extract_blocks(page.fulltext, base)
    byline = take_byline(intro) or take_byline(full)
    blocks = label_sections(drop_repeated_intro(intro, full) + full)
    author_bio = take_author_bio(blocks)
    category = page.category or section
    pieces = digest_pieces(blocks) if category == NEWS_DIGEST else []
    title = page.title or (listing.title if listing else None)
    if not title:
        raise CleaningError("no title: the item has no itemTitle and the listing gave none")
    # The byline names the writers; without one, what K2 prints for the item's author does.
    authors = list(byline.authors) if byline and byline.authors else (
        split_names(page.k2_author) if page.k2_author else [])
    return finish(
        url, report_dates(page.created, listing, byline), "\n\n".join(b.text for b in blocks),
        min_words, byline.issue_date if byline else None,
        title=title,
        author=" and ".join(authors) or None,
        authors=authors,
        category=category,
        hits=page.hits,
        tags=page.tags,
        body_html=render_html(blocks),
        extraction="k2",
        fetched_at=fetched_at,
        author_bio=author_bio,
        digest_items=[asdict(p) for p in pieces],
    )


def clean_page(html: str, url: str, listing: ListingEntry | None = None,
               fetched_at: str | None = None, *, min_words: int,
               prefer_canonical: bool = False, section: str | None = None) -> Report:
    """The clean report of one item page; raises CleaningError with the reason if there is none.

    `prefer_canonical` reports the page's `<link rel="canonical">` as its URL (for saved files,
    whose own location says nothing about the report).
    """
    if not html or not html.strip():
        raise NotK2PageError("empty page: the response had no content")
    fetched_at = fetched_at or now()
    page = parse_item(html, url)
    if prefer_canonical and page.canonical:
        url = page.canonical
    if page.is_k2_item:
        return clean_k2(page, url, listing, fetched_at, min_words, section)
    try:
        return clean_generic(html, url, listing, fetched_at, min_words, section)
    except CleaningError as exc:
        raise NotK2PageError(str(exc)) from exc
