"""Shared fixtures: the fixture site, a local server for it, and a real crawl runner."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings as hypothesis_settings

from analyst.text import words
from sample.server import SiteServer
from scraper.settings import CACI_MIN_BODY_WORDS

if TYPE_CHECKING:
    from tests.forkserver import ForkedProcess, ForkServer

# CI explores the same examples every run, so main stays green or red for a reason; a local
# run explores new ones (and a counterexample found there becomes a regression test).
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SITE = ROOT / "sample" / "site"  # package data: the demo serves it too
MIN_WORDS = CACI_MIN_BODY_WORDS  # as the crawl cleans
EXPECTED = FIXTURES / "expected"


def body_prf(pred: str, gold: str) -> tuple[float, float, float]:
    """Word-level precision, recall and F1 of a body, as ../shared/tools/score.py counts them."""
    p, g = Counter(words(pred)), Counter(words(gold))
    common = sum((p & g).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / sum(p.values()), common / sum(g.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def body_f1(pred: str, gold: str) -> float:
    return body_prf(pred, gold)[2]


def fixture_path(name: str) -> Path:
    """A fixture page: in the sample site, or (`real/...`) the real article under tests/fixtures."""
    return FIXTURES / name if name.startswith("real/") else SITE / name


def fixture_html(name: str) -> str:
    """A fixture page decoded as the crawler would: with its HTTP Content-Type header."""
    from analyst.pages import decode_html

    routes = json.loads((SITE / "routes.json").read_text())
    route = next((r for r in routes.values() if r["file"] == name), {})
    header = route.get("type", "text/html") + (f"; charset={route['charset']}" if route.get("charset") else "")
    return decode_html(fixture_path(name).read_bytes(), header)


def expected_pages() -> list[dict]:
    """Every fixture page that carries a report, with its hand-checked expected report."""
    return [json.loads(p.read_text()) | {"name": p.stem} for p in sorted(EXPECTED.glob("*.json"))]


# What a user's own crawl keeps in the checkout, and what a build of it leaves there: the tests
# never write there (they did: the doctor left a database and WARC files in data/, the demo an HTTP
# cache in .scrapy/, the installed-copy test setuptools' build/ and egg-info).
CHECKOUT_STATE = ("data", ".scrapy", "httpcache", "build", "caci_field_reports.egg-info")


def _checkout_state() -> dict[str, tuple[int, int]]:
    found = {}
    for top in CHECKOUT_STATE:
        for path in [ROOT / top, *(ROOT / top).rglob("*")] if (ROOT / top).exists() else []:
            info = path.stat()
            found[str(path.relative_to(ROOT))] = (info.st_size, info.st_mtime_ns)
    return found


def project_copy(folder: Path) -> Path:
    """The project's sources copied into `folder`, for a test that builds or deploys it (a build
    writes build/ and egg-info beside the sources): not the user's data, caches or builds."""
    shutil.copytree(ROOT, folder, ignore=shutil.ignore_patterns(
        ".git", ".venv", "data", "build", "*.egg-info", "__pycache__", ".scrapy", ".pytest_cache", ".hypothesis",
        "bench", "docs"))
    return folder


@pytest.fixture(scope="session", autouse=True)
def checkout_untouched():
    """Fails the run if any test wrote into the checkout's data, caches or build folders."""
    before = _checkout_state()
    yield
    after = _checkout_state()
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"the tests wrote into the checkout: {changed[:10]}"


# The longest files, longest first (seconds of a parallel run, measured with --durations=0):
# bench 40, browser 39, serve 34, cron 33, reclean 30, cli 28, crawl 26, archive 24, reliability
# 24, sections 23. Only the order of the run changes; a file not named here keeps its place.
LONGEST_FILES = ("test_bench", "test_browser", "test_serve", "test_cron", "test_reclean", "test_cli",
                 "test_crawl", "test_archive", "test_reliability", "test_sections")


def pytest_collection_modifyitems(config, items) -> None:
    """The longest files first, then the other files with slow tests, then the quick ones: xdist
    gives a worker a whole file at a time (--dist loadfile, --no-loadscope-reorder), so the long
    ones start early and the quick ones fill the workers' last seconds (a long file started last
    kept one worker busy while the others idled: 10-20 s of a 2-minute run)."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}

    def rank(item) -> tuple[int, int]:
        if item.path.stem in LONGEST_FILES:
            return 0, LONGEST_FILES.index(item.path.stem)
        return (1 if item.path in slow_files else 2), 0

    items.sort(key=rank)


@pytest.fixture(params=["foreign", "empty"])
def not_ours(request, tmp_path) -> Path:
    """tmp_path/other.db, a file this project did not make: another program's database, or 0 bytes."""
    from sqlite_utils import Database

    path = tmp_path / "other.db"
    if request.param == "foreign":
        Database(path)["notes"].insert({"id": 1}, pk="id")
    else:
        path.write_bytes(b"")
    return path


