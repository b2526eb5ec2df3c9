"""Datasette over a crawled database: search, facets, canned queries, safe rendering, read-only."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import shutil
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from jinja2 import BytecodeCache

import db as store
from scraper.web.serve import datasette_metadata
from tests.conftest import run_async

if TYPE_CHECKING:
    from datasette.app import Datasette

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out

DB = "crawl"  # the stem of the crawled database file
CSS = "/-/static-plugins/caci-field-reports/caci.css"
# The "browse by" link of the reports table's description: the facets, counted on request.
BROWSE = "_facet_array=authors&_facet=year&_facet_array=tags&_facet=category&_facet_array=categories"


class _SharedBytecode(BytecodeCache):
    """Templates compiled once for this process's Datasettes: the plugin's start-up compiles all
    ~50 (0.3 s of CPU) in each instance, and these tests make one per archive they read."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


SHARED_BYTECODE = _SharedBytecode()


def real_datasette(*files, **options) -> Datasette:
    """Datasette as these tests make it: real, its templates' bytecode shared (what a template
    renders is Jinja's to say, whoever compiled it)."""
    # Imported here: ~0.6 s, paid by the worker that runs these tests, not by every one collecting them.
    from datasette.app import Datasette

    ds = Datasette(files=[str(f) for f in files], **options)
    ds.jinja_env.bytecode_cache = SHARED_BYTECODE
    return ds


def datasette(db_path):
    """Real Datasette, as `serve` configures it (the plugin brings its stylesheet and templates)."""
    return real_datasette(db_path, metadata=datasette_metadata(db_path.stem))


def get(ds, path):
    async def fetch():
        return await ds.client.get(path)

    response = run_async(fetch())
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    return response


def rows(ds, path):
    return get(ds, path).json()["rows"]


