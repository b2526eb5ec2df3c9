"""The HTTP cache's policy: conditional re-fetches (RFC 2616), but never a stale copy for a dead site."""

from __future__ import annotations

from typing import Any

from scrapy.extensions.httpcache import RFC2616Policy


class RevalidateOnlyPolicy(RFC2616Policy):
    """RFC 2616 revalidation (an unchanged page costs a 304), except where RFC 2616 lets a cache
    answer a server error with its stored copy: here the 5xx goes on, to the retries and then to
    `failures`, so a run against a site that is down says so, and stores nothing as fetched."""

    def is_cached_response_valid(self, cachedresponse: Any, response: Any, request: Any) -> bool:
        if response.status >= 500:
            return False
        return super().is_cached_response_valid(cachedresponse, response, request)
