"""Title keys, dates and bylines."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyst.text import clean_ws, parse_byline, parse_date, title_key, words


@pytest.mark.parametrize("a,b", [
    ("TURKMENISTAN’S  NEUTRALITY DOCTRINE UNDER STRAIN ", "Turkmenistan's Neutrality Doctrine Under Strain"),
    ("Bishkek Rallies Against ‘Foreign Agent’ Bill", "BISHKEK RALLIES AGAINST \"FOREIGN AGENT\" BILL"),
    ("Kyrgyzstan:  Southern Clans", "KYRGYZSTAN: SOUTHERN CLANS"),
    ("ﬁeld\u00a0report", "field report"),  # compatibility forms and no-break spaces
])
def test_title_key_folds_case_quotes_punctuation_and_spaces(a, b):
    assert title_key(a) == title_key(b)


def test_title_key_keeps_different_titles_apart():
    assert title_key("Kazakhstan Votes") != title_key("Kyrgyzstan Votes")
    assert title_key("Turkmenistan’s Neutrality") == "turkmenistan s neutrality"


@pytest.mark.parametrize("text,expected", [
    ("Wednesday, 22 October 2003 00:00", "2003-10-22"),
    ("Monday, 03 March 2014 12:30", "2014-03-03"),
    ("September 20, 2018", "2018-09-20"),
    ("2/27/2002 issue of the CACI Analyst", "2002-02-27"),
    ("2016-08-17T00:00:00+00:00", "2016-08-17"),
    ("31 February 2003", None),
    ("no date here", None),
    ("", None),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text,authors,issue", [
    ("By Marat Yermukanov (10/22/2003 issue of the CACI Analyst)", ["Marat Yermukanov"], "2003-10-22"),
    ("By Oliver Strand / August 17, 2016, the CACI Analyst", ["Oliver Strand"], "2016-08-17"),
    ("By Elnur Mammadli and Catherine Ashworth (9/25/2002 issue of the CACI Analyst)",
     ["Elnur Mammadli", "Catherine Ashworth"], "2002-09-25"),
    ("BY HAROUTIUN KHACHATRYAN (2/18/2004 ISSUE OF THE CACI ANALYST)", ["Haroutiun Khachatryan"], "2004-02-18"),
    ("By Nino Beridze", ["Nino Beridze"], None),
    ("By: Jean-Luc de la Rue & Anna Smith", ["Jean-Luc de la Rue", "Anna Smith"], None),
])
def test_parse_byline(text, authors, issue):
    byline = parse_byline(text)
    assert byline is not None
    assert byline.authors == authors
    assert byline.issue_date == issue
    assert byline.author == " and ".join(authors)


@pytest.mark.parametrize("text", [
    "By the end of the year, the government had approved the budget.",
    "By contrast, the opposition boycotted the vote.",
    "Bypassing Russia was the aim.",
    "By " + "Name " * 60,
    "",
])
def test_sentences_starting_with_by_are_not_bylines(text):
    assert parse_byline(text) is None


def test_clean_ws():
    assert clean_ws(" a\u00a0\u00a0b\n\tc\u200b ") == "a b c"


_REGEX_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(
    " \t\n\r\x0b\x0c\x1c\x85\u00a0\u1680\u2000\u2007\u200a\u200b\u2028\u202f\u205f\u3000\ufeff\u00ad")))
def test_clean_ws_is_the_regex_it_replaced(text):
    """str.split() (the fast form) collapses exactly the spaces the earlier regex did."""
    expected = _REGEX_SPACES.sub(" ", re.sub("[\u200b\u200c\u200d\u2060\ufeff\u00ad]", "", text)).strip()
    assert clean_ws(text) == expected


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(max_codepoint=127)) | st.text())
def test_words_is_the_regex_it_replaced(text):
    """The ASCII fast path (translate + split) gives exactly the tokens of NFKC, casefold, \\w+."""
    assert words(text) == re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


# --- properties of the dedup key ----------------------------------------------------------------

WORD = st.text(alphabet=st.characters(whitelist_categories=["Lu", "Ll", "Nd"]), min_size=1, max_size=12)
TITLES = st.lists(WORD, min_size=1, max_size=10)
QUOTES = {"'": "’", '"': "“"}


@given(TITLES)
def test_title_key_is_idempotent(words):
    key = title_key(" ".join(words))
    assert title_key(key) == key


@given(TITLES, st.lists(st.sampled_from([" ", "  ", "\t", "\u00a0", "\n", " – ", ": ", ", "]), min_size=9, max_size=9))
def test_title_key_ignores_spacing_and_punctuation_between_words(words, separators):
    plain = " ".join(words)
    spaced = "".join(w + separators[i % len(separators)] for i, w in enumerate(words))
    assert title_key(spaced) == title_key(plain)


@given(TITLES)
def test_title_key_ignores_case(words):
    title = " ".join(words)
    assert title_key(title.upper()) == title_key(title.lower()) == title_key(title)


@given(TITLES, st.sampled_from(list(QUOTES.items())))
def test_title_key_ignores_the_kind_of_quotes(words, quotes):
    straight, curly = quotes
    title = f"{words[0]}{straight}s " + " ".join(words[1:])
    assert title_key(title) == title_key(title.replace(straight, curly))


@settings(max_examples=200)
@given(TITLES, TITLES)
def test_title_key_keeps_different_word_sequences_apart(a, b):
    """Titles whose words differ once case and accents are folded get different keys. (Accents are
    folded on purpose — retyped titles lose them — so "Ò" and "O" may share one; the claim that
    any different words get different keys was false.)"""
    folded_a = [title_key(w) for w in a]
    folded_b = [title_key(w) for w in b]
    if folded_a != folded_b:
        assert title_key(" ".join(a)) != title_key(" ".join(b))


@pytest.mark.parametrize("title", ["𝚤", "İstanbul", "ῢ", "ǅ"])
def test_title_key_regressions_found_by_hypothesis(title):
    """Compatibility and dotted/dotless letters once gave a key whose key differed."""
    key = title_key(title)
    assert title_key(key) == key == title_key(title.upper()) == title_key(title.lower())


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_title_key_s_ascii_shortcut_is_the_full_fold(title):
    """An ASCII title keys as the Unicode folding would key it (the folding run on it by hand)."""
    from analyst.text import _fold

    text, previous = title, None
    while text != previous:
        previous, text = text, _fold(text)
    assert title_key(title) == " ".join(re.findall(r"\w+", text))
