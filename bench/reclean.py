"""Re-cleaning the archive: pages/s of `reclean` against trafilatura over the same archived pages.

Usage: .venv/bin/python bench/reclean.py [--reports 3000] [--rounds 3] [--workers 2]
A generated archive (bench/make_archive.py's pages) is served on 127.0.0.1 and crawled once with
the WARC archive on (bench/_crawl_runner.py, politeness off). Then, rounds alternating so machine
noise hits each side alike, with the same number of worker processes:
- `reclean`: read each page's WARC record, decode, clean, compare and store (the whole command);
- `clean only`: the same without the database (what the cleaning itself costs);
- `trafilatura`: read the same records, decode, `trafilatura.extract`; timed once its workers have
  started, and `cold`, from the pool's creation, as `reclean` (a command) is timed; its pool is
  started the same way as reclean's.
Medians of pages/s; the first reclean must find every report unchanged (identical to the crawl's).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import db as store  # noqa: E402
from analyst.pages import decode_html  # noqa: E402
from db.warc import read_response  # noqa: E402
from pipelines.workers import reclean_page, start_method  # noqa: E402
from sample.server import SiteServer  # noqa: E402
from scraper.reclean import reclean  # noqa: E402
from scraper.settings import CACI_MIN_BODY_WORDS  # noqa: E402
from tests.fixtures.make_site import archive_specs, write_archive  # noqa: E402


def trafilatura_page(folder: str, job: dict) -> int:
    import trafilatura

    response = read_response(Path(folder), job["warc_file"], job["offset"], job["length"])  # as reclean reads
    text = trafilatura.extract(decode_html(response.body, response.content_type), url=job["url"])
    return len(text or "")


def pool_rate(fn, jobs: list[dict], workers: int, cold: bool = False) -> float:
    """Pages/s over `jobs` in a fresh pool: from its creation (`cold`, as a command runs), or
    from when its workers have started and imported what they need."""
    started = time.perf_counter()
    # Started as reclean starts its pool (forked where the process has one thread), so the cold
    # rates differ by what the workers do, not by how they came to be.
    context = multiprocessing.get_context(start_method())
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        if not cold:
            list(pool.map(fn, jobs[:workers * 4], chunksize=1))  # workers started, imports done
            started = time.perf_counter()
        list(pool.map(fn, jobs, chunksize=32))
        return len(jobs) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site, db_path = Path(tmp) / "site", Path(tmp) / "data" / "caci.db"
        write_archive(site, archive_specs(args.reports, seed=args.reports), page_size=20)
        with SiteServer(site) as server:
            started = time.perf_counter()
            out = subprocess.run([sys.executable, str(ROOT / "bench" / "_crawl_runner.py"), "ours",
                                  f"{server.url}/publications/field-reports.html", str(db_path)],
                                 cwd=ROOT, capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"crawl failed: {out.stderr[-2000:]}")
            print(f"crawl: {args.reports} reports archived in {time.perf_counter() - started:.0f} s")
        folder = db_path.parent / "warc"
        db = store.open_db(db_path)
        jobs = [j for j in store.latest_captures(db) if j["warc_file"]]
        db.close()
        sizes = [read_response(folder, j["warc_file"], j["offset"]).body for j in jobs[:200]]
        print(f"pages: {len(jobs)} archived, median page {statistics.median(map(len, sizes)) / 1024:.1f} kB; "
              f"worker processes started by {start_method()}")
        rates: dict[str, list[float]] = {name: [] for name in
                                         ("reclean", "clean only", "trafilatura", "trafilatura, cold")}
        for round_ in range(args.rounds):
            started = time.perf_counter()
            counts, _ = reclean(db_path, folder, CACI_MIN_BODY_WORDS, args.workers)
            rates["reclean"].append(len(jobs) / (time.perf_counter() - started))
            if round_ == 0:
                identical = counts["unchanged"] == len(jobs) and sum(counts.values()) == len(jobs)
                print(f"first reclean: {dict(counts)} -> identical to the crawl: {identical}")
            rates["clean only"].append(pool_rate(partial(reclean_page, str(folder), CACI_MIN_BODY_WORDS),
                                                 jobs, args.workers))
            rates["trafilatura"].append(pool_rate(partial(trafilatura_page, str(folder)), jobs, args.workers))
            rates["trafilatura, cold"].append(
                pool_rate(partial(trafilatura_page, str(folder)), jobs, args.workers, cold=True))
        medians = {name: statistics.median(values) for name, values in rates.items()}
        print(f"\n{args.workers} worker processes, {args.rounds} rounds, median pages/s (ratio: the median of "
              "each round's ratio to trafilatura; `reclean` and `cold` count the workers' start):")
        for name, value in medians.items():
            base = "trafilatura, cold" if name == "reclean" else "trafilatura"
            ratio = statistics.median(a / b for a, b in zip(rates[name], rates[base], strict=True))
            print(f"  {name:18s} {value:7.0f} pages/s  ({ratio:.2f}x {base})  "
                  f"rounds: {', '.join(f'{v:.0f}' for v in rates[name])}")
        print(json.dumps({name: round(v, 1) for name, v in medians.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
