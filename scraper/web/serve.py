"""`python -m scraper serve`: the database in Datasette, read-only, with the project's metadata."""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from markupsafe import escape

from scraper.exits import EXIT_OK, EXIT_USAGE

HERE = Path(__file__).resolve().parent
METADATA = HERE / "metadata.yml"


PLACEHOLDER = "DATABASE"


def _fill(node: Any, name: str, in_url: str) -> Any:
    """`node` with the placeholder replaced: a key or a whole value by the database's name, inside
    text (the links of the descriptions) by the name as Datasette writes it in a URL."""
    if isinstance(node, dict):
        return {(name if key == PLACEHOLDER else key): _fill(value, name, in_url) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(value, name, in_url) for value in node]
    if node == PLACEHOLDER:
        return name
    if isinstance(node, str):
        return node.replace(f"/{PLACEHOLDER}/", f"/{in_url}/")
    return node


def datasette_metadata(database: str, public: bool = False) -> dict[str, Any]:
    """The project's metadata with `database` (the file's stem) where DATABASE stands.

    Filled in as data after parsing, never pasted into the YAML: a name with `:`, `#` or `{`
    would change what the YAML says, and one with a dot is written `~2E` in Datasette's URLs.
    """
    from datasette.utils import tilde_encode

    parsed = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    if public:  # no SQL of a visitor's own (HTTP 403, `_where=` too): the canned queries stay
        parsed["allow_sql"] = False
        # ...and each visitor a share of the server's time (scraper/web/limits.py).
        parsed.setdefault("plugins", {})["caci-field-reports"] = {"time_budget": TIME_BUDGET}
        # Facets of a visitor's choosing are off (allow_facet): six on the longest columns took
        # ~100 ms of the one event loop each time. The link to them goes too; the search form's
        # section, year, author and tag filters stay.
        reports = parsed["databases"][PLACEHOLDER]["tables"]["reports"]
        reports["description_html"] = re.sub(r"\s*Browse them by <a .*?</a>\.", "", reports["description_html"],
                                             flags=re.S)
    return _fill(parsed, database, escape(tilde_encode(database)))


# A copy on the open web (`serve --public`): with arbitrary SQL and chosen facets off, what a
# visitor can still make the server do is a canned query, a page, a sort; each is cut short at
# these limits, so three query threads are never held for long (bench/datasette_load.py --hostile).
LIMITS = {"local": {"sql_time_limit_ms": 5000, "facet_time_limit_ms": 1000},
          "public": {"sql_time_limit_ms": 500, "facet_time_limit_ms": 100, "max_returned_rows": 200,
                     "allow_download": "off", "allow_csv_stream": "off", "default_allow_sql": "off",
                     "allow_facet": "off"}}


# Per visitor: 25 ms of server time each second, saved up to 0.5 s, 50 ms to start with (a reader's
# page takes 10-30 ms; the costliest a visitor can ask for, ~100 ms). Measured with
# bench/datasette_load.py --hostile.
TIME_BUDGET = {"ms_per_second": 50, "burst_ms": 1000, "start_ms": 100}


def serve_args(db_path: Path, metadata_path: Path, port: int, host: str,
               inspect_file: Path | None = None, public: bool = False) -> list[str]:
    """`datasette serve` arguments; with `inspect_file`, the file is served immutable (-i): opened
    read-only without locking, its table counts taken from `datasette inspect`'s output. `public`:
    the tight limits (the metadata turns SQL off: datasette_metadata(public=True))."""
    files = ["-i", str(db_path), "--inspect-file", str(inspect_file)] if inspect_file else [str(db_path)]
    limits = [arg for name, value in LIMITS["public" if public else "local"].items()
              for arg in ("--setting", name, str(value))]
    # The stylesheet and templates come with the plugin (scraper/web/static, templates).
    return ["serve", *files, "--metadata", str(metadata_path),
            "--host", host, "--port", str(port), "--setting", "default_page_size", "20", *limits,
            # Suggesting facets tries column after column on every table view (~220 ms of a 300 ms
            # page at 3,000 reports); the "browse by" link in the metadata offers the useful ones.
            "--setting", "suggest_facets", "off"]


def served_name(stem: str) -> str:
    """The name the database is served under: its file's stem, unless Datasette cannot route that
    (0.65 answers 404 for the tables of a database whose name has `#` or a space): then the stem
    with each run of such characters as one `-`."""
    return re.sub(r"[^\w.:{}'-]+", "-", stem).strip("-") or "archive"


def run_serve(db_path: Path, port: int = 8001, host: str = "127.0.0.1", immutable: bool = False,
              public: bool = False) -> int:
    from db import DatabaseError, check_ours
    from db.migrations import pending_migrations

    if not db_path.exists():
        print(f"serve: no database at {db_path}; crawl first (see README)", file=sys.stderr)
        return EXIT_USAGE
    try:
        check_ours(db_path, archive=True)  # read-only: what cannot be served is said here, once
    except DatabaseError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # The reader's pages query what the migrations add (countries, changed_at): an archive written
    # by an older version is brought up to date by the writer's side, never by serve (read-only).
    if pending := pending_migrations(db_path):
        print(f"serve: {db_path} was written by an older version (it lacks {', '.join(pending)}); run "
              f"`python -m scraper reclean {db_path}` once (offline: it also fills in the new fields), "
              "then serve it", file=sys.stderr)
        return EXIT_USAGE
    # Imported here, not above: a refusal is said before Datasette's ~0.7 s import.
    from datasette.cli import cli

    with tempfile.TemporaryDirectory() as tmp:
        name = served_name(db_path.stem)
        if name != db_path.stem:  # Datasette names a database by its file: a link by the name it can route
            link = Path(tmp) / f"{name}.db"
            link.symlink_to(db_path.resolve())  # SQLite follows it: the WAL is the real file's
            db_path = link
        metadata_path = Path(tmp) / "metadata.json"
        metadata_path.write_text(json.dumps(datasette_metadata(name, public)))
        inspect_file = None
        if immutable:  # a finished copy: counted once now, never re-read for changes
            inspect_file = Path(tmp) / "inspect.json"
            cli.main(args=["inspect", str(db_path), "--inspect-file", str(inspect_file)],
                     prog_name="datasette", standalone_mode=False)
        # Otherwise Datasette opens the database read-only and the crawl can keep writing (WAL).
        cli.main(args=serve_args(db_path, metadata_path, port, host, inspect_file, public), prog_name="datasette",
                 standalone_mode=False)
    return EXIT_OK
