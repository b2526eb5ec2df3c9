"""Page objects for the site's K2 markup: listing pages and item pages, parsed from HTML."""

from scraper.pages.common import decode_html, make_soup
from scraper.pages.item import ItemPage, parse_item
from scraper.pages.listing import ListingPage, parse_listing

__all__ = ["ItemPage", "ListingPage", "decode_html", "make_soup", "parse_item", "parse_listing"]
