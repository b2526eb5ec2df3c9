"""Page objects for the site's K2 markup: listing pages and item pages, parsed from HTML."""

from analyst.pages.common import decode_html, make_soup
from analyst.pages.item import ItemPage, parse_item
from analyst.pages.listing import ListingPage, parse_listing

__all__ = ["ItemPage", "ListingPage", "decode_html", "make_soup", "parse_item", "parse_listing"]
