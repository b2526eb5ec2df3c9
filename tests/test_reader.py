"""The archive as researchers read it, in real Datasette over a crawled database: the home page,
the search form, a report's page (related, cite, archived copy), an author, feeds, charts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from urllib.parse import quote

import pytest

from analyst.countries import countries_of, lead_of
from scraper.web.reader import crawl_warnings
from tests.conftest import run_async
from tests.test_serve import CSS, DB, datasette, get, rows

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def ds(crawled_db):
    return datasette(crawled_db)


def expected_countries(expected_crawl) -> Counter:
    """Reports per country in the crawled sample site, from its pages' titles, leads and tags."""
    return Counter(c for r in expected_crawl["reports"]
                   for c in countries_of(r["title"], lead_of(r["body"]), r["tags"]))


def report_id(ds, title: str) -> int:
    [row] = rows(ds, f"/{DB}/reports.json?title__exact={quote(title)}&_shape=objects")
    return row["id"]


def test_home_page_has_a_search_box_and_the_archive_at_a_glance(ds, expected_crawl):
    want = expected_crawl["reports"]
    html = get(ds, "/").text
    home = html[html.index('<section class="caci-home">'):html.index("</section>")]
    assert f'action="/{DB}/search"' in home and 'name="q"' in home
    assert f"{len(want)} reports" in home
    assert f"Field Reports</a> — {len(want)} reports" in home
    newest = max(want, key=lambda r: r["published"])
    assert newest["title"].replace("'", "&#39;") in home
    for year, count in Counter(int(r["published"][:4]) for r in want).items():
        assert f"year_from={year}&amp;year_to={year}\">{year}</a></th><td><span class=\"caci-bar\"" in home
    assert "new_reports.atom" in home and "/-/dashboards/archive" in home
    assert CSS in html and f'href="/{DB}"' in html  # Datasette's list still follows


