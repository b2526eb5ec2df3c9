"""K2 category and tag pages: their report entries (with title and date) and their pagination."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from analyst.model import ListingEntry
from analyst.pages.common import (
    Element,
    base_url,
    class_test,
    compiled,
    has_class,
    is_edit_link,
    parse_html,
    select,
    title_text,
    visible_text,
)
from analyst.text import parse_date
from analyst.urls import join_url


@dataclass
class ListingPage:
    entries: list[ListingEntry] = field(default_factory=list)
    page_links: list[str] = field(default_factory=list)
    is_k2_listing: bool = False
    position: tuple[int, int] | None = None  # (this page, of how many), where the pagination tells


# What Joomla's pagination says of the page ("Page 2 of 12": JLIB_HTML_PAGE_CURRENT_OF_TOTAL,
# K2 2.6/2.9 print it bare in div.k2Pagination, Joomla 3 in p.counter) and its last page's link.
_COUNTER = re.compile(r"\bPage\s+(\d+)\s+of\s+(\d+)\b")
_END, _NEXT = "End", "Next"  # the pager links' titles (Joomla's JLIB_HTML_END, JNEXT)


# One entry per item in K2's category view (category_item.php, category_item_links.php: leading,
# primary, secondary and "More..." links alike) and in its tag view (tag.php).
_IS_BLOCK = class_test("catItemView", "tagItemView")
_IS_VIEW = class_test("itemListView", "tagView")  # on a div
_IS_TITLE = class_test("catItemTitle", "tagItemTitle")
_IS_DATE = class_test("catItemDateCreated", "tagItemDateCreated")
_IS_READ_MORE = class_test("k2ReadMore")
# Pagination links: inside K2's (or Joomla's) pagination block, or Joomla's `a.pagenav`.
_IS_PAGER = class_test("k2Pagination", "pagination")
_IS_PAGENAV = class_test("pagenav")
# Where the site's template puts its modules (header, menu, "Staff Publications", footer) and K2's
# own modules render (mod_k2_content): links there are never listing entries.
_CHROME_ANCESTOR = "ancestor::header or ancestor::nav or ancestor::footer or ancestor::aside or ancestor::*[%s]" % (
    " or ".join([*(has_class(c) for c in ("moduletable", "well", "k2ItemsBlock", "custom", "acymailing_module")),
                 "@id='aside'", "starts-with(@id, 'k2ModuleBox')"]))


# The page and each entry are read in one walk over their elements each, in document order,
# answering what the CSS selectors `div.itemListView, div.tagView`, `.k2Pagination a[href],
# .pagination a[href], a.pagenav[href]` and, in an entry, `.catItemTitle, .tagItemTitle`,
# `.//*[title]//a[@href]` outside an edit link, `a.k2ReadMore[href]` and the date's class select: one
# XPath per question walked the whole page again each time, most of a listing page's parsing.
def _view_and_pager(root: Element) -> tuple[Element | None, list[Element], Element | None]:
    view, pager, in_pager, block = None, [], set(), None
    for element in root.iter(etree.Element):
        names = element.get("class") or ""
        if names:
            if view is None and element.tag == "div" and _IS_VIEW(names):
                view = element
            if _IS_PAGER(names):
                block = element if block is None else block
                in_pager.update(a for a in element.iter("a") if a is not element)
        if element.tag == "a" and element.get("href") is not None and (
                element in in_pager or names and _IS_PAGENAV(names)):
            pager.append(element)
    return view, pager, block


def _offset(url: str) -> int | None:
    query = parse_qs(urlsplit(url).query)
    value = (query.get("start") or query.get("limitstart") or ["0"])[0]
    return int(value) if value.isdigit() else None


def _position(block: Element | None, pager: list[Element], base: str, url: str) -> tuple[int, int] | None:
    """(this page, of how many): the pagination's counter, else its End link's offset over the
    step between this page and the next; None where neither tells (never a page size assumed)."""
    if block is not None and (counter := _COUNTER.search(visible_text(block))):
        return int(counter[1]), int(counter[2])
    here = _offset(url)
    links = {(link.get("title") or visible_text(link)).strip(): join_url(base, link.get("href")) for link in pager}
    end, after = links.get(_END), links.get(_NEXT)
    offsets = [_offset(u) if u else None for u in (end, after)]
    if here is None or None in offsets or offsets[1] <= here:
        return None
    step = offsets[1] - here
    if here % step or offsets[0] % step:
        return None
    return here // step + 1, offsets[0] // step + 1


def _in_edit_link(element: Element) -> bool:
    return any(is_edit_link(a.get("class") or "") for a in element.iterancestors())


def _entry_parts(block: Element) -> tuple[Element | None, Element | None, Element | None]:
    """The entry's title element, its link to the item, its date. The title links to the item
    unless K2's catItemTitleLinked is off; "Read more..." then does."""
    title = date = titled = read_more = None
    under_title: set[Element] = set()
    for element in block.iter(etree.Element):
        names = element.get("class") or ""
        if names and _IS_TITLE(names):
            if title is None:
                title = element
            if element is not block:  # the link is in a title element inside the entry
                under_title.update(a for a in element.iter("a") if a is not element)
        if date is None and names and _IS_DATE(names):
            date = element
        if element.tag == "a" and element.get("href") is not None:
            if titled is None and element in under_title and not _in_edit_link(element):
                titled = element
            if read_more is None and names and _IS_READ_MORE(names):
                read_more = element
    return title, titled if titled is not None else read_more, date


def parse_listing(html: str, url: str) -> ListingPage:
    """Report entries and pagination links of a K2 category (or tag) page; links absolute."""
    root = parse_html(html)
    base = base_url(root, url)
    view, pager, block = _view_and_pager(root)
    page = ListingPage(is_k2_listing=view is not None, position=_position(block, pager, base, url))
    seen: set[str] = set()
    blocks = [e for e in view.iter(etree.Element) if _IS_BLOCK(e.get("class") or "")] if view is not None else []
    for block in blocks:
        title_node, link, date_node = _entry_parts(block)
        if link is None:
            continue
        href = join_url(base, link.get("href"))
        if href is None or href in seen:
            continue
        seen.add(href)
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
    for link in pager or select(root, "a[href]"):
        href = join_url(base, link.get("href"))
        if href and href not in page.page_links:
            page.page_links.append(href)
    return page
