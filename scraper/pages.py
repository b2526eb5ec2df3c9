"""Page objects for the site's K2 markup: listing pages and item pages, parsed from HTML."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Tag
from parsel import Selector

from scraper.text import clean_ws, parse_date
from scraper.urls import join_url

logger = logging.getLogger(__name__)


def make_soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def _selector(html: str) -> Selector:
    # parsel (lxml) finds things ~20x faster than a BeautifulSoup tree is built; BeautifulSoup is
    # kept for the article body alone, where its tree walk is what the cleaner is written in.
    return Selector(text=html or "<html></html>")


def _base(sel: Selector, url: str) -> str:
    """The URL relative links resolve against: `<base href>` if the page has one."""
    return join_url(url, sel.css("base::attr(href)").get()) or url


def _text(node: Selector | None) -> str:
    return clean_ws(" ".join(node.xpath(".//text()").getall())) if node is not None else ""


def _first(sel: Selector, css: str) -> Selector | None:
    found = sel.css(css)
    return found[0] if found else None


@dataclass(frozen=True)
class ListingEntry:
    """One report as a category page shows it; its date and title are the item's fallbacks."""

    url: str
    title: str | None = None
    published: str | None = None


@dataclass
class ListingPage:
    entries: list[ListingEntry] = field(default_factory=list)
    page_links: list[str] = field(default_factory=list)
    is_k2_listing: bool = False


_BLOCKS = ".catItemView, .catItemLinks, .itemListLinks li"
_IN_BLOCK = ("ancestor::*[contains(concat(' ', normalize-space(@class), ' '), ' catItemView ') or "
             "contains(concat(' ', normalize-space(@class), ' '), ' catItemLinks ') or "
             "ancestor::*[contains(concat(' ', normalize-space(@class), ' '), ' itemListLinks ')]]")


def parse_listing(html: str, url: str) -> ListingPage:
    """Report entries and pagination links of a K2 category page; links absolute, in page order."""
    sel = _selector(html)
    base = _base(sel, url)
    view = _first(sel, "div.itemListView")
    container = view if view is not None else sel
    page = ListingPage(is_k2_listing=view is not None)
    seen: set[str] = set()
    for block in container.css(_BLOCKS):
        link = _first(block, ".catItemTitle a[href]") or _first(block, "a.k2ReadMore[href]")
        if link is None:
            continue
        href = join_url(base, link.attrib["href"])
        if href is None or href in seen:
            continue
        seen.add(href)
        date_node = _first(block, ".catItemDateCreated")
        page.entries.append(
            ListingEntry(href, _text(link) or None, parse_date(_text(date_node)) if date_node else None)
        )
    # Item links outside the usual blocks (a changed template) still lead to reports.
    for link in container.xpath(f".//a[@href][not({_IN_BLOCK})]"):
        href = join_url(base, link.attrib["href"])
        if href and "/item/" in href and href not in seen:
            seen.add(href)
            page.entries.append(ListingEntry(href, _text(link) or None))
    pager = sel.css(".k2Pagination a[href], .pagination a[href], a.pagenav[href]")
    for link in pager or sel.css("a[href]"):
        href = join_url(base, link.attrib["href"])
        if href and href not in page.page_links:
            page.page_links.append(href)
    return page


@dataclass
class ItemPage:
    """The parts of a K2 item view that carry data; the body containers are left as markup."""

    is_k2_item: bool
    title: str | None = None
    created: str | None = None
    category: str | None = None
    hits: int | None = None
    tags: list[str] = field(default_factory=list)
    canonical: str | None = None
    base: str = ""
    intro: Tag | None = None
    fulltext: Tag | None = None


def parse_item(html: str, url: str) -> ItemPage:
    """Header fields and body containers of an item page (full page or print view)."""
    sel = _selector(html)
    base = _base(sel, url)
    canonical_href = sel.css('link[rel="canonical"]::attr(href)').get()
    canonical = join_url(base, canonical_href)
    view = _first(sel, "div.itemView")
    if view is None:
        return ItemPage(is_k2_item=False, canonical=canonical, base=base)
    category = _text(_first(view, ".itemCategory a")) or None
    if category is None:
        m = re.search(r"Published in\s+(.+?)\s*$", _text(_first(view, ".itemCategory")))
        category = m.group(1) if m else None
    hits_match = re.search(r"\d[\d,.]*", _text(_first(view, ".itemHits")))
    # Only the body containers go through BeautifulSoup; the rest of the page is chrome.
    intro_html, full_html = view.css(".itemIntroText").get(), view.css(".itemFullText").get()
    body = make_soup(f"<div>{intro_html or ''}{full_html or ''}</div>")
    return ItemPage(
        is_k2_item=True,
        title=_text(_first(view, ".itemTitle")) or None,
        created=parse_date(_text(_first(view, ".itemDateCreated"))),
        category=category,
        hits=int(re.sub(r"\D", "", hits_match.group())) if hits_match else None,
        tags=[t for t in (_text(a) for a in view.css(".itemTagsBlock .itemTags a")) if t],
        canonical=canonical,
        base=base,
        intro=body.select_one(".itemIntroText"),
        fulltext=body.select_one(".itemFullText"),
    )
