"""The reader's queries (the archive's home page, a report's related reports and archived copy),
as SQL that Datasette runs on its read-only connection."""

from __future__ import annotations

import re

# The home page: the archive at a glance. Sections are counted per distinct `categories` array
# (read from the index m006 adds), then the few arrays unpacked: parsing every row's JSON was a
# quarter of a search page's time.
SECTIONS = """
    select sections.value as section, sum(arrays.reports) as reports, min(arrays.first) as first,
           max(arrays.last) as last
    from (select categories, count(*) as reports, min(year) as first, max(year) as last
          from reports group by categories) as arrays, json_each(arrays.categories) as sections
    group by sections.value order by reports desc"""
YEARS = "select year, count(*) as reports from reports group by year order by year"
NEWEST = "select id, title, published, author, category from reports order by published desc, id desc limit 10"
MOST_READ = """select id, title, published, author, hits from reports where hits is not null
               order by hits desc, published desc limit 10"""
TAGS = """select tags.value as tag, count(*) as reports from reports, json_each(reports.tags) as tags
          group by tags.value order by reports desc, tag limit 40"""
AUTHORS = """select authors.value as author, count(*) as reports from reports, json_each(reports.authors) as authors
             group by authors.value order by reports desc, author limit 40"""
COUNTRIES = """select countries.value as country, count(*) as reports
               from reports, json_each(reports.countries) as countries
               group by countries.value order by reports desc, country"""
TOTAL = "select count(*) as reports, min(published) as first, max(published) as last from reports"

# A country's page: its reports per year, and who writes most on it.
COUNTRY_YEARS = """select reports.year, count(*) as reports from reports, json_each(reports.countries) as countries
                   where countries.value = :name group by reports.year order by reports.year"""
COUNTRY_AUTHORS = """select authors.value as author, count(*) as reports
                     from reports, json_each(reports.countries) as countries, json_each(reports.authors) as authors
                     where countries.value = :name
                     group by authors.value order by reports desc, author limit 10"""

# The operator's view: the last run, the last successful one, and what is still failing.
_RUN = """select id, started_at, finished_at, mode, outcome, close_reason, reports_new, reports_updated,
                 failures, listing_complete from crawls"""
LAST_RUN = _RUN + " order by id desc limit 1"
LAST_SUCCESS = _RUN + " where outcome = 'ok' order by id desc limit 1"
RECENT_RUNS = _RUN + " order by id desc limit 20"
# Reports stored before countries existed (m007 adds the column empty; `reclean` fills it in).
WITHOUT_COUNTRIES = "select count(*) as reports from reports where countries is null"
# Pages still failing, by reason, drift first (the most common reasons; `failures` has them all).
OPEN_FAILURES = """select reason, count(*) as pages, max(last_seen) as latest, min(url) as example
                   from failures group by reason
                   order by reason not like 'drift: %', pages desc, reason limit 8"""

# Related reports: among the 100 reports closest by full-text similarity of the title's words
# (FTS5's rank, bm25), those sharing the most tags first, then the closest; all in SQLite, no model,
# no download. Tags are counted for those candidates only: counting them over every report was
# two thirds of a report page's time at 3,000 reports.
RELATED = """
    with me as (select id, tags from reports where id = :id),
    similar as (select rowid as id, rank from reports_fts where reports_fts match :terms and rowid != :id
                order by rank limit 100)
    select r.id, r.title, r.published, r.author,
           (select count(*) from json_each(r.tags) as t, me, json_each(me.tags) as mine
            where t.value = mine.value) as shared_tags
    from similar join reports r on r.id = similar.id
    order by shared_tags desc, similar.rank
    limit 6"""

# How many reports each of a title's words (a JSON array) occurs in, and how many there are: bm25
# gives a word in half the reports or more no weight, but ranking every report it matches was
# most of a report page's time.
DOCUMENT_FREQUENCY = """
    select words.value as word, (select count(*) from reports_fts where reports_fts match '"' || words.value || '"') as reports,
           (select count(*) from reports) as total
    from json_each(:words) as words"""

# The archived copy (WARC capture) a report was cleaned from.
CAPTURE = """select c.id, c.url, c.fetched_at, c.status, c.warc_file, c."offset", c.length, c.payload_digest
             from reports r join captures c on c.id = r.capture_id where r.id = :id"""

_STOPWORDS = frozenset("""a an and are as at be by for from has have in into is it its new of on or over
    the their to under with after amid against between""".split())


def title_words(title: str, limit: int = 8) -> list[str]:
    """The title's significant words, first `limit` distinct ones."""
    words = [w for w in re.findall(r"\w+", title.lower()) if len(w) > 2 and w not in _STOPWORDS]
    return list(dict.fromkeys(words))[:limit]


def any_of(words: list[str]) -> str:
    """An FTS5 query matching any of `words` (each quoted: never FTS syntax); '""' for none."""
    return " OR ".join(f'"{w}"' for w in words) or '""'


def informative(frequencies: list[dict]) -> list[str]:
    """The words (DOCUMENT_FREQUENCY's rows) in fewer than half the reports: those bm25 weighs."""
    return [f["word"] for f in frequencies if f["reports"] * 2 < f["total"]]
