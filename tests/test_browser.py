"""What a reader sees, in headless Chromium, from a real `python -m scraper serve` on 127.0.0.1.

Chromium is Debian's `chromium` package, installed by the test command's setup (the README's
second command, which .ci/run calls), never by a test; where it is absent these tests are
skipped with the reason. Screenshots go to
$CACI_SCREENSHOT_DIR when set (that is how docs/*.png are made), else to a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--hide-scrollbars", "--window-size=1280,900",
                  "--virtual-time-budget=10000"]


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium (Debian's package, put there by the test setup)."""
    path = find_chromium()
    if path is None:
        pytest.skip("Chromium is not installed: the README's test command installs Debian's `chromium` "
                    "package where it can (root with apt-get)")
    return path


@pytest.fixture(scope="module")
def server(crawled_db):
    """`python -m scraper serve` on a free port of 127.0.0.1, over the crawled fixture site."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "scraper", "serve", str(crawled_db), "--port", str(port)],
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
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("CACI_SCREENSHOT_DIR") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def browse(chromium: str, url: str, tmp: Path, screenshot: Path | None = None) -> str:
    """The DOM after scripts ran (and a screenshot of the page, if asked)."""
    profile = ["--user-data-dir=" + str(tmp / "profile")]
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, *profile, "--dump-dom", url],
                         capture_output=True, text=True, timeout=120).stdout
    if screenshot:
        subprocess.run([chromium, *CHROMIUM_FLAGS, *profile, f"--screenshot={screenshot}", url],
                       capture_output=True, timeout=120)
    return dom


def test_report_page_shows_the_report_as_paragraphs(chromium, server, tmp_path):
    dom = browse(chromium, f"{server}/crawl/reports?title__exact=GEORGIA:+SAAKASHVILI+ALLIES+REGROUP", tmp_path)
    assert "GEORGIA: SAAKASHVILI ALLIES REGROUP" in dom
    report_id = dom.split('/crawl/reports/')[1].split('"')[0]
    page = browse(chromium, f"{server}/crawl/reports/{report_id}", tmp_path)
    article = page[page.index('<article class="caci-report">'):page.index("</article>")]
    assert article.count("<p>") == 5
    assert "Zürich, at a café" in article


def test_search_results_highlight_matches(chromium, server, tmp_path, shots):
    shot = shots / "search.png"
    dom = browse(chromium, f"{server}/crawl/search?q=cotton", tmp_path, shot)
    assert dom.count("<mark>cotton</mark>") >= 3
    assert shot.stat().st_size > 20_000


def test_chart_page_draws_the_chart(chromium, server, tmp_path, shots):
    shot = shots / "chart.png"
    dom = browse(chromium, f"{server}/-/dashboards/archive/reports-per-year", tmp_path, shot)
    chart = dom[dom.index('class="chart-container'):]
    assert "<svg" in chart or "<canvas" in chart
    assert shot.stat().st_size > 10_000