@contextlib.contextmanager
def serving(db_path, *args):
    """`python -m scraper serve DB ARGS` on a free port, as a user runs it; its base URL once it answers."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.conftest import ROOT

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "scraper", "serve", str(db_path), "--port", str(port), *args],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/-/databases.json", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def fetch(url):
    import urllib.request

    return urllib.request.urlopen(url).read().decode()


@pytest.fixture(scope="module")
def ds(crawled_db):
    """Real Datasette (its ASGI test client) over the crawled fixture site."""
    return datasette(crawled_db)


def test_search_finds_body_words_and_not_chrome(ds):
    found = rows(ds, f"/{DB}/reports.json?_search=Zürich&_shape=objects")
    assert [r["title"] for r in found] == ["GEORGIA: SAAKASHVILI ALLIES REGROUP"]
    for chrome in ("biweekly", "Staff Publications", "Tagged under", "Tweet"):
        assert rows(ds, f"/{DB}/reports.json?_search={chrome}&_shape=objects") == [], chrome


def test_search_query_highlights_matches_safely(ds):
    [hit] = rows(ds, f"/{DB}/search.json?q=Zürich&_shape=objects")
    assert "**Zürich**" in hit["snippet"]
    html = get(ds, f"/{DB}/search?q=Zürich").text
    assert "<mark>Zürich</mark>" in html
    assert rows(ds, f"/{DB}/search.json?q=%22unbalanced&_shape=objects") == []  # no FTS syntax error


def test_facets_count_authors_years_tags_and_category(ds, expected_crawl):
    want = expected_crawl["reports"]
    assert not get(ds, f"/{DB}/reports.json?_size=0").json()["facet_results"]  # not on every view
    assert BROWSE.replace("&", "&amp;") in get(ds, f"/{DB}/reports").text
    facets = get(ds, f"/{DB}/reports.json?_size=0&{BROWSE}").json()["facet_results"]
    counts = {name: {r["value"]: r["count"] for r in facet["results"]} for name, facet in facets.items()}
    assert counts["year"] == Counter(int(r["published"][:4]) for r in want)
    assert counts["authors"] == Counter(a for r in want for a in r["authors"])
    assert counts["tags"] == Counter(t for r in want for t in r["tags"])
    assert counts["category"] == {"Field Reports": len(want)}


def test_canned_queries(ds, expected_crawl):
    want = expected_crawl["reports"]
    per_year = rows(ds, f"/{DB}/reports_per_year.json?_shape=objects")
    assert per_year == [{"year": y, "reports": n} for y, n in sorted(Counter(int(r["published"][:4]) for r in want).items())]
    authors = rows(ds, f"/{DB}/prolific_authors.json?_shape=objects")
    expected_authors = Counter(a for r in want for a in r["authors"])
    assert [(a["author"], a["reports"]) for a in authors] == sorted(expected_authors.items(),
                                                                   key=lambda kv: (-kv[1], kv[0]))
    assert rows(ds, f"/{DB}/term_by_year.json?term=Zürich&_shape=objects") == [{"year": 2012, "reports": 1}]
    assert rows(ds, f"/{DB}/search.json?q=cotton&_shape=objects")


def test_report_page_shows_paragraphs(ds, expected_crawl):
    report = next(r for r in expected_crawl["reports"] if r["title"] == "GEORGIA: SAAKASHVILI ALLIES REGROUP")
    [row] = rows(ds, f"/{DB}/reports.json?title__exact=GEORGIA: SAAKASHVILI ALLIES REGROUP&_shape=objects")
    html = get(ds, f"/{DB}/reports/{row['id']}").text
    article = html[html.index('<article class="caci-report">'):html.index("</article>")]
    assert "<h1>GEORGIA: SAAKASHVILI ALLIES REGROUP</h1>" in article
    assert article.count("<p>") == len(report["body"].split("\n\n"))


def test_internal_columns_are_hidden_in_listings(ds):
    css = get(ds, CSS).text
    for column in ("title_key", "body_html", "stats"):
        assert f"td.col-{column}" in css
    assert CSS in get(ds, f"/{DB}/reports").text
    assert get(ds, f"/{DB}/reports.json?_size=1").json()["columns"][:2] == ["id", "url"]  # API keeps all


def test_hostile_title_and_body_are_escaped(crawled_db, tmp_path):
    db_path = tmp_path / "hostile.db"
    shutil.copy(crawled_db, db_path)
    database = store.open_db(db_path)
    store.upsert_report(database, {
        "url": "https://www.cacianalyst.org/publications/field-reports/item/1-x.html", "item_id": 1,
        "title": "<script>alert('title')</script> Report", "published": "2001-01-01",
        "body": "First <script>alert('body')</script> paragraph.\n\n<img src=x onerror=alert(1)> second.",
        "body_html": "<p>x</p>", "authors": ["<b>Mallory</b>"], "author": "<b>Mallory</b>",
    })
    report_id = next(database.query("select id from reports where item_id = 1"))["id"]
    database.close()
    hostile = datasette(db_path)
    for path in (f"/hostile/reports/{report_id}", "/hostile/reports?_search=paragraph",
                 "/hostile/search?q=paragraph"):
        html = get(hostile, path).text
        assert "<script>alert(" not in html and "<img src=x" not in html and "<b>Mallory" not in html, path
        assert "&lt;script&gt;alert(" in html, path


def test_datasette_never_writes_to_the_database(crawled_db, tmp_path):
    db_path = tmp_path / "readonly.db"
    shutil.copy(crawled_db, db_path)
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    ds = datasette(db_path)
    for path in ("/readonly/reports?_search=cotton", "/readonly/search?q=cotton", "/readonly/crawls",
                 "/readonly/reports_per_year", "/-/dashboards/archive?term=pipeline", "/readonly/reports/1",
                 "/", "/readonly/search?q=cotton&section=Field+Reports", "/readonly/new_reports.atom"):
        get(ds, path)
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before
    assert json.loads(get(ds, "/-/databases.json").text)[0]["is_mutable"] is True  # reads live data


def test_chart_page_is_served(ds):
    html = get(ds, "/-/dashboards/archive/reports-per-year").text
    assert "vega" in html and "Reports per year" in html


def test_datasette_reads_while_a_crawl_writes(archive, tmp_path):
    """WAL: every read during a crawl succeeds and sees the count only grow."""
    from sample.server import SiteServer
    from tests.conftest import run_cron

    site, _ = archive
    db_path = tmp_path / "data" / "live.db"
    store.open_db(db_path).close()  # the file exists (empty, WAL) before Datasette opens it
    ds = datasette(db_path)
    seen = []
    with SiteServer(site, delay=0.05) as server:
        crawl = run_cron(db_path, server.url + "/publications/field-reports.html", wait=False)
        while crawl.poll() is None:
            seen.append(rows(ds, "/live.json?sql=select+count(*)+as+n+from+reports&_shape=objects")[0]["n"])
        assert crawl.returncode == 0, crawl.stderr.read()
    seen.append(rows(ds, "/live.json?sql=select+count(*)+as+n+from+reports&_shape=objects")[0]["n"])
    assert len(seen) > 5 and seen == sorted(seen) and seen[-1] == 12
    assert len(set(seen)) > 2  # it really read between writes
    assert store.open_db(db_path).journal_mode == "wal"


def test_search_query_ranks_the_best_match_first(crawled_db, tmp_path):
    db_path = tmp_path / "ranked.db"
    shutil.copy(crawled_db, db_path)
    database = store.open_db(db_path)
    filler = "Officials met again to discuss the budget. " * 40
    for item, title, body, day in [
        (1, "Passing Mention", filler + "A saxaul grove was mentioned once.", "2016-01-01"),
        (2, "Saxaul Forests Shrink", "Saxaul forests shrink. Saxaul wood is burned. Saxaul matters.", "2001-01-01"),
    ]:
        store.upsert_report(database, {"url": f"https://www.cacianalyst.org/publications/field-reports/item/{item}-x.html",
                                       "item_id": item, "title": title, "published": day, "body": body,
                                       "body_html": "<p>x</p>"})
    database.close()
    ds = datasette(db_path)
    ranked = [r["title"] for r in rows(ds, "/ranked/search.json?q=saxaul&_shape=objects")]
    assert ranked == ["Saxaul Forests Shrink", "Passing Mention"]  # relevance, not date
    newest = [r["title"] for r in rows(ds, "/ranked/reports.json?_search=saxaul&_shape=objects")]
    assert newest == ["Passing Mention", "Saxaul Forests Shrink"]  # the table: newest first


def test_other_databases_served_beside_the_archive_are_left_alone(crawled_db, tmp_path):
    """Issue 12: the plugin, the stylesheet and the row template act on the archive only."""
    from sqlite_utils import Database

    other = tmp_path / "notes.db"
    Database(other)["reports"].insert({"id": 1, "title": "Mine", "body": "First.\n\nSecond <b>bold</b>."}, pk="id")
    ds = real_datasette(crawled_db, other, metadata=datasette_metadata(crawled_db.stem))
    theirs = get(ds, "/notes/reports").text
    assert "caci-body" not in theirs and CSS not in theirs
    assert "Second &lt;b&gt;bold&lt;/b&gt;." in theirs  # Datasette's own escaping, not ours
    assert "caci-report" not in get(ds, "/notes/reports/1").text
    ours = get(ds, f"/{DB}/reports").text
    assert "caci-body" in ours and CSS in ours


@pytest.mark.parametrize("query", [None, "", '"', "(", "NEAR(", "title:x", "* OR -", "\u00a0", '"unterminated'])
@pytest.mark.parametrize("canned,param", [("search", "q"), ("term_by_year", "term")])
def test_searches_tolerate_any_input(ds, canned, param, query):
    """Issue 15: opened with no query at all, or a bare quote, they answered 400 "fts5: syntax error"."""
    from urllib.parse import quote

    page = f"/{DB}/{canned}" + ("" if query is None else f"?{param}={quote(query)}")
    html = get(ds, page).text  # the page a reader opens: the form, no error
    assert "syntax error" not in html and f'name="{param}"' in html
    assert get(ds, page.replace(canned, canned + ".json", 1)).json()["ok"] is not False


def test_a_long_search_is_bounded_and_still_finds(ds):
    """Issue 15: 3,000 short terms kept Datasette busy for minutes. Only the first terms count."""
    from scraper.web.plugin import MAX_TERMS, fts_query

    many = " ".join(["pipeline"] + [f"w{i}" for i in range(3000)])
    assert fts_query(many).count('"') == 2 * MAX_TERMS
    assert fts_query('kazakh "oil" OR (gas)') == '"kazakh" "oil" "OR" "gas"'
    rows = get(ds, f"/{DB}/search.json?q=" + "+".join(["cotton"] * 3000) + "&_shape=objects").json()["rows"]
    assert rows, "the first terms still search"


def test_a_finished_copy_is_served_immutable(crawled_db, tmp_path):
    """`serve --immutable`: the real command, over HTTP; Datasette counts the file once (inspect)
    and treats it as unchanging; the pages work as on a live database."""
    db_path = tmp_path / "finished.db"
    shutil.copy(crawled_db, db_path)
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    with serving(db_path, "--immutable") as url:
        databases = json.loads(fetch(f"{url}/-/databases.json"))
        assert databases[0]["name"] == "finished" and databases[0]["is_mutable"] is False
        found = json.loads(fetch(f"{url}/finished/search.json?q=cotton&_shape=objects"))
        assert found["rows"]
        assert "caci-search" in fetch(f"{url}/")
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


def test_the_default_database_name_is_browsable(crawled_db, tmp_path):
    """data/caci.db is served as the database "caci": its pages must not be shadowed by the
    stylesheet's URL (they were, by a static mount at /caci/, so every page of it was a 404)."""
    db_path = tmp_path / "caci.db"
    shutil.copy(crawled_db, db_path)
    ds = datasette(db_path)
    assert rows(ds, "/caci/reports.json?_shape=objects&_size=1")
    assert "caci-report" in get(ds, "/caci/reports/1").text
    assert "caci-search" in get(ds, "/").text
    css = next(u for u in get(ds, "/caci/reports").text.split('"') if u.endswith("caci.css"))
    assert "caci-body" in get(ds, css).text


