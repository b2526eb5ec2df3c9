"""`python -m scraper serve`: the database in Datasette, read-only, with the project's metadata."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
METADATA = HERE / "metadata.yml"


def datasette_metadata(database: str) -> dict[str, Any]:
    """The project's metadata with `database` (the file's stem) where DATABASE stands."""
    text = METADATA.read_text(encoding="utf-8")
    return yaml.safe_load(text.replace("DATABASE", database))


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


def run_serve(db_path: Path, port: int = 8001, host: str = "127.0.0.1", immutable: bool = False) -> int:
    from datasette.cli import cli

    if not db_path.is_file():
        print(f"serve: no database at {db_path}; crawl first (see README)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        metadata_path = Path(tmp) / "metadata.json"
        metadata_path.write_text(json.dumps(datasette_metadata(db_path.stem)))
        inspect_file = None
        if immutable:  # a finished copy: counted once now, never re-read for changes
            inspect_file = Path(tmp) / "inspect.json"
            cli.main(args=["inspect", str(db_path), "--inspect-file", str(inspect_file)],
                     prog_name="datasette", standalone_mode=False)
        # Otherwise Datasette opens the database read-only and the crawl can keep writing (WAL).
        cli.main(args=serve_args(db_path, metadata_path, port, host, inspect_file), prog_name="datasette",
                 standalone_mode=False)
    return 0
