"""A page without K2 item markup: trafilatura's extraction, flagged `generic`."""

from __future__ import annotations

import re

from analyst.model import ListingEntry, Report
from analyst.pages import make_soup
from analyst.text import clean_ws, parse_byline, parse_date
from pipelines.render import render_paragraphs
from pipelines.report import CleaningError, finish, report_dates

# The site's own chrome (Joomla template modules): on a page without a K2 item, what is left
# after removing these is the page's own content, if it has any.
SITE_CHROME = ("header, nav, footer, #aside, .well, .moduletable, .acymailing_module, "
               ".itemToolbar, .itemSocialSharing, .itemRelated, .itemNavigation, form, script, style")


def clean_generic(html: str, url: str, listing: ListingEntry | None, fetched_at: str,
                  min_words: int, section: str | None = None) -> Report:
    """A page without K2 item markup: trafilatura's extraction, flagged as `generic`."""
    import trafilatura

    soup = make_soup(html)
    for node in soup.select(SITE_CHROME):
        node.decompose()
    doc = trafilatura.bare_extraction(str(soup), url=url, with_metadata=True, include_comments=False,
                                      include_tables=False)
    text = (doc.text if doc is not None else "") or ""
    paragraphs = [clean_ws(line) for line in text.splitlines() if clean_ws(line)]
    byline = parse_byline(paragraphs[0]) if paragraphs else None
    if byline:
        paragraphs = paragraphs[1:]
    title = clean_ws(getattr(doc, "title", None)) or (listing.title if listing else None)
    if not title:
        raise CleaningError("no title: not a K2 item page and no title could be extracted")
    authors = list(byline.authors) if byline else (
        [clean_ws(a) for a in re.split(r";|\band\b", doc.author) if clean_ws(a)]
        if getattr(doc, "author", None) else [])
    return finish(
        url, report_dates(parse_date(getattr(doc, "date", None)), listing, byline),
        "\n\n".join(paragraphs), min_words, byline.issue_date if byline else None,
        title=title,
        author=" and ".join(authors) or None,
        authors=authors,
        category=section,
        tags=list(getattr(doc, "tags", None) or []),
        body_html=render_paragraphs(paragraphs),
        extraction="generic",
        fetched_at=fetched_at,
    )
