"""URL normalisation and crawl scope: which links are listing pages, which are reports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

# Hosts that are the real site. A mirror answers for them, so their links are rebased onto the
# crawl's own origin instead of leaving it.
SITE_HOSTS = frozenset({"cacianalyst.org"})
FIELD_REPORTS_URL = "https://www.cacianalyst.org/publications/field-reports.html"  # the Field Reports' listing
# Joomla/K2 paging parameters; `limitstart` is the older spelling of `start`.
PAGING_KEYS = ("start", "limitstart")
_ITEM_TAIL = re.compile(r"^/item/(\d+)(?:-[^/]*)?\.html$")
# A URL that safe_url_string and canonicalize_url leave as it is: a lower-case host, a port without
# a leading zero (w3lib drops it), a path of unreserved characters, nothing after it. Every item
# link K2 prints is one.
_PLAIN_URL = re.compile(r"https?://([a-z0-9.-]+(?::[1-9][0-9]*)?)(/[A-Za-z0-9._~/-]*)")


# Cached: a listing page's pager links (13 of its 17 links) are the next page's too, and urljoin
# is ~8 µs of the crawl's event loop per link.
@lru_cache(maxsize=4096)
def join_url(base: str, href: str | None) -> str | None:
    """`href` resolved against `base`, fragment dropped; None for a link no URL can be made of
    (a malformed one such as "http://[oops/" raises in urllib)."""
    if not href or not href.strip():
        return None
    try:
        return urldefrag(urljoin(base, href.strip())).url
    except ValueError:
        return None


def bare_host(netloc: str) -> str:
    """Lower-cased host[:port] without a leading `www.`."""
    netloc = netloc.lower().rsplit("@", 1)[-1]
    return netloc[4:] if netloc.startswith("www.") else netloc


def item_id(url: str) -> int | None:
    """The K2 item id in an item URL (`/item/8050-slug.html` -> 8050), or None."""
    m = re.search(r"/item/(\d+)(?:-[^/]*)?\.html", urlsplit(url).path)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class CrawlScope:
    """The origin a crawl talks to and the category whose listing and items it follows."""

    scheme: str
    netloc: str
    category_path: str  # e.g. /publications/field-reports

    @classmethod
    def from_start_url(cls, start_url: str) -> CrawlScope:
        parts = urlsplit(safe_url_string(start_url.strip()))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"start_url must be an absolute http(s) URL, got {start_url!r}")
        path = parts.path
        if not path.endswith(".html"):
            raise ValueError(
                f"start_url must be a K2 category listing such as {FIELD_REPORTS_URL}, got {start_url!r}"
            )
        return cls(parts.scheme, parts.netloc.lower(), path[: -len(".html")])

    @property
    def host(self) -> str:
        """The origin's host name without port or `www.` (what Scrapy's offsite filter matches)."""
        return bare_host(self.netloc).rsplit(":", 1)[0]

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    @property
    def listing_path(self) -> str:
        return self.category_path + ".html"

    def rebase(self, url: str) -> tuple[str, str, str] | None:
        """(path, query, fragment) of `url` if it belongs to the crawled site, else None.

        http/https and www/no-www variants of the origin, and the real site's hosts when the
        origin is a mirror, all count as the same site.
        """
        try:
            parts = urlsplit(safe_url_string(url.strip()))
        except ValueError:
            return None
        if parts.scheme not in ("http", "https"):
            return None  # mailto:, javascript:, ...
        if not self._on_site(parts.netloc):
            return None
        return parts.path or "/", parts.query, parts.fragment

    def _on_site(self, netloc: str) -> bool:
        """Whether a link's host[:port] is the crawled site: the origin (with or without www.)
        or the real site's hosts."""
        host = bare_host(netloc)
        return host == bare_host(self.netloc) or host in SITE_HOSTS

    def _build(self, path: str, query: str = "") -> str:
        return canonicalize_url(urlunsplit((self.scheme, self.netloc, path, query, "")))

    def item_url(self, url: str) -> str | None:
        """The canonical URL of a report page of this category, or None if `url` is not one.

        Queries (print views, `tmpl=component`, tracking) and fragments never make another page.
        """
        if (plain := _PLAIN_URL.fullmatch(url)) is not None:
            # Rebased and canonicalised without w3lib, which would leave it as it is (~40 µs of
            # the crawl's event loop per listing entry).
            path = plain[2]
            if not self._on_site(plain[1]) or not self._is_item_path(path):
                return None
            return self._origin_canonical + path
        rebased = self.rebase(url)
        if rebased is None:
            return None
        path = rebased[0]
        return self._build(path) if self._is_item_path(path) else None

    def _is_item_path(self, path: str) -> bool:
        prefix = self.category_path
        return path.startswith(prefix) and _ITEM_TAIL.match(path[len(prefix):]) is not None

    @cached_property
    def _origin_canonical(self) -> str:
        """What _build makes of the origin, to which a plain path is appended as it is."""
        return self._build("/")[:-1]

    # Cached: every listing page links the same ten-page window again (consecutive pages share
    # nine of its ten links), and canonicalising a URL is ~40 µs of the crawl's event loop.
    @lru_cache(maxsize=4096)  # noqa: B019 - scopes live as long as the crawl
    def listing_url(self, url: str) -> str | None:
        """The canonical URL of a page of this category's listing, or None.

        `limitstart=N` and `start=N` name the same page; `start=0` is the first page.
        Any other query (feeds, print views, filters) is not a listing page we walk.
        """
        rebased = self.rebase(url)
        if rebased is None:
            return None
        path, query, _ = rebased
        if path != self.listing_path:
            return None
        params = parse_qsl(query, keep_blank_values=True)
        offset = None
        for key, value in params:
            if key not in PAGING_KEYS:
                return None
            if not value.isdigit():
                return None
            offset = int(value)
        return self._build(path, urlencode({"start": offset}) if offset else "")
