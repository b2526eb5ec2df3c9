"""Datasette under load: concurrent readers mixing search, table and report pages while a crawl writes.

Usage: .venv/bin/python bench/datasette_load.py [--reports 3000] [--readers 20] [--seconds 30]
       .venv/bin/python bench/datasette_load.py --hostile [--attackers 6]

With --hostile: readers open report pages while attackers send what costs a server most: six
recursive CTEs at once where SQL is allowed, and what is left without it (many facets on long
columns, a sort on the body, a search for the commonest words, the term chart for "the"); the
report page's p50/p99 served locally (SQL on) and by `serve --public`, side by side.

Builds an archive of N reports, serves it with `python -m scraper serve`'s arguments on 127.0.0.1,
and, while a writer process stores a report every 50 ms (one transaction each, as the crawl
does), runs R reader threads for S seconds, each a person browsing: a search (the canned `search`
query, a random word), the reports table page or a report's page, then a pause (--think, 0 for
none: a stress test rather than readers). Prints p50/p99 per kind and
the errors, for each server configuration in turn, in the same session (the machine is noisy:
compare the rows, not runs on different days). Every request loop is bounded in time and stops
by itself; traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import db as store  # noqa: E402
from bench.storage import reports  # noqa: E402
from scraper.web.serve import datasette_metadata, serve_args  # noqa: E402

TERMS = ["pipeline", "cotton", "election", "border", "customs", "budget", "railway", "opposition",
         "Bishkek", "Tashkent", "reforms", "gas", "the", "officials", "activists"]
# Table pages as the metadata had them before (five facets counted on every view), and as served
# now (facets one click away). Both with `python -m scraper serve`'s arguments.
FACETS_BEFORE = [{"array": "authors"}, "year", {"array": "tags"}, "category", {"array": "categories"}]
CONFIGS = ("before: facets and suggested facets on every table view", "as served: facets on request")


def build(path: Path, n: int) -> None:
    database = store.open_db(path)
    rng = random.Random(3)
    for row in reports(n, 0, rng):
        store.upsert_report(database, row)
    database.close()


def writer(path: str, stop_at: float) -> None:
    """Store a report every 50 ms until `stop_at`, as a crawl would."""
    database = store.open_db(path)
    rng = random.Random(9)
    n = 10**6
    while time.time() < stop_at:
        store.upsert_report(database, reports(1, n, rng)[0])
        n += 1
        time.sleep(0.05)
    database.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db_path: Path, metadata: Path, port: int, extra: list[str], public: bool = False) -> subprocess.Popen:
    args = serve_args(db_path, metadata, port, "127.0.0.1", public=public) + extra
    code = "import sys; from datasette.cli import cli; cli.main(args=sys.argv[1:], prog_name='datasette')"
    process = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("datasette did not start")


def reader(port: int, db: str, max_id: int, stop_at: float, seed: int, think: float, out: list,
           kinds: list[str] | None = None, source: str = "127.0.0.1") -> None:
    """One person browsing: a page, then a pause of 0.5-1.5 × `think` seconds reading it.

    Readers arrive at random moments within the first pause, as people do: twenty arriving in
    the same instant measured a burst instead (the last served after the nineteen others,
    ~0.6 s at ~30 ms a page), once per run, and nothing about a server in use."""
    rng = random.Random(seed)
    time.sleep(think * rng.uniform(0, 1))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
    while time.time() < stop_at:
        kind = rng.choice(kinds or ["search", "table", "report"])
        path = {"search": f"/{db}/search?q={quote(rng.choice(TERMS))}",
                "table": f"/{db}/reports",
                "report": f"/{db}/reports/{rng.randint(1, max_id)}"}[kind]
        started = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
        out.append((kind, time.perf_counter() - started, ok))
        time.sleep(think * rng.uniform(0.5, 1.5))
    conn.close()


def metadata_for(config: str, db: str, folder: Path) -> Path:
    meta = datasette_metadata(db)
    if config == CONFIGS[0]:
        meta["databases"][db]["tables"]["reports"]["facets"] = FACETS_BEFORE
    path = folder / f"metadata-{CONFIGS.index(config)}.json"
    path.write_text(json.dumps(meta))
    return path


def run(config: str, db_path: Path, n: int, readers: int, seconds: float, think: float) -> dict:
    port = free_port()
    # Before: Datasette's default, suggested facets on; now `serve` turns them off.
    extra = ["--setting", "suggest_facets", "on"] if config == CONFIGS[0] else []
    server = serve(db_path, metadata_for(config, db_path.stem, db_path.parent), port, extra)
    try:
        stop_at = time.time() + seconds
        write = multiprocessing.get_context("spawn").Process(target=writer, args=(str(db_path), stop_at))
        write.start()
        samples: list = []
        threads = [threading.Thread(target=reader, args=(port, db_path.stem, n, stop_at, i, think, samples))
                   for i in range(readers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        write.join(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {}
    for kind in ("search", "table", "report"):
        times = sorted(t for k, t, _ in samples if k == kind)
        if times:
            result[kind] = (len(times), statistics.median(times), times[int(0.99 * (len(times) - 1))],
                            sum(1 for k, _, ok in samples if k == kind and not ok))
    return result


RECURSIVE = quote("with recursive r(i) as (select 1 union all select i + 1 from r) select count(*) from r")


def attacks(db: str) -> list[str]:
    return [f"/{db}.json?sql={RECURSIVE}",
            f"/{db}/reports?_facet=body&_facet=body_html&_facet=title&_facet=url&_facet=author&_facet=published",
            f"/{db}/reports?_sort=body&_size=1000",
            f"/{db}/search?q={quote('the of and to in a officials government')}",
            f"/{db}/term_by_year.json?term=the"]


def attacker(port: int, db: str, stop_at: float, seed: int, sql_only: bool, out: list, source: str) -> None:
    """Sends one costly request after another (no pause) until `stop_at`: their HTTP statuses."""
    rng = random.Random(seed)
    paths = attacks(db)[:1] if sql_only else attacks(db)
    while time.time() < stop_at:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
        try:
            conn.request("GET", rng.choice(paths))
            response = conn.getresponse()
            response.read()
            out.append(response.status)
        except (OSError, http.client.HTTPException):
            out.append(0)
        finally:
            conn.close()


def run_hostile(public: bool, sql_only: bool, db_path: Path, n: int, readers: int, attackers: int, seconds: float,
                think: float) -> tuple[tuple[int, float, float, int], Counter]:
    """Report pages under attack: (count, p50, p99, errors) and the attacks' statuses."""
    port = free_port()
    metadata = db_path.parent / f"metadata-public-{public}.json"
    metadata.write_text(json.dumps(datasette_metadata(db_path.stem, public)))
    server = serve(db_path, metadata, port, [], public)
    try:
        stop_at = time.time() + seconds
        samples: list = []
        statuses: list = []
        # Each reader and each attacker from an address of its own (127.0.0.0/8 is all loopback),
        # as visitors are: the public copy shares its time among addresses.
        threads = [threading.Thread(target=reader, args=(port, db_path.stem, n, stop_at, i, think, samples, ["report"],
                                                         f"127.0.1.{i + 1}"))
                   for i in range(readers)]
        threads += [threading.Thread(target=attacker, args=(port, db_path.stem, stop_at, 100 + i, sql_only, statuses,
                                                            f"127.0.2.{i + 1}"))
                    for i in range(attackers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    times = sorted(t for _, t, _ in samples)
    errors = sum(1 for _, _, ok in samples if not ok)
    return (len(times), statistics.median(times), times[int(0.99 * (len(times) - 1))], errors), Counter(statuses)


def main_hostile(args: argparse.Namespace, db_path: Path) -> None:
    print(f"{args.reports} reports; {args.readers} readers opening report pages (pausing {args.think:.1f} s on "
          f"average) while {args.attackers} attackers send costly requests back to back, {args.seconds:.0f} s each\n")
    print("| served | attacks (HTTP status: count) | report pages | p50 ms | p99 ms | errors |")
    print("|---|---|---:|---:|---:|---:|")
    # The recursive CTE (the six at once), where SQL is on and against --public; then,
    # against --public, everything else a visitor can still ask for.
    for public, sql_only in ((False, True), (True, True), (True, False)):
        (count, p50, p99, errors), statuses = run_hostile(public, sql_only, db_path, args.reports, args.readers,
                                                          args.attackers, args.seconds, args.think)
        label = ("`serve --public`" if public else "`serve` (SQL on)") + (
            ": recursive CTEs" if sql_only else ": facets, sorts, common-word searches")
        shown = ", ".join(f"{status}: {number}" for status, number in sorted(statuses.items()))
        print(f"| {label} | {shown} | {count} | {p50 * 1000:.0f} | {p99 * 1000:.0f} | {errors} |")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a reader's pages (0: none)")
    parser.add_argument("--hostile", action="store_true", help="report pages while attackers send costly requests")
    parser.add_argument("--attackers", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "archive.db"
        build(db_path, args.reports)
        if args.hostile:
            main_hostile(args, db_path)
            return 0
        print(f"{args.reports} reports, {args.readers} readers (pausing {args.think:.1f} s on average between pages) "
              f"for {args.seconds:.0f} s each configuration, a writer storing a report every 50 ms\n")
        print("| configuration | page | requests | p50 ms | p99 ms | errors |")
        print("|---|---|---:|---:|---:|---:|")
        for config in CONFIGS:
            for kind, (count, p50, p99, errors) in run(config, db_path, args.reports, args.readers,
                                                       args.seconds, args.think).items():
                print(f"| {config} | {kind} | {count} | {p50 * 1000:.0f} | {p99 * 1000:.0f} | {errors} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
