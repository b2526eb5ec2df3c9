"""Crawl the reference mirror (../shared/site/mirror) and compare the database with its gold.

Usage: .venv/bin/python bench/check_mirror.py [--flaky N] [--missing N] [--polite]
Prints rows stored, matches against gold.jsonl (title, date, author, hits, body F1), the
failures recorded and the requests the crawl made. Not a test: ../shared is not in a clone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlite_utils import Database  # noqa: E402

from analyst.text import title_key  # noqa: E402
from sample.server import SiteServer  # noqa: E402
from tests.conftest import body_f1  # noqa: E402

MIRROR = ROOT.parent / "shared" / "site" / "mirror"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mirror", type=Path, default=MIRROR)
    parser.add_argument("--flaky", type=int, default=2, help="first request to N items answers 503")
    parser.add_argument("--missing", type=int, default=0, help="N items answer 404")
    parser.add_argument("--polite", action="store_true", help="keep the default delays")
    args = parser.parse_args()
    routes = json.loads((args.mirror / "routes.json").read_text())
    items = sorted(r for r in routes if "/item/" in r)  # the same choice as serve_mirror.py
    flaky = {p: 1 for p in items[1:1 + args.flaky]}
    missing = set(items[-args.missing:]) if args.missing else set()
    gold = [json.loads(line) for line in (args.mirror / "gold.jsonl").read_text().splitlines()]
    with tempfile.TemporaryDirectory() as tmp, SiteServer(args.mirror, fail_first=flaky,
                                                          missing=missing) as server:
        db_path = Path(tmp) / "mirror.db"
        cmd = [sys.executable, "-m", "scrapy", "crawl", "field_reports", "-a",
               f"start_url={server.url}/publications/field-reports.html", "-s", f"SQLITE_PATH={db_path}"]
        if not args.polite:
            cmd += ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
        started = time.monotonic()
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        database = Database(db_path)
        rows = {(title_key(r["title"]), r["published"]): r for r in database.query("select * from reports")}
        failures = list(database.query("select url, reason from failures"))
        requests = server.paths()
    print(f"crawl exit {result.returncode} in {elapsed:.1f} s; {len(requests)} requests "
          f"({len(set(requests))} distinct paths)")
    matched = 0
    for g in gold:
        row = rows.get((g["title_key"], g["published"]))
        if row is None:
            print(f"  MISSING  {g['published']} {g['title']}")
            continue
        matched += 1
        urls = [u["url"] for u in database.query("select url from report_urls where report_id = ?", [row["id"]])]
        marks = [name for name, ok in [
            ("url", row["url"].endswith(g["url"])), ("title", row["title"] == g["title"]),
            ("author", row["author"] == g["author"]), ("hits", row["hits"] == g["hits"]),
            ("also_at", sorted(u.split(str(server.port))[-1] for u in urls if not u.endswith(g["url"])) == sorted(g["also_at"]))]
            if not ok]
        print(f"  F1={body_f1(row['body'], g['body']):.4f} urls={len(urls)} {'OK' if not marks else 'DIFF ' + ','.join(marks)}  "
              f"{g['published']} {g['title'][:60]}")
    extra = len(rows) - matched
    print(f"rows stored: {len(rows)}; gold reports matched: {matched}/{len(gold)}; rows not in gold: {extra}")
    print(f"failures recorded: {len(failures)}")
    for f in failures:
        print(f"  {f['reason']}  {f['url']}")
    return 0 if matched == len(gold) - args.missing and extra == 0 and result.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
