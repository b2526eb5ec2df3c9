"""Listing and item page objects, offline on the fixture pages."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from scraper.pages import decode_html, parse_item, parse_listing
from tests.conftest import SITE, fixture_html

ORIGIN = "https://www.cacianalyst.org"


def read(name: str) -> str:
    return (SITE / name).read_text(encoding="utf-8")


def test_listing_entries_carry_title_and_date():
    page = parse_listing(read("listing-1.html"), f"{ORIGIN}/publications/field-reports.html")
    assert page.is_k2_listing
    assert len(page.entries) == 5
    first, second = page.entries[:2]
    assert (first.title, first.published) == ("Tashkent Eases Currency Controls", "2016-09-14")
    assert first.url == "http://cacianalyst.org/publications/field-reports/item/7122-tashkent-eases-currency-controls.html"
    assert second.url == f"{ORIGIN}/publications/field-reports/item/7121-nakhchivan-s-blockade-economy.html"


def test_listing_pagination_links_are_absolute():
    page = parse_listing(read("listing-2.html"), f"{ORIGIN}/publications/field-reports.html?start=5")
    assert f"{ORIGIN}/publications/field-reports.html?start=10" in page.page_links
    assert f"{ORIGIN}/publications/field-reports.html?limitstart=25" in page.page_links
    assert f"{ORIGIN}/publications/field-reports.html" in page.page_links


def test_base_href_wins_over_the_page_url():
    html = read("listing-1.html").replace(
        f'<base href="{ORIGIN}/publications/field-reports.html">',
        '<base href="https://mirror.example/publications/x/">')
    page = parse_listing(html.replace('href="/publications/field-reports/item/7121',
                                      'href="../field-reports/item/7121'), "http://127.0.0.1/a.html")
    assert page.entries[1].url == "https://mirror.example/publications/field-reports/item/7121-nakhchivan-s-blockade-economy.html"


def test_item_header_fields():
    page = parse_item(read("item-7102.html"), f"{ORIGIN}/publications/field-reports/item/7102-x.html")
    assert page.is_k2_item
    assert page.title == "Caspian Ports Compete for Transit Cargo"
    assert page.created == "2002-09-25"
    assert page.category == "Field Reports"
    assert page.hits == 2436
    assert page.tags == ["Azerbaijan", "Kazakhstan"]
    assert page.intro is not None and page.fulltext is not None


def test_not_a_k2_item():
    page = parse_item(read("generic-node.html"), f"{ORIGIN}/?q=node/1234")
    assert not page.is_k2_item
    assert page.intro is None and page.fulltext is None


@pytest.mark.parametrize("body, content_type", [
    ("<p>café</p>".encode("cp1252"), None),  # undeclared, not UTF-8
    ("<p>café</p>".encode(), None),
    ("<p>café</p>".encode("latin-1"), "text/html; charset=iso-8859-1"),
    ('<meta charset="windows-1251"><p>Казахстан</p>'.encode("cp1251"), "text/html"),
    ("\ufeff<p>Türkmenbaşy</p>".encode("utf-8"), "text/html; charset=latin-1"),  # the BOM wins
    (b"", "text/html"),
])
def test_bytes_decode_exactly_as_scrapy_decodes_a_response(body, content_type):
    """A page read back from the archive must clean as it did in the crawl: same text."""
    response = HtmlResponse("http://x/", body=body, headers={"Content-Type": content_type} if content_type else {})
    assert decode_html(body, content_type) == response.text


@pytest.mark.parametrize("name", sorted(p.name for p in SITE.glob("*.html")))
def test_visible_text_is_the_xpath_it_replaced(name):
    """The Python walk gives, for every element of every sample page, what VISIBLE_TEXT selects."""
    from scraper.pages.common import VISIBLE_TEXT, compiled, parse_html, visible_text
    from scraper.text import clean_ws

    root = parse_html(fixture_html(name))
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    assert len(elements) > 20
    for element in elements:
        assert visible_text(element) == clean_ws(" ".join(compiled(VISIBLE_TEXT)(element)))


@pytest.mark.parametrize(("markup", "found"), [
    ('<div class="catItemView">x</div>', True),
    ('<div class="a\tcatItemView\nb">x</div>', True),  # any whitespace separates class words
    ('<div class="catItemViewer">x</div>', False),  # the name inside a longer word is not the class
    ('<div class="mycatItemView">x</div>', False),
    ('<div id="catItemView">x</div>', False),
])
def test_class_tests_match_whole_class_words(markup, found):
    """The CSS class test and has_class() (a cheap substring test first, then the exact one)
    match what CSS's .name matches, and nothing a substring alone would."""
    from scraper.pages.common import compiled, has_class, parse_html, select

    root = parse_html(f"<html><body>{markup}</body></html>")
    assert bool(select(root, ".catItemView")) is found
    assert bool(compiled(f"//*[{has_class('catItemView')}]")(root)) is found