def test_pages_compile_no_template_once_started(crawled_db):
    """Templates are compiled at start-up: the first readers after a restart do not queue behind
    Jinja compiling them on the one event loop (bench/datasette_load.py's first-second p99); and
    what start-up made is kept out of later full garbage collections."""
    gc.unfreeze()
    ds = datasette(crawled_db)
    run_async(ds.invoke_startup())
    assert gc.get_freeze_count() > 1000
    compiled = len(ds.jinja_env.cache)
    assert compiled > 10
    for path in ("/", f"/{DB}", f"/{DB}/search?q=Zürich", f"/{DB}/reports", f"/{DB}/reports/1",
                 f"/{DB}/author?name=x"):
        get(ds, path)
    assert len(ds.jinja_env.cache) == compiled


def test_a_datasette_without_an_archive_starts_as_datasette_does(tmp_path):
    """The start-up work (templates compiled, start-up frozen) is for a server of an archive."""
    from datasette.app import Datasette
    from sqlite_utils import Database

    gc.unfreeze()
    Database(tmp_path / "notes.db")["notes"].insert({"id": 1}, pk="id")
    ds = Datasette(files=[str(tmp_path / "notes.db")])
    run_async(ds.invoke_startup())
    assert len(ds.jinja_env.cache) == 0 and gc.get_freeze_count() == 0


