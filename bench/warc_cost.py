"""The WARC archive's cost: its size per 1,000 reports, and the crawl's time with it on and off.

Usage: .venv/bin/python bench/warc_cost.py [--reports 1000] [--rounds 3]
A generated archive served on 127.0.0.1; our crawl (bench/_crawl_runner.py, politeness off) into
a fresh database with CACI_WARC_ENABLED on and off, rounds alternating so machine noise hits both;
medians. The archive's size is that of the WARC files one crawl wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sample.server import SiteServer  # noqa: E402
from tests.fixtures.make_site import archive_specs, write_archive  # noqa: E402

LISTING = "/publications/field-reports.html"


def crawl(start_url: str, db: Path, urls: Path, warc: bool) -> dict:
    env = os.environ | {"CACI_BENCH_SET": f"CACI_WARC_ENABLED={int(warc)}"}
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "_crawl_runner.py"), "ours", start_url, str(db),
                          str(urls)], cwd=ROOT, capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(f"crawl failed: {out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["warc_bytes"] = sum(f.stat().st_size for f in (db.parent / "warc").glob("*.warc.gz")) \
        if (db.parent / "warc").exists() else 0
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        write_archive(site, archive_specs(args.reports, seed=args.reports), page_size=4)
        routes = json.loads((site / "routes.json").read_text())
        runs: dict[bool, list[dict]] = {True: [], False: []}
        with SiteServer(site, validators=False) as server:
            urls = Path(tmp) / "urls.txt"
            urls.write_text("\n".join(server.url + p for p in routes if "/item/" in p))
            for r in range(args.rounds):
                for warc in ((True, False) if r % 2 == 0 else (False, True)):
                    folder = Path(tmp) / f"run-{r}-{int(warc)}"
                    folder.mkdir()
                    runs[warc].append(crawl(server.url + LISTING, folder / "c.db", urls, warc))
    on, off = ({k: statistics.median(x[k] for x in runs[w]) for k in ("wall", "reports", "warc_bytes")}
               for w in (True, False))
    print(f"{args.reports} reports, medians of {args.rounds} rounds\n")
    print("| WARC | crawl s | reports | archive MB | MB per 1,000 reports |")
    print("|---|---:|---:|---:|---:|")
    for label, m in (("on", on), ("off", off)):
        mb = m["warc_bytes"] / 1e6
        print(f"| {label} | {m['wall']:.1f} | {m['reports']:.0f} | {mb:.1f} | {1000 * mb / max(1, m['reports']):.2f} |")
    print(f"\ncrawl time with the archive / without: {on['wall'] / off['wall']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
