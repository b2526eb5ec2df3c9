"""Storage: upsert rate into a database already holding N reports (FTS triggers on), and the
cost of the dedup lookup as the table grows, with its query plan.

Usage: .venv/bin/python bench/storage.py [--held 3000] [--batch 500]
The baseline, in the same process, is a bare executemany() of the same rows into a table with
no index, no FTS and no dedup: what SQLite itself costs.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import db as store  # noqa: E402
from db.reports import _row  # noqa: E402
from tests.fixtures.make_site import paragraph  # noqa: E402


def reports(n: int, start: int, rng: random.Random) -> list[dict]:
    day = date(2000, 1, 5)
    return [{
        "url": f"https://www.cacianalyst.org/publications/field-reports/item/{start + i}-r.html",
        "item_id": start + i, "title": f"Report number {start + i} on {rng.choice(['gas', 'votes', 'borders'])}",
        "published": (day + timedelta(days=(start + i) % 6000)).isoformat(),
        "author": "A. Author", "authors": ["A. Author"], "category": "Field Reports", "hits": i,
        "tags": ["Kazakhstan"], "body": "\n\n".join(paragraph(rng) for _ in range(5)),
        "body_html": "<p>x</p>", "word_count": 400, "extraction": "k2",
        "fetched_at": "2026-11-28T00:00:00+00:00"} for i in range(n)]


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--held", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        database = store.open_db(Path(tmp) / "bench.db")
        for row in reports(args.held, 0, rng):
            store.upsert_report(database, row)
        new = reports(args.batch, args.held, rng)
        t_new = timed(lambda: [store.upsert_report(database, r) for r in new])
        t_same = timed(lambda: [store.upsert_report(database, r) for r in new])
        dup = [r | {"url": r["url"].replace("/item/", "/item/9"), "item_id": r["item_id"] + 900000,
                    "title": r["title"].upper()} for r in new]
        t_dup = timed(lambda: [store.upsert_report(database, r) for r in dup])
        plan = [row[3] for row in database.execute(
            "explain query plan select * from reports where title_key = ? and published = ?", ["x", "y"])]
        # the bare-SQLite baseline
        bare = sqlite3.connect(Path(tmp) / "bare.db")
        bare.execute("pragma journal_mode=wal")
        bare.execute("create table r (url, title, published, body)")
        rows = [(r["url"], r["title"], r["published"], r["body"]) for r in new]
        t_bare = timed(lambda: [bare.execute("insert into r values (?, ?, ?, ?)", row) or bare.commit()
                                for row in rows])
        print(f"database holding {args.held} reports, batches of {args.batch}, one transaction per report\n")
        print("| operation | reports/s | vs bare SQLite insert |")
        print("|---|---:|---:|")
        for name, t in [("insert new report (dedup lookup, FTS triggers, urls)", t_new),
                        ("re-store an unchanged report", t_same),
                        ("same report under a new URL and title casing", t_dup),
                        ("bare SQLite insert + commit (baseline)", t_bare)]:
            print(f"| {name} | {args.batch / t:.0f} | {t_bare / t:.2f} |")
        print(f"\nEXPLAIN QUERY PLAN of the dedup lookup: {' / '.join(plan)}\n")
        print("| reports in table | dedup lookup, median µs |")
        print("|---:|---:|")
        for size in (100, 1000, 3000, 10000):
            db2 = store.open_db(Path(tmp) / f"grow{size}.db")
            with store.write(db2):
                db2["reports"].insert_all([_row(r) for r in reports(size, 0, random.Random(size))])
            keys = [(r["title_key"], r["published"]) for r in db2.query("select title_key, published from reports")]
            samples = []
            for key in random.Random(2).choices(keys, k=2000):
                started = time.perf_counter()
                db2.execute("select * from reports where title_key = ? and published = ?", key).fetchone()
                samples.append(time.perf_counter() - started)
            print(f"| {size} | {statistics.median(samples) * 1e6:.1f} |")
            db2.close()
        database.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
