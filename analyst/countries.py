"""The countries a report is about: named in its tags, its title or its lead, as ISO 3166 countries."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

import pycountry

logger = logging.getLogger(__name__)

# The common English name where ISO 3166's own is not what a reader searches for ("Russian
# Federation", "Türkiye", "Korea, Republic of"); otherwise pycountry's common_name, then its name.
COMMON_NAMES = {"RU": "Russia", "TR": "Turkey", "KR": "South Korea", "KP": "North Korea", "CZ": "Czech Republic",
                "CD": "DR Congo", "FM": "Micronesia", "PS": "Palestine", "VA": "Vatican"}

# What else names a country in this archive's titles and leads: older spellings, capitals and
# cities that stand for a government ("Moscow's leverage"), adjectives and peoples ("Uzbek cotton",
# "Kazakhs"; each also matches with a plural s), by ISO 3166 alpha-2 code.
ALIASES: dict[str, tuple[str, ...]] = {
    "KZ": ("Kazakstan", "Kazakh", "Kazakhstani", "Astana", "Nur-Sultan", "Almaty", "Alma-Ata"),
    "KG": ("Kirghizia", "Kirgizia", "Kirgizstan", "Kyrgyz Republic", "Kyrgyz", "Kirghiz", "Bishkek", "Osh",
           "Jalal-Abad", "Batken"),
    "TJ": ("Tadjikistan", "Tadzhikistan", "Tajik", "Tadjik", "Dushanbe", "Khujand", "Khorog"),
    "UZ": ("Uzbek", "Tashkent", "Samarkand", "Andijan", "Andijon", "Bukhara", "Namangan"),
    "TM": ("Turkmenia", "Turkmen", "Turkmenistani", "Ashgabat", "Ashkhabad"),
    "AZ": ("Azerbaidjan", "Azerbaijani", "Azeri", "Baku"),
    "AM": ("Armenian", "Yerevan"),
    "GE": ("Georgian", "Tbilisi", "Batumi"),
    "RU": ("Russian Federation", "Russian", "Moscow", "Kremlin"),
    "CN": ("PRC", "Chinese", "Beijing"),
    "IR": ("Iranian", "Tehran"),
    "AF": ("Afghan", "Kabul", "Herat", "Kandahar", "Mazar-i-Sharif"),
    "PK": ("Pakistani", "Islamabad"),
    "TR": ("Türkiye", "Turkish", "Ankara", "Istanbul", "Ceyhan"),
    "UA": ("Ukrainian", "Kiev", "Kyiv"),
    "BY": ("Belarusian", "Minsk"),
    "MD": ("Moldovan", "Chisinau"),
    "MN": ("Mongolian", "Ulaanbaatar", "Ulan Bator"),
    "IN": ("Indian", "New Delhi"),
    "US": ("U.S.", "US", "USA", "United States of America", "America", "American", "Washington"),
    "GB": ("UK", "Britain", "Great Britain", "British"),
    "IL": ("Israeli",), "SA": ("Saudi",), "IQ": ("Iraqi",), "SY": ("Syrian",), "JP": ("Japanese",),
    "DE": ("German",), "FR": ("French",),
}

# The region's contested and sub-national places map to the countries that hold them in
# international law; a conflict's place to both sides; a place shared by several states to all of
# them. Places named here with no code (Kashmir, the Caspian, Ossetia unqualified, Brussels, the
# regions as wholes) give no country, and they stop a shorter name inside them from giving one.
PLACES: dict[str, tuple[str, ...]] = {
    "Nagorno-Karabakh": ("AZ", "AM"), "Karabakh": ("AZ", "AM"), "Stepanakert": ("AZ", "AM"),
    "Nakhchivan": ("AZ",), "Nakhichevan": ("AZ",),
    "Abkhazia": ("GE",), "Abkhaz": ("GE",), "Abkhazian": ("GE",), "Sukhumi": ("GE",),
    "South Ossetia": ("GE",), "South Ossetian": ("GE",), "Tskhinvali": ("GE",),
    "Adjara": ("GE",), "Ajaria": ("GE",), "Adjaria": ("GE",), "Pankisi": ("GE",), "Javakheti": ("GE",),
    "Chechnya": ("RU",), "Chechen": ("RU",), "Grozny": ("RU",), "Dagestan": ("RU",), "Daghestan": ("RU",),
    "Ingushetia": ("RU",), "North Ossetia": ("RU",), "Kabardino-Balkaria": ("RU",),
    "Karachay-Cherkessia": ("RU",), "Tatarstan": ("RU",), "Bashkortostan": ("RU",), "North Caucasus": ("RU",),
    "Xinjiang": ("CN",), "Uyghur": ("CN",), "Uighur": ("CN",), "Urumqi": ("CN",), "Tibet": ("CN",),
    "Ferghana Valley": ("UZ", "KG", "TJ"), "Fergana Valley": ("UZ", "KG", "TJ"),
    "Gorno-Badakhshan": ("TJ",), "Karakalpakstan": ("UZ",),
    "Transnistria": ("MD",), "Transdniestria": ("MD",), "Crimea": ("UA",),
    "Kashmir": (), "Ossetia": (), "Ossetian": (), "Caspian": (), "Brussels": (), "Central Asia": (),
    "Caucasus": (), "South Caucasus": (), "Kurdistan": (), "Balochistan": (), "Baluchistan": (),
    "Georgia Tech": (), "Indian Ocean": (), "New Mexico": (), "New Jersey": (),
    "Latin America": (), "South America": (), "North America": (), "Central America": (),
    "Latin American": (), "South American": (), "North American": (), "Central American": (),
    "Native American": (),
    "Guam": (),  # in this archive GUAM is Georgia, Ukraine, Azerbaijan and Moldova's organisation
}

# Aliases that are no plural noun (a plural s would make another word).
_NO_PLURAL = {"US", "UK", "PRC", "USA", "U.S."}


@cache
def country_name(code: str) -> str:
    """The common English name of an ISO 3166 alpha-2 code."""
    if code in COMMON_NAMES:
        return COMMON_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise KeyError(code)
    return getattr(country, "common_name", None) or country.name


def country_code(name: str) -> str | None:
    """The ISO 3166 alpha-2 code of a common name this module gives (None for any other text)."""
    return _codes_by_name().get(name)


@cache
def _codes_by_name() -> dict[str, str]:
    return {country_name(c.alpha_2): c.alpha_2 for c in pycountry.countries}


@cache
def _table() -> tuple[re.Pattern[str], dict[str, tuple[str, ...]]]:
    """One pattern for every name, longest first (so "South Ossetia" wins over "Ossetia"), and the
    codes each name gives."""
    codes: dict[str, tuple[str, ...]] = {}
    for country in pycountry.countries:
        for name in {country.name, getattr(country, "common_name", None), getattr(country, "official_name", None),
                     country_name(country.alpha_2)}:
            if name and "," not in name:
                codes[name] = (country.alpha_2,)
    for code, names in ALIASES.items():
        for name in names:
            codes[name] = (code,)
            if name not in _NO_PLURAL and not name.endswith(("s", "sh", "ch", "ese")) and name[-1].islower():
                codes.setdefault(name + "s", (code,))
    codes |= PLACES
    pattern = re.compile(r"(?<!\w)" + _trie(codes) + r"(?!\w)")
    return pattern, codes


def _trie(names: Iterable[str]) -> str:
    """One regular expression matching any of `names`, the longest first ("South Ossetia" before
    "South"), branching letter by letter: a plain alternation of ~900 names was tried name by name
    at every position of the text (0.2 ms a report, a fifth of cleaning one)."""
    root: dict[str, Any] = {}
    for name in names:
        node = root
        for char in name:
            node = node.setdefault(char, {})
        node[""] = {}  # a name ends here

    def pattern(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        # The empty branch last: a longer name is tried before the one that ends here.
        return "(?:" + "|".join(branches) + ("|" if "" in node else "") + ")"

    return pattern(root)


def _unshout(text: str) -> str:
    """A title, or a title's prefix, set in capitals ("KAZAKHSTAN: NEW LAW", "ARMENIA-AZERBAIJAN:
    Talks") with its words of four or more letters capitalised ("Kazakhstan: New Law"): matching is
    case-sensitive so that "turkey" and "china" (the bird, the porcelain) are no countries, and
    acronyms in ordinary text (GUAM, NATO) stay acronyms. Shorter capitals (US, UK, PRC) stay."""
    def calmer(part: str) -> str:
        letters = [c for c in part if c.isalpha()]
        if not letters or sum(c.isupper() for c in letters) < 0.6 * len(letters):
            return part
        return re.sub(r"\w{4,}", lambda m: m[0].capitalize() if m[0].isupper() else m[0], part)

    return "".join(calmer(part) for part in re.split(r"(:)", text))


def codes_in(text: str) -> set[str]:
    """The ISO codes of the countries `text` names."""
    pattern, codes = _table()
    found: set[str] = set()
    for match in pattern.finditer(_unshout(text)):
        found.update(codes[match[0]])
    return found


def lead_of(body: str, min_words: int = 8) -> str:
    """A body's lead: its first paragraph of at least `min_words` words (a heading or a dateline
    before it is not the lead), else its first paragraph."""
    paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
    return next((p for p in paragraphs if len(p.split()) >= min_words), paragraphs[0] if paragraphs else "")


def countries_of(title: str, lead: str = "", tags: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The common names of the countries a report is about, sorted: those its tags, its title and
    its lead paragraph name. The rest of the body is not read (a country named in passing there is
    not what the report is about), nor is anything of the page around it."""
    found: set[str] = set()
    for text in (title, lead, *tags):
        found |= codes_in(text or "")
    return sorted(country_name(code) for code in found)
