"""One crawl in this process, for bench/crawl_throughput.py: prints wall, CPU, peak RSS, stats.

Usage: python bench/_crawl_runner.py ours|baseline START_URL DB_PATH [URLS_FILE] [--profile OUT]
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "scraper.settings")

import scrapy  # noqa: E402
from scrapy.crawler import CrawlerProcess  # noqa: E402
from scrapy.utils.project import get_project_settings  # noqa: E402


class FetchOnlySpider(scrapy.Spider):
    """The baseline: fetches the same pages as a crawl, parses nothing, yields nothing."""

    name = "fetch_only"

    def __init__(self, urls: list[str], **kwargs):
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response):
        return None


import gc as _gc
_T = {"t": 0.0, "n": [0, 0, 0], "s": 0.0, "g": [0.0, 0.0, 0.0]}
def _cb(phase, info):
    if phase == "start": _T["s"] = time.perf_counter()
    else: d = time.perf_counter() - _T["s"]; _T["t"] += d; _T["n"][info["generation"]] += 1; _T["g"][info["generation"]] += d
_gc.callbacks.append(_cb)

def main() -> int:
    mode, start_url, db_path = sys.argv[1:4]
    urls_file = sys.argv[4] if len(sys.argv) > 4 and not sys.argv[4].startswith("--") else None
    profile_out = sys.argv[sys.argv.index("--profile") + 1] if "--profile" in sys.argv else None
    settings = get_project_settings()
    for name, value in {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 8,
                        "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "HTTPCACHE_ENABLED": False,
                        "LOG_LEVEL": "WARNING", "SQLITE_PATH": db_path, "RETRY_ENABLED": False}.items():
        settings.set(name, value, priority="cmdline")
    for pair in filter(None, os.environ.get("CACI_BENCH_SET", "").split(",")):  # e.g. X=1,Y=2
        name, value = pair.split("=", 1)
        settings.set(name, value, priority="cmdline")
    if mode == "baseline":
        settings.set("ITEM_PIPELINES", {}, priority="cmdline")
        settings.set("EXTENSIONS", {}, priority="cmdline")
    process = CrawlerProcess(settings)
    if os.environ.get("FREEZE"): _gc.freeze()
    if os.environ.get("THRESH"): _gc.set_threshold(*map(int, os.environ["THRESH"].split(":")))
    crawler = process.create_crawler(FetchOnlySpider if mode == "baseline" else "field_reports")
    kwargs = {"urls": Path(urls_file).read_text().split()} if mode == "baseline" else {"start_url": start_url}
    process.crawl(crawler, **kwargs)
    started, cpu = time.perf_counter(), time.process_time()
    if profile_out:
        import cProfile

        cProfile.runctx("process.start()", globals(), {"process": process}, profile_out)
    else:
        process.start()
    stats = crawler.stats.get_stats()
    me, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "wall": time.perf_counter() - started,
        # the crawler process plus its cleaning workers (joined by now, so counted)
        "cpu": time.process_time() - cpu + workers.ru_utime + workers.ru_stime,
        "rss_mb": me.ru_maxrss / 1024,
        "worker_rss_mb": workers.ru_maxrss / 1024,
        "responses": stats.get("downloader/response_count", 0),
        "reports": stats.get("sqlite/inserted", 0) + stats.get("sqlite/duplicate", 0),
    }))
    print("GC", round(_T["t"], 3), _T["n"], [round(x, 3) for x in _T["g"]], "objects", len(_gc.get_objects()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
