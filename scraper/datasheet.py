"""What a release of the archive holds: its fields and their types (the Table Schema), and its
datasheet (README.md): counts, dates, fields, how it was collected and cleaned."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

logger = logging.getLogger(__name__)

# The release's columns in order, with their Table Schema type and, for those the Datasette
# metadata does not describe (they are the release's own), what they mean.
FIELDS: dict[str, tuple[str, str | None]] = {
    "id": ("integer", "The report's row id in the archive this release was made from."),
    "url": ("string", None),
    "urls": ("array", "Every URL the report was found at (republished copies keep theirs), as a list."),
    "item_id": ("integer", None),
    "title": ("string", None),
    "published": ("date", None),
    "year": ("integer", None),
    "issue_date": ("date", None),
    "author": ("string", None),
    "authors": ("array", "Authors, as a list."),
    "category": ("string", None),
    "categories": ("array", "Every section the report is listed in, as a list."),
    "tags": ("array", "The site's country and topic tags, as a list."),
    "countries": ("array", "The countries the report is about (common English names), as a list: from its "
                           "tags, title and lead paragraph, not from the rest of the body."),
    "country_codes": ("array", "The same countries as ISO 3166-1 alpha-2 codes, in the same order."),
    "body": ("string", None),
    "body_html": ("string", "The body as minimal sanitised HTML (paragraphs, lists, quotes, links)."),
    "author_bio": ("string", None),
    "digest_items": ("array", "A News Digest page's single pieces, as a list of objects "
                              "(position, headline, text, source); empty for other reports."),
    "word_count": ("integer", None),
    "hits": ("integer", None),
    "extraction": ("string", None),
    "date_source": ("string", "Where the date came from: the item page, the byline or the listing."),
    "first_seen": ("string", "When the archive first stored the report (UTC, ISO 8601)."),
    "changed_at": ("string", "When its content last changed in the archive (UTC, ISO 8601; empty: never since "
                             "first stored)."),
    "fetched_at": ("string", "When the report was last fetched (UTC, ISO 8601)."),
}


def descriptions(site: dict[str, Any]) -> dict[str, str]:
    """Each field's meaning: the release's own words, else the Datasette metadata's."""
    documented = site["databases"]["DATABASE"]["tables"]["reports"]["columns"]
    return {name: own or documented.get(name, "") for name, (_, own) in FIELDS.items()}


def schema() -> dict[str, Any]:
    """The Table Schema of both resources: field names and types, the primary key."""
    return {"fields": [{"name": name, "type": kind} for name, (kind, _) in FIELDS.items()], "primaryKey": ["id"]}


def _year_table(by_section_and_year: list[dict[str, Any]]) -> list[str]:
    """Reports per year (rows) and section (columns), as a Markdown table."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    sections = sorted({row["section"] for row in by_section_and_year})
    for row in by_section_and_year:
        counts[row["year"]][row["section"]] = row["reports"]
    lines = ["| Year | " + " | ".join(sections) + " |", "|---:|" + "---:|" * len(sections)]
    for year in sorted(counts):
        lines.append(f"| {year} | " + " | ".join(str(counts[year].get(s, 0)) for s in sections) + " |")
    totals = [sum(counts[y].get(s, 0) for y in counts) for s in sections]
    lines.append("| **All** | " + " | ".join(f"**{t}**" for t in totals) + " |")
    return lines


def datasheet(package: dict[str, Any], facts: dict[str, Any], files: dict[str, dict[str, Any]],
              site: dict[str, Any]) -> str:
    """The release's README.md: what it is, what is in it, how it was made, how to cite it."""
    span, runs = facts["range"], facts["runs"]
    meaning = descriptions(site)
    lines = [
        f"# {package['title']}: a dataset release", "",
        f"{span['reports']} reports of the Central Asia-Caucasus Analyst, published {span['first']} to "
        f"{span['last']}, one row per report (deduplicated by title and date), each cleaned of the site "
        "around it. Made by caci-field-reports " f"{package['version']} from its archive as of "
        f"{package['created']}.", "",
        "## Files", "",
        "| File | Bytes | SHA-256 |", "|---|---:|---|",
        *[f"| `{name}` | {info['bytes']} | `{info['hash'].removeprefix('sha256:')}` |"
          for name, info in files.items()],
        "", "`reports.jsonl` and `reports.csv` hold the same rows, sorted by date and id; in the CSV, "
        "lists are JSON arrays. `datapackage.json` describes both as a Frictionless Data Package "
        "(check it with `frictionless validate datapackage.json`).", "",
        "## Reports by section and year", "",
        "A report listed in two sections counts in both.", "",
        *_year_table(facts["by_section_and_year"]), "",
        "## Collection", "",
        f"- Source: {site['source']} ({site['source_url']}).",
        f"- Crawls: {runs['runs']} run{'' if runs['runs'] == 1 else 's'} ({runs['succeeded'] or 0} succeeded), "
        f"the first started {runs['first_started']}, the last finished {runs['last_finished']}.",
        "- A polite crawler (robots.txt, an honest User-Agent, throttled) walked each section's listing "
        "and fetched every report page; every response is kept in a WARC archive beside the database.",
        "",
        "## Cleaning", "",
        "Each page's article is taken from the site's K2 item markup (title, date, author, tags, "
        "introduction and full text), or by a generic extractor (trafilatura) where a page had none "
        "(`extraction`). Menus, side modules, related items, share buttons and the byline are left out; "
        "an analytical article's closing author's bio goes to `author_bio`; a News Digest is split into "
        "its pieces. Dates outside 1999 to the crawl's day are refused. A report's `countries` come "
        "from its tags, its title (a prefix such as \"KAZAKHSTAN:\", a country, capital or people named) "
        "and its lead paragraph; contested places go to the states that hold them (Abkhazia and South "
        "Ossetia to Georgia, Chechnya and Dagestan to Russia, Xinjiang to China), Nagorno-Karabakh to "
        "both Armenia and Azerbaijan, the Ferghana Valley to its three states, Kashmir to none.", "",
        "## Fields", "",
        "| Field | Type | Meaning |", "|---|---|---|",
        *[f"| `{name}` | {kind} | {meaning[name]} |" for name, (kind, _) in FIELDS.items()],
        "",
        "## Licence and citation", "",
        f"{site['license']} ({site['license_url']}). Cite a report by its author, title, date and "
        "`url`; cite this release by its title, its date above and the SHA-256 of `reports.jsonl`.", "",
    ]
    if facts["without_countries"]:
        lines[2:2] = [f"**Note:** {facts['without_countries']} reports were stored before countries existed: "
                      "their `countries` are empty.", ""]
    return "\n".join(lines)