def _serve(db_path, *args, timeout=30):
    import subprocess
    import sys

    from tests.conftest import ROOT

    return subprocess.run([sys.executable, "-m", "scraper", "serve", str(db_path), "--port", "1", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"these are my notes, not a database\n" * 10), "is not an SQLite database"),
    (lambda p: p.write_bytes(b""), "is an empty file"),
    (lambda p: __import__("sqlite_utils").Database(p)["notes"].insert({"id": 1}), "of something else"),
])
def test_serve_refuses_what_it_cannot_serve_with_one_line(tmp_path, make, message):
    """Not SQLite, an empty file, another program's database: one line, exit 2, the file as it was
    (the port, 1, is never reached: the refusal comes first)."""
    db_path = tmp_path / "x.db"
    make(db_path)
    before = db_path.read_bytes()
    result = _serve(db_path)
    assert result.returncode == 2, result.stderr[-2000:]
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("serve: ") and message in line
    assert db_path.read_bytes() == before


def test_an_archive_of_an_older_version_is_refused_until_recleaned(crawled_db, tmp_path):
    """The reader's pages query the newest columns (countries): an archive without them was served
    with a broken home page and search; now it is refused, with what to run, and nothing written."""
    from sqlite_utils import Database

    from tests.conftest import cli_here

    shutil.copytree(crawled_db.parent, tmp_path / "old")  # the database and its WARC folder
    db_path = tmp_path / "old" / crawled_db.name
    old = Database(db_path)
    old.execute("alter table reports drop column countries")
    old.execute("alter table reports drop column changed_at")
    old.execute("delete from _sqlite_migrations where name in ('m007_countries', 'm008_changed_at')")
    old.conn.commit()
    old.close()
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    result = _serve(db_path)
    assert result.returncode == 2, result.stderr[-2000:]
    [line] = result.stderr.strip().splitlines()
    assert "lacks m007_countries, m008_changed_at" in line and f"python -m scraper reclean {db_path}" in line
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before
    recleaned = cli_here("reclean", str(db_path), "--workers", "0")
    assert recleaned.returncode == 0, recleaned.stderr[-2000:]
    ds = datasette(db_path)
    assert "country?name=" in get(ds, "/").text and rows(ds, f"/{DB}/country.json?name=Kazakhstan")


