"""The one place that reaches under Scrapy's documented API: a host's download slot.

robots.txt's Crawl-delay must hold between any two requests to the host, from the moment it is
read; Scrapy has no public way to change a slot's delay once the crawl runs (DOWNLOAD_SLOTS is
read when a slot is made). tests/test_compat.py fails loudly if Scrapy renames what this uses.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request


def hold_host_delay(crawler: Any, request: Request, delay: float) -> str:
    """At least `delay` s between requests to `request`'s host from now on, without jitter; the
    slot's key. A slot made later takes it from the per-slot settings; one that exists already is
    changed in place."""
    downloader = crawler.engine.downloader
    key = downloader.get_slot_key(request)
    downloader.per_slot_settings[key] = downloader.per_slot_settings.get(key, {}) | {"delay": delay, "jitter": 0}
    if slot := downloader.slots.get(key):
        slot.delay, slot.jitter = max(slot.delay, delay), 0
    return key
