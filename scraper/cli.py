"""Command line: `python -m scraper` extract, demo, cron, doctor, reclean, serve and export."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

from analyst.pages import decode_html
from scraper.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE

logger = logging.getLogger(__name__)


class TooLargeError(ValueError):
    """An input file above the crawl's own size limit (DOWNLOAD_MAXSIZE)."""


class NotARegularFile(OSError):
    """A FIFO, a device, a folder or nothing where a saved page should be."""


def read_limited(path: str, limit: int) -> bytes:
    """The file's bytes, reading at most `limit` + 1 of them: /dev/zero or a huge file is refused
    as the crawl would refuse the response, without memory growing. Only a regular file: opening a
    FIFO would wait for a writer for ever, and a device may never end."""
    if Path(path).exists() and not Path(path).is_file():
        kind = "a folder" if Path(path).is_dir() else "not a regular file (a FIFO, a device or a socket)"
        raise NotARegularFile(kind)
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(f"larger than {limit} bytes (DOWNLOAD_MAXSIZE, as the crawl refuses it)")
    return data


def extract(paths: list[str], min_words: int, max_bytes: int, out: Any = None) -> int:
    """Print one JSON report (or {"error": ...}) per file, in the order given; the crawl's rules:
    `min_words` (CACI_MIN_BODY_WORDS), `max_bytes` (DOWNLOAD_MAXSIZE)."""
    from pipelines.extract import CleaningError, clean_page

    out = out or sys.stdout  # looked up when called: sys.stdout may have been replaced since import
    failed = 0
    for path in paths:
        record: dict
        try:
            html = decode_html(read_limited(path, max_bytes))
            url = Path(path).resolve().as_uri()
            record = clean_page(html, url, min_words=min_words, prefer_canonical=True).to_dict()
            record["file"] = path
        except (OSError, CleaningError, TooLargeError) as exc:  # NotARegularFile is an OSError
            failed += 1
            record = {"file": path, "error": f"{type(exc).__name__}: {exc}"}
        except Exception as exc:  # a page must never crash the batch; say what broke
            failed += 1
            logger.exception("unexpected error extracting %s", path)
            record = {"file": path, "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(record, ensure_ascii=False), file=out, flush=True)
    return EXIT_FAILED if failed == len(paths) and paths else EXIT_OK


def _iso_date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _setting(value: str) -> tuple[str, str]:
    """`-s NAME=VALUE`, as `scrapy crawl -s` takes it."""
    name, equals, setting = value.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(f"{value!r} is not NAME=VALUE")
    return name.strip(), setting


def _workers(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of processes (0 or more)")
    return number


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line and exit 2, as every other refusal of the command."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (--help for usage)\n")


def _settings(args: argparse.Namespace) -> Any:
    """The project's settings with the command's `-s` applied; None (said in one line) if one is bad."""
    from scraper.cron import project_settings
    from scraper.preflight import check_settings

    settings = project_settings(dict(args.set))
    if problem := check_settings(settings):
        print(f"python -m scraper {args.command}: {problem}", file=sys.stderr)
        return None
    return settings


def _reclean(args: argparse.Namespace) -> int:
    from analyst.sections import parse_sections
    from scraper.reclean import run_reclean

    try:
        sections = [s.name for s in parse_sections(args.sections)] if args.sections else None
    except ValueError as exc:
        print(f"reclean: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if (settings := _settings(args)) is None:
        return EXIT_USAGE
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_reclean(settings, Path(args.db or settings.get("SQLITE_PATH")), sections, args.since, args.dry_run,
                       args.workers)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m scraper", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_extract = sub.add_parser("extract", help="clean saved item pages, one JSON line per file")
    p_extract.add_argument("files", nargs="+", metavar="FILE")
    p_extract.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", type=_setting,
                           help="a Scrapy or project setting, as with `scrapy crawl -s`")
    p_demo = sub.add_parser("demo", help="serve the sample site locally and crawl it into a demo database")
    p_demo.add_argument("--db", default="data/demo.db", help="demo database path (default: %(default)s)")
    p_demo.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", type=_setting,
                        help="a Scrapy or project setting for the demo's crawl, as with `scrapy crawl -s`")
    p_cron = sub.add_parser("cron", help="one locked, logged crawl for cron (incremental unless --full)")
    p_cron.add_argument("--full", action="store_true", help="re-walk the whole listing, re-fetch every report")
    p_cron.add_argument("--start-url", help="listing URL to start from (default: CACI_START_URL)")
    p_cron.add_argument("--sections", help='"all", or section slugs with commas (default: Field Reports alone)')
    p_cron.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", type=_setting,
                        help="a Scrapy or project setting, as with `scrapy crawl -s`")
    p_doctor = sub.add_parser("doctor", help="check the live site: one listing and one item page per section")
    p_doctor.add_argument("--sections", help='"all" (default), or section slugs with commas')
    p_doctor.add_argument("--start-url", help="a listing URL on the site to check (default: CACI_START_URL)")
    p_doctor.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", type=_setting,
                          help="a Scrapy or project setting, as with `scrapy crawl -s`")
    p_reclean = sub.add_parser("reclean", help="clean the archived copies again, offline; store what changed")
    p_reclean.add_argument("db", nargs="?", help="database (default: SQLITE_PATH, data/caci.db)")
    p_reclean.add_argument("--sections", help="only reports of these sections (slugs with commas, or all)")
    p_reclean.add_argument("--since", type=_iso_date, metavar="YYYY-MM-DD",
                           help="only reports published on or after this date")
    p_reclean.add_argument("--dry-run", action="store_true", help="count what would change; write nothing")
    p_reclean.add_argument("--workers", type=_workers, help="cleaning processes (default: one per core; 0: none)")
    p_reclean.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", type=_setting,
                           help="a Scrapy or project setting, as with `scrapy crawl -s`")
    p_serve = sub.add_parser("serve", help="browse the database in Datasette (read-only)")
    p_serve.add_argument("db", nargs="?", help="database (default: SQLITE_PATH, data/caci.db)")
    p_serve.add_argument("--port", type=int, default=8001)
    p_serve.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", type=_setting,
                         help="a project setting (SQLITE_PATH: the database when none is named)")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--immutable", action="store_true",
                         help="a finished copy nothing writes to: served immutable, counted once (faster)")
    p_serve.add_argument("--public", action="store_true",
                         help="a copy on the open web: no SQL of a visitor's own (HTTP 403), tight time limits; "
                              "pages, search, feeds and the canned queries stay")
    p_export = sub.add_parser("export", help="write the archive as a dataset release (JSONL, CSV, Data Package)")
    p_export.add_argument("db", nargs="?", help="database (default: SQLITE_PATH, data/caci.db)")
    p_export.add_argument("--out", required=True, type=Path, metavar="DIR",
                          help="folder for the release (created; an earlier release there is replaced)")
    p_export.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", type=_setting,
                          help="a project setting (SQLITE_PATH: the database when none is named)")
    args = parser.parse_args(argv)
    if args.command == "export":
        from scraper.export import run_export

        if (settings := _settings(args)) is None:
            return EXIT_USAGE
        return run_export(Path(args.db or settings.get("SQLITE_PATH")), args.out)
    if args.command == "serve":
        from scraper.web.serve import run_serve

        if (settings := _settings(args)) is None:
            return EXIT_USAGE
        return run_serve(Path(args.db or settings.get("SQLITE_PATH")), args.port, args.host, args.immutable,
                         args.public)
    if args.command == "doctor":
        from scraper.doctor import run_doctor

        if (settings := _settings(args)) is None:
            return EXIT_USAGE
        return run_doctor(settings, args.start_url, args.sections)
    if args.command == "reclean":
        return _reclean(args)
    if args.command == "cron":
        from scraper.cron import run_cron

        return run_cron(full=args.full, start_url=args.start_url, overrides=dict(args.set), sections=args.sections)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "extract":
        if (settings := _settings(args)) is None:
            return EXIT_USAGE
        return extract(args.files, settings.getint("CACI_MIN_BODY_WORDS"), settings.getint("DOWNLOAD_MAXSIZE"))
    from scraper.demo import run_demo

    if _settings(args) is None:  # checked here, before the sample site is served
        return EXIT_USAGE
    return run_demo(Path(args.db), overrides=args.set)

