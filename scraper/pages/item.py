"""K2 item pages (full page or print view): header fields, and the body containers as markup."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml.html import HtmlElement
from parsel import Selector

from scraper.pages.common import (
    base_url,
    first_match,
    make_selector,
    title_text,
    visible_text,
)
from scraper.text import parse_date
from scraper.urls import join_url


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
    intro: HtmlElement | None = None  # lxml elements of the page's own tree (cleaning changes them)
    fulltext: HtmlElement | None = None


_WRITTEN_BY = re.compile(r"^written by\s*:?\s*", re.I)


def _k2_author(view: Selector) -> str | None:
    """The author as item.php prints it: "Written by <a>Name</a>" in the header (the name alone
    when the item has a created_by_alias), else the extended author block's name."""
    name = _WRITTEN_BY.sub("", visible_text(first_match(view, ".itemAuthor")))
    return name or visible_text(first_match(view, ".itemAuthorBlock .itemAuthorName")) or None


def parse_item(html: str, url: str) -> ItemPage:
    """Header fields and body containers of an item page (full page or print view)."""
    sel = make_selector(html)
    base = base_url(sel, url)
    canonical_href = sel.css('link[rel="canonical"]::attr(href)').get()
    canonical = join_url(base, canonical_href)
    view = first_match(sel, "div.itemView")
    if view is None:
        return ItemPage(is_k2_item=False, canonical=canonical, base=base)
    category = visible_text(first_match(view, ".itemCategory a")) or None
    if category is None:
        m = re.search(r"Published in\s+(.+?)\s*$", visible_text(first_match(view, ".itemCategory")))
        category = m.group(1) if m else None
    hits_match = re.search(r"\d[\d,.]*", visible_text(first_match(view, ".itemHits")))
    intro, fulltext = first_match(view, ".itemIntroText"), first_match(view, ".itemFullText")
    return ItemPage(
        is_k2_item=True,
        title=title_text(first_match(view, ".itemTitle")) or None,
        created=parse_date(visible_text(first_match(view, ".itemDateCreated"))),
        category=category,
        hits=int(re.sub(r"\D", "", hits_match.group())) if hits_match else None,
        tags=[t for t in (visible_text(a) for a in view.css(".itemTagsBlock .itemTags a")) if t],
        k2_author=_k2_author(view),
        canonical=canonical,
        base=base,
        intro=intro.root if intro is not None else None,
        fulltext=fulltext.root if fulltext is not None else None,
    )
