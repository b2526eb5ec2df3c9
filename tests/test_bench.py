"""The crawl benchmark's runner: its fetch-only baseline fetches and keeps nothing, ours stores and archives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench._modes import MODES
from sample.server import SiteServer

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out

ROOT = Path(__file__).resolve().parent.parent
LISTING = "/publications/field-reports.html"


def run_bench_crawl(mode: str, server_url: str, db: Path, urls: Path, settings: str = "") -> dict:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "_crawl_runner.py"), mode, server_url + LISTING,
                          str(db), str(urls)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "CACI_BENCH_SET": settings})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", list(MODES))
def test_each_mode_runs_what_it_says(archive, tmp_path, mode):
    """The ratio in bench/crawl_throughput.py is against fetching alone: a baseline that wrote the
    WARC archive (a downloader middleware, on by default) would hide the archive's cost. The
    stages between (--stages) each add one part: items, our spider, storage, the archive."""
    site, specs = archive
    routes = json.loads((site / "routes.json").read_text())
    db = tmp_path / mode / "c.db"
    db.parent.mkdir()
    with SiteServer(site, validators=False) as server:
        urls = tmp_path / "urls.txt"
        urls.write_text("\n".join(server.url + p for p in routes if "/item/" in p))
        result = run_bench_crawl(mode, server.url, db, urls)
    assert result["responses"] >= len(specs)
    assert result["requests_in_flight"] > 0 and result["main_thread_waited_for_cpu"] >= 0
    items = {"baseline": 0, "baseline-items": len(specs), "spider": len(specs)}
    if mode in items:  # nothing stored, nothing archived
        assert result["items"] == items[mode]
        assert (result["warc_records"], result["reports"]) == (0, 0)
        assert not (db.parent / "c-warc").exists() and not db.exists()
        return
    assert result["reports"] == len(specs)
    if mode == "no-archive":
        assert result["warc_records"] == 0 and not (db.parent / "c-warc").exists()
    else:
        assert result["warc_records"] == result["responses"] - 1  # all but robots.txt
        assert list((db.parent / "c-warc").glob("*.warc.gz"))


def test_peak_rss_is_each_process_own(archive, tmp_path):
    """getrusage's ru_maxrss carries over exec what the process was forked from: the crawler
    reported at least the bench's size, a worker the crawler's. With the bench itself holding
    300 MB, the crawler and its largest worker still report their own peaks."""
    site, specs = archive
    ballast = b"\x01" * (300 << 20)
    with SiteServer(site, validators=False) as server:
        result = run_bench_crawl("ours", server.url, tmp_path / "c.db", tmp_path / "unused.txt")
    assert len(ballast) == 300 << 20
    assert result["reports"] == len(specs)
    assert 0 < result["rss_mb"] < 250 and 0 < result["worker_rss_mb"] < result["rss_mb"]


def test_worker_cpu_is_reported_by_what_each_worker_does(archive, tmp_path):
    """The CPU table of bench/crawl_throughput.py splits the crawl's CPU by process: the writer
    (here taking over after 5 writes, so that a crawl of 12 reports starts it, on any number of
    cores) and the cleaner are read by their names while they run."""
    site, specs = archive
    with SiteServer(site, validators=False) as server:
        result = run_bench_crawl("ours", server.url, tmp_path / "c.db", tmp_path / "unused.txt",
                                 settings="SQLITE_WRITER_PROCESS=True,SQLITE_WRITER_AFTER=5,CACI_CLEANING_WORKERS=1")
    assert result["reports"] == len(specs)
    assert set(result["worker_cpu"]) == {"caci-writer", "caci-cleaner"}
    # Each has at least imported its modules; together no more than all the crawl's processes.
    assert all(seconds > 0 for seconds in result["worker_cpu"].values())
    assert sum(result["worker_cpu"].values()) < result["cpu"] - result["main_thread_cpu"]


def test_cpu_row_is_per_page_and_shares_the_machine():
    """Where the CPU went, per page, and the share of cores x wall the crawl and server used."""
    from bench.crawl_throughput import cpu_row

    run = {"responses": 1000, "wall": 5.0, "cpu": 7.0, "main_thread_cpu": 4.0, "server_cpu": 1.0,
           "worker_cpu": {"caci-writer": 1.5, "caci-cleaner": 1.0}}
    cores = os.cpu_count() or 1
    # Two rounds: the medians are taken field by field (a median of the runs' dicts failed).
    assert cpu_row(1000, "ours", [run, dict(run)]) == (
        f"| 1000 | ours | 4.00 | 0.50 | 1.50 | 1.00 | 1.00 | 8.00 | {100 * 8.0 / (cores * 5.0):.0f}% |")


def test_the_bench_prints_its_tables():
    """bench/crawl_throughput.py end to end on a small archive: both tables, a row per mode
    (the medians once failed on the workers' CPU, a dict per run: two rounds, so there is a median
    to take)."""
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "crawl_throughput.py"), "--sizes", "12", "--rounds", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line for line in out.stdout.splitlines() if line.startswith("| 12 |")]
    assert len(rows) == 3  # the throughput row, then the CPU rows of baseline and ours
    assert rows[1].startswith("| 12 | baseline |") and rows[2].startswith("| 12 | ours |")
