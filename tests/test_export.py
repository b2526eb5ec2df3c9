"""`python -m scraper export`: the archive as a release, checked by Frictionless as a reader of Data
Packages: every report once, the same bytes for the same database, nothing of another's overwritten."""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from sqlite_utils import Database

from scraper.cli import main
from tests.conftest import ROOT, _env

pytestmark = pytest.mark.slow  # reads a whole crawl (the session's) and validates it


@pytest.fixture
def archive_copy(crawled_db, tmp_path) -> Path:
    path = tmp_path / "caci.db"
    shutil.copy(crawled_db, path)
    return path


def export(db_path: Path, out: Path, capsys) -> tuple[int, str, str]:
    code = main(["export", str(db_path), "--out", str(out)])
    said = capsys.readouterr()
    return code, said.out, said.err


def sums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_release_is_a_valid_data_package_of_every_report(crawled_db, tmp_path, capsys):
    from frictionless import Package, validate

    out = tmp_path / "release"
    code, said, err = export(crawled_db, out, capsys)
    assert code == 0, err
    stored = {r["id"]: r for r in Database(crawled_db).query("select * from reports")}
    assert said.startswith(f"export: {len(stored)} reports (") and err == ""
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "datapackage.json", "reports.csv", "reports.jsonl"]
    report = validate(str(out / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = Package(str(out / "datapackage.json"))
    for resource in package.resources:  # hash and size as written, checked against the files
        data = (out / resource.path).read_bytes()
        assert resource.to_descriptor()["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource.to_descriptor()["bytes"] == len(data)
    jsonl = [json.loads(line) for line in (out / "reports.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in jsonl] == [r["id"] for r in sorted(stored.values(), key=lambda r: (r["published"], r["id"]))]
    with (out / "reports.csv").open(encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    assert [int(r["id"]) for r in table] == [r["id"] for r in jsonl]
    for row, line in zip(table, jsonl, strict=True):
        stored_row = stored[line["id"]]
        assert line["title"] == row["title"] == stored_row["title"] and line["body"] == stored_row["body"]
        assert line["countries"] == json.loads(stored_row["countries"]) == json.loads(row["countries"])
        assert line["tags"] == json.loads(stored_row["tags"]) and isinstance(line["urls"], list) and line["urls"]
    kazakh = [r for r in jsonl if "Kazakhstan" in r["countries"]]
    assert kazakh and all(r["country_codes"][r["countries"].index("Kazakhstan")] == "KZ" for r in kazakh)
    assert all(r["digest_items"] == [] for r in jsonl)  # the field reports crawl has no digest
    # The read of the package by Frictionless itself: rows, typed.
    rows = package.get_resource("reports").read_rows()
    assert len(rows) == len(stored) and isinstance(rows[0]["countries"], list)
    descriptor = json.loads((out / "datapackage.json").read_text())
    assert descriptor["version"] and descriptor["created"] == next(
        Database(crawled_db).query("select max(finished_at) as f from crawls"))["f"]
    assert descriptor["sources"][0]["path"].startswith("https://www.cacianalyst.org/")


def test_the_datasheet_states_counts_dates_and_fields(crawled_db, tmp_path, capsys):
    out = tmp_path / "release"
    assert export(crawled_db, out, capsys)[0] == 0
    sheet = (out / "README.md").read_text(encoding="utf-8")
    db = Database(crawled_db)
    total, first, last = next(db.execute("select count(*), min(published), max(published) from reports"))
    assert f"{total} reports of the Central Asia-Caucasus Analyst, published {first} to {last}" in sheet
    for year, count in db.execute("select year, count(*) from reports, json_each(categories) as c "
                                  "where c.value = 'Field Reports' group by year"):
        assert f"| {year} | " in sheet
    field_reports = db.execute("select count(*) from reports, json_each(categories) as c "
                               "where c.value = 'Field Reports'").fetchone()[0]
    assert f"**{field_reports}**" in sheet
    for field in ("countries", "country_codes", "body", "urls", "digest_items"):
        assert f"| `{field}` |" in sheet
    for name in ("reports.jsonl", "reports.csv", "datapackage.json"):
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() in sheet


def test_the_same_database_gives_the_same_bytes(archive_copy, tmp_path, capsys):
    first, second = tmp_path / "one", tmp_path / "two"
    assert export(archive_copy, first, capsys)[0] == 0
    assert export(archive_copy, second, capsys)[0] == 0
    assert export(archive_copy, first, capsys)[0] == 0  # again over itself
    assert sums(first) == sums(second)
    db = Database(archive_copy)
    db.execute("update reports set title = title || ' (corrected)' where id = (select min(id) from reports)")
    db.conn.commit()
    db.close()
    assert export(archive_copy, second, capsys)[0] == 0
    changed = {name for name, digest in sums(second).items() if sums(first)[name] != digest}
    assert changed == {"README.md", "datapackage.json", "reports.csv", "reports.jsonl"}


def test_reports_stored_before_countries_are_counted_in_the_datasheet(archive_copy, tmp_path, capsys):
    db = Database(archive_copy)
    db.execute("update reports set countries = null where id in (select id from reports order by id limit 3)")
    db.conn.commit()
    db.close()
    code, _, err = export(archive_copy, tmp_path / "release", capsys)
    assert code == 0 and "export: 3 reports were stored before countries existed" in err
    sheet = (tmp_path / "release" / "README.md").read_text(encoding="utf-8")
    assert "**Note:** 3 reports were stored before countries existed" in sheet
    rows = [json.loads(line) for line in (tmp_path / "release" / "reports.jsonl").read_text().splitlines()]
    assert sum(r["countries"] == [] for r in rows) >= 3


def test_a_digest_s_pieces_are_a_list_of_objects(archive_copy, tmp_path, capsys):
    import db as store

    database = store.open_db(archive_copy)
    pieces = [{"position": 1, "headline": "Kazakhstan devalues", "text": "The tenge fell.", "source": "Reuters"},
              {"position": 2, "headline": "Bishkek talks", "text": "Talks resumed.", "source": None}]
    store.upsert_report(database, {"url": "https://www.cacianalyst.org/news-digest/item/9-digest.html", "item_id": 9,
                                   "title": "News Digest, 3-7 March 2014", "published": "2014-03-07",
                                   "category": "News Digest", "body": "The tenge fell.\n\nTalks resumed.",
                                   "body_html": "<p>x</p>", "digest_items": pieces})
    database.close()
    assert export(archive_copy, tmp_path / "release", capsys)[0] == 0
    lines = (tmp_path / "release" / "reports.jsonl").read_text(encoding="utf-8").splitlines()
    [digest] = [json.loads(line) for line in lines if "News Digest" in line]
    assert digest["digest_items"] == pieces and digest["categories"] == ["News Digest"]


def test_an_archive_from_before_countries_is_exported_and_says_so(archive_copy, tmp_path, capsys):
    from frictionless import validate

    db = Database(archive_copy)
    db.execute("alter table reports drop column countries")
    db.conn.commit()
    db.close()
    before = archive_copy.read_bytes()
    code, _, err = export(archive_copy, tmp_path / "release", capsys)
    total = Database(archive_copy)["reports"].count
    assert code == 0 and f"{total} reports were stored before countries existed" in err and "reclean" in err
    assert validate(str(tmp_path / "release" / "datapackage.json")).valid
    assert archive_copy.read_bytes() == before  # the export wrote nothing into the archive


@pytest.mark.parametrize("case", ["out is a file", "another's files", "another's datapackage"])
def test_a_folder_of_someone_else_s_files_is_never_written(archive_copy, tmp_path, capsys, case):
    out = tmp_path / "out"
    if case == "out is a file":
        out.write_text("mine")
    else:
        out.mkdir()
        (out / "reports.csv").write_text("my,own\n1,2\n")
        if case == "another's datapackage":
            (out / "datapackage.json").write_text('{"name": "someone-else"}')
    before = {p: p.read_bytes() for p in [out, *out.glob("*")] if p.is_file()}
    code, said, err = export(archive_copy, out, capsys)
    assert code == 2 and said == "" and err.count("\n") == 1 and err.startswith("export: ")
    assert {p: p.read_bytes() for p in [out, *out.glob("*")] if p.is_file()} == before


def test_no_database_or_another_s_database_is_one_line(tmp_path, capsys, not_ours):
    code, _, err = export(tmp_path / "missing.db", tmp_path / "out", capsys)
    assert code == 2 and err == f"export: no database at {tmp_path / 'missing.db'}\n"
    before = not_ours.read_bytes()
    code, _, err = export(not_ours, tmp_path / "out", capsys)
    assert code == 4 and err.count("\n") == 1 and "refusing" in err
    assert not_ours.read_bytes() == before and not (tmp_path / "out").exists()


def test_a_terminal_sees_progress_and_a_script_sees_one_line(archive_copy, tmp_path):
    command = [sys.executable, "-m", "scraper", "export", str(archive_copy), "--out", str(tmp_path / "a")]
    plain = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env())
    assert plain.returncode == 0 and plain.stderr == "" and plain.stdout.count("\n") == 1
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal's size
    command[-1] = str(tmp_path / "b")
    run = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=follower, timeout=120, env=_env())
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other end is closed and read to the end
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    shown = shown.decode("utf-8", "replace")
    assert run.returncode == 0 and "export: 100%" in shown and "report/s" in shown
    assert sums(tmp_path / "a") == sums(tmp_path / "b")


def test_a_full_disk_is_one_line_and_leaves_no_partial_file(archive_copy, small_disk, capsys):
    disk = small_disk(64)  # room for a part of the release, not all of it (~280 KB)
    code, said, err = export(archive_copy, disk / "release", capsys)
    assert code == 4 and said == "" and err.startswith("export: cannot write into ") and err.count("\n") == 1
    assert sorted(p.name for p in (disk / "release").iterdir()) == []
