"""Page objects for the site's K2 markup: listing pages and item pages, parsed from HTML."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin

from bs4 import BeautifulSoup, Tag

from scraper.text import clean_ws, parse_date

logger = logging.getLogger(__name__)


def make_soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def base_url(soup: BeautifulSoup, url: str) -> str:
    """The URL relative links resolve against: `<base href>` if the page has one."""
    base = soup.find("base", href=True)
    return urljoin(url, base["href"].strip()) if base else url


def _text(node: Tag | None) -> str:
    return clean_ws(node.get_text(" ")) if node is not None else ""


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


def parse_listing(html: str, url: str) -> ListingPage:
    """Report entries and pagination links of a K2 category page; links absolute, in page order."""
    soup = make_soup(html)
    base = base_url(soup, url)
    container = soup.select_one("div.itemListView") or soup
    page = ListingPage(is_k2_listing=container is not soup)
    seen: set[str] = set()
    blocks = container.select(".catItemView, .catItemLinks, .itemListLinks li")
    for block in blocks:
        link = block.select_one(".catItemTitle a[href]") or block.select_one("a.k2ReadMore[href]")
        if link is None:
            continue
        href = urldefrag(urljoin(base, link["href"].strip())).url
        if href in seen:
            continue
        seen.add(href)
        date_node = block.select_one(".catItemDateCreated")
        page.entries.append(
            ListingEntry(href, _text(link) or None, parse_date(_text(date_node)) if date_node else None)
        )
    # Item links outside the usual blocks (a changed template) still lead to reports.
    in_blocks = {id(a) for block in blocks for a in block.select("a[href]")}
    for link in container.select("a[href]"):
        href = urldefrag(urljoin(base, link["href"].strip())).url
        if id(link) not in in_blocks and "/item/" in href and href not in seen:
            seen.add(href)
            page.entries.append(ListingEntry(href, _text(link) or None))
    pager = soup.select(".k2Pagination a[href], .pagination a[href], a.pagenav[href]")
    for link in pager or soup.select("a[href]"):
        href = urljoin(base, link["href"].strip())
        if href not in page.page_links:
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
    intro: Tag | None = None
    fulltext: Tag | None = None
    soup: BeautifulSoup | None = None


def parse_item(html: str, url: str) -> ItemPage:
    """Header fields and body containers of an item page (full page or print view)."""
    soup = make_soup(html)
    canonical_link = soup.find("link", rel="canonical", href=True)
    canonical = urljoin(base_url(soup, url), canonical_link["href"]) if canonical_link else None
    view = soup.select_one("div.itemView")
    if view is None:
        return ItemPage(is_k2_item=False, canonical=canonical, soup=soup)
    category = _text(view.select_one(".itemCategory a")) or None
    if category is None:
        m = re.search(r"Published in\s+(.+?)\s*$", _text(view.select_one(".itemCategory")))
        category = m.group(1) if m else None
    hits_node = view.select_one(".itemHits")
    hits_match = re.search(r"\d[\d,.]*", _text(hits_node))
    return ItemPage(
        is_k2_item=True,
        title=_text(view.select_one(".itemTitle")) or None,
        created=parse_date(_text(view.select_one(".itemDateCreated"))),
        category=category,
        hits=int(re.sub(r"\D", "", hits_match.group())) if hits_match else None,
        tags=[t for t in (_text(a) for a in view.select(".itemTagsBlock .itemTags a")) if t],
        canonical=canonical,
        intro=view.select_one(".itemIntroText"),
        fulltext=view.select_one(".itemFullText"),
        soup=soup,
    )
