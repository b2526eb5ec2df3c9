"""K2 category and tag pages: their report entries (with title and date) and their pagination."""

from __future__ import annotations

from dataclasses import dataclass, field

from scraper.model import ListingEntry
from scraper.pages.common import (
    EDIT_LINK,
    base_url,
    compiled,
    first,
    has_class,
    parse_html,
    select,
    title_text,
    visible_text,
)
from scraper.text import parse_date
from scraper.urls import join_url


@dataclass
class ListingPage:
    entries: list[ListingEntry] = field(default_factory=list)
    page_links: list[str] = field(default_factory=list)
    is_k2_listing: bool = False


# One entry per item in K2's category view (category_item.php, category_item_links.php: leading,
# primary, secondary and "More..." links alike) and in its tag view (tag.php).
_BLOCKS = ".catItemView, .tagItemView"
_LISTING_VIEWS = "div.itemListView, div.tagView"
# Where the site's template puts its modules (header, menu, "Staff Publications", footer) and K2's
# own modules render (mod_k2_content): links there are never listing entries.
_CHROME_ANCESTOR = "ancestor::header or ancestor::nav or ancestor::footer or ancestor::aside or ancestor::*[%s]" % (
    " or ".join([*(has_class(c) for c in ("moduletable", "well", "k2ItemsBlock", "custom", "acymailing_module")),
                 "@id='aside'", "starts-with(@id, 'k2ModuleBox')"]))


_TITLE_LINK = (f".//*[{has_class('catItemTitle')} or {has_class('tagItemTitle')}]"
               f"//a[@href][not({EDIT_LINK})]")


def parse_listing(html: str, url: str) -> ListingPage:
    """Report entries and pagination links of a K2 category (or tag) page; links absolute."""
    root = parse_html(html)
    base = base_url(root, url)
    view = first(root, _LISTING_VIEWS)
    page = ListingPage(is_k2_listing=view is not None)
    seen: set[str] = set()
    for block in (select(view, _BLOCKS) if view is not None else []):
        title_node = first(block, ".catItemTitle, .tagItemTitle")
        # The title links to the item unless catItemTitleLinked is off; "Read more..." then does.
        titled = compiled(_TITLE_LINK)(block)
        link = titled[0] if titled else first(block, "a.k2ReadMore[href]")
        if link is None:
            continue
        href = join_url(base, link.get("href"))
        if href is None or href in seen:
            continue
        seen.add(href)
        date_node = first(block, ".catItemDateCreated, .tagItemDateCreated")
        page.entries.append(ListingEntry(href, title_text(title_node) or None,
                                         parse_date(visible_text(date_node)) if date_node is not None else None))
    if view is None:
        # Not K2's listing markup (a changed template): item links in the page's own content still
        # lead to reports, which are then judged page by page; links in modules never do.
        for link in compiled(f"//body//a[@href][not({_CHROME_ANCESTOR})]")(root):
            href = join_url(base, link.get("href"))
            if href and "/item/" in href and href not in seen:
                seen.add(href)
                page.entries.append(ListingEntry(href, visible_text(link) or None))
    pager = select(root, ".k2Pagination a[href], .pagination a[href], a.pagenav[href]")
    for link in pager or select(root, "a[href]"):
        href = join_url(base, link.get("href"))
        if href and href not in page.page_links:
            page.page_links.append(href)
    return page
