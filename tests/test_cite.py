"""Citations of a report: Chicago author-date, BibTeX, RIS."""

from __future__ import annotations

import pytest

from scraper.web.cite import bibtex, chicago, citation_key, ris

ROW = {"title": "Kazakhstan's Pipeline Politics & the 50% Question", "published": "2016-09-14",
       "url": "https://www.cacianalyst.org/publications/field-reports/item/13393-x.html",
       "authors": '["Aigerim Sydykova"]', "author": "Aigerim Sydykova", "category": "Field Reports",
       "fetched_at": "2026-11-28T10:00:00+00:00"}


@pytest.mark.parametrize("authors, who", [
    ('["Aigerim Sydykova"]', "Sydykova, Aigerim."),
    ('["Johan Engvall", "S. Frederick Starr"]', "Engvall, Johan, and S. Frederick Starr."),
    ('["A One", "B Two", "C Three"]', "One, A, B Two, and C Three."),
    ("[]", "Central Asia-Caucasus Analyst."),
])
def test_chicago_author_date(authors, who):
    line = chicago(ROW | {"authors": authors, "author": None})
    assert line == (f"{who} 2016. “Kazakhstan's Pipeline Politics & the 50% Question.” Central Asia-Caucasus "
                    f"Analyst, September 14, 2016. {ROW['url']}.")


def test_bibtex_escapes_what_bibtex_reads_as_syntax():
    entry = bibtex(ROW)
    assert entry.startswith("@article{sydykova2016kazakhstan,\n")
    assert r"title = {{Kazakhstan's Pipeline Politics \& the 50\% Question}}" in entry
    assert "  journal = {Central Asia-Caucasus Analyst}" in entry and "  month = sep" in entry
    assert "  date = {2016-09-14}" in entry and "  urldate = {2026-11-28}" in entry
    assert entry.rstrip().endswith("}")


def test_ris_record():
    record = ris(ROW | {"authors": '["Johan Engvall", "S. Frederick Starr"]'})
    lines = record.split("\r\n")
    assert lines[0] == "TY  - JOUR" and lines[-2] == "ER  - " and lines[-1] == ""
    assert "AU  - Engvall, Johan" in lines and "AU  - Starr, S. Frederick" in lines
    assert "PY  - 2016" in lines and "DA  - 2016/09/14" in lines and f"UR  - {ROW['url']}" in lines


def test_citation_key_without_authors():
    assert citation_key(ROW | {"authors": "[]", "author": None}) == "caci2016kazakhstan"


def test_authors_from_the_display_form_when_the_list_is_not_selected():
    row = {k: v for k, v in ROW.items() if k != "authors"} | {"author": "Johan Engvall and S. Frederick Starr"}
    assert chicago(row).startswith("Engvall, Johan, and S. Frederick Starr. 2016.")
