"""Extraction benchmark: our cleaner against generic extractors on the fixture pages.

Usage: .venv/bin/python bench/extraction.py [--rounds N]
(needs the bench extra: .venv/bin/pip install -e '.[bench]')

Scores every extractor on two groups of pages: the sample site's (tests/fixtures/expected) and
the pages rendered from K2's and Joomla's own templates (tests/fixtures/k2) — word-level precision,
recall and F1 of the body against the expected report, as ../shared/tools/score.py counts them —
and times them in the same process, rounds interleaved so machine noise hits all alike; the
pages/s column is the median over rounds.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bs4 import BeautifulSoup  # noqa: E402

from analyst.model import ListingEntry  # noqa: E402
from pipelines.extract import CleaningError, clean_page  # noqa: E402
from scraper.settings import CACI_MIN_BODY_WORDS as MIN_WORDS  # noqa: E402
from tests.conftest import FIXTURES, body_prf, expected_pages, fixture_html  # noqa: E402

ORIGIN = "https://www.cacianalyst.org"
LISTINGS: dict[str, ListingEntry] = {}  # what a crawl would know from the listing, by URL


def ours(html: str, url: str) -> str:
    try:
        return clean_page(html, url, LISTINGS.get(url), min_words=MIN_WORDS).body
    except CleaningError:
        return ""


def k2_template_pages() -> list[tuple[dict, str, str]]:
    """(expected report, html, url) of every item page in tests/fixtures/k2."""
    import json

    out = []
    for path in sorted((FIXTURES / "k2").glob("*.json")):
        exp = json.loads(path.read_text()) | {"name": path.stem}
        if "entries" in exp:
            continue  # a listing page
        if exp["listing"]:
            LISTINGS[exp["url"]] = ListingEntry(exp["url"], **exp["listing"])
        out.append((exp, (FIXTURES / "k2" / exp["file"]).read_text(encoding="utf-8"), exp["url"]))
    return out


def trafilatura_default(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url) or ""


def trafilatura_precision(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url, favor_precision=True) or ""


def readability(html: str, url: str) -> str:
    from readability import Document

    summary = Document(html, url=url).summary(html_partial=True)
    return BeautifulSoup(summary, "lxml").get_text("\n")


def naive_fulltext(html: str, url: str) -> str:
    node = BeautifulSoup(html, "lxml").select_one("div.itemFullText")
    return node.get_text(" ") if node else ""


EXTRACTORS: dict[str, Callable[[str, str], str]] = {
    "caci-field-reports (ours)": ours,
    "trafilatura": trafilatura_default,
    "trafilatura favor_precision": trafilatura_precision,
    "readability-lxml": readability,
    "naive div.itemFullText": naive_fulltext,
}


def report(group: str, pages: list[tuple[dict, str, str]], rounds: int) -> None:
    """Score and time every extractor on one group of pages; print a Markdown table."""
    scores: dict[str, list[tuple[float, float, float, str]]] = {name: [] for name in EXTRACTORS}
    for name, extract in EXTRACTORS.items():
        for page, html, url in pages:
            scores[name].append((*body_prf(extract(html, url), page["body"]), page["name"]))
    timings: dict[str, list[float]] = {name: [] for name in EXTRACTORS}
    for _ in range(rounds):
        for name, extract in EXTRACTORS.items():
            started = time.perf_counter()
            for _, html, url in pages:
                extract(html, url)
            timings[name].append(len(pages) / (time.perf_counter() - started))
    print(f"\n{group}: {len(pages)} pages, {rounds} timing rounds (median pages/s)\n")
    print("| extractor | precision | recall | F1 mean | F1 worst (page) | pages/s |")
    print("|---|---:|---:|---:|---|---:|")
    for name in EXTRACTORS:
        rows = scores[name]
        worst = min(rows, key=lambda r: r[2])
        print(f"| {name} | {statistics.mean(r[0] for r in rows):.4f} | {statistics.mean(r[1] for r in rows):.4f} "
              f"| {statistics.mean(r[2] for r in rows):.4f} | {worst[2]:.4f} ({worst[3]}) "
              f"| {statistics.median(timings[name]):.1f} |")
    ours_speed = statistics.median(timings["caci-field-reports (ours)"])
    trafilatura_speed = statistics.median(timings["trafilatura"])
    print(f"\nspeed ratio ours / trafilatura: {ours_speed / trafilatura_speed:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # trafilatura and readability log per page
    groups = {
        "sample site (tests/fixtures/expected)":
            [(p, fixture_html(p["file"]), ORIGIN + p["url"]) for p in expected_pages()],
        "K2 and Joomla templates (tests/fixtures/k2)": k2_template_pages(),
    }
    for group, pages in groups.items():
        report(group, pages, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
