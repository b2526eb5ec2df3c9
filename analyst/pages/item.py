"""K2 item pages (full page or print view): header fields, and the body containers as markup."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analyst.pages.common import (
    Element,
    base_url,
    compiled,
    first,
    parse_html,
    select,
    title_text,
    visible_text,
)
from analyst.text import parse_date
from analyst.urls import join_url


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
    intro: Element | None = None  # lxml elements of the page's own tree (cleaning changes them)
    fulltext: Element | None = None


_WRITTEN_BY = re.compile(r"^written by\s*:?\s*", re.I)


# The parts of item.php's output that carry data, by class.
_PARTS = frozenset(("itemTitle", "itemDateCreated", "itemCategory", "itemHits", "itemTagsBlock", "itemAuthor",
                    "itemAuthorBlock", "itemIntroText", "itemFullText"))


def _parts(view: Element) -> dict[str, Element]:
    """The first element of each part in the view, found in one pass: a CSS query per part
    walks the whole view (the article with it) each time, most of an item page's parsing."""
    found: dict[str, Element] = {}
    for node in compiled(".//*[@class]")(view):
        for name in _PARTS.intersection(node.get("class").split()):
            found.setdefault(name, node)
    return found


def _k2_author(parts: dict[str, Element]) -> str | None:
    """The author as item.php prints it: "Written by <a>Name</a>" in the header (the name alone
    when the item has a created_by_alias), else the extended author block's name."""
    name = _WRITTEN_BY.sub("", visible_text(parts.get("itemAuthor")))
    return name or visible_text(first(parts.get("itemAuthorBlock"), ".itemAuthorName")) or None


def parse_item(html: str, url: str) -> ItemPage:
    """Header fields and body containers of an item page (full page or print view)."""
    root = parse_html(html)
    base = base_url(root, url)
    canonical = join_url(base, first(root, 'link[rel="canonical"]::attr(href)'))
    view = first(root, "div.itemView")
    if view is None:
        return ItemPage(is_k2_item=False, canonical=canonical, base=base)
    parts = _parts(view)
    category = visible_text(first(parts.get("itemCategory"), "a")) or None
    if category is None:
        m = re.search(r"Published in\s+(.+?)\s*$", visible_text(parts.get("itemCategory")))
        category = m.group(1) if m else None
    hits_match = re.search(r"\d[\d,.]*", visible_text(parts.get("itemHits")))
    tags = select(parts["itemTagsBlock"], ".itemTags a") if "itemTagsBlock" in parts else []
    return ItemPage(
        is_k2_item=True,
        title=title_text(parts.get("itemTitle")) or None,
        created=parse_date(visible_text(parts.get("itemDateCreated"))),
        category=category,
        hits=int(re.sub(r"\D", "", hits_match.group())) if hits_match else None,
        tags=[t for t in (visible_text(a) for a in tags) if t],
        k2_author=_k2_author(parts),
        canonical=canonical,
        base=base,
        intro=parts.get("itemIntroText"),
        fulltext=parts.get("itemFullText"),
    )