@pytest.mark.parametrize("stem", ["caci.2026", "a:b{d}", "archive's-copy"])
def test_any_archive_is_served_whatever_its_file_name(crawled_db, tmp_path, stem):
    """The name is filled into the metadata as data: its links (here the reports table's
    description) lead to the database as Datasette writes its name in a URL."""
    from datasette.utils import tilde_encode

    db_path = tmp_path / f"{stem}.db"
    shutil.copy(crawled_db, db_path)
    ds = datasette(db_path)
    base = f"/{tilde_encode(stem)}"
    page = get(ds, f"{base}/reports").text
    assert f'href="{base}/search"' in page
    assert rows(ds, f"{base}/reports.json?_shape=objects&_size=1")
    assert "caci-report" in get(ds, f"{base}/reports/1").text
    home = get(ds, "/").text
    assert f'href="{base}/reports"' in home or f"{base}/search" in home


def test_a_name_datasette_cannot_route_is_served_under_a_plain_one(crawled_db, tmp_path):
    """`serve` on "a:b #c {d}.db" (Datasette 0.65 gives 404 for the tables of a database named with
    `#` or a space): served as "a:b-c-{d}", every page reachable; the file is untouched."""
    db_path = tmp_path / "a:b #c {d}.db"
    shutil.copy(crawled_db, db_path)
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    with serving(db_path) as url:
        assert [d["name"] for d in json.loads(fetch(f"{url}/-/databases.json"))] == ["a:b-c-{d}"]
        assert 'href="/a~3Ab-c-~7Bd~7D/search"' in fetch(f"{url}/a~3Ab-c-~7Bd~7D/reports")
        assert "caci-report" in fetch(f"{url}/a~3Ab-c-~7Bd~7D/reports/1")
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


def test_serve_public_is_the_command_s_own(crawled_db, tmp_path):
    """`serve --public` over HTTP: SQL refused (403), pages and searches served."""
    import urllib.error

    db_path = tmp_path / "caci.db"
    shutil.copy(crawled_db, db_path)
    with serving(db_path, "--public") as url:
        with pytest.raises(urllib.error.HTTPError) as refused:
            fetch(f"{url}/caci.json?sql=select+1")
        assert refused.value.code == 403
        assert json.loads(fetch(f"{url}/caci/search.json?q=cotton&_shape=objects"))["rows"]
        assert "caci-report" in fetch(f"{url}/caci/reports/1")


