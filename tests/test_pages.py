"""Listing and item page objects, offline on the fixture pages."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from analyst.pages import decode_html, parse_item, parse_listing
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


def k2_fixture(name: str) -> str:
    from tests.conftest import FIXTURES

    return (FIXTURES / name).read_text(encoding="utf-8")


def _no_counter(html: str) -> str:
    import re

    return re.sub(r"Page \d+ of \d+", "", html)


@pytest.mark.parametrize("name, url, html_of, expected", [
    ("listing-2.html", "/publications/field-reports.html?start=5", read, (2, 6)),  # p.counter
    ("listing-6.html", "/publications/field-reports.html?limitstart=25", read, (6, 6)),
    ("k2/k26-category-default.html", "/publications/field-reports.html?start=4", k2_fixture, (2, 12)),  # bare text
    ("k2/k29-category-protostar.html", "/publications/field-reports.html?start=4", k2_fixture, (2, 12)),
    # No counter: the End link's offset over the step to the next page (a page size of 4 here,
    # of 5 in the sample site: never assumed).
    ("k2/k29-category-protostar.html", "/publications/field-reports.html?start=4",
     lambda n: _no_counter(k2_fixture(n)), (2, 12)),
    ("listing-2.html", "/publications/field-reports.html?start=5", lambda n: _no_counter(read(n)), (2, 6)),
    ("listing-6.html", "/publications/field-reports.html?limitstart=25", lambda n: _no_counter(read(n)), None),
])
def test_listing_position_from_the_counter_or_the_end_link(name, url, html_of, expected):
    assert parse_listing(html_of(name), ORIGIN + url).position == expected


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


# Class words as XPath separates them: an edit link's class followed by a no-break space or a
# vertical tab is one longer word, not the edit link (Python's str.split() separated them).
_ODD_CLASSES = ('<html><body><div class="itemBody"><p>Kept <span class="itemEditLink\xa0x">seen</span> '
                '<span class="catItemEditLink\x0bx"><b>seen too</b></span><span class="x\titemEditLink">'
                '<i>hidden</i></span> end</p><script>no</script></div></body></html>')


@pytest.mark.parametrize("name", [*sorted(p.name for p in SITE.glob("*.html")), "odd class words"])
def test_visible_text_is_the_xpath_it_replaced(name):
    """The Python walk gives, for every element of every sample page, what VISIBLE_TEXT selects."""
    from analyst.pages.common import VISIBLE_TEXT, compiled, parse_html, visible_text
    from analyst.text import clean_ws

    root = parse_html(_ODD_CLASSES if name == "odd class words" else fixture_html(name))
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    assert len(elements) > 20 or name == "odd class words"
    for element in elements:
        assert visible_text(element) == clean_ws(" ".join(compiled(VISIBLE_TEXT)(element)))


@pytest.mark.parametrize(("markup", "found"), [
    ('<div class="catItemView">x</div>', True),
    ('<div class="a\tcatItemView\nb">x</div>', True),  # any whitespace separates class words
    ('<div class="catItemViewer">x</div>', False),  # the name inside a longer word is not the class
    ('<div class="mycatItemView">x</div>', False),
    ('<div id="catItemView">x</div>', False),
    ('<div class="catItemView\xa0x">x</div>', False),  # XPath's whitespace is space, tab, CR, LF only
    ('<div class="x\x0bcatItemView">x</div>', False),
    ('<div class="other catItemView">x</div>', True),
])
def test_class_tests_match_whole_class_words(markup, found):
    """The CSS class test, has_class() (a cheap substring test first, then the exact one) and
    class_test() (the same in Python, for the walks) match what CSS's .name matches, and nothing
    a substring alone would."""
    from analyst.pages.common import class_test, compiled, has_class, parse_html, select

    root = parse_html(f"<html><body>{markup}</body></html>")
    assert bool(select(root, ".catItemView")) is found
    assert bool(compiled(f"//*[{has_class('catItemView')}]")(root)) is found
    assert bool(class_test("other", "catItemView")(root.find(".//div").get("class") or "")) is found


# What parse_listing's walks answer, as the CSS and XPath selectors it replaced asked it: the
# walks must select the same elements, in the same order, on every page.
_PAGER_CSS = ".k2Pagination a[href], .pagination a[href], a.pagenav[href]"
_TITLE_LINK = ".//*[{t} or {g}]//a[@href][not(ancestor::*[{e} or {c}])]"
_TRICKY = {
    "edit link in the title": '<div class="itemListView"><div class="catItemView"><h3 class="catItemTitle">'
                              '<span class="catItemEditLink"><a href="/edit">Edit</a></span>'
                              '<a>no href</a><a href="/item/1-x.html">X</a></h3></div></div>',
    "words split by tab and newline, not by nbsp": '<div class="a\titemListView"><div class="x\ncatItemView">'
                                                   '<b class="catItemTitle\r">T</b><a class="k2ReadMore" href="/item/2.html">'
                                                   'More</a></div><div class="catItemView\xa0x"><a class="k2ReadMore" '
                                                   'href="/item/3.html">M</a></div></div>',
    "the entry itself a title": '<div class="tagView"><div class="tagItemView tagItemTitle"><a href="/item/4.html">'
                                'T</a><span class="tagItemDateCreated"><i class="tagItemDateCreated">1 May 2020</i></span>'
                                '</div></div>',
    "nested pagination blocks and a lone pagenav": '<section class="itemListView"><p>no view: not a div</p></section>'
                                                   '<div class="pagination"><ul class="pagination"><li><a href="?start=4">'
                                                   '2</a></li></ul><a>none</a></div><a class="pagenav" href="?start=8">3</a>'
                                                   '<a class="k2Pagination" href="?start=12">self</a>',
    "a pagination block inside an entry": '<div class="itemListView"><div class="catItemView"><div class="catItemTitle">'
                                          '<div class="pagination"><a href="/item/5.html">5</a></div></div></div></div>',
}


def _listing_pages() -> list[tuple[str, str]]:
    from tests.conftest import FIXTURES

    files = sorted([*SITE.glob("*.html"), *FIXTURES.rglob("*.html")])
    return [(f.name, decode_html(f.read_bytes())) for f in files] + sorted(_TRICKY.items())


_LISTING_PAGES = _listing_pages()


@pytest.mark.parametrize(("name", "html"), _LISTING_PAGES, ids=[name for name, _ in _LISTING_PAGES])
def test_listing_walks_select_what_the_selectors_select(name, html):
    from analyst.pages.common import compiled, first, has_class, parse_html, select
    from analyst.pages.listing import _entry_parts, _view_and_pager

    root = parse_html(html)
    view, pager, _ = _view_and_pager(root)
    assert view is first(root, "div.itemListView, div.tagView")
    assert pager == select(root, _PAGER_CSS)
    blocks = select(view, ".catItemView, .tagItemView") if view is not None else []
    title_link = compiled(_TITLE_LINK.format(t=has_class("catItemTitle"), g=has_class("tagItemTitle"),
                                             e=has_class("itemEditLink"), c=has_class("catItemEditLink")))
    for block in blocks:
        titled = title_link(block)
        expected = (first(block, ".catItemTitle, .tagItemTitle"),
                    titled[0] if titled else first(block, "a.k2ReadMore[href]"),
                    first(block, ".catItemDateCreated, .tagItemDateCreated"))
        assert _entry_parts(block) == expected
    if name in _TRICKY:  # each tricky page has something to compare
        assert view is not None or pager
