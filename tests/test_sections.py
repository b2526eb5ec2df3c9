"""Every section of the Analyst: one spider, sections as configuration, one reports table."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlite_utils import Database

from analyst.sections import SECTIONS, parse_sections, section_for_path
from tests.conftest import FIXTURES, body_f1, crawl_here, finished, run_crawl

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out

LISTING = "/publications/field-reports.html"


@pytest.fixture(scope="module")
def expected_sections() -> dict:
    """What a crawl of all four sections of the fixture site stores."""
    return json.loads((FIXTURES / "expected_sections.json").read_text())


@pytest.fixture(scope="module")
def all_sections_db(tmp_path_factory):
    """One `scrapy crawl analyst` of the fixture site (all four sections)."""
    from sample.server import SiteServer
    from tests.conftest import SITE

    db_path = tmp_path_factory.mktemp("sections") / "sections.db"
    with SiteServer(SITE) as server:
        stats = crawl_here(f"{server.url}{LISTING}", db_path, spider="analyst")
        paths = server.paths()
    assert finished(stats), stats
    return db_path, paths


def test_sections_are_configuration():
    assert [s.slug for s in parse_sections("all")] == list(SECTIONS)
    assert [s.name for s in parse_sections("news-digest,analytical-articles")] == ["News Digest", "Analytical Articles"]
    assert section_for_path("/publications/feature-articles").name == "Feature Articles"
    with pytest.raises(ValueError, match="unknown section"):
        parse_sections("opinion")


def test_all_sections_crawl_stores_every_report_once(all_sections_db, expected_sections):
    db_path, _ = all_sections_db
    database = Database(db_path)
    rows = list(database.query("select * from reports order by published, url"))
    want = expected_sections["reports"]
    assert [(r["title"], r["published"]) for r in rows] == [(w["title"], w["published"]) for w in want]
    for row, exp in zip(rows, want):
        assert row["url"].endswith(exp["url"])
        assert row["category"] == exp["category"]
        assert json.loads(row["categories"]) == exp["categories"]
        assert row["author_bio"] == exp["author_bio"]
        assert body_f1(row["body"], exp["body"]) >= 0.99


def test_a_cross_listed_article_is_one_row_that_knows_both_sections(all_sections_db):
    db_path, _ = all_sections_db
    [row] = Database(db_path).query(
        "select id, category, categories from reports where title like 'Moscow%Leverage%'")
    assert row["category"] == "Analytical Articles"  # the original, lowest id, speaks
    assert json.loads(row["categories"]) == ["Analytical Articles", "Feature Articles"]
    urls = [u["url"] for u in Database(db_path).query("select url from report_urls where report_id = ?", [row["id"]])]
    assert len(urls) == 2


def test_digest_pieces_are_rows_of_their_own(all_sections_db, expected_sections):
    db_path, _ = all_sections_db
    database = Database(db_path)
    digest = next(r for r in expected_sections["reports"] if r["category"] == "News Digest")
    pieces = list(database.query("select position, headline, text, source from digest_items order by position"))
    assert pieces == digest["digest_items"] and len(pieces) >= 5
    found = list(database["digest_items"].search("dispersed"))
    assert [p["headline"] for p in found] == ["KYRGYZ OPPOSITION RALLY DISPERSED"]


def test_field_reports_alone_stays_in_its_section(site_server, tmp_path, expected_crawl):
    db_path = tmp_path / "fr.db"
    result = run_crawl(f"{site_server.url}{LISTING}", db_path)
    assert result.returncode == 0, result.stderr[-2000:]
    categories = Counter(r["category"] for r in Database(db_path).query("select category from reports"))
    assert categories == {"Field Reports": len(expected_crawl["reports"])}
    assert not [p for p in site_server.paths() if "/publications/field-reports" not in p and p != "/robots.txt"]


def test_one_section_by_argument(site_server, tmp_path):
    db_path = tmp_path / "nd.db"
    result = run_crawl(f"{site_server.url}{LISTING}", db_path, "-a", "sections=news-digest", spider="analyst")
    assert result.returncode == 0, result.stderr[-2000:]
    assert [r["category"] for r in Database(db_path).query("select category from reports")] == ["News Digest"]


def test_incremental_works_per_section(all_sections_db, site_server, tmp_path):
    """A re-run over unchanged sections fetches each section's first listing page, no item."""
    import shutil

    db_path = tmp_path / "again.db"
    shutil.copy(all_sections_db[0], db_path)
    result = run_crawl(f"{site_server.url}{LISTING}", db_path, spider="analyst")
    assert result.returncode == 0, result.stderr[-2000:]
    listing = sorted(p for p in site_server.paths() if "/item/" not in p and p != "/robots.txt")
    assert listing == sorted(f"/publications/{s}.html" for s in SECTIONS)
    items = [p for p in site_server.paths() if "/item/" in p]
    assert items == ["/publications/field-reports/item/7116-report-that-was-taken-down.html"]  # a failure retried


def test_category_facet_in_datasette(all_sections_db, expected_sections):
    from tests.test_serve import BROWSE, datasette, get

    db_path, _ = all_sections_db
    facets = get(datasette(db_path), f"/{db_path.stem}/reports.json?_size=0&{BROWSE}").json()["facet_results"]
    counts = {r["value"]: r["count"] for r in facets["category"]["results"]}
    assert counts == Counter(r["category"] for r in expected_sections["reports"])
    listed = {r["value"]: r["count"] for r in facets["categories"]["results"]}
    assert listed["Feature Articles"] == counts["Feature Articles"] + 1  # the cross-listed one


def test_cron_runs_all_sections(tmp_path, expected_sections):
    from sample.server import SiteServer
    from tests.conftest import SITE, run_cron

    db_path = tmp_path / "data" / "all.db"
    with SiteServer(SITE) as server:
        result = run_cron(db_path, f"{server.url}{LISTING}", "--sections", "all")
    assert result.returncode == 0, result.stderr
    assert Database(db_path)["reports"].count == len(expected_sections["reports"])
    bad = run_cron(db_path, f"{server.url}{LISTING}", "--sections", "opinion")
    assert bad.returncode == 2 and "unknown section(s) opinion" in bad.stderr


@pytest.mark.parametrize("value", ["", " ", ","])
def test_an_empty_section_list_is_a_usage_error(value, tmp_path):
    """Issue 15: `-a sections=` crawled the default sections instead of exit 2."""
    from tests.conftest import run_cron

    crawl = run_crawl("http://127.0.0.1:9/publications/field-reports.html", tmp_path / "c.db", "-a", f"sections={value}",
                      spider="analyst")
    assert crawl.returncode == 2 and "no section given" in crawl.stderr.strip().splitlines()[-1]
    cron = run_cron(tmp_path / "c.db", "http://127.0.0.1:9/publications/field-reports.html", "--sections", value)
    assert cron.returncode == 2 and "no section given" in cron.stderr.strip().splitlines()[-1]
