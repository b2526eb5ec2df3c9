"""Before anything is opened: bad settings and arguments (exit 2), a WARC folder that cannot be (exit 4)."""

from __future__ import annotations

import subprocess

import pytest

from scraper.preflight import check_settings, parse_flag
from tests.conftest import cli_here, run_command, run_crawl

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out

START = "http://127.0.0.1:9/publications/field-reports.html"  # never reached: refused before


@pytest.mark.parametrize("overrides, problem", [
    ({"CACI_MAX_ATTEMPTS": "abc"}, "setting CACI_MAX_ATTEMPTS='abc' is not a whole number"),
    ({"CACI_WARC_MAX_BYTES": "abc"}, "setting CACI_WARC_MAX_BYTES='abc' is not a whole number"),
    ({"CACI_MAX_FAILURE_RATE": "half"}, "setting CACI_MAX_FAILURE_RATE='half' is not a number"),
    ({"CACI_WARC_ENABLED": "perhaps"}, "setting CACI_WARC_ENABLED='perhaps' is not true or false"),
    ({"DOWNLOAD_DELAY": "-1"}, "setting DOWNLOAD_DELAY='-1' must not be negative"),
    ({"CACI_CLEANING_WORKERS": "many"}, "setting CACI_CLEANING_WORKERS='many' is not 'auto' or a whole number"),
    ({"CACI_CLEANING_WORKERS": "2", "SQLITE_WRITER_PROCESS": "0", "CACI_MAX_ATTEMPTS": "5"}, None),
    ({}, None),
])
def test_check_settings_names_the_first_bad_one(overrides, problem):
    from scraper.cron import project_settings

    assert check_settings(project_settings(overrides)) == problem


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("0", False), ("off", False),
                                             (None, False), (True, True), ("maybe", None)])
def test_parse_flag(value, expected):
    if expected is None:
        with pytest.raises(ValueError, match="not a yes or no"):
            parse_flag(value)
    else:
        assert parse_flag(value) is expected


def _created(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("args, message", [
    (["-s", "CACI_MAX_ATTEMPTS=abc"], "setting CACI_MAX_ATTEMPTS='abc' is not a whole number"),
    (["-s", "CACI_WARC_MAX_BYTES=abc"], "setting CACI_WARC_MAX_BYTES='abc' is not a whole number"),
    (["-a", "full=maybe"], "-a full='maybe' is not a yes or no (1/0, true/false, yes/no, on/off)"),
])
def test_scrapy_crawl_refuses_bad_values_before_anything_is_created(tmp_path, args, message):
    db_path = tmp_path / "data" / "caci.db"
    result = run_crawl(START, db_path, *args)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == f"caci-field-reports: {message}"
    assert "Traceback" not in result.stderr and _created(tmp_path) == []


def test_an_empty_start_url_is_refused_not_taken_for_the_live_site(tmp_path):
    result = run_crawl("", tmp_path / "caci.db")
    assert result.returncode == 2
    assert "start_url= is empty" in result.stderr.strip().splitlines()[-1] and _created(tmp_path) == []


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The command as a user runs it, in a process of its own (the demo crawls)."""
    return run_command("scraper", list(args), timeout=60)


@pytest.mark.parametrize("args, message", [
    (["cron", "-s", "NOEQUALS"], "argument -s/--set: 'NOEQUALS' is not NAME=VALUE"),
    (["cron", "-s", "CACI_MAX_ATTEMPTS=abc"], "setting CACI_MAX_ATTEMPTS='abc' is not a whole number"),
    (["reclean", "DB", "--workers", "-1"], "argument --workers: '-1' is not a number of processes (0 or more)"),
    (["reclean", "DB", "-s", "CACI_MIN_BODY_WORDS=many"], "setting CACI_MIN_BODY_WORDS='many' is not a whole number"),
    (["doctor", "-s", "CACI_MIN_BODY_WORDS=many"], "setting CACI_MIN_BODY_WORDS='many' is not a whole number"),
])
def test_the_commands_refuse_bad_values_in_one_line(tmp_path, args, message):
    db_path = tmp_path / "data" / "caci.db"
    args = [str(db_path) if a == "DB" else a for a in args]
    result = cli_here(*args, "-s", f"SQLITE_PATH={db_path}")
    assert result.returncode == 2, result.stderr[-2000:]
    [line] = result.stderr.strip().splitlines()
    assert message in line and "Traceback" not in result.stderr
    assert _created(tmp_path) == []


@pytest.mark.parametrize("where", ["file", "under-a-file"])
def test_a_warc_folder_that_cannot_be_is_a_storage_error_before_any_request(site_server, tmp_path, where):
    """A plain file where the WARC folder should be was reported as a network failure (exit 3)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "caci-warc").write_text("not a folder")
    args = [] if where == "file" else ["-s", f"CACI_WARC_DIR={tmp_path / 'data' / 'caci-warc' / 'sub'}"]
    result = run_crawl(f"{site_server.url}/publications/field-reports.html", tmp_path / "data" / "caci.db", *args)
    assert result.returncode == 4, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("caci-field-reports: the WARC folder ") and "is a file" in last
    assert site_server.paths() == [] and _created(tmp_path / "data") == ["caci-warc"]


@pytest.mark.parametrize("command", [["demo"], ["serve"], ["extract", "x.html"]])
def test_every_command_takes_and_checks_settings(tmp_path, command):
    """`-s` is every command's: a bad value is refused the same way, before anything is done."""
    result = cli_here(*command, "-s", "CACI_MAX_ATTEMPTS=abc")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "setting CACI_MAX_ATTEMPTS='abc' is not a whole number" in result.stderr.strip().splitlines()[-1]


def test_the_demo_passes_its_settings_to_its_crawl(tmp_path):
    db_path = tmp_path / "demo.db"
    result = run_cli("demo", "--db", str(db_path), "-s", "CACI_WARC_ENABLED=False")
    assert result.returncode == 0, result.stderr[-2000:]
    assert db_path.is_file() and not (tmp_path / "demo-warc").exists()
