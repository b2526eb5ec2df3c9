"""What a reader sees, in headless Chromium, from a real `python -m scraper serve` on 127.0.0.1.

Chromium is Debian's `chromium` package, installed by the test command's setup (the README's
second command, which .ci/run calls), never by a test; where it is absent these tests are
skipped with the reason. Screenshots go to
$CACI_SCREENSHOT_DIR when set (that is how docs/*.png are made), else to a temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chromium import Browser
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out

def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chromium(tmp_path_factory) -> Iterator[Browser]:
    """One headless Chromium (Debian's package, put there by the test setup) for the module's pages."""
    path = find_chromium()
    if path is None:
        pytest.skip("Chromium is not installed: the README's test command installs Debian's `chromium` "
                    "package where it can (root with apt-get)")
    browser = Browser(path, tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()


@contextlib.contextmanager
def serving(db_path: Path) -> Iterator[str]:
    """`python -m scraper serve` over `db_path` on a free port of 127.0.0.1; its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "scraper", "serve", str(db_path), "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/-/versions.json", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"datasette did not start: {process.stderr.read()}")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(crawled_db):
    """The crawled fixture site's database, served."""
    with serving(crawled_db) as url:
        yield url


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("CACI_SCREENSHOT_DIR") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def browse(chromium: Browser, url: str, screenshot: Path | None = None, height: int = 900) -> str:
    """The DOM after scripts ran (and a screenshot of the page, `height` pixels tall, if asked)."""
    return chromium.visit(url, screenshot, height=height)[0]


def test_report_page_shows_the_report_as_paragraphs(chromium, server):
    dom = browse(chromium, f"{server}/crawl/reports?title__exact=GEORGIA:+SAAKASHVILI+ALLIES+REGROUP")
    assert "GEORGIA: SAAKASHVILI ALLIES REGROUP" in dom
    report_id = dom.split('/crawl/reports/')[1].split('"')[0]
    page = browse(chromium, f"{server}/crawl/reports/{report_id}")
    article = page[page.index('<article class="caci-report">'):page.index("</article>")]
    assert article.count("<p>") == 5
    assert "Zürich, at a café" in article


def test_search_results_highlight_matches(chromium, server, shots):
    shot = shots / "search.png"
    dom = browse(chromium, f"{server}/crawl/search?q=cotton", shot)
    assert dom.count("<mark>cotton</mark>") >= 3
    assert shot.stat().st_size > 20_000


def test_chart_page_draws_the_charts(chromium, server, shots):
    shot = shots / "chart.png"
    dom = browse(chromium, f"{server}/-/dashboards/archive?term=cotton", shot)
    # each chart's element, up to the next one's, holds the drawing
    drawn = {part.split('"')[0] for part in dom.split('id="chart-')[1:] if "<svg" in part or "<canvas" in part}
    assert drawn >= {"reports-per-year", "countries-by-year", "term-by-year", "tags-over-time"}
    assert shot.stat().st_size > 10_000


# A report whose text would run script if any page let it: each payload, if it ran, would leave a
# mark in the DOM that --dump-dom shows (the title changed, an element added).
PAYLOAD = ("<script>document.title='PWNED'</script>"
           "<img src=x onerror=\"document.body.setAttribute('data-pwned', 1)\">")


@pytest.fixture(scope="module")
def hostile_server(crawled_db, tmp_path_factory):
    """`serve` over a copy of the crawled database holding one report made of script."""
    import db as store

    db_path = tmp_path_factory.mktemp("hostile") / "crawl.db"
    shutil.copy(crawled_db, db_path)
    database = store.open_db(db_path)
    store.upsert_report(database, {
        "url": "https://www.cacianalyst.org/publications/field-reports/item/1-cotton.html", "item_id": 1,
        "title": f"Cotton {PAYLOAD}", "published": "2012-05-01", "category": "Field Reports",
        "body": f"Cotton harvest {PAYLOAD} first.\n\nCotton second {PAYLOAD}.", "body_html": "<p>x</p>",
        "authors": [f"Mallory {PAYLOAD}"], "author": f"Mallory {PAYLOAD}", "tags": [f"Uzbekistan{PAYLOAD}"],
        "countries": ["Uzbekistan"],
        "author_bio": f"Bio {PAYLOAD}", "hits": 10**9,  # the most read: on the home page
    })
    report_id = next(database.query("select id from reports where item_id = 1"))["id"]
    database.close()
    with serving(db_path) as url:
        yield url, report_id


