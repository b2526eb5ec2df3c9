"""Incremental cost: requests a re-crawl makes over an unchanged archive, and with 1 new report.

Usage: .venv/bin/python bench/incremental_cost.py [--sizes 100 1000 3000]
For each N: a first full crawl of a fresh local archive, a re-crawl of it unchanged, then a
re-crawl after one new report appears at the top of the listing. Counts come from the local
server's request log (what the site would see), so they include robots.txt and 304 answers.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sample.server import SiteServer  # noqa: E402
from tests.fixtures.make_site import Spec, archive_specs, paragraph, write_archive  # noqa: E402

LISTING = "/publications/field-reports.html"


def crawl(db: Path, url: str) -> float:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "scraper", "cron", "--start-url", url, "-s", f"SQLITE_PATH={db}",
         "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "CONCURRENT_REQUESTS=8",
         "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", f"HTTPCACHE_DIR={db.parent / 'httpcache'}"],
        cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"crawl failed: {result.stderr}")
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args()
    print("| reports | first crawl: requests | unchanged re-crawl: requests (304s) | +1 new report: requests | listing pages |")
    print("|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            site, db = Path(tmp) / "site", Path(tmp) / "data" / "bench.db"
            specs = archive_specs(n, seed=n)
            write_archive(site, specs, page_size=4)
            with SiteServer(site) as server:
                crawl(db, server.url + LISTING)
                first = len(server.requests)
                server.requests.clear()
                crawl(db, server.url + LISTING)
                unchanged, not_modified = len(server.requests), len(server.conditional())
                new = Spec(99999, "A New Report at the Top", date(2016, 10, 26), ["New Author"],
                           [paragraph(random.Random(n)) for _ in range(4)])
                write_archive(site, [new, *specs], page_size=4)
                server.reload()
                server.requests.clear()
                crawl(db, server.url + LISTING)
                one_new = len(server.requests)
                listing = sum(p.startswith(LISTING) for p in server.paths())
        print(f"| {n} | {first} | {unchanged} ({not_modified}) | {one_new} | {listing} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
