"""The demo: serve the sample site on 127.0.0.1, crawl it into a demo database, show the result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sample import SITE as SAMPLE_SITE
from sample.server import SiteServer
from scraper.exits import EXIT_OK, EXIT_USAGE


def run_demo(db_path: Path, site: Path = SAMPLE_SITE, overrides: list[tuple[str, str]] | None = None) -> int:
    """Serve the sample site, crawl it into `db_path` (with the command's `-s` `overrides` after the
    demo's own), say what was stored."""
    if not (site / "routes.json").exists():
        print(f"demo: the sample site is not at {site} (the installed package is incomplete)", file=sys.stderr)
        return EXIT_USAGE
    db_path = db_path if db_path.is_absolute() else Path.cwd() / db_path
    with SiteServer(site) as server:
        start = f"{server.url}/publications/field-reports.html"
        print(f"demo: serving the sample site at {server.url}, crawling its four sections", flush=True)
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "analyst", "-a", f"start_url={start}",
             "-s", f"SQLITE_PATH={db_path}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
             # A local site needs no revalidation cache, and the demo writes only beside its database.
             "-s", "HTTPCACHE_ENABLED=0",
             "-s", "LOG_LEVEL=WARNING",
             *(arg for name, value in overrides or [] for arg in ("-s", f"{name}={value}"))],
            # The project's settings by name, wherever the demo runs (no scrapy.cfg needed).
            env=os.environ | {"SCRAPY_SETTINGS_MODULE": "scraper.settings"},
        )
    if result.returncode:
        print(f"demo: the crawl failed (exit {result.returncode})", file=sys.stderr)
        return result.returncode
    import db as store

    database = store.open_db(db_path)
    reports = database["reports"].count
    failures = list(database.query("select url, reason from failures order by url"))
    database.close()
    print(f"demo: {reports} reports stored in {db_path}, {len(failures)} pages recorded as failures:")
    for failure in failures:
        print(f"  {failure['reason']:40s} {failure['url']}")
    print(f"demo: browse them with:  .venv/bin/python -m scraper serve {db_path}")
    return EXIT_OK