@pytest.fixture
def site_server():
    """The fixture site served on 127.0.0.1 (a fresh request log per test)."""
    with SiteServer(SITE) as server:
        yield server


@pytest.fixture(scope="session")
def crawled_db(tmp_path_factory) -> Path:
    """A database filled by one real crawl of the fixture site (shared: treat it as read-only).

    One crawl for the whole run: the first xdist worker to ask makes it in the run's temporary
    folder (which holds each worker's own), the others wait on the lock and take it as it is."""
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder, db_path = root / "crawled", root / "crawled" / "crawl.db"
    with open(root / "crawled.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "finished").exists():
            shutil.rmtree(folder, ignore_errors=True)  # a worker's crawl that failed: start again
            folder.mkdir()
            with SiteServer(SITE) as server:
                # The crawl's default cleaning (worker processes, at normal priority on a busy machine).
                stats = crawl_here(f"{server.url}/publications/field-reports.html", db_path,
                                   CACI_CLEANING_WORKERS="auto")
            assert finished(stats), stats
            (folder / "finished").touch()
    return db_path


@pytest.fixture
def expected_crawl() -> dict:
    """What a perfect crawl of the fixture site stores, fails on and never requests."""
    return json.loads((FIXTURES / "expected_crawl.json").read_text())


@pytest.fixture
def archive(tmp_path):
    """A writable synthetic archive of 12 reports (3 listing pages of 4, newest first) in tmp_path/site."""
    from tests.fixtures.make_site import archive_specs, write_archive

    specs = archive_specs(12, seed=5)
    write_archive(tmp_path / "site", specs, page_size=4)
    return tmp_path / "site", specs


def project_crawler(spidercls=None, **overrides):
    """A Scrapy crawler with the project's settings (every default, from scraper/settings.py) and `overrides`."""
    from scrapy.utils.test import get_crawler

    import scraper.settings as project

    defaults = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    return get_crawler(spidercls, settings_dict=defaults | overrides)


def run_async(coroutine):
    """Run a coroutine to completion on an event loop of its own, in a thread of its own: the
    Datasette and pipeline tests then never meet the asyncio loop that Twisted's reactor runs on
    in this process for the in-process crawl tests."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def _test_settings_dict(db_path: Path, retries: int) -> dict:
    """What every test crawl sets: its own database and cache, politeness delays off."""
    # Pages cleaned in the crawler's process: a cleaning worker is a Python start and the cleaning
    # modules' import (~0.4 s of CPU) per crawl, and the suite is CPU-bound on two cores. The worker
    # path (the default) is crawled by the session's crawled_db, tests/test_worker.py,
    # tests/test_cleaning.py and the writer-process variants of tests/test_archive.py.
    return {"SQLITE_PATH": str(db_path), "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": 0,
            "RETRY_TIMES": retries, "CACI_RETRY_BACKOFF_BASE": 0.05, "CACI_CLEANING_WORKERS": 0, "CACI_CLEANING_IDLE": 0,
            "HTTPCACHE_DIR": str(db_path.parent / "httpcache")}


def _test_settings(db_path: Path, retries: int) -> list[str]:
    """The same as `-s` flags, for a crawl in a subprocess."""
    return [arg for name, value in _test_settings_dict(db_path, retries).items() for arg in ("-s", f"{name}={value}")]


def cli_here(*args: str) -> subprocess.CompletedProcess:
    """`python -m scraper ARGS` run in this process (no Python start-up): its exit code and what it
    printed. For commands that end before any crawl or server (a refusal, extract, export); what
    needs a process of its own (signals, locks, a crawl's reactor) runs in a subprocess."""
    import contextlib
    import io

    from scraper.cli import main

    out, err, environ = io.StringIO(), io.StringIO(), dict(os.environ)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.environ.clear()
        os.environ.update(environ)  # the settings module's variable, set by the command
    return subprocess.CompletedProcess(["python", "-m", "scraper", *args], code, out.getvalue(), err.getvalue())


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_")}


_commands: dict[str, Path | ForkServer] = {}  # this worker's: the server's folder, the server


@pytest.fixture(scope="session", autouse=True)
def command_runner(tmp_path_factory):
    """Where this worker's fork server lives (started by the first command), and its end."""
    _commands["folder"] = tmp_path_factory.getbasetemp()
    yield
    if server := _commands.pop("server", None):
        server.close()


def start_command(module: str, args: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None,
                  stdout: int | None = subprocess.PIPE,
                  stderr: int | None = subprocess.PIPE) -> subprocess.Popen[str] | ForkedProcess:
    """`python -m MODULE ARGS` as a process of its own (text-mode Popen): forked from this worker's
    fork server (tests/forkserver.py: Scrapy and the project already imported), or started as a
    new Python when CACI_TESTS_FRESH_PYTHON is set."""
    from tests.forkserver import ForkServer

    env = _env() if env is None else env
    if os.environ.get("CACI_TESTS_FRESH_PYTHON"):
        return subprocess.Popen([sys.executable, "-m", module, *args], cwd=cwd, env=env, stdout=stdout,
                                stderr=stderr, text=True)
    if "server" not in _commands:
        _commands["server"] = ForkServer(_commands["folder"], ROOT)
    return _commands["server"].popen(module, args, cwd, env, stdout, stderr)


def run_command(module: str, args: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess:
    """start_command, waited for: its exit code and what it printed (as subprocess.run gives them)."""
    process = start_command(module, args, cwd, env)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def run_cron(db_path: Path, start_url: str, *args: str, timeout: int = 120,
             wait: bool = True) -> subprocess.CompletedProcess | subprocess.Popen[str] | ForkedProcess:
    """`python -m scraper cron` as a process of its own, its data (lock, log, jobs) beside `db_path`;
    with `wait=False`, the running process."""
    cron = ["cron", "--start-url", start_url, *_test_settings(db_path, retries=1), *args]
    return run_command("scraper", cron, timeout=timeout) if wait else start_command("scraper", cron)


async def crawl(start_url: str, db_path: Path, spider: str = "field_reports", args: dict | None = None,
                **overrides) -> dict:
    """The spider run in this process, through Scrapy's engine (no `scrapy crawl` start-up, ~0.9 s
    less), with the settings run_crawl gives; its stats. For tests that look at what a crawl
    stored; what the command itself does (its lock, its last line, its exit code) needs run_crawl.
    A test awaits it (`@pytest_twisted.ensureDeferred async def test_...`); a fixture calls crawl_here."""
    from scraper.spiders.analyst import AnalystSpider, FieldReportsSpider

    spidercls = {s.name: s for s in (AnalystSpider, FieldReportsSpider)}[spider]
    settings = _test_settings_dict(db_path, retries=2) | {"LOG_LEVEL": "WARNING"} | overrides
    crawler = project_crawler(spidercls, **settings)
    await crawler.crawl(start_url=start_url, **(args or {}))
    return crawler.stats.get_stats()


def crawl_here(start_url: str, db_path: Path, spider: str = "field_reports", args: dict | None = None,
               **overrides) -> dict:
    """crawl(), waited for from a fixture (outside the reactor's greenlet)."""
    import pytest_twisted
    from twisted.internet.defer import ensureDeferred

    return pytest_twisted.blockon(ensureDeferred(crawl(start_url, db_path, spider, args, **overrides)))


def finished(stats: dict) -> bool:
    """Whether an in-process crawl ended as a good `scrapy crawl` run does (exit 0)."""
    return stats.get("finish_reason") == "finished" and stats.get("caci/outcome") == "finished"


def run_crawl(start_url: str, db_path: Path, *args: str, timeout: int = 120,
              spider: str = "field_reports") -> subprocess.CompletedProcess:
    """`scrapy crawl <spider>` as a process of its own (start_command) from the repo root, politeness delays off."""
    return run_command("scrapy", ["crawl", spider, "-a", f"start_url={start_url}", *_test_settings(db_path, retries=2),
                                  *args], timeout=timeout)


@pytest.fixture
def drifted_site(tmp_path) -> Path:
    """A copy of the fixture site after a redesign: item pages keep their text, lose K2's markup."""
    import re

    root = tmp_path / "drifted"
    shutil.copytree(SITE, root)
    for page in root.glob("*.html"):
        html = page.read_text(encoding="utf-8", errors="surrogateescape")
        if "itemView" in html:
            html = re.sub(r'(class="[^"]*?)\bitem', r"\1post", html).replace('id="k2Container"', 'id="main"')
            page.write_text(html, encoding="utf-8", errors="surrogateescape")
    return root


@pytest.fixture
def small_disk(tmp_path):
    """A factory for small real filesystems (tmpfs of `kb` KiB) under tmp_path, unmounted after.

    Mounting needs root (as CI runs); elsewhere the tests that need one are skipped with the reason.
    """
    mounts: list[Path] = []

    def make(kb: int, name: str = "disk") -> Path:
        point = tmp_path / name
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kb}k", "tmpfs", str(point)],
                              capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
        mounts.append(point)
        return point

    yield make
    for point in reversed(mounts):
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def remount_read_only(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True, capture_output=True)


@pytest.fixture
def worker_process():
    """A pipelines.worker.WorkerProcess (started by its first call), closed after the test."""
    from pipelines.worker import WorkerProcess

    worker = WorkerProcess()
    yield worker
    worker.close()
