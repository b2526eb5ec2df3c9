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

from scraper.monitor import EXIT_USAGE

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


def datasette_metadata(database: str) -> dict[str, Any]:
    """The project's metadata with `database` (the file's stem) where DATABASE stands.

    Filled in as data after parsing, never pasted into the YAML: a name with `:`, `#` or `{`
    would change what the YAML says, and one with a dot is written `~2E` in Datasette's URLs.
    """
    from datasette.utils import tilde_encode

    parsed = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    return _fill(parsed, database, escape(tilde_encode(database)))


def serve_args(db_path: Path, metadata_path: Path, port: int, host: str,
               inspect_file: Path | None = None) -> list[str]:
    """`datasette serve` arguments; with `inspect_file`, the file is served immutable (-i): opened
    read-only without locking, its table counts taken from `datasette inspect`'s output."""
    files = ["-i", str(db_path), "--inspect-file", str(inspect_file)] if inspect_file else [str(db_path)]
    # The stylesheet and templates come with the plugin (scraper/web/static, templates).
    return ["serve", *files, "--metadata", str(metadata_path),
            "--host", host, "--port", str(port), "--setting", "default_page_size", "20",
            "--setting", "facet_time_limit_ms", "1000", "--setting", "sql_time_limit_ms", "5000",
            # Suggesting facets tries column after column on every table view (~220 ms of a 300 ms
            # page at 3,000 reports); the "browse by" link in the metadata offers the useful ones.
            "--setting", "suggest_facets", "off"]


def served_name(stem: str) -> str:
    """The name the database is served under: its file's stem, unless Datasette cannot route that
    (0.65 answers 404 for the tables of a database whose name has `#` or a space): then the stem
    with each run of such characters as one `-`."""
    return re.sub(r"[^\w.:{}'-]+", "-", stem).strip("-") or "archive"


def run_serve(db_path: Path, port: int = 8001, host: str = "127.0.0.1", immutable: bool = False) -> int:
    from datasette.cli import cli

    from db import DatabaseError, check_ours

    if not db_path.exists():
        print(f"serve: no database at {db_path}; crawl first (see README)", file=sys.stderr)
        return EXIT_USAGE
    try:
        check_ours(db_path, archive=True)  # read-only: what cannot be served is said here, once
    except DatabaseError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory() as tmp:
        name = served_name(db_path.stem)
        if name != db_path.stem:  # Datasette names a database by its file: a link by the name it can route
            link = Path(tmp) / f"{name}.db"
            link.symlink_to(db_path.resolve())  # SQLite follows it: the WAL is the real file's
            db_path = link
        metadata_path = Path(tmp) / "metadata.json"
        metadata_path.write_text(json.dumps(datasette_metadata(name)))
        inspect_file = None
        if immutable:  # a finished copy: counted once now, never re-read for changes
            inspect_file = Path(tmp) / "inspect.json"
            cli.main(args=["inspect", str(db_path), "--inspect-file", str(inspect_file)],
                     prog_name="datasette", standalone_mode=False)
        # Otherwise Datasette opens the database read-only and the crawl can keep writing (WAL).
        cli.main(args=serve_args(db_path, metadata_path, port, host, inspect_file), prog_name="datasette",
                 standalone_mode=False)
    return 0
