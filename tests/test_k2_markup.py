"""Pages rendered the way K2's and Joomla's own templates render them (tests/fixtures/k2/).

Each page's expected report was written from the article it was rendered from
(tests/fixtures/make_k2_pages.py), not from the extractor's output.
"""

from __future__ import annotations

import json

import pytest

from analyst.model import ListingEntry
from analyst.pages import parse_listing
from pipelines.extract import clean_page
from pipelines.plugins import CLOAKING_TEXT, decode_cloak
from tests.conftest import FIXTURES, MIN_WORDS, body_f1

K2 = FIXTURES / "k2"
PAGES = sorted(p for p in K2.glob("*.json") if "url" in json.loads(p.read_text()) and
               "entries" not in json.loads(p.read_text()))
LISTINGS = sorted(p for p in K2.glob("*.json") if "entries" in json.loads(p.read_text()))
FIELDS = ("title", "published", "date_source", "author", "authors", "category", "hits", "tags")


def test_the_group_is_large_enough():
    """Issue 11: at least 15 item pages from the templates, both eras, print views, listings."""
    names = [p.stem for p in PAGES]
    assert len(names) >= 15
    assert any(n.startswith("k26") for n in names) and any(n.startswith("k29") for n in names)
    assert sum("print-view" in n for n in names) == 2
    assert len(LISTINGS) >= 3


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_template_page_gives_the_source_article(path):
    exp = json.loads(path.read_text())
    listing = ListingEntry(exp["url"], **exp["listing"]) if exp["listing"] else None
    html = (K2 / exp["file"]).read_text(encoding="utf-8")
    report = clean_page(html, exp["url"], listing, section=exp["section"], min_words=MIN_WORDS)
    assert report.extraction == "k2"
    for name in FIELDS:
        assert getattr(report, name) == exp[name], name
    assert report.body.split("\n\n") == exp["body"].split("\n\n")
    assert body_f1(report.body, exp["body"]) == 1.0
    assert CLOAKING_TEXT[:30] not in report.body and "{jcomments" not in report.body


@pytest.mark.parametrize("path", LISTINGS, ids=lambda p: p.stem)
def test_template_listing_entries_and_pages(path):
    exp = json.loads(path.read_text())
    page = parse_listing((K2 / f"{path.stem}.html").read_text(encoding="utf-8"), exp["url"])
    assert page.is_k2_listing
    got = [{"url": e.url, "title": e.title, "published": e.published} for e in page.entries]
    assert got == exp["entries"]  # no side-module or description link among them
    if exp["page_links"] is not None:
        assert {u for u in page.page_links if "field-reports.html" in u} == set(exp["page_links"])


def test_a_cloaked_address_in_the_body_html_is_a_mailto_link():
    exp = json.loads((K2 / "k29-emailcloak-joomla35.json").read_text())
    html = (K2 / exp["file"]).read_text(encoding="utf-8")
    report = clean_page(html, exp["url"], min_words=MIN_WORDS)
    assert '<a href="mailto:a.sydykova@cacianalyst.org">a.sydykova@cacianalyst.org</a>' in report.body_html
    assert '<a href="mailto:editor@cacianalyst.org">the editors</a>' in report.body_html


@pytest.mark.parametrize("script,want", [
    ("var addy1 = 'inf&#111;' + '&#64;';\n addy1 = addy1 + 'c&#97;ci' + '&#46;' + 'org';", ("info@caci.org",) * 2),
    ("var addy0123456789abcdef0123456789abcdef = 'a' + '&#64;'; addy0123456789abcdef0123456789abcdef = "
     "addy0123456789abcdef0123456789abcdef + 'b' + '&#46;' + 'kz'; "
     "var addy_text0123456789abcdef0123456789abcdef = 'Write to us';",
     ("a@b.kz", "Write to us")),
    ("var prefix = 'x'; document.write('hello');", None),
])
def test_decode_cloak(script, want):
    assert decode_cloak(script) == want
