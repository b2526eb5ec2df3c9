"""Where the crawl's time goes: cProfile of one crawl of a local archive, top entries.

Usage: .venv/bin/python bench/profile_crawl.py [--reports 300] [--workers 0]
Profiles the crawler process (with --workers 0 the cleaning runs in it too, so it shows up).
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sample.server import SiteServer  # noqa: E402
from tests.fixtures.make_site import archive_specs, write_archive  # noqa: E402

GROUPS = {  # what a cumulative entry stands for, by the function that heads it
    "clean_page": "cleaning (parse + body + byline + intro)",
    "make_soup": "  of which BeautifulSoup tree building",
    "parse_listing": "listing pages (parse + scope)",
    "upsert_report": "storage (dedup upsert, FTS triggers)",
    "download_request": "downloading (Twisted HTTP client)",
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--workers", default="0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        write_archive(site, archive_specs(args.reports, seed=7), page_size=4)
        out = Path(tmp) / "crawl.prof"
        with SiteServer(site, validators=False) as server:
            run = subprocess.run(
                [sys.executable, str(ROOT / "bench" / "_crawl_runner.py"), "ours",
                 server.url + "/publications/field-reports.html", str(Path(tmp) / "p.db"), "--profile", str(out)],
                cwd=ROOT, capture_output=True, text=True,
                env=os.environ | {"CACI_BENCH_SET": f"CACI_CLEANING_WORKERS={args.workers}"})
        if run.returncode:
            sys.exit(run.stderr[-2000:])
        result = json.loads(run.stdout.strip().splitlines()[-1])
        stats = pstats.Stats(str(out))
        total = stats.total_tt
        print(f"{args.reports} reports, cleaning workers {args.workers}: {result['wall']:.1f} s under the "
              f"profiler, {total:.1f} s profiled CPU in the crawler process\n")
        print("| part | cumulative s | share |")
        print("|---|---:|---:|")
        seen = set()
        for (file, _, fn), (_, _, _, cumulative, _) in sorted(stats.stats.items(), key=lambda kv: -kv[1][3]):
            label = GROUPS.get(fn)
            # The project's own functions (wherever the checkout is), and Scrapy's download.
            if label and label not in seen and (file.startswith(str(ROOT)) or fn == "download_request"):
                seen.add(label)
                print(f"| {label} | {cumulative:.2f} | {cumulative / total:.0%} |")
        print("\nTop 12 functions by own time:")
        stats.sort_stats("tottime").print_stats(12)
    return 0


if __name__ == "__main__":
    sys.exit(main())
