"""What scraper/compat.py takes from under Scrapy's documented API still exists, as it uses it."""

from __future__ import annotations

from scrapy import Request
from scrapy.core.downloader import Downloader, Slot

from scraper.compat import hold_host_delay
from tests.conftest import project_crawler


class _Engine:
    def __init__(self, downloader: Downloader) -> None:
        self.downloader = downloader


def test_a_host_delay_reaches_slots_made_before_and_after():
    # No HTTP cache: its middleware would make the checkout's .scrapy/ folder.
    crawler = project_crawler(DOWNLOAD_DELAY=0.5, HTTPCACHE_ENABLED=False)
    downloader = Downloader(crawler)
    crawler.engine = _Engine(downloader)
    request = Request("https://www.cacianalyst.org/publications/field-reports.html")
    key = downloader.get_slot_key(request)
    downloader.slots[key] = Slot(concurrency=2, delay=0.5, jitter=0.5)  # one made before
    assert hold_host_delay(crawler, request, 5.0) == key
    assert (downloader.slots[key].delay, downloader.slots[key].jitter) == (5.0, 0)
    assert downloader.per_slot_settings[key] == {"delay": 5.0, "jitter": 0}  # for one made after


def test_no_module_imports_a_private_name_of_scrapy_or_twisted():
    """Scrapy's and Twisted's private names (`_schedule_coro`, `twisted.web._newclient`) change in
    a minor release; what cannot be done without them lives in scraper/compat.py alone."""
    import ast

    from tests.test_layers import MODULES

    found = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("scrapy", "twisted"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private or any(part.startswith("_") for part in node.module.split(".")):
                    found.append(f"{module}: from {node.module} import {', '.join(a.name for a in node.names)}")
            elif isinstance(node, ast.Attribute) and node.attr in ("_retry", "_create_crawler", "_schedule_coro"):
                found.append(f"{module}: .{node.attr}")
    assert not found
