"""`python -m scraper export`: the archive as a frozen, checksummed release (JSON Lines, CSV, a
Frictionless Data Package and a datasheet), the same bytes for the same database."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import db as store
from analyst.countries import country_code
from db.dataset import snapshot
from scraper.datasheet import FIELDS, datasheet, schema
from scraper.exits import EXIT_DATABASE, EXIT_OK, EXIT_USAGE
from scraper.progress import counted
from scraper.web.serve import datasette_metadata

logger = logging.getLogger(__name__)

PACKAGE = "caci-field-reports"  # the data package's name, and the distribution's
JSONL, CSV, DESCRIPTOR, README = "reports.jsonl", "reports.csv", "datapackage.json", "README.md"
FILES = (JSONL, CSV, DESCRIPTOR, README)


class ExportError(ValueError):
    """The export cannot be written where it was asked to be; the message says why."""


def project_version() -> str:
    try:
        return version(PACKAGE)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


def release_row(report: dict[str, Any]) -> dict[str, Any]:
    """A report as the release has it: FIELDS in order, country codes beside the names."""
    report = report | {"country_codes": [country_code(c) or "" for c in report["countries"]]}
    return {name: report.get(name) for name in FIELDS}


def csv_line(row: dict[str, Any]) -> str:
    """One CSV record: lists as JSON arrays (Frictionless reads `array` fields so), None empty."""
    cells = [json.dumps(v, ensure_ascii=False) if isinstance(v, list) else ("" if v is None else v)
             for v in row.values()]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def check_out_dir(out: Path) -> None:
    """Raise ExportError unless `out` can take a release: missing, empty, or an earlier release of
    ours (a file of another program there is never overwritten)."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is not a folder")
    if not out.exists():
        return
    present = [name for name in FILES if (out / name).exists()]
    if not present:
        return
    try:
        descriptor = json.loads((out / DESCRIPTOR).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        descriptor = None
    if not isinstance(descriptor, dict) or descriptor.get("name") != PACKAGE:
        raise ExportError(f"{out} holds {', '.join(present)} but no {PACKAGE} release (its {DESCRIPTOR} is "
                          "missing or another's): refusing to overwrite them; choose another --out")


class _Digest:
    """A file written through a temporary name, hashed and counted as it is written."""

    def __init__(self, path: Path) -> None:
        self.path, self.part = path, path.with_name(f".{path.name}.part")
        self.file = open(self.part, "wb")  # noqa: SIM115 (closed in finish)
        self.sha256, self.bytes = hashlib.sha256(), 0

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.file.write(data)
        self.sha256.update(data)
        self.bytes += len(data)

    def finish(self) -> dict[str, Any]:
        self.file.close()
        os.replace(self.part, self.path)
        return {"hash": f"sha256:{self.sha256.hexdigest()}", "bytes": self.bytes}


def descriptor(site: dict[str, Any], facts: dict[str, Any], files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The Frictionless Data Package descriptor (v1): the release's title, sources, licence note,
    date and version, and its two tabular resources with their checksums and schema."""
    table = schema()
    resources = [
        {"profile": "tabular-data-resource", "name": "reports", "path": JSONL, "format": "jsonl",
         "mediatype": "application/jsonl", "encoding": "utf-8", **files[JSONL], "schema": table},
        {"profile": "tabular-data-resource", "name": "reports-csv", "path": CSV, "format": "csv",
         "mediatype": "text/csv", "encoding": "utf-8", **files[CSV], "schema": table},
    ]
    return {
        "profile": "tabular-data-package", "name": PACKAGE, "title": site["title"],
        "description": f"{facts['range']['reports']} reports published {facts['range']['first']} to "
                       f"{facts['range']['last']}, one row per report, cleaned of the site around them; "
                       "see README.md.",
        "version": project_version(), "created": facts["created"],
        "sources": [{"title": site["source"], "path": site["source_url"]}],
        "licenses": [{"title": site["license"], "path": site["license_url"]}],
        "resources": resources,
    }


def export(db_path: Path, out: Path) -> dict[str, Any]:
    """Write the release of the archive at `db_path` into `out`; what was written (name → hash,
    bytes) and the facts. Raises ExportError, store.DatabaseError or OSError."""
    check_out_dir(out)
    site = datasette_metadata("DATABASE")
    with snapshot(db_path) as archive:  # an archive of ours, or nothing is created
        out.mkdir(parents=True, exist_ok=True)
        facts = archive.facts()
        jsonl, table = _Digest(out / JSONL), _Digest(out / CSV)
        try:
            table.write(csv_line({name: name for name in FIELDS}))
            for report in counted(archive.reports(), facts["range"]["reports"], "export", "report"):
                row = release_row(report)
                jsonl.write(json.dumps(row, ensure_ascii=False) + "\n")
                table.write(csv_line(row))
            files = {JSONL: jsonl.finish(), CSV: table.finish()}
        finally:  # a failed export leaves no partial file behind
            for partial in (jsonl, table):
                partial.file.close()
                partial.part.unlink(missing_ok=True)
    package = descriptor(site, facts, files)
    meta = _Digest(out / DESCRIPTOR)
    meta.write(json.dumps(package, ensure_ascii=False, indent=2) + "\n")
    files[DESCRIPTOR] = meta.finish()
    sheet = _Digest(out / README)
    sheet.write(datasheet(package, facts, files, site))
    files[README] = sheet.finish()
    return {"files": files, "facts": facts}


def run_export(db_path: Path, out: Path) -> int:
    """The command: 0 written, 2 no database or an --out it must not write into, 4 not an archive
    of ours or a disk that cannot be written."""
    if not db_path.is_file():
        print(f"export: no database at {db_path}", file=sys.stderr)
        return EXIT_USAGE
    try:
        done = export(db_path, out)
    except ExportError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except store.DatabaseError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except OSError as exc:
        print(f"export: cannot write into {out}: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    facts = done["facts"]
    if facts["without_countries"]:
        print(f"export: {facts['without_countries']} reports were stored before countries existed (their "
              "countries are empty in the release); run `python -m scraper reclean` on the archive first",
              file=sys.stderr)
    sizes = ", ".join(f"{name} {info['bytes']:,} bytes" for name, info in done["files"].items())
    print(f"export: {facts['range']['reports']} reports ({facts['range']['first']} to {facts['range']['last']}) "
          f"written to {out}: {sizes}")
    return EXIT_OK
