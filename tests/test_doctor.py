"""`python -m scraper doctor` against the sample site, a drifted copy of it, and no site at all."""

from __future__ import annotations

import socket
import subprocess

import pytest

from sample.server import SiteServer
from tests.conftest import ROOT, SITE, run_command

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out


def doctor(start_url: str, *args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    """The doctor as a user runs it, but without the polite delays (a local server)."""
    fast = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
    return run_command("scraper", ["doctor", "--start-url", start_url, *fast, *args], cwd=cwd)


def test_healthy_site_shows_every_field_and_passes_within_ten_requests():
    with SiteServer(SITE) as server:
        result = doctor(f"{server.url}/publications/field-reports.html")
        paths = server.paths()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("doctor: OK — 4 section(s)")
    for field in ("title", "published", "author", "hits", "tags", "K2 listing markup", "report links"):
        assert field in result.stdout
    assert "Tashkent Eases Currency Controls" in result.stdout and "? no author" in result.stdout
    assert paths[0] == "/robots.txt" and len(paths) <= 10


def test_drifted_site_fails_and_says_what_changed(drifted_site):
    with SiteServer(drifted_site) as server:
        result = doctor(f"{server.url}/publications/field-reports.html", "--sections", "field-reports")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("doctor: PROBLEM — field-reports:") and "no K2 item markup" in last


def test_offline_gives_the_crawls_message():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = doctor(f"http://127.0.0.1:{port}/publications/field-reports.html", "--sections", "field-reports")
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1].startswith(
        "caci-field-reports: the site cannot be reached, nothing was crawled: ")
    assert "Traceback" not in result.stderr


def test_a_bad_start_url_is_a_usage_error():
    result = doctor("ftp://example.org/x")
    assert result.returncode == 2 and "start_url must be" in result.stderr


def test_the_doctor_writes_nothing_and_honours_the_settings(tmp_path):
    """A check: run in an empty folder it leaves it empty (it left a database and a WARC file),
    and `-s CACI_MIN_BODY_WORDS=` changes its verdict (the setting was read as a constant)."""
    with SiteServer(SITE) as server:
        healthy = doctor(f"{server.url}/publications/field-reports.html", "--sections", "field-reports", cwd=tmp_path)
        strict = doctor(f"{server.url}/publications/field-reports.html", "--sections", "field-reports",
                        "-s", "CACI_MIN_BODY_WORDS=100000", cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stderr[-2000:]
    assert strict.returncode == 1 and "no article text" in strict.stderr.strip().splitlines()[-1]
    assert list(tmp_path.iterdir()) == []
