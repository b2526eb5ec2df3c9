"""Crawl throughput: the full pipeline against a fetch-only baseline, on local archives.

Usage: .venv/bin/python bench/crawl_throughput.py [--sizes 100 1000 3000] [--rounds 5] [--stages]
For each size: a generated archive served on 127.0.0.1 (bench/make_archive.py), then, in
alternating order, the baseline spider (fetches the same listing and item pages, yields
nothing, archives nothing) and our crawl (spider + cleaning + SQLite storage + WARC into a fresh
database), each in its own process, politeness off, 8 requests in flight. Prints medians over the
rounds; the ratio is the median of each round's ratio (its two runs one after the other), which this machine's
minute-to-minute noise moves less than a ratio of two medians. `--stages` also runs the stages
between the two (bench/_modes.py MODES: the baseline yielding items, our spider alone, our
crawl without its archive) in the same rounds, and prints what each costs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._modes import MODES  # noqa: E402
from sample.server import SiteServer  # noqa: E402
from tests.fixtures.make_site import archive_specs, write_archive  # noqa: E402

LISTING = "/publications/field-reports.html"


def run(mode: str, start_url: str, db: Path, urls: Path) -> dict:
    """One crawl in its own process; its numbers, with the CPU the test server (this process's
    threads: the main one only waits) spent answering it."""
    server_cpu = time.process_time()
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "_crawl_runner.py"), mode, start_url,
                          str(db), str(urls)], cwd=ROOT, capture_output=True, text=True)
    server_cpu = time.process_time() - server_cpu
    if out.returncode:
        sys.exit(f"{mode} crawl failed: {out.stderr[-2000:]}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "server_cpu": server_cpu}


def cpu_row(n: int, mode: str, runs: list[dict]) -> str:
    """Where one mode's CPU went, in ms per page (medians over the rounds), and how much of the
    machine's CPU time (cores x wall) the crawl and the test server used together."""
    def per_page(key: Any) -> float:
        return statistics.median(1000 * key(r) / r["responses"] for r in runs)

    parts = [per_page(lambda r: r["main_thread_cpu"]),
             per_page(lambda r: r["cpu"] - r["main_thread_cpu"] - sum(r["worker_cpu"].values())),
             per_page(lambda r: r["worker_cpu"].get("caci-writer", 0.0)),
             per_page(lambda r: r["worker_cpu"].get("caci-cleaner", 0.0)),
             per_page(lambda r: r["server_cpu"])]
    machine = statistics.median(100 * (r["cpu"] + r["server_cpu"]) / ((os.cpu_count() or 1) * r["wall"]) for r in runs)
    return (f"| {n} | {mode} | " + " | ".join(f"{x:.2f}" for x in parts) +
            f" | {per_page(lambda r: r['cpu'] + r['server_cpu']):.2f} | {machine:.0f}% |")


def loop(run: dict) -> str:
    return f"{run['main_thread_cpu']:.1f}, {busy(run):.0f}%, {run['main_thread_waited_for_cpu']:.1f}"


def busy(run: dict) -> float:
    """How much of the crawl the event loop's thread spent on the CPU (100%: it was the limit)."""
    return 100 * run["main_thread_cpu"] / run["wall"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 3000])
    parser.add_argument("--rounds", type=int, default=5)  # this machine moves ±30% within minutes
    parser.add_argument("--stages", action="store_true", help="also run the stages between baseline and ours")
    args = parser.parse_args()
    modes = list(MODES) if args.stages else ["baseline", "ours"]
    stages: list[str] = []
    cpu_rows: list[str] = []
    print(f"{os.cpu_count()} cores; medians of {args.rounds} rounds\n")
    print("| reports | baseline pages/s | our pages/s | ratio | rounds' ratios | our reports/s | ms per report | "
          "CPU s (ours / baseline) | event-loop thread CPU s, busy %, waiting for a CPU s (ours / baseline) | "
          "requests in flight (ours / baseline) | peak RSS MB (ours / baseline) | largest worker RSS MB |")
    print("|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            site = Path(tmp) / "site"
            write_archive(site, archive_specs(n, seed=n), page_size=4)
            routes = json.loads((site / "routes.json").read_text())
            results: dict[str, list[dict]] = {mode: [] for mode in modes}
            with SiteServer(site, validators=False) as server:
                pages = [p for p in routes if "/item/" in p or (p.startswith(LISTING) and "limitstart" not in p)]
                urls = Path(tmp) / "urls.txt"
                urls.write_text("\n".join(server.url + p for p in pages))
                for r in range(args.rounds):
                    for mode in (modes if r % 2 == 0 else modes[::-1]):
                        db = Path(tmp) / f"{mode}-{r}.db"
                        results[mode].append(run(mode, server.url + LISTING, db, urls))
        med = {m: {k: statistics.median(x[k] for x in rs) for k, v in rs[0].items() if not isinstance(v, dict)}
               for m, rs in results.items()}
        base, ours = med["baseline"], med["ours"]
        base_rate, our_rate = base["responses"] / base["wall"], ours["responses"] / ours["wall"]
        ratios = [(o["responses"] / o["wall"]) / (b["responses"] / b["wall"])
                  for o, b in zip(results["ours"], results["baseline"], strict=True)]
        print(f"| {n} | {base_rate:.0f} | {our_rate:.0f} | {statistics.median(ratios):.2f} | "
              f"{', '.join(f'{r:.2f}' for r in ratios)} | "
              f"{ours['reports'] / ours['wall']:.0f} | {1000 * ours['wall'] / max(1, ours['reports']):.1f} | "
              f"{ours['cpu']:.1f} / {base['cpu']:.1f} | "
              f"{loop(ours)} / {loop(base)} | "
              f"{ours['requests_in_flight']:.1f} / {base['requests_in_flight']:.1f} | "
              f"{ours['rss_mb']:.0f} / {base['rss_mb']:.0f} | "
              f"{ours['worker_rss_mb']:.0f} |",
              flush=True)
        cpu_rows += [cpu_row(n, mode, results[mode]) for mode in modes]
        if args.stages:
            stages += [stage_row(n, mode, results) for mode in modes[1:]]
    print("\nCPU ms per page (the rest of the crawler process: its other threads, its start after the "
          "clock starts; a worker's last 50 ms are not counted)\n")
    print("| reports | mode | event loop | rest of crawler | writer process | cleaning processes | "
          "test server | all | machine CPU used (all / cores x wall) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(cpu_rows))
    if stages:
        print("\n| reports | stage | pages/s ratio to the baseline (median of rounds) | event-loop CPU ms per page "
              "(+ over the baseline's) | all processes' CPU ms per page |")
        print("|---:|---|---:|---:|---:|")
        print("\n".join(stages))
    return 0


def stage_row(n: int, mode: str, results: dict[str, list[dict]]) -> str:
    """One stage's cost against the baseline of the same rounds."""
    base, runs = results["baseline"], results[mode]
    ratio = statistics.median((r["responses"] / r["wall"]) / (b["responses"] / b["wall"])
                              for r, b in zip(runs, base, strict=True))
    loop = statistics.median(1000 * r["main_thread_cpu"] / r["responses"] for r in runs)
    base_loop = statistics.median(1000 * b["main_thread_cpu"] / b["responses"] for b in base)
    cpu = statistics.median(1000 * r["cpu"] / r["responses"] for r in runs)
    return f"| {n} | {mode}: {MODES[mode]} | {ratio:.2f} | {loop:.2f} ({loop - base_loop:+.2f}) | {cpu:.2f} |"


if __name__ == "__main__":
    sys.exit(main())