AUTHOR = "Mallory " + PAYLOAD
PAGES = {  # page kind: (path, what must be on it)
    "home": ("/", ["Search the reports", "Reports per year", "Most read", "Countries", "Crawls: last run"]),
    "crawls": ("/crawl/-/crawls", ["Last successful run", "Open warnings", "Recent runs"]),
    "country": ("/crawl/country?name=Uzbekistan", ["Who writes most on it", "Reports per year", "Cotton"]),
    "search": ("/crawl/search?q=cotton&section=Field+Reports", ["<mark>cotton</mark>", 'name="year_from"']),
    "report": ("/crawl/reports/{id}", ["Related reports", "Cite this report", "BibTeX", "Original:"]),
    "real report": ("/crawl/reports?title__exact=GEORGIA:+SAAKASHVILI+ALLIES+REGROUP", ["SAAKASHVILI"]),
    "author": ("/crawl/author?name=" + urllib.request.quote(AUTHOR), ["Bio ", "1 report"]),
    "table": ("/crawl/reports?_search=cotton", ["cotton"]),
    "charts": ("/-/dashboards/archive?term=cotton", ["Reports per year, by section", "<svg"]),
}


@pytest.mark.parametrize("kind", PAGES)
def test_every_kind_of_page_shows_its_content_runs_no_report_script_and_logs_no_error(
        chromium, hostile_server, kind):
    url, report_id = hostile_server
    path, wanted = PAGES[kind]
    dom, console = chromium.visit(url + path.format(id=report_id))
    for text in wanted:
        assert text in dom, (kind, text)
    assert "<title>PWNED</title>" not in dom and not re.search(r"<body[^>]*data-pwned", dom), kind
    assert "&lt;script&gt;document.title" in dom or kind in ("real report", "charts", "crawls"), kind  # shown, as text
    assert not console, (kind, console)


def test_the_home_page(chromium, server, shots):
    shot = shots / "home.png"
    dom = browse(chromium, f"{server}/", shot)
    assert 'class="caci-search"' in dom and dom.count('class="caci-bar"') >= 5 and "reads</span>" in dom
    assert shot.stat().st_size > 20_000


def test_the_report_page_reads_as_an_article(chromium, server, shots):
    """The screenshot of a real report's page (docs/report.png), and its parts in order."""
    dom = browse(chromium, f"{server}/crawl/reports?title__exact=GEORGIA:+SAAKASHVILI+ALLIES+REGROUP")
    report_id = dom.split('/crawl/reports/')[1].split('"')[0]
    page = browse(chromium, f"{server}/crawl/reports/{report_id}", shots / "report.png", height=1500)
    order = [page.index(marker) for marker in ('<article class="caci-report">', "Related reports",
                                               "Cite this report", "Archived copy", "All fields")]
    assert order == sorted(order)
    assert 'class="caci-author" href="/crawl/author?name=' in page


def test_the_most_prolific_author_s_page(chromium, server, shots):
    home = browse(chromium, f"{server}/")
    author = home.split("<h2>Authors</h2>")[1].split('href="')[1].split('"')[0].replace("&amp;", "&")
    page = browse(chromium, server + author, shots / "author.png")
    assert "caci-author-name" in page and page.count('<h2 class="caci-year">') >= 2


def test_the_most_written_about_country_s_page(chromium, server, shots):
    home = browse(chromium, f"{server}/")
    country = home.split("<h2>Countries</h2>")[1].split('href="')[1].split('"')[0].replace("&amp;", "&")
    page = browse(chromium, server + country, shots / "country.png", height=1100)
    assert "caci-country-name" in page and page.count('<h2 class="caci-year">') >= 2
    assert "Who writes most on it" in page


def test_the_country_by_year_heat_map(chromium, server, shots):
    shot = shots / "heatmap.png"
    dom = browse(chromium, f"{server}/-/dashboards/archive/countries-by-year", shot, height=700)
    assert "<svg" in dom or "<canvas" in dom
    assert shot.stat().st_size > 10_000


def test_the_crawls_view(chromium, server, shots):
    shot = shots / "crawls.png"
    dom = browse(chromium, f"{server}/crawl/-/crawls", shot, height=700)
    assert "Last successful run" in dom and "page failing" in dom
    assert shot.stat().st_size > 10_000


def test_the_browser_hears_what_a_page_says_to_its_console(chromium, server):
    """The console check above can fail: a script's error, an uncaught exception and a failed load
    are each heard."""
    page = ("<script>console.error('said on purpose'); null.boom;</script>"
            f"<img src='{server}/no-such-image.png'>")
    dom, console = chromium.visit("data:text/html," + urllib.request.quote(page))
    assert "said on purpose" in dom
    said = "\n".join(console)
    assert "console.error: said on purpose" in said and "exception: TypeError" in said, said
    assert "Failed to load resource" in said, said
