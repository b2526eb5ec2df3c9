"""What makes a crawl pointless, found before anything is opened: bad settings or arguments, a
database that is not ours, an archive folder that cannot be written. (exit code, one line) or None."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import db as store
from scraper import settings as defaults
from scraper.exits import EXIT_DATABASE, EXIT_USAGE

logger = logging.getLogger(__name__)

TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}
AUTO = "auto"  # a default that means "decide for me"


def parse_flag(value: str | bool | None, name: str = "full") -> bool:
    """A spider argument's yes or no (`-a full=1`); ValueError for anything else ("maybe")."""
    if isinstance(value, bool) or value is None:
        return bool(value)
    word = str(value).strip().lower()
    if word in TRUE | FALSE:
        return word in TRUE
    raise ValueError(f"-a {name}={value!r} is not a yes or no (1/0, true/false, yes/no, on/off)")


def _typed_defaults() -> dict[str, type]:
    """The project's numeric and boolean settings, typed by their defaults in scraper/settings.py."""
    return {name: type(value) for name, value in vars(defaults).items()
            if name.isupper() and type(value) in (bool, int, float)}


# What a value must be, in words, by the type of its setting's default.
WORDS = {int: "a whole number", float: "a number", bool: "true or false"}
# Settings whose default is AUTO, and what they take otherwise.
AUTO_OR = {"SQLITE_WRITER_PROCESS": bool, "CACI_CLEANING_WORKERS": int}


def check_settings(settings: Any) -> str | None:
    """The first setting whose value its reader would refuse (or that is negative), named."""
    getters = {bool: settings.getbool, int: settings.getint, float: settings.getfloat}
    for name, kind in _typed_defaults().items():
        raw = settings.get(name)
        try:
            value = getters[kind](name)
        except (TypeError, ValueError):
            return f"setting {name}={raw!r} is not {WORDS[kind]}"
        if kind is not bool and value < 0:
            return f"setting {name}={raw!r} must not be negative"
    for name, kind in AUTO_OR.items():
        raw = settings.get(name)
        if str(raw).strip().lower() != AUTO:
            try:
                getters[kind](name)
            except (TypeError, ValueError):
                return f"setting {name}={raw!r} is not {AUTO!r} or {WORDS[kind]}"
    return None


def check_folder(path: Path, what: str) -> str | None:
    """Why `path` cannot become a writable folder, without creating it; None if it can."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        return f"{what} {path} cannot be a folder: {probe} is a file"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{what} {path} cannot be written ({probe} is not writable)"
    return None


def preflight(settings: Any, start_url: str | None, sections: str | None = None,
              full: str | bool | None = None) -> tuple[int, str] | None:
    """Problems that make a crawl pointless, found before it starts: (exit code, message).

    In this order, so a refused run leaves nothing behind: settings and arguments (2), then the
    database and the archive folder (4); the database is only opened once all else is right.
    """
    from analyst.sections import parse_sections
    from analyst.urls import CrawlScope
    from scraper.archive import warc_folder

    if problem := check_settings(settings):
        return EXIT_USAGE, problem
    if start_url is not None and not start_url.strip():
        return EXIT_USAGE, "-a start_url= is empty: give a listing URL, or leave it out for CACI_START_URL"
    try:
        CrawlScope.from_start_url(start_url or settings.get("CACI_START_URL"))
        if sections is not None:
            parse_sections(sections)
        parse_flag(full)
    except ValueError as exc:
        return EXIT_USAGE, str(exc)
    if settings.getbool("CACI_WARC_ENABLED") and (problem := check_folder(warc_folder(settings), "the WARC folder")):
        return EXIT_DATABASE, problem
    if settings.getbool("SQLITE_ENABLED"):
        try:
            # Not SQLite, not ours, or a store that cannot be written (read-only, full): one line,
            # here; a file that is not ours is refused before anything is written to it.
            database = store.open_db(settings.get("SQLITE_PATH"))
            try:
                store.check_writable(database)
            finally:
                database.close()
        except (store.DatabaseError, OSError) as exc:
            return EXIT_DATABASE, str(exc)
    return None
