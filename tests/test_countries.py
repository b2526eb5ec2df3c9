"""Which countries a report is about: from its tags, title and lead, never from the page around it
or a mention deep in the body."""

from __future__ import annotations

import re

import pytest

from analyst.countries import (
    codes_in,
    countries_of,
    country_code,
    country_name,
    lead_of,
)
from pipelines.extract import clean_page
from tests.conftest import MIN_WORDS, fixture_html

SEED = "real/seed-8001.html"
SEED_URL = "https://www.cacianalyst.org/publications/field-reports/item/8001-kazakhstan-civic-forum-signals-a-new-state-approach-to-ngos.html"

CASES = [
    # (title, lead, tags, expected)
    ("KAZAKHSTAN: NEW OIL LAW PASSED", "", [], ["Kazakhstan"]),
    ("ARMENIA-AZERBAIJAN: TALKS STALL AGAIN", "", [], ["Armenia", "Azerbaijan"]),
    ("Uzbek Cotton Harvest Falls Short", "", [], ["Uzbekistan"]),
    ("Dushanbe Power Cuts Return", "", [], ["Tajikistan"]),
    ("Moscow's Leverage Over the South Caucasus Grows", "", [], ["Russia"]),
    ("Moscow’s Leverage Over Baku", "", [], ["Azerbaijan", "Russia"]),
    ("KYRGYZSTAN: BISHKEK PROTESTS SPREAD", "", [], ["Kyrgyzstan"]),
    ("TURKMENISTAN'S GAS LOOKS EAST", "", [], ["Turkmenistan"]),
    ("Kazakhs Go to the Polls", "", [], ["Kazakhstan"]),
    ("Iranian Diplomacy in the Caspian", "", [], ["Iran"]),
    ("Kabul’s Donor Conference Hangover", "", [], ["Afghanistan"]),
    ("Tbilisi and Yerevan Sign a Transit Deal", "", [], ["Armenia", "Georgia"]),
    ("U.S.-Uzbek Relations Thaw", "", [], ["United States", "Uzbekistan"]),
    ("Chinese Loans for Tajik Roads", "", [], ["China", "Tajikistan"]),
    ("Ankara Courts Turkmen Gas", "", [], ["Turkey", "Turkmenistan"]),
    ("Kazakstan Devalues the Tenge", "", [], ["Kazakhstan"]),  # the older spelling
    ("Nur-Sultan Renamed Astana Again", "", [], ["Kazakhstan"]),
    # Contested and sub-national places: to the countries that hold them, or to both sides.
    ("NAGORNO-KARABAKH: SHOTS ON THE LINE OF CONTACT", "", [], ["Armenia", "Azerbaijan"]),
    ("Abkhazia Votes for a New Leader", "", [], ["Georgia"]),
    ("SOUTH OSSETIA: BORDERIZATION CONTINUES", "", [], ["Georgia"]),
    ("North Ossetia Braces for Refugees", "", [], ["Russia"]),
    ("Chechnya After Two Wars", "", [], ["Russia"]),
    ("Dagestan's Insurgency Moves North", "", [], ["Russia"]),
    ("Xinjiang Tightens Border Controls", "", [], ["China"]),
    ("Ferghana Valley Borders Harden", "", [], ["Kyrgyzstan", "Tajikistan", "Uzbekistan"]),
    ("Nakhchivan’s Blockade Economy", "", [], ["Azerbaijan"]),
    ("Kashmir and the Caspian: Two Unsettled Questions", "", [], []),  # contested, a sea: nothing
    ("Ossetians Meet in Vladikavkaz", "", [], []),  # which Ossetia is not said: nothing
    # Words that are countries only in capitals or only as names.
    ("A Turkey for the Holidays", "", [], ["Turkey"]),
    ("Fine china and pipelines", "", [], []),
    ("GUAM Summit Ends Without a Communiqué", "", [], []),  # the organisation, not the island
    ("Central Asian Water Disputes Resurface", "", [], []),
    ("Pipeline Politics in the Indian Ocean", "", [], []),
    ("Latin American Lessons for Central Asian Reformers", "", [], []),  # "American" inside it: not the US
    # Lead and tags add what the title does not name.
    ("Pension Reform Debated", "The government in Yerevan sent its pension bill to parliament this week.", [],
     ["Armenia"]),
    ("Civic Forum Signals a New Approach", "", ["Kazakhstan"], ["Kazakhstan"]),
    ("Caspian Ports Compete for Transit Cargo", "", ["Azerbaijan", "Kazakhstan", "Central Asia"],
     ["Azerbaijan", "Kazakhstan"]),
    ("Election Watch", "", ["Elections", "Human Rights"], []),  # topic tags give no country
    ("GEORGIA: SAAKASHVILI ALLIES REGROUP", "Opposition leaders met in Batumi on Sunday.", ["Georgia"],
     ["Georgia"]),
]


@pytest.mark.parametrize(("title", "lead", "tags", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_countries_of_title_lead_and_tags(title, lead, tags, expected):
    assert countries_of(title, lead, tags) == expected


def test_names_and_codes_are_iso_3166():
    for code in ("KZ", "KG", "TJ", "UZ", "TM", "AZ", "AM", "GE", "RU", "IR", "TR", "CN", "AF", "US"):
        assert country_code(country_name(code)) == code
    assert [country_name(c) for c in ("RU", "IR", "KG", "TR")] == ["Russia", "Iran", "Kyrgyzstan", "Turkey"]
    assert country_code("Atlantis") is None


def test_lead_is_the_first_real_paragraph():
    body = "ANALYSIS:\n\nThe government in Tashkent announced a new cotton quota on Monday.\n\nRussia agreed."
    assert lead_of(body) == "The government in Tashkent announced a new cotton quota on Monday."
    assert lead_of("Short.") == "Short."
    assert lead_of("") == ""


def test_the_page_around_the_article_never_counts():
    # The real article's page names six other countries in its menus, side modules and related
    # items; the report is about Kazakhstan alone.
    html = fixture_html(SEED)
    assert {"AF", "KG", "RU", "TM", "UA", "US"} <= codes_in(re.sub(r"<[^>]+>", " ", html))
    report = clean_page(html, SEED_URL, min_words=MIN_WORDS)
    assert report.countries == ["Kazakhstan"]


def test_a_country_deep_in_the_body_does_not_count():
    html = fixture_html(SEED)
    deep = "<p>Officials compared the forum with similar meetings held in Moscow and in Turkmenistan.</p>"
    html = html.replace('<div class="itemFullText">', '<div class="itemFullText">' + "\n", 1)
    closing = html.index("</div>", html.index('<div class="itemFullText">'))
    html = html[:closing] + deep + html[closing:]
    report = clean_page(html, SEED_URL, min_words=MIN_WORDS)
    assert "Turkmenistan" in report.body.split("\n\n")[-1]  # the mention reached the body
    assert report.countries == ["Kazakhstan"]