@pytest.mark.parametrize("query", ['"', "(", "NEAR(", '"unterminated', "cotton"])
def test_the_table_search_box_takes_any_input(ds, query):
    """`_search="` on the reports table was an HTTP 400 (FTS5 syntax): the box takes words."""
    from urllib.parse import quote

    found = rows(ds, f"/{DB}/reports.json?_search={quote(query)}&_shape=objects")
    if query in ('"', "cotton"):
        assert bool(found) == (query == "cotton")
    get(ds, f"/{DB}/reports?_search={quote(query)}")  # the page too: HTTP 200


def test_a_year_filter_that_is_not_a_year_is_left_out_and_said_so(ds):
    plain = rows(ds, f"/{DB}/search.json?q=cotton&_shape=objects")
    assert plain
    for bad in ("abc", "20x5", " "):
        assert rows(ds, f"/{DB}/search.json?q=cotton&year_to={bad}&year_from={bad}&_shape=objects") == plain
    page = get(ds, f"/{DB}/search?q=cotton&year_to=abc").text
    assert "To year “abc” is not a year: that filter was left out." in page
    years = sorted(r["published"][:4] for r in plain)
    narrowed = rows(ds, f"/{DB}/search.json?q=cotton&year_to={years[0]}&_shape=objects")
    assert 0 < len(narrowed) <= len(plain) and all(r["published"][:4] <= years[0] for r in narrowed)


def _public(db_path):
    """Real Datasette as `serve --public` configures it: its metadata and its limits."""
    from scraper.web.serve import LIMITS

    settings = {name: (value != "off") if value in ("on", "off") else value
                for name, value in LIMITS["public"].items()}
    metadata = datasette_metadata(db_path.stem, public=True)
    # Without the time budget: these tests ask for many pages at once as one visitor, which it
    # would rightly hold back (it is tested in test_limits.py and by test_serve_public_...).
    del metadata["plugins"]["caci-field-reports"]["time_budget"]
    return real_datasette(db_path, metadata=metadata, settings=settings)


def test_a_public_copy_refuses_sql_of_a_visitor_s_own_and_serves_the_rest(crawled_db):
    from urllib.parse import quote

    ds = _public(crawled_db)
    hostile = quote("with recursive r(i) as (select 1 union all select i + 1 from r) select count(*) from r")

    async def status(path):
        return (await ds.client.get(path)).status_code

    assert run_async(status(f"/{DB}?sql={hostile}")) == 403
    assert run_async(status(f"/{DB}.json?sql=select+1")) == 403
    assert run_async(status(f"/{DB}/reports.json?_where=1")) in (400, 403)
    assert run_async(status(f"/{DB}.db")) == 403  # no download of the whole file
    assert rows(ds, f"/{DB}/search.json?q=cotton&_shape=objects")
    assert "caci-report" in get(ds, f"/{DB}/reports/1").text
    assert get(ds, f"/{DB}/new_reports.atom").text.startswith("<?xml")
    assert "caci-search" in get(ds, "/").text
    assert rows(ds, f"/{DB}/reports.json?_search=cotton&_shape=objects")
    # Served locally, SQL stays available.
    assert rows(datasette(crawled_db), f"/{DB}.json?sql=select+1+as+one&_shape=objects") == [{"one": 1}]


def test_a_public_copy_offers_no_facet_link_it_would_refuse(crawled_db):
    ds = _public(crawled_db)
    page = get(ds, f"/{DB}/reports").text
    assert "_facet" not in page and f'href="/{DB}/search"' in page

    async def status(path):
        return (await ds.client.get(path)).status_code

    assert run_async(status(f"/{DB}/reports?_facet=body")) == 400
