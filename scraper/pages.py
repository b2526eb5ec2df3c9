"""Page objects for the site's K2 markup: listing pages and item pages, parsed from HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Tag
from parsel import Selector

from scraper.model import ListingEntry
from scraper.text import clean_ws, parse_date
from scraper.urls import join_url


def make_soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def _selector(html: str) -> Selector:
    # parsel (lxml) finds things ~20x faster than a BeautifulSoup tree is built; BeautifulSoup is
    # kept for the article body alone, where its tree walk is what the cleaner is written in.
    return Selector(text=html or "<html></html>")


def _base(sel: Selector, url: str) -> str:
    """The URL relative links resolve against: `<base href>` if the page has one."""
    return join_url(url, sel.css("base::attr(href)").get()) or url


# Text a reader sees: never a script's or style's, never K2's "Edit item" link (shown to editors)
# or the "Featured" flag (<span><sup>Featured</sup></span>) that item.php puts inside the title.
_EDIT_LINK = "ancestor::*[has-class('itemEditLink') or has-class('catItemEditLink')]"
_VISIBLE_TEXT = f".//text()[not(ancestor::script or ancestor::style or ancestor::noscript or {_EDIT_LINK})]"
_FEATURED_FLAG = "./span[sup][normalize-space(.) = normalize-space(sup)]"


def _text(node: Selector | None) -> str:
    return clean_ws(" ".join(node.xpath(_VISIBLE_TEXT).getall())) if node is not None else ""


def _title_text(node: Selector | None) -> str:
    """A K2 title element's own text: the title, without what the template adds around it."""
    if node is None:
        return ""
    flags = {clean_ws(" ".join(f.xpath(".//text()").getall())) for f in node.xpath(_FEATURED_FLAG)}
    text = _text(node)
    for flag in flags:  # the flag stands at the end of the title element
        if flag and text.endswith(flag) and text != flag:
            text = text[: -len(flag)].rstrip()
    return text


def _first(sel: Selector, css: str) -> Selector | None:
    found = sel.css(css)
    return found[0] if found else None


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
_CHROME_ANCESTOR = "ancestor::header or ancestor::nav or ancestor::footer or ancestor::aside or ancestor::*[%s]" % " or ".join(
    [*(f"has-class('{c}')" for c in ("moduletable", "well", "k2ItemsBlock", "custom", "acymailing_module")),
     "@id='aside'", "starts-with(@id, 'k2ModuleBox')"])


def parse_listing(html: str, url: str) -> ListingPage:
    """Report entries and pagination links of a K2 category (or tag) page; links absolute."""
    sel = _selector(html)
    base = _base(sel, url)
    view = _first(sel, _LISTING_VIEWS)
    page = ListingPage(is_k2_listing=view is not None)
    seen: set[str] = set()
    for block in (view.css(_BLOCKS) if view is not None else []):
        title_node = _first(block, ".catItemTitle, .tagItemTitle")
        # The title links to the item unless catItemTitleLinked is off; "Read more..." then does.
        titled = block.xpath(".//*[has-class('catItemTitle') or has-class('tagItemTitle')]"
                             f"//a[@href][not({_EDIT_LINK})]")
        link = titled[0] if titled else _first(block, "a.k2ReadMore[href]")
        if link is None:
            continue
        href = join_url(base, link.attrib["href"])
        if href is None or href in seen:
            continue
        seen.add(href)
        date_node = _first(block, ".catItemDateCreated, .tagItemDateCreated")
        page.entries.append(ListingEntry(href, _title_text(title_node) or None,
                                         parse_date(_text(date_node)) if date_node else None))
    if view is None:
        # Not K2's listing markup (a changed template): item links in the page's own content still
        # lead to reports, which are then judged page by page; links in modules never do.
        for link in sel.xpath(f"//body//a[@href][not({_CHROME_ANCESTOR})]"):
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
    k2_author: str | None = None  # what K2 prints for the author ("Written by X", the author block)
    canonical: str | None = None
    base: str = ""
    intro: Tag | None = None
    fulltext: Tag | None = None


_WRITTEN_BY = re.compile(r"^written by\s*:?\s*", re.I)


def _k2_author(view: Selector) -> str | None:
    """The author as item.php prints it: "Written by <a>Name</a>" in the header (the name alone
    when the item has a created_by_alias), else the extended author block's name."""
    name = _WRITTEN_BY.sub("", _text(_first(view, ".itemAuthor")))
    return name or _text(_first(view, ".itemAuthorBlock .itemAuthorName")) or None


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
        title=_title_text(_first(view, ".itemTitle")) or None,
        created=parse_date(_text(_first(view, ".itemDateCreated"))),
        category=category,
        hits=int(re.sub(r"\D", "", hits_match.group())) if hits_match else None,
        tags=[t for t in (_text(a) for a in view.css(".itemTagsBlock .itemTags a")) if t],
        k2_author=_k2_author(view),
        canonical=canonical,
        base=base,
        intro=body.select_one(".itemIntroText"),
        fulltext=body.select_one(".itemFullText"),
    )
