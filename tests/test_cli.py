"""`python -m scraper extract` and `python -m scraper demo`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlite_utils import Database

from tests.conftest import (
    FIXTURES,
    ROOT,
    body_f1,
    cli_here,
    expected_pages,
    fixture_path,
    project_copy,
    run_command,
)

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out


def run(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return run_command("scraper", list(args), timeout=timeout)


def test_extract_prints_one_json_line_per_file_in_order(tmp_path):
    pages = expected_pages()[:3]
    bad = tmp_path / "broken.html"
    bad.write_bytes(b"\xff\xfe<html><body><p>not a report</p>")
    files = [str(fixture_path(pages[0]["file"])), str(bad), str(tmp_path / "missing.html"), str(fixture_path(pages[1]["file"]))]
    result = run("extract", *files)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == files
    assert body_f1(lines[0]["body"], pages[0]["body"]) >= 0.99
    assert lines[0]["title"] == pages[0]["title"] and lines[0]["published"] == pages[0]["published"]
    assert "error" in lines[1] and "error" in lines[2] and "No such file" in lines[2]["error"]
    assert lines[3]["author"] == pages[1]["author"]


def test_extract_reads_the_canonical_url_of_a_saved_page():
    page = expected_pages()[0]
    [line] = [json.loads(x) for x in cli_here("extract", str(fixture_path(page["file"]))).stdout.splitlines()]
    assert line["url"] == "https://www.cacianalyst.org" + page["url"]
    assert line["item_id"] == int(page["url"].split("/item/")[1].split("-")[0])


def test_extract_gives_the_countries_a_report_is_about():
    # The real article's page names six more countries around it; its title and lead name one.
    [line] = [json.loads(x) for x in cli_here("extract", str(fixture_path("real/seed-8001.html"))).stdout.splitlines()]
    assert line["countries"] == ["Kazakhstan"]


def test_demo_crawls_the_sample_site_into_a_database(tmp_path):
    db_path = tmp_path / "demo.db"
    result = run("demo", "--db", str(db_path))
    assert result.returncode == 0, result.stderr[-2000:]
    count = Database(db_path)["reports"].count
    assert count == len(json.loads((FIXTURES / "expected_sections.json").read_text())["reports"])
    assert f"{count} reports stored" in result.stdout
    assert f"scraper serve {db_path}" in result.stdout


def test_the_demo_runs_from_an_installed_copy(tmp_path):
    """Issue 12: a non-editable install, run away from the checkout: the sample site is package data."""
    import os

    target = tmp_path / "installed"
    source = project_copy(tmp_path / "source")  # a build writes beside its sources
    # With the test environment's setuptools: nothing downloaded (the tests need no network).
    build = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                            "--no-index", "--target", str(target), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    assert (target / "sample" / "site" / "routes.json").is_file()
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_")} | {"PYTHONPATH": str(target)}
    result = subprocess.run([sys.executable, "-m", "scraper", "demo", "--db", "demo.db"], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "reports stored in" in result.stdout and str(ROOT) not in result.stdout
    assert Database(workdir / "demo.db")["reports"].count > 0


def test_extract_refuses_an_input_above_the_crawls_size_limit(tmp_path):
    """Issue 15: `extract /dev/zero` grew to gigabytes; a file above the limit is refused (read no
    further than the limit), and the batch goes on."""
    page = expected_pages()[0]
    huge = tmp_path / "huge.html"
    with huge.open("wb") as f:
        f.truncate(10 * 1024 * 1024 + 1)  # sparse: nothing written but its size
    result = run("extract", str(huge), str(fixture_path(page["file"])), timeout=60)
    big, good = [json.loads(line) for line in result.stdout.splitlines()]
    assert big == {"file": str(huge), "error": "TooLargeError: larger than 10485760 bytes (DOWNLOAD_MAXSIZE, "
                                               "as the crawl refuses it)"}
    assert good["title"] == page["title"]


def test_extract_names_and_skips_what_is_not_a_regular_file(tmp_path):
    """A FIFO hung the command for ever (it waits for a writer); a device never ends. Each is
    named and skipped, the batch goes on."""
    import os

    page = expected_pages()[0]
    fifo = tmp_path / "pipe.html"
    os.mkfifo(fifo)
    result = run("extract", str(fifo), "/dev/zero", str(tmp_path), str(fixture_path(page["file"])), timeout=30)
    pipe, zero, folder, good = [json.loads(line) for line in result.stdout.splitlines()]
    assert pipe == {"file": str(fifo), "error": "NotARegularFile: not a regular file (a FIFO, a device or a socket)"}
    assert zero["error"] == pipe["error"] and folder["error"] == "NotARegularFile: a folder"
    assert good["title"] == page["title"] and result.returncode == 0
