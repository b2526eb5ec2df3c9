"""One crawl in this process, for bench/crawl_throughput.py: prints wall, CPU, peak RSS, stats.

Usage: python bench/_crawl_runner.py MODE START_URL DB_PATH [URLS_FILE] [--profile OUT]
MODE: one of bench/_modes.py MODES; the baseline modes fetch the pages of URLS_FILE.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "scraper.settings")

import scrapy  # noqa: E402
from scrapy.crawler import CrawlerProcess  # noqa: E402
from scrapy.utils.project import get_project_settings  # noqa: E402
from twisted.internet import task  # noqa: E402

from bench._modes import MODE_SETTINGS, MODES  # noqa: E402
from pipelines import stats as stat  # noqa: E402


def waited_for_cpu() -> float:
    """Seconds this thread has been ready to run but not running (Linux schedstat; 0 elsewhere):
    the share of the crawl the event loop lost to the other processes on its cores."""
    try:
        fields = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat").read_text().split()
    except OSError:
        return 0.0
    return int(fields[1]) / 1e9


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """A process's own peak RSS since it started its program (Linux VmHWM; None elsewhere or once
    it is gone). Not getrusage's ru_maxrss: Linux carries that over exec from the image the process
    was forked from, so a crawler reported at least the bench's own size, a worker the crawler's."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def cpu_seconds(pid: int) -> float | None:
    """A process's CPU time so far, user and system (Linux /proc; None elsewhere or once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Workers:
    """The crawler's worker processes, read every 50 ms while they run: the largest peak RSS, and
    each one's CPU time by its name (what it does: caci-writer, caci-cleaner). A worker's CPU after
    its last reading (its last 50 ms at most) is not counted."""

    def __init__(self) -> None:
        self.mb = 0.0
        self.cpu: dict[int, tuple[str, float]] = {}

    def sample(self) -> None:
        for child in multiprocessing.active_children():
            self.mb = max(self.mb, peak_rss_mb(child.pid) or 0.0)
            if (seconds := cpu_seconds(child.pid)) is not None:
                self.cpu[child.pid] = (child.name, seconds)

    def cpu_by_name(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for name, seconds in self.cpu.values():
            totals[name] = totals.get(name, 0.0) + seconds
        return totals


class InFlight:
    """Samples how many requests the downloader has in flight, every 10 ms of the crawl."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.samples: list[int] = []

    def sample(self) -> None:
        if self.crawler.engine is not None and self.crawler.engine.downloader is not None:
            self.samples.append(len(self.crawler.engine.downloader.active))

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else 0.0


class FetchOnlySpider(scrapy.Spider):
    """The baseline: fetches the same pages as a crawl, parses nothing, yields nothing."""

    name = "fetch_only"

    def __init__(self, urls: list[str], items: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.urls = urls
        self.items = items

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response):
        if self.items and "/item/" in response.url:
            return [{"url": response.url, "length": len(response.text)}]
        return None


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
    if mode not in MODES:
        sys.exit(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
    baseline = mode.startswith("baseline")
    for name, value in MODE_SETTINGS.get(mode, {}).items():
        settings.set(name, value, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(FetchOnlySpider if baseline else "field_reports")
    kwargs = ({"urls": Path(urls_file).read_text().split(), "items": mode == "baseline-items"} if baseline
              else {"start_url": start_url})
    process.crawl(crawler, **kwargs)
    in_flight = InFlight(crawler)
    task.LoopingCall(in_flight.sample).start(0.01, now=False)
    workers_seen = Workers()
    task.LoopingCall(workers_seen.sample).start(0.05, now=False)
    started, cpu, main_cpu, waited = time.perf_counter(), time.process_time(), time.thread_time(), waited_for_cpu()
    if profile_out:
        import cProfile

        cProfile.runctx("process.start()", globals(), {"process": process}, profile_out)
    else:
        process.start()
    main_cpu = time.thread_time() - main_cpu  # the event loop's thread alone: busy all the time, it is the limit
    waited = waited_for_cpu() - waited
    stats = crawler.stats.get_stats()
    me, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    own_peak = peak_rss_mb()
    print(json.dumps({
        "wall": time.perf_counter() - started,
        # the crawler process plus its cleaning workers (joined by now, so counted)
        "cpu": time.process_time() - cpu + workers.ru_utime + workers.ru_stime,
        "main_thread_cpu": main_cpu,
        "main_thread_waited_for_cpu": waited,
        "requests_in_flight": in_flight.mean,
        "rss_mb": own_peak or me.ru_maxrss / 1024,
        "worker_rss_mb": workers_seen.mb if own_peak is not None else workers.ru_maxrss / 1024,
        "worker_cpu": workers_seen.cpu_by_name(),
        "responses": stats.get("downloader/response_count", 0),
        "items": stats.get("item_scraped_count", 0),
        "reports": stats.get(stat.stored("inserted"), 0) + stats.get(stat.stored("duplicate"), 0),
        "warc_records": stats.get(stat.WARC_RECORDS, 0),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