def test_search_form_filters_and_hides_the_sql(ds, expected_crawl):
    html = get(ds, f"/{DB}/search?q=cotton").text
    for field in ("q", "section", "year_from", "year_to", "author", "tag"):
        assert f'name="{field}"' in html
    assert "reports_fts match" not in html and "_show_sql=1" in html
    found = rows(ds, f"/{DB}/search.json?q=cotton&_shape=objects")
    results = html[html.index('<ol class="caci-results">'):html.index("</ol>")]
    assert results.count("<li>") == len(found) and f'href="/{DB}/reports/{found[0]["id"]}"' in results
    assert "<option selected>" not in html and "<option>Field Reports</option>" in html
    assert "reports_fts match" in get(ds, f"/{DB}/search?q=cotton&_show_sql=1").text  # one click shows it
    everything = rows(ds, f"/{DB}/search.json?q=the&_shape=objects")
    assert len(everything) == len(expected_crawl["reports"])
    years = sorted(r["published"][:4] for r in everything)
    middle = years[len(years) // 2]
    narrowed = rows(ds, f"/{DB}/search.json?q=the&year_from={middle}&year_to={middle}&_shape=objects")
    assert narrowed and {r["published"][:4] for r in narrowed} == {middle}
    tagged = Counter(t for r in expected_crawl["reports"] for t in r["tags"]).most_common(1)[0]
    assert len(rows(ds, f"/{DB}/search.json?q=the&tag={quote(tagged[0])}&_shape=objects")) == tagged[1]
    author = Counter(a for r in expected_crawl["reports"] for a in r["authors"]).most_common(1)[0]
    assert len(rows(ds, f"/{DB}/search.json?q=the&author={quote(author[0])}&_shape=objects")) == author[1]
    assert rows(ds, f"/{DB}/search.json?q=the&section=News+Digest&_shape=objects") == []


def test_report_page_has_related_reports_a_citation_and_its_archived_copy(ds):
    report = report_id(ds, "GEORGIA: SAAKASHVILI ALLIES REGROUP")
    html = get(ds, f"/{DB}/reports/{report}").text
    related = html[html.index('<section class="caci-related">'):html.index('<section class="caci-cite">')]
    assert related.count("<li>") >= 1 and f"/{DB}/reports/{report}\"" not in related
    assert "2012. “GEORGIA: SAAKASHVILI ALLIES REGROUP.” Central Asia-Caucasus Analyst" in html
    assert f'/{DB}/reports/{report}.bib"' in html and f'/{DB}/reports/{report}.ris"' in html
    assert "Archived copy: fetched" in html and f"/{DB}/captures/" in html
    assert f'href="/{DB}/author?name=' in html and "tags__arraycontains=" in html


def test_citations_download_as_bibtex_and_ris(ds):
    report = report_id(ds, "GEORGIA: SAAKASHVILI ALLIES REGROUP")
    bib = get(ds, f"/{DB}/reports/{report}.bib")
    assert bib.headers["content-type"].startswith("application/x-bibtex")
    assert "attachment" in bib.headers["content-disposition"]
    assert bib.text.startswith("@article{") and "title = {{GEORGIA: SAAKASHVILI ALLIES REGROUP}}" in bib.text
    record = get(ds, f"/{DB}/reports/{report}.ris")
    assert record.text.startswith("TY  - JOUR\r\n") and "TI  - GEORGIA: SAAKASHVILI ALLIES REGROUP\r\n" in record.text
    # a whole search result, one record per report
    found = get(ds, f"/{DB}/search.ris?q=cotton").text
    assert found.count("TY  - JOUR") == len(rows(ds, f"/{DB}/search.json?q=cotton&_shape=objects")) > 0


def test_author_page_lists_every_report_by_that_author(ds, expected_crawl):
    name, count = Counter(a for r in expected_crawl["reports"] for a in r["authors"]).most_common(1)[0]
    found = rows(ds, f"/{DB}/author.json?name={quote(name)}&_shape=objects")
    assert len(found) == count
    assert [r["published"] for r in found] == sorted((r["published"] for r in found), reverse=True)
    html = get(ds, f"/{DB}/author?name={quote(name)}").text
    assert "reports_fts" not in html and f'<h1 class="caci-author-name">{name}</h1>' in html
    years = [int(h.split("<")[0]) for h in html.split('<h2 class="caci-year">')[1:]]
    assert years == sorted({r["year"] for r in found}, reverse=True)
    assert html.count(f'href="/{DB}/reports/') == count


def test_feeds_of_new_reports_and_of_a_saved_search(ds, expected_crawl):
    feed = ET.fromstring(get(ds, f"/{DB}/new_reports.atom").text)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == min(50, len(expected_crawl["reports"]))
    assert all(e.find(f"{ATOM}title").text and e.find(f"{ATOM}link").get("href").startswith("http") for e in entries)
    assert f"/{DB}/search_feed.atom?q=cotton" in get(ds, f"/{DB}/search?q=cotton").text
    search = ET.fromstring(get(ds, f"/{DB}/search_feed.atom?q=cotton").text)
    titles = {e.find(f"{ATOM}title").text for e in search.findall(f"{ATOM}entry")}
    assert titles == {r["title"] for r in rows(ds, f"/{DB}/search.json?q=cotton&_shape=objects")} and titles
    assert search.find(f"{ATOM}title").text == "A search as a feed: cotton"


@pytest.mark.parametrize("path", ["new_reports.atom", "search_feed.atom?q=cotton", "country.atom?name=Kazakhstan",
                                  "author.atom?name=Marat%20Yermukanov"])
def test_feed_readers_read_the_report_s_own_date_and_both_its_pages(ds, path):
    """feedparser, as feed readers parse: no error; an entry's published date is the report's own
    (a 2003 report is not dated today), its updated date when the archive stored it, and it links
    to the original and to the archive's page of it."""
    import feedparser

    parsed = feedparser.parse(get(ds, f"/{DB}/{path}").text)
    assert not parsed.bozo, parsed.get("bozo_exception")
    columns = "&".join(f"_col={c}" for c in ("url", "published", "first_seen", "changed_at"))
    stored = {r["url"]: r for r in rows(ds, f"/{DB}/reports.json?_shape=objects&_size=max&{columns}")}
    assert parsed.entries
    for entry in parsed.entries:
        report = stored[entry.id]
        assert entry.published == f"{report['published']}T00:00:00Z"
        assert entry.updated == report["changed_at"] == report["first_seen"]  # none changed since
        links = {link.rel: link.href for link in entry.links}
        assert links["alternate"] == report["url"]
        assert links["related"] == f"http://localhost/{DB}/reports/{report['id']}"


def test_a_report_that_changed_is_updated_in_the_feeds_and_keeps_its_date(crawled_db, tmp_path):
    import shutil

    import feedparser

    import db as store

    db_path = tmp_path / f"{DB}.db"
    shutil.copy(crawled_db, db_path)
    database = store.open_db(db_path)
    [row] = database.query("select * from reports order by id limit 1")
    report = {**row, "authors": json.loads(row["authors"]), "tags": json.loads(row["tags"]),
              "countries": json.loads(row["countries"]), "body": row["body"] + "\n\nA correction.",
              "fetched_at": "2026-12-24T10:00:00+00:00"}
    assert store.upsert_report(database, report) == "updated"
    unchanged = {**report, "fetched_at": "2026-12-31T10:00:00+00:00"}
    assert store.upsert_report(database, unchanged) == "unchanged"  # a visit is no change
    database.close()
    ds = datasette(db_path)
    parsed = feedparser.parse(get(ds, f"/{DB}/new_reports.atom").text)
    [entry] = [e for e in parsed.entries if e.id == row["url"]]
    assert entry.updated == "2026-12-24T10:00:00+00:00" and entry.published == f"{row['published']}T00:00:00Z"
    others = [e for e in parsed.entries if e.id != row["url"]]
    assert others and all(e.updated < "2026-12-24" for e in others)


@pytest.mark.parametrize("page, feed", [("/", f"/{DB}/new_reports.atom"),
                                        (f"/{DB}/search?q=cotton", f"/{DB}/search_feed.atom?q=cotton"),
                                        (f"/{DB}/country?name=Kazakhstan", f"/{DB}/country.atom?name=Kazakhstan"),
                                        (f"/{DB}/author?name=Marat+Yermukanov",
                                         f"/{DB}/author.atom?name=Marat%20Yermukanov")])
def test_pages_with_a_feed_declare_it(ds, page, feed):
    """Pasting the archive's address, or a search's, into a feed reader finds the feed."""
    import re

    found = re.findall(r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" href="([^"]+)">',
                       get(ds, page).text)
    assert found == [feed]
    assert get(ds, feed.replace("&amp;", "&")).headers["content-type"].startswith("application/atom+xml")


@pytest.mark.parametrize("query", ["", "?q=", "?q=zzzqqqxxx", "?q=%22"])
def test_a_saved_search_with_no_match_yet_is_an_empty_feed(ds, query):
    """A search saved before any report matches it is a feed with no entry, not a server error."""
    response = get(ds, f"/{DB}/search_feed.atom{query}")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.text)
    assert feed.find(f"{ATOM}updated").text and feed.findall(f"{ATOM}entry") == []


@pytest.mark.parametrize("chart", ["reports-per-year", "countries-by-year", "term-by-year", "tags-over-time"])
def test_dashboard_charts_are_served(ds, chart):
    html = get(ds, f"/-/dashboards/archive/{chart}?term=cotton").text
    assert "vega" in html


def test_chart_queries_answer(crawled_db):
    """The dashboard's SQL, run as Datasette runs it (caci_search included)."""
    from scraper.web.serve import datasette_metadata

    ds = datasette(crawled_db)
    charts = datasette_metadata(DB)["plugins"]["datasette-dashboards"]["archive"]["charts"]

    async def run(sql):
        return (await ds.get_database(DB).execute(sql, {"term": "cotton"})).rows

    for name, chart in charts.items():
        assert run_async(run(chart["query"])), name


def test_related_reports_by_informative_words_then_by_all(tmp_path):
    """Related reports come from the title's words that tell reports apart ("cotton", not "analyst",
    which every report has); a title of common words only still finds some, by all its words."""
    import db as store
    from tests.test_reading import make_archive

    path = tmp_path / "reading.db"
    database = make_archive(path)
    store.upsert_report(database, dict(database.query("select * from reports where id = 1").__next__()) | {
        "url": "https://www.cacianalyst.org/publications/field-reports/item/99-x.html", "item_id": 99,
        "title": "The analyst's report", "tags": ["elsewhere"], "published": "2011-01-01",
        "authors": ["Oliver Strand"], "categories": ["Field Reports"]})
    database.close()
    ds = datasette(path)

    def related(report: int) -> str:
        html = get(ds, f"/reading/reports/{report}").text
        return html[html.index('<section class="caci-related">'):html.index('<section class="caci-cite">')]

    cotton = related(7)  # "Analyst cotton report 6"
    assert cotton.count("<li>") == 6 and cotton.count("cotton report") == 6
    common = related(41)
    assert common.count("<li>") == 6 and "None found" not in common


@pytest.mark.parametrize("chart", ["term-by-year", "tags-over-time", "countries-by-year"])
def test_chart_lines_count_a_year_without_a_report_as_zero(crawled_db, tmp_path, chart):
    """Every year from the first to the last is on the line, a year with no report as 0 (the line
    joined 2005 to 2007 as if 2006 had some), and counts are whole numbers on the axis."""
    import sqlite3

    from scraper.web.plugin import fts_query
    from scraper.web.serve import datasette_metadata

    spec = datasette_metadata(DB)["plugins"]["datasette-dashboards"]["archive"]["charts"][chart]
    # Whole numbers: a tick between two counts (1.5) has no label; the heat map's legend says counts.
    encoding = spec["display"]["encoding"]
    if chart == "countries-by-year":
        assert encoding["color"]["legend"]["labelExpr"] == "datum.value % 1 ? '' : format(datum.value, 'd')"
    else:
        assert encoding["y"]["axis"]["labelExpr"] == "datum.value % 1 ? '' : format(datum.value, 'd')"
    import shutil

    db_path = tmp_path / "gap.db"
    shutil.copy(crawled_db, db_path)
    conn = sqlite3.connect(db_path)
    conn.create_function("caci_search", 1, fts_query)
    first, last = conn.execute("select min(year), max(year) from reports").fetchone()
    gap = (first + last) // 2
    for table in ("digest_items", "report_urls", "report_versions"):
        conn.execute(f"delete from {table} where report_id in (select id from reports where year = ?)", [gap])
    conn.execute("delete from reports where year = ?", [gap])  # the full-text index follows (triggers)
    found = conn.execute(spec["query"], {"term": "the"}).fetchall()
    assert {row[0] for row in found} == set(range(first, last + 1))
    assert [row[-1] for row in found if row[0] == gap] and all(row[-1] == 0 for row in found if row[0] == gap)


def test_a_country_page_lists_its_reports_by_year_and_who_writes_on_it(ds, expected_crawl):
    counts = expected_countries(expected_crawl)
    name, count = counts.most_common(1)[0]
    found = rows(ds, f"/{DB}/country.json?name={quote(name)}&_shape=objects")
    assert len(found) == count
    assert [r["published"] for r in found] == sorted((r["published"] for r in found), reverse=True)
    html = get(ds, f"/{DB}/country?name={quote(name)}").text
    assert '<h1 class="caci-country-name">Kazakhstan <span class="caci-meta">(KZ)</span></h1>' in html
    assert f"{count} reports about {name}" in html and html.count(f'href="/{DB}/reports/') == count
    per_year = Counter(r["year"] for r in found)
    for year, reports in per_year.items():
        assert f'<tr><th>{year}</th><td><span class="caci-bar"' in html and f"</span> {reports}</td>" in html
    writers = Counter(a for r in expected_crawl["reports"] for a in r["authors"]
                      if name in countries_of(r["title"], lead_of(r["body"]), r["tags"]))
    top, most = writers.most_common(1)[0]
    assert most >= 2 and f'author?name={quote(top)}">{top}</a> ({most})' in html
    assert get(ds, f"/{DB}/country?name=Atlantis").text.count("No report about Atlantis") == 1


def test_report_pages_link_their_countries_and_the_home_page_lists_them(ds, expected_crawl):
    report = report_id(ds, "ARMENIA: VILLAGERS PROTEST MINING LICENCE")
    html = get(ds, f"/{DB}/reports/{report}").text
    about = html[html.index('<p class="caci-countries">'):].split("</p>")[0]
    assert f'<a href="/{DB}/country?name=Armenia">Armenia</a>' in about
    home = get(ds, "/").text
    for name, count in expected_countries(expected_crawl).items():
        assert f'country?name={quote(name)}">{name}</a> ({count})' in home


def test_search_and_facets_narrow_by_country(ds, expected_crawl):
    counts = expected_countries(expected_crawl)
    html = get(ds, f"/{DB}/search?q=the&country=Georgia").text
    assert '<option selected>Georgia</option>' in html and '<label>Country <select name="country">' in html
    for name in ("Georgia", "Armenia"):
        assert len(rows(ds, f"/{DB}/search.json?q=the&country={name}&_shape=objects")) == counts[name]
    facet = get(ds, f"/{DB}/reports.json?_facet_array=countries&_size=0").json()["facet_results"]["countries"]
    assert {r["value"]: r["count"] for r in facet["results"]} == dict(counts)
    assert "_facet_array=countries" in get(ds, f"/{DB}/reports").text  # offered on the table


def test_the_home_page_and_the_crawls_page_show_the_crawls(ds):
    [last] = rows(ds, f"/{DB}/crawls.json?_shape=objects&_sort_desc=id&_size=1")
    failing = rows(ds, f"/{DB}/failures.json?_shape=objects")
    reasons = len({f["reason"] for f in failing})
    home = get(ds, "/").text
    line = home[home.index('<p class="caci-crawls-line">'):].split("</p>")[0]
    assert f'last run <a href="/{DB}/crawls/{last["id"]}">#{last["id"]}</a> {last["started_at"]}, ok' in line
    assert f"<strong>{reasons} warnings</strong>" in line and f'href="/{DB}/-/crawls"' in line
    page = get(ds, f"/{DB}/-/crawls").text
    crawls = page[page.index('<section class="caci-crawls"'):].split("</section>")[0]
    assert crawls.count(f'<a href="/{DB}/crawls/{last["id"]}">#{last["id"]}</a>') == 3  # last, last ok, recent
    assert f'<td class="n">{last["reports_new"]}</td>' in crawls and f'href="/{DB}/failures"' in crawls
    assert crawls.count("page failing: ") + crawls.count("pages failing: ") == reasons
    missing = run_async(ds.client.get("/nothing-here/-/crawls"))
    assert missing.status_code == 404 and "no archive of that name" in missing.text


@pytest.mark.parametrize("stem", ["caci.2026", "a:b{d}"])
def test_the_crawls_page_of_an_archive_with_an_odd_name(crawled_db, tmp_path, stem):
    """The home page links the crawls page by the name as Datasette writes it in URLs ("caci~2E2026")."""
    import re
    import shutil

    db_path = tmp_path / f"{stem}.db"
    shutil.copy(crawled_db, db_path)
    ds = datasette(db_path)
    [link] = re.findall(r'href="([^"]+/-/crawls)"', get(ds, "/").text)
    assert "~" in link and "Last successful run" in get(ds, link).text


def test_a_failed_run_and_drift_are_open_warnings(crawled_db, tmp_path):
    import shutil

    from sqlite_utils import Database

    db_path = tmp_path / f"{DB}.db"
    shutil.copy(crawled_db, db_path)
    db = Database(db_path)
    db["crawls"].insert({"started_at": "2026-12-02T03:00:00+00:00", "mode": "incremental", "outcome": "failed",
                         "close_reason": "site drift: 9 of 10 item pages had no K2 markup", "listing_complete": 1})
    db.execute("update reports set countries = null where id in (select id from reports order by id limit 2)")
    db["failures"].insert({"url": "https://example.org/item/1.html", "reason": "drift: no itemBody",
                           "attempts": 1, "first_seen": "2026-12-02T03:00:05+00:00",
                           "last_seen": "2026-12-02T03:00:05+00:00"})
    db.close()
    page = get(datasette(db_path), f"/{DB}/-/crawls").text
    warnings = page[page.index('<ul class="caci-warnings">'):].split("</ul>")[0]
    assert warnings.index("did not succeed: site drift: 9 of 10") < warnings.index("1 page failing: drift: no itemBody")
    assert "(the site&#39;s markup changed)" in warnings
    assert "2 reports stored before countries existed: run `python -m scraper reclean`" in warnings
    # the last successful run is still the crawl's own
    assert page.count("<td>ok</td>") == 2 and "<td>failed</td>" in page


def test_crawl_warnings_say_what_an_operator_must_look_at():
    ok = {"id": 7, "started_at": "2026-12-01T03:00:00+00:00", "outcome": "ok", "close_reason": "finished",
          "listing_complete": 1}
    assert crawl_warnings(ok, ok, []) == []
    assert crawl_warnings(None, None, []) == ["No crawl has been recorded in this database."]
    assert crawl_warnings(ok, ok, [], without_countries=1) == [
        "1 report stored before countries existed: run `python -m scraper reclean` once to fill them in."]
    failed = ok | {"id": 8, "outcome": "failed", "close_reason": "site drift: 9 of 10 pages", "listing_complete": 0}
    drift = {"reason": "drift: no itemBody", "pages": 9, "latest": "2026-12-02T03:00:00+00:00", "example": "u"}
    said = crawl_warnings(failed, None, [drift])
    assert said[0] == "The last run (#8, 2026-12-01T03:00:00+00:00) did not succeed: site drift: 9 of 10 pages."
    assert "walked the listing only in part" in said[1] and said[2] == "No run has succeeded yet."
    assert said[3].startswith("9 pages failing: drift: no itemBody (the site's markup changed)")
