"""The reader's queries (the archive's home page, a report's related reports and archived copy),
as SQL that Datasette runs on its read-only connection."""

from __future__ import annotations

import re

# The home page: the archive at a glance.
SECTIONS = """
    select sections.value as section, count(*) as reports, min(reports.year) as first, max(reports.year) as last
    from reports, json_each(reports.categories) as sections
    group by sections.value order by reports desc"""
YEARS = "select year, count(*) as reports from reports group by year order by year"
NEWEST = "select id, title, published, author, category from reports order by published desc, id desc limit 10"
MOST_READ = """select id, title, published, author, hits from reports where hits is not null
               order by hits desc, published desc limit 10"""
TAGS = """select tags.value as tag, count(*) as reports from reports, json_each(reports.tags) as tags
          group by tags.value order by reports desc, tag limit 40"""
AUTHORS = """select authors.value as author, count(*) as reports from reports, json_each(reports.authors) as authors
             group by authors.value order by reports desc, author limit 40"""
TOTAL = "select count(*) as reports, min(published) as first, max(published) as last from reports"

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

# The archived copy (WARC capture) a report was cleaned from.
CAPTURE = """select c.id, c.url, c.fetched_at, c.status, c.warc_file, c."offset", c.length, c.payload_digest
             from reports r join captures c on c.id = r.capture_id where r.id = :id"""

_STOPWORDS = frozenset("""a an and are as at be by for from has have in into is it its new of on or over
    the their to under with after amid against between""".split())


def similarity_terms(title: str, limit: int = 8) -> str:
    """An FTS5 query matching any of the title's significant words (quoted: never FTS syntax)."""
    words = [w for w in re.findall(r"\w+", title.lower()) if len(w) > 2 and w not in _STOPWORDS]
    unique = list(dict.fromkeys(words))[:limit]
    return " OR ".join(f'"{w}"' for w in unique) or '""'
