"""Write a local archive shaped like the real site: N reports, K2 listing pages, robots.txt.

Usage: .venv/bin/python bench/make_archive.py N OUT_DIR [--page-size 4]
Serve it with: .venv/bin/python -c "from sample.server import SiteServer; ..." or let the
other bench scripts do it. Item pages cycle through the markup variants of the fixture set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.make_site import archive_specs, write_archive  # noqa: E402


def make_archive(n: int, out: Path, page_size: int = 4, seed: int = 1) -> list:
    specs = archive_specs(n, seed=seed)
    write_archive(out, specs, page_size=page_size)
    return specs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--page-size", type=int, default=4)
    args = parser.parse_args()
    make_archive(args.n, args.out, args.page_size)
    print(f"wrote {args.n} reports to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
