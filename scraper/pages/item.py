"""K2 item pages (full page or print view): header fields, and the body containers as markup."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml.html import HtmlElement
from parsel import Selector

from scraper.pages.common import (
    base_url,
    first_match,
    has_class,
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


# The parts of item.php's output that carry data, by class.
_PARTS = ("itemTitle", "itemDateCreated", "itemCategory", "itemHits", "itemTagsBlock", "itemAuthor",
          "itemAuthorBlock", "itemIntroText", "itemFullText")
_ANY_PART = ".//*[%s]" % " or ".join(has_class(c) for c in _PARTS)


def _parts(view: Selector) -> dict[str, Selector]:
    """The first element of each part in the view, found in one pass: a CSS query per part
    walks the whole view (the article with it) each time, most of an item page's parsing."""
    found: dict[str, Selector] = {}
    for node in view.xpath(_ANY_PART):
        for name in (node.root.get("class") or "").split():
            if name in _PARTS:
                found.setdefault(name, node)
    return found


def _k2_author(parts: dict[str, Selector]) -> str | None:
    """The author as item.php prints it: "Written by <a>Name</a>" in the header (the name alone
    when the item has a created_by_alias), else the extended author block's name."""
    name = _WRITTEN_BY.sub("", visible_text(parts.get("itemAuthor")))
    block = parts.get("itemAuthorBlock")
    return name or (visible_text(first_match(block, ".itemAuthorName")) if block is not None else "") or None


def _within(parts: dict[str, Selector], part: str, css: str) -> list[Selector]:
    node = parts.get(part)
    return node.css(css) if node is not None else []


def parse_item(html: str, url: str) -> ItemPage:
    """Header fields and body containers of an item page (full page or print view)."""
    sel = make_selector(html)
    base = base_url(sel, url)
    canonical_href = sel.css('link[rel="canonical"]::attr(href)').get()
    canonical = join_url(base, canonical_href)
    view = first_match(sel, "div.itemView")
    if view is None:
        return ItemPage(is_k2_item=False, canonical=canonical, base=base)
    parts = _parts(view)
    category = visible_text(next(iter(_within(parts, "itemCategory", "a")), None)) or None
    if category is None:
        m = re.search(r"Published in\s+(.+?)\s*$", visible_text(parts.get("itemCategory")))
        category = m.group(1) if m else None
    hits_match = re.search(r"\d[\d,.]*", visible_text(parts.get("itemHits")))
    intro, fulltext = parts.get("itemIntroText"), parts.get("itemFullText")
    return ItemPage(
        is_k2_item=True,
        title=title_text(parts.get("itemTitle")) or None,
        created=parse_date(visible_text(parts.get("itemDateCreated"))),
        category=category,
        hits=int(re.sub(r"\D", "", hits_match.group())) if hits_match else None,
        tags=[t for t in (visible_text(a) for a in _within(parts, "itemTagsBlock", ".itemTags a")) if t],
        k2_author=_k2_author(parts),
        canonical=canonical,
        base=base,
        intro=intro.root if intro is not None else None,
        fulltext=fulltext.root if fulltext is not None else None,
    )
