"""URL normalisation and crawl scope."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyst.urls import CrawlScope, bare_host, item_id

SCOPE = CrawlScope.from_start_url("https://www.cacianalyst.org/publications/field-reports.html")
MIRROR = CrawlScope.from_start_url("http://127.0.0.1:8765/publications/field-reports.html")
ITEM = "https://www.cacianalyst.org/publications/field-reports/item/8050-turkmenistan.html"


@pytest.mark.parametrize("url", [
    ITEM,
    "http://www.cacianalyst.org/publications/field-reports/item/8050-turkmenistan.html",
    "https://cacianalyst.org/publications/field-reports/item/8050-turkmenistan.html",
    "https://WWW.CACIANALYST.ORG/publications/field-reports/item/8050-turkmenistan.html#startOfPageId8050",
    "https://www.cacianalyst.org/publications/field-reports/item/8050-turkmenistan.html?tmpl=component&print=1",
])
def test_item_url_variants_are_one_page(url):
    assert SCOPE.item_url(url) == ITEM


@pytest.mark.parametrize("url", [
    "https://www.cacianalyst.org/publications/analytical-articles/item/5123-x.html",
    "https://www.cacianalyst.org/publications/field-reports/itemlist/tag/Kazakhstan.html",
    "https://www.cacianalyst.org/component/mailto/?tmpl=component&link=abc",
    "mailto:editor@cacianalyst.org",
    "javascript:window.print()",
    "https://www.silkroadstudies.org/publications/field-reports/item/1-x.html",
    "https://www.cacianalyst.org/?q=node/1234",
    "https://www.cacianalyst.org/publications/field-reports.html?start=4",
])
def test_not_item_urls(url):
    assert SCOPE.item_url(url) is None


@pytest.mark.parametrize("url,expected", [
    ("https://www.cacianalyst.org/publications/field-reports.html", "https://www.cacianalyst.org/publications/field-reports.html"),
    ("http://cacianalyst.org/publications/field-reports.html?start=0", "https://www.cacianalyst.org/publications/field-reports.html"),
    ("/publications/field-reports.html?start=8", None),  # relative: resolved by the page parser first
    ("https://www.cacianalyst.org/publications/field-reports.html?limitstart=8", "https://www.cacianalyst.org/publications/field-reports.html?start=8"),
    ("https://www.cacianalyst.org/publications/field-reports.html?start=8#top", "https://www.cacianalyst.org/publications/field-reports.html?start=8"),
    ("https://www.cacianalyst.org/publications/field-reports.feed?type=rss", None),
    ("https://www.cacianalyst.org/publications/field-reports.html?tmpl=component&print=1", None),
    ("https://www.cacianalyst.org/publications/news-digest.html?start=4", None),
])
def test_listing_urls(url, expected):
    assert SCOPE.listing_url(url) == expected


def test_mirror_rebases_the_real_sites_links_onto_itself():
    """A mirror's pages may still link to the real site: those links stay on the mirror."""
    assert MIRROR.item_url(ITEM) == "http://127.0.0.1:8765/publications/field-reports/item/8050-turkmenistan.html"
    assert MIRROR.item_url("http://127.0.0.2:8765/publications/field-reports/item/8050-x.html") is None


def test_bare_host_and_item_id():
    assert bare_host("WWW.CaciAnalyst.org") == "cacianalyst.org"
    assert item_id(ITEM) == 8050
    assert item_id("https://www.cacianalyst.org/publications/field-reports.html") is None


@pytest.mark.parametrize("bad", ["not a url", "ftp://x/publications/field-reports.html",
                                 "https://www.cacianalyst.org/publications/field-reports"])
def test_bad_start_urls_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError, match="start_url"):
        CrawlScope.from_start_url(bad)


@pytest.mark.parametrize("href,expected", [
    ("/publications/x.html#top", "https://www.cacianalyst.org/publications/x.html"),
    ("http://[oops/x.html", None),  # urllib raises "Invalid IPv6 URL": found by the fuzz test
    ("", None),
    (None, None),
])
def test_join_url(href, expected):
    from analyst.urls import join_url

    assert join_url("https://www.cacianalyst.org/publications/field-reports.html", href) == expected


def test_listing_url_answers_per_scope():
    """Every listing page links the same window of pages again (the answers are cached): the same
    link gives the same answer again, and two scopes keep their own answers."""
    field = CrawlScope.from_start_url("https://www.cacianalyst.org/publications/field-reports.html")
    other = CrawlScope.from_start_url("https://www.cacianalyst.org/publications/analytical-articles.html")
    link = "http://cacianalyst.org/publications/field-reports.html?limitstart=8"
    assert field.listing_url(link) == field.listing_url(link) == \
        "https://www.cacianalyst.org/publications/field-reports.html?start=8"
    assert other.listing_url(link) is None
    assert field.listing_url(link) == "https://www.cacianalyst.org/publications/field-reports.html?start=8"


_SCOPES = [SCOPE, MIRROR, CrawlScope.from_start_url("http://Example.org:80/publications/field-reports.html")]
_PATH_CHARS = "abcXYZ019._~/-"


def _rebased_and_canonicalised(scope: CrawlScope, url: str) -> str | None:
    """item_url as it was before its fast path: every URL through w3lib."""
    rebased = scope.rebase(url)
    if rebased is None or not scope._is_item_path(rebased[0]):
        return None
    return scope._build(rebased[0])


@given(scope=st.sampled_from(_SCOPES), scheme=st.sampled_from(["http", "https"]),
       host=st.sampled_from(["www.cacianalyst.org", "cacianalyst.org", "127.0.0.1:8765", "example.org:80",
                             "example.org", "www.example.org:80", "other.example", "127.0.0.1:08765",
                             "example.org:", "www.cacianalyst.org.", "cacianalyst.org:443", "127.0.0.1:8765."]),
       path=st.one_of(st.builds("/publications/field-reports/item/{}{}.html".format,
                                st.integers(0, 10**6), st.text(_PATH_CHARS, max_size=30).map(lambda t: "-" + t if t else "")),
                      st.text(_PATH_CHARS, max_size=60).map("/".__add__)))
def test_plain_item_urls_take_the_fast_path_to_the_same_url(scope, scheme, host, path):
    """A plain URL (lower-case host, unreserved path, no query) is answered without w3lib; the
    answer is the one w3lib's rebasing and canonicalisation give, for plain URLs and for the
    near-plain ones w3lib changes (a port with a leading zero, an empty port)."""
    url = f"{scheme}://{host}{path}"
    assert scope.item_url(url) == _rebased_and_canonicalised(scope, url)


def test_the_fast_path_finds_the_items_it_should():
    assert MIRROR.item_url("http://cacianalyst.org/publications/field-reports/item/20292-a_b.c~d.html") == \
        "http://127.0.0.1:8765/publications/field-reports/item/20292-a_b.c~d.html"
    assert SCOPE.item_url("https://example.org/publications/field-reports/item/1-x.html") is None
