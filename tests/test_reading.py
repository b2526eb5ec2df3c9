"""The reader's SQL (db/reading.py) on a real SQLite file: section counts and related reports."""

from __future__ import annotations

import json

import pytest

import db as store
from db import reading
from tests.test_db import REPORT

# The section counts as first written: every row's categories unpacked (the reference form).
SECTIONS_PER_ROW = """
    select sections.value as section, count(*) as reports, min(reports.year) as first, max(reports.year) as last
    from reports, json_each(reports.categories) as sections
    group by sections.value order by reports desc"""
TOPICS = ["cotton", "pipeline", "election", "railway", "customs", "border"]


def make_archive(path):
    """40 reports in three sections (some in two), every title with the words "analyst" and "report"."""
    database = store.open_db(path)
    sections = [["Field Reports"], ["Field Reports", "Analytical Articles"], ["News Digest"], ["Field Reports"]]
    for n in range(40):
        topic = TOPICS[n % len(TOPICS)]
        for section in sections[n % 4]:  # listed in two sections: one report that knows both
            store.upsert_report(database, REPORT | {
                "url": f"https://www.cacianalyst.org/publications/field-reports/item/{n}-x.html", "item_id": n,
                "title": f"Analyst {topic} report {n}", "published": f"{2000 + n % 9}-01-{1 + n % 28:02d}",
                "category": section, "body": f"The analyst writes about {topic} in report {n}.",
                "tags": [topic]})
    return database


@pytest.fixture
def archive(tmp_path):
    """make_archive's 40 reports in a fresh file."""
    database = make_archive(tmp_path / "reading.db")
    yield database
    database.close()


def query(database, sql, params=None):
    return [dict(r) for r in database.query(sql, params or {})]


def test_sections_counted_from_the_index_equal_every_row_unpacked(archive):
    counted = query(archive, reading.SECTIONS)
    assert counted == query(archive, SECTIONS_PER_ROW)
    assert {s["section"]: s["reports"] for s in counted} == {
        "Field Reports": 30, "Analytical Articles": 10, "News Digest": 10}


def frequencies(database, title):
    words = reading.title_words(title)
    return words, query(database, reading.DOCUMENT_FREQUENCY, {"words": json.dumps(words)})


def test_words_in_half_the_reports_or_more_do_not_pick_related_reports(archive):
    words, found = frequencies(archive, "Analyst cotton report 6")
    assert words == ["analyst", "cotton", "report"]
    assert {f["word"]: f["reports"] for f in found} == {"analyst": 40, "cotton": 7, "report": 40}
    assert reading.informative(found) == ["cotton"]
    related = query(archive, reading.RELATED, {"id": 7, "terms": reading.any_of(["cotton"])})
    assert len(related) == 6 and all("cotton" in r["title"] for r in related)
    assert 7 not in [r["id"] for r in related]


def test_a_title_of_common_words_only_has_no_informative_word(archive):
    _, found = frequencies(archive, "The analyst's report")
    assert found and reading.informative(found) == []
    assert reading.any_of([]) == '""'  # matches nothing, and is no FTS syntax error
    assert query(archive, reading.RELATED, {"id": 1, "terms": '""'}) == []
