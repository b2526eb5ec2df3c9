"""What both page objects use: decoding, parsel selectors, visible text, titles."""

from __future__ import annotations

from bs4 import BeautifulSoup
from charset_normalizer import from_bytes
from lxml import etree
from parsel import Selector
from w3lib.encoding import html_to_unicode, resolve_encoding

from scraper.text import clean_ws
from scraper.urls import join_url


def _guess_encoding(data: bytes) -> str | None:
    """Scrapy's TextResponse guess for a page that declares nothing: ASCII, UTF-8, then
    charset_normalizer's best match."""
    for encoding in ("ascii", "utf-8"):
        try:
            data.decode(encoding)
        except UnicodeError:
            continue
        return resolve_encoding(encoding)
    match = from_bytes(data).best()
    return resolve_encoding(match.encoding) if match else None


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Bytes to text exactly as Scrapy's `response.text` decodes a response (HTTP header, BOM,
    <meta charset>, guess), so a page read back from the archive cleans as it did in the crawl."""
    encoding, _ = html_to_unicode(content_type or "", data, auto_detect_fun=_guess_encoding,
                                  default_encoding="ascii")
    return html_to_unicode(f"charset={encoding}", data)[1]


def make_soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def make_selector(html: str) -> Selector:
    # parsel (lxml) finds things ~20x faster than a BeautifulSoup tree is built; BeautifulSoup is
    # kept for the article body alone, where its tree walk is what the cleaner is written in.
    return Selector(text=html or "<html></html>")


def base_url(sel: Selector, url: str) -> str:
    """The URL relative links resolve against: `<base href>` if the page has one."""
    return join_url(url, sel.css("base::attr(href)").get()) or url


# Text a reader sees: never a script's or style's, never K2's "Edit item" link (shown to editors)
# or the "Featured" flag (<span><sup>Featured</sup></span>) that item.php puts inside the title.
def has_class(name: str) -> str:
    """An XPath test for a class, in XPath itself: parsel's has-class() calls back into Python
    for every node it tests, which made these tests most of an item page's parsing time."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


EDIT_LINK = f"ancestor::*[{has_class('itemEditLink')} or {has_class('catItemEditLink')}]"
VISIBLE_TEXT = f".//text()[not(ancestor::script or ancestor::style or ancestor::noscript or {EDIT_LINK})]"
FEATURED_FLAG = "./span[sup][normalize-space(.) = normalize-space(sup)]"


# Compiled once: lxml compiles an XPath string on every .xpath() call, and this one is long.
_VISIBLE_TEXT = etree.XPath(VISIBLE_TEXT, smart_strings=False)


def visible_text(node: Selector | None) -> str:
    return clean_ws(" ".join(_VISIBLE_TEXT(node.root))) if node is not None else ""


def title_text(node: Selector | None) -> str:
    """A K2 title element's own text: the title, without what the template adds around it."""
    if node is None:
        return ""
    flags = {clean_ws(" ".join(f.xpath(".//text()").getall())) for f in node.xpath(FEATURED_FLAG)}
    text = visible_text(node)
    for flag in flags:  # the flag stands at the end of the title element
        if flag and text.endswith(flag) and text != flag:
            text = text[: -len(flag)].rstrip()
    return text


def first_match(sel: Selector, css: str) -> Selector | None:
    found = sel.css(css)
    return found[0] if found else None
