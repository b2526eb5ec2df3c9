"""Crawls on Scrapyd: the project deployed with scrapyd-deploy to a real Scrapyd on loopback, a job
scheduled there, and the database it writes compared with a local run's."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlite_utils import Database

from sample.server import SiteServer
from tests.conftest import SITE, _env, project_copy

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out

BIN = Path(sys.executable).parent
PROJECT = "caci_field_reports"
# What a clean checkout holds (the deploy builds its egg from a copy, never from this tree).
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, data: list[tuple[str, str]] | None = None) -> dict:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def scrapyd(tmp_path):
    """A real Scrapyd on a free loopback port, its eggs, logs and job database in tmp_path."""
    if not (BIN / "scrapyd").exists():
        pytest.skip("scrapyd is not installed (pip install -e '.[test]')")
    home, port = tmp_path / "scrapyd", free_port()
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\neggs_dir = {home}/eggs\n"
        f"logs_dir = {home}/logs\ndbs_dir = {home}/dbs\nitems_dir =\njobs_to_keep = 5\n"
        "max_proc = 1\npoll_interval = 0.5\n")
    server = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if call(f"{url}/daemonstatus.json")["status"] == "ok":
                break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.skip(f"scrapyd could not start: {server.stdout.read()[-1000:] if server.stdout else ''}")
        time.sleep(0.2)
    yield url, home
    server.terminate()
    server.wait(10)


def test_a_job_scheduled_on_scrapyd_writes_the_same_database_as_a_local_run(scrapyd, tmp_path, crawled_db):
    url, home = scrapyd
    project = project_copy(tmp_path / "project")
    with (project / "scrapy.cfg").open("a") as cfg:
        cfg.write(f"\n[deploy:test]\nurl = {url}/\nproject = {PROJECT}\n")
    deploy = subprocess.run([str(BIN / "scrapyd-deploy"), "test", "--version", "1"], cwd=project, env=_env(),
                            capture_output=True, text=True, timeout=300)
    assert deploy.returncode == 0 and '"status": "ok"' in deploy.stdout + deploy.stderr, deploy.stderr[-2000:]
    assert call(f"{url}/listspiders.json?project={PROJECT}")["spiders"] == ["analyst", "field_reports"]

    db_path = tmp_path / "data" / "caci.db"
    with SiteServer(SITE) as site:
        job = call(f"{url}/schedule.json", [
            ("project", PROJECT), ("spider", "field_reports"),
            ("start_url", f"{site.url}/publications/field-reports.html"),
            ("setting", f"SQLITE_PATH={db_path}"), ("setting", "DOWNLOAD_DELAY=0"),
            ("setting", "AUTOTHROTTLE_ENABLED=0"), ("setting", f"HTTPCACHE_DIR={tmp_path / 'cache'}")])
        assert job["status"] == "ok", job
        deadline = time.monotonic() + 240
        while not any(j["id"] == job["jobid"] for j in call(f"{url}/listjobs.json?project={PROJECT}")["finished"]):
            assert time.monotonic() < deadline, "the Scrapyd job did not finish in 4 minutes"
            time.sleep(0.5)
    log = next((home / "logs" / PROJECT / "field_reports").glob(f"{job['jobid']}.log")).read_text()
    assert "Storing reports in" in log and "Traceback" not in log, log[-3000:]

    def reports(path: Path) -> list[tuple]:
        return list(Database(path).execute("select title, published, author, body from reports order by title"))

    assert reports(db_path) == reports(crawled_db) and len(reports(db_path)) == 24
    assert (db_path.parent / "caci-warc").is_dir()  # the archive beside it, as in a local run
