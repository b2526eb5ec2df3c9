"""What both page objects use: decoding, the lxml tree, compiled queries, visible text, titles."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from charset_normalizer import from_bytes
from lxml import etree
from parsel.csstranslator import HTMLTranslator
from parsel.selector import create_root_node
from w3lib.encoding import html_to_unicode, resolve_encoding

from analyst.text import clean_ws
from analyst.urls import join_url


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


def make_soup(html: str) -> Any:
    """A BeautifulSoup tree, for the generic extractor alone (imported there: K2 pages, and the
    worker processes that clean them, never need it)."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "lxml")


Element = etree._Element


def parse_html(html: str) -> Element:
    """The page's lxml tree, parsed exactly as parsel parses it, but with lxml's plain elements:
    lxml.html's element classes cost a class lookup for every element Python touches."""
    return create_root_node(html or "<html></html>", etree.HTMLParser)


# Compiled once each: lxml compiles an XPath string on every .xpath() call, which was most of the
# cost of reading an item page's header.
@lru_cache(maxsize=None)
def compiled(xpath: str) -> etree.XPath:
    return etree.XPath(xpath, smart_strings=False)


@lru_cache(maxsize=None)
def _css(css: str) -> etree.XPath:
    return compiled(_TRANSLATOR.css_to_xpath(css))  # as parsel's Selector.css translates it


def _class_test(name_literal: str, padded_literal: str) -> str:
    # A plain substring test first: it is cheap and false for nearly every element, and libxml2
    # stops at a false `and`; the exact word test (normalize-space, concat) allocates strings for
    # each element it runs on, and was most of a listing page's parsing time.
    return f"contains(@class, {name_literal}) and contains(concat(' ', normalize-space(@class), ' '), {padded_literal})"


class _Translator(HTMLTranslator):
    """parsel's CSS translation, with the class test made cheap for the elements it rejects."""

    def xpath_class(self, class_selector: Any) -> Any:
        name = class_selector.class_name
        return self.xpath(class_selector.selector).add_condition(
            _class_test(self.xpath_literal(name), self.xpath_literal(f" {name} ")))


_TRANSLATOR = _Translator()


def select(node: Element, css: str) -> list[Any]:
    """What `css` selects under `node` (parsel's CSS, ::attr() and ::text included), as lxml gives it."""
    return _css(css)(node)


def first(node: Element | None, css: str) -> Any:
    if node is None:
        return None
    found = select(node, css)
    return found[0] if found else None


def base_url(sel: Element, url: str) -> str:
    """The URL relative links resolve against: `<base href>` if the page has one."""
    return join_url(url, first(sel, "base::attr(href)")) or url


def class_test(*names: str) -> Callable[[str], Any]:
    """has_class's test in Python, for walks that visit each element once (where one XPath per
    question visited them all again): `test(element.get("class") or "")` is true when one of
    `names` is a word of the class attribute. Words are separated as XPath's normalize-space()
    separates them, by space, tab, CR and LF only."""
    return re.compile(rf"(?<![^ \t\n\r])(?:{'|'.join(map(re.escape, names))})(?![^ \t\n\r])").search


def has_class(name: str) -> str:
    """An XPath test for a class, in XPath itself: parsel's has-class() calls back into Python
    for every node it tests, which made these tests most of an item page's parsing time."""
    return _class_test(f"'{name}'", f"' {name} '")


# Text a reader sees: never a script's or style's, never K2's "Edit item" link (shown to editors)
# or the "Featured" flag (<span><sup>Featured</sup></span>) that item.php puts inside the title.
# The hidden parts are named once; the XPath forms and the Python walk are built from them.
HIDDEN_TAGS = ("script", "style", "noscript")
EDIT_LINK_CLASSES = ("itemEditLink", "catItemEditLink")
_IS_HIDDEN = " or ".join([*(f"self::{t}" for t in HIDDEN_TAGS), *(has_class(c) for c in EDIT_LINK_CLASSES)])
VISIBLE_TEXT = f".//text()[not(ancestor::*[{_IS_HIDDEN}])]"  # what visible_text() gives, as XPath
FEATURED_FLAG = "./span[sup][normalize-space(.) = normalize-space(sup)]"


is_edit_link = class_test(*EDIT_LINK_CLASSES)


def _hidden(element: Element) -> bool:
    """_IS_HIDDEN's test on one element."""
    return element.tag in HIDDEN_TAGS or bool(is_edit_link(element.get("class") or ""))


def _visible_pieces(element: Element, out: list[str]) -> None:
    if element.text:
        out.append(element.text)
    for child in element:
        if isinstance(child.tag, str) and not _hidden(child):
            _visible_pieces(child, out)
        if child.tail:  # the text after a hidden element or a comment is seen
            out.append(child.tail)


def visible_text(node: Element | None) -> str:
    """The text of VISIBLE_TEXT's nodes, walked in Python: the XPath tests every ancestor of
    every text node, several times the cost of one walk that skips hidden subtrees."""
    if node is None or _hidden(node) or any(map(_hidden, node.iterancestors())):
        return ""
    pieces: list[str] = []
    _visible_pieces(node, pieces)
    return clean_ws(" ".join(pieces))


def title_text(node: Element | None) -> str:
    """A K2 title element's own text: the title, without what the template adds around it."""
    if node is None:
        return ""
    flags = {clean_ws(" ".join(compiled(".//text()")(f))) for f in compiled(FEATURED_FLAG)(node)}
    text = visible_text(node)
    for flag in flags:  # the flag stands at the end of the title element
        if flag and text.endswith(flag) and text != flag:
            text = text[: -len(flag)].rstrip()
    return text


