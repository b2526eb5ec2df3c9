"""Citations of a report: a Chicago author-date line, BibTeX and RIS records, from its row."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

JOURNAL = "Central Asia-Caucasus Analyst"
PUBLISHER = "Central Asia-Caucasus Institute & Silk Road Studies Program"


def authors_of(row: dict[str, Any]) -> list[str]:
    """The report's authors as a list (stored as JSON text in `authors`)."""
    value = row.get("authors")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = [value]
    # Without the list (a query that selects the display form only), the display form's names.
    return [a for a in value or [] if a] or [a.strip() for a in (row.get("author") or "").split(" and ") if a.strip()]


def _split(name: str) -> tuple[str, str]:
    """(family, given) of a name written given-first; a single word is a family name."""
    parts = name.split()
    return (parts[-1], " ".join(parts[:-1])) if len(parts) > 1 else (name, "")


def _inverted(name: str) -> str:
    family, given = _split(name)
    return f"{family}, {given}" if given else family


def _long_date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day:%B} {day.day}, {day.year}"


def chicago(row: dict[str, Any]) -> str:
    """Chicago author-date (17th ed.), reference-list form, as plain text."""
    names = authors_of(row)
    if not names:
        who = JOURNAL
    elif len(names) == 1:
        who = _inverted(names[0])
    else:
        who = ", ".join([_inverted(names[0]), *names[1:-1]]) + f", and {names[-1]}"
    title = row["title"].rstrip(".")
    return (f"{who}. {row['published'][:4]}. “{title}.” {JOURNAL}, {_long_date(row['published'])}. "
            f"{row['url']}.")


_BIBTEX_SPECIAL = re.compile(r"([&%$#_{}])")


def _bib(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(r"\\\1", text)


def citation_key(row: dict[str, Any]) -> str:
    names = authors_of(row)
    family = re.sub(r"\W", "", _split(names[0])[0]).lower() if names else "caci"
    first_word = next((w.lower() for w in re.findall(r"[A-Za-z]+", row["title"]) if len(w) > 3), "report")
    return f"{family or 'caci'}{row['published'][:4]}{first_word}"


def bibtex(row: dict[str, Any]) -> str:
    """A BibTeX @article entry (biblatex's `date` and `urldate` fields, BibTeX's year and month)."""
    day = date.fromisoformat(row["published"])
    fields = [
        ("author", " and ".join(_bib(n) for n in authors_of(row)) or None),
        ("title", "{" + _bib(row["title"]) + "}"),
        ("journal", JOURNAL),
        ("year", str(day.year)),
        ("month", f"{day:%b}".lower()),
        ("date", row["published"]),
        ("url", row["url"]),
        ("urldate", (row.get("fetched_at") or "")[:10] or None),
        ("note", row.get("category")),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" if name != "month" else f"  {name} = {value}"
                      for name, value in fields if value)
    return f"@article{{{citation_key(row)},\n{body}\n}}\n"


def ris(row: dict[str, Any]) -> str:
    """An RIS record (TY JOUR), as reference managers import it."""
    day = date.fromisoformat(row["published"])
    lines = [("TY", "JOUR")]
    lines += [("AU", _inverted(n)) for n in authors_of(row)]
    lines += [("TI", row["title"]), ("T2", JOURNAL), ("PY", str(day.year)),
              ("DA", f"{day:%Y/%m/%d}"), ("PB", PUBLISHER), ("UR", row["url"])]
    if row.get("category"):
        lines.append(("N1", row["category"]))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {value}\r\n" for tag, value in lines)
