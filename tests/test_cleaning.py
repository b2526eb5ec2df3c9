"""The cleaner, page by page against hand-checked reports, and each cleaning step alone."""

from __future__ import annotations

import os

import pytest

from analyst.model import ListingEntry, PageFailure, RawPage, Report
from analyst.pages.common import first, parse_html
from pipelines.blocks import extract_blocks
from pipelines.byline import take_byline
from pipelines.cleaning import CleaningPipeline
from pipelines.extract import CleaningError, clean_page
from pipelines.intro import drop_repeated_intro
from pipelines.render import render_html
from tests.conftest import (
    MIN_WORDS,
    SITE,
    body_f1,
    expected_pages,
    fixture_html,
    project_crawler,
    run_async,
)

ORIGIN = "https://www.cacianalyst.org"
# Text of the site's chrome that must never reach a body.
CHROME = ["Read 2923", "times", "Last modified", "Published in", "Tagged under", "Related items",
          "More in this category", "Photo: a market", "Courtesy of the author", "Visit also",
          "Staff Publications", "Sign up for upcoming", "biweekly publication", "Back to Top",
          "font size", "Tweet", "{jcomments", "shareThis", "Print", "Email", "back to top",
          "By ", "issue of the CACI Analyst"]
PAGES = expected_pages()


def clean_fixture(name: str, url: str, listing: ListingEntry | None = None) -> Report:
    return clean_page(fixture_html(name), ORIGIN + url, listing, min_words=MIN_WORDS)


@pytest.mark.parametrize("page", PAGES, ids=[p["name"] for p in PAGES])
def test_fixture_page_matches_its_expected_report(page):
    report = clean_fixture(page["file"], page["url"])
    assert report.title == page["title"]
    assert report.published == page["published"]
    assert report.author == page["author"]
    for key in ("authors", "category", "hits", "tags", "extraction", "author_bio", "digest_items"):
        if key in page:
            assert getattr(report, key) == page[key], key
    assert body_f1(report.body, page["body"]) >= 0.99
    assert report.body.split("\n\n") == page["body"].split("\n\n")  # paragraphs kept, in order
    assert report.word_count > 50


@pytest.mark.parametrize("page", PAGES, ids=[p["name"] for p in PAGES])
def test_no_chrome_in_any_body(page):
    report = clean_fixture(page["file"], page["url"])
    for chrome in CHROME:
        if chrome not in page["body"]:
            assert chrome not in report.body, chrome
            assert chrome not in report.body_html, chrome


def test_body_html_is_minimal_and_matches_the_body():
    report = clean_fixture("item-7104.html", "/publications/field-reports/item/7104-x.html")
    html = report.body_html
    assert html.count("<blockquote>") == 1
    assert html.count("<p>") == report.body.count("\n\n") + 1
    assert "<div" not in html and "class=" not in html and "style=" not in html
    listing = clean_fixture("item-7111.html", "/publications/field-reports/item/7111-x.html")
    assert listing.body_html.count("<li>") == 3 and listing.body_html.count("<ul>") == 1


def test_charset_only_in_the_http_header_is_honoured():
    """item-7119 is ISO-8859-1 with no <meta charset>: only the Content-Type header says so."""
    raw = (SITE / "item-7119.html").read_bytes()
    assert b"charset" not in raw and "ü".encode("latin-1") in raw
    report = clean_fixture("item-7119.html", "/publications/field-reports/item/7119-x.html")
    assert "Zürich, at a café" in report.body


def test_image_captions_stay_out_of_the_body():
    report = clean_fixture("item-7123.html", "/publications/field-reports/item/7123-x.html")
    assert "checkpoint on the border" not in report.body
    html = "<p><img src='a.jpg'><br><em>Source: a caption</em></p><p>Text that stays.</p>"
    assert [b.text for b in blocks(html)] == ["Text that stays."]
    html = "<p><img src='a.jpg'></p><p>A normal paragraph right after an image, which is long enough and not in italics.</p>"
    assert len(blocks(html)) == 1


def test_legacy_charset_is_decoded():
    """item-7111 is windows-1252, declared only in <meta charset>."""
    raw = (SITE / "item-7111.html").read_bytes()
    assert "’".encode("cp1252") in raw and "’".encode("utf-8") not in raw
    report = clean_fixture("item-7111.html", "/publications/field-reports/item/7111-x.html")
    assert report.title == "Kabul’s Donor Conference Hangover"


def test_missing_item_date_falls_back_to_the_byline_then_the_listing():
    """Date: the item's, else the byline's issue date, else the listing's (issue 11)."""
    listing = ListingEntry(ORIGIN + "/x", "Listing title", "2008-08-21")
    report = clean_fixture("item-7114.html", "/publications/field-reports/item/7114-x.html", listing)
    assert (report.published, report.date_source) == ("2008-08-20", "byline")
    undated = fixture_html("item-7114.html").replace("(8/20/2008 issue of the CACI Analyst)", "")
    report = clean_page(undated, ORIGIN + "/publications/field-reports/item/7114-x.html", listing, min_words=MIN_WORDS)
    assert (report.published, report.date_source) == ("2008-08-21", "listing")


@pytest.mark.parametrize("name,reason", [
    ("chrome-only.html", "no title"),
    ("robots.txt", "no title"),
])
def test_pages_without_a_report_raise_with_a_reason(name, reason):
    with pytest.raises(CleaningError, match=reason):
        clean_fixture(name, "/publications/field-reports/item/7190-chrome-only.html")


def test_empty_and_body_less_pages_raise():
    with pytest.raises(CleaningError, match="empty page"):
        clean_page("  ", ORIGIN + "/x", min_words=MIN_WORDS)
    k2_no_body = ('<div class="itemView"><span class="itemDateCreated">Monday, 03 March 2014 00:00</span>'
                  '<h2 class="itemTitle">A title</h2><div class="itemFullText"><p>&nbsp;</p></div></div>')
    with pytest.raises(CleaningError, match="no article text"):
        clean_page(k2_no_body, ORIGIN + "/x", min_words=MIN_WORDS)


def blocks(html: str):
    """The blocks of a body container holding `html`, parsed as an item page's is."""
    return extract_blocks(first(parse_html(f"<div>{html}</div>"), "body > div"), ORIGIN)


def test_blocks_split_br_br_and_drop_widgets_and_blanks():
    got = blocks("<p>One.<br><br>Two.<br />\n<br/>Three.</p><p>&nbsp;</p><p>{jcomments on}</p>"
                 "<script>x()</script><div class='share-buttons'><a>Tweet</a></div>"
                 "<p class='MsoNormal'><span style='x'>Four</span> <span>five.</span></p>")
    assert [b.text for b in got] == ["One.", "Two.", "Three.", "Four five."]


def test_blocks_keep_quotes_and_list_items_in_place():
    got = blocks("<p>Lead.</p><blockquote><p>Quoted.</p></blockquote><ul><li>A</li><li>B</li></ul><p>End.</p>")
    assert [(b.kind, b.text) for b in got] == [("p", "Lead."), ("quote", "Quoted."), ("li", "A"),
                                               ("li", "B"), ("p", "End.")]


def test_take_byline_from_a_whole_paragraph_or_a_br_line():
    got = blocks("<p><em>By Ann Lee / May 2, 2012, the CACI Analyst</em></p><p>Lead.</p>")
    assert take_byline(got).authors == ["Ann Lee"] and [b.text for b in got] == ["Lead."]
    got = blocks("<p>BY ANN LEE<br>Lead sentence here.</p>")
    assert take_byline(got).author == "Ann Lee" and [b.text for b in got] == ["Lead sentence here."]
    got = blocks("<p>By the spring, prices had doubled.</p>")
    assert take_byline(got) is None and len(got) == 1


@pytest.mark.parametrize("intro,full,kept", [
    ("<p>Alpha beta gamma.</p>", "<p>Alpha beta gamma. Delta.</p>", []),
    ("<p>Alpha&#8217;s  beta, “gamma”.</p>", "<p>Alpha’s beta, \"gamma\".</p><p>Delta.</p>", []),
    ("<p>Alpha beta gamma delta epsilon zeta eta...</p>", "<p>Alpha beta gamma delta epsilon zeta eta theta.</p>", []),
    ("<p>One two three four. Five six seven eight.</p>", "<p>One two three four.</p><p>Five six seven eight.</p>", []),
    ("<p>Alpha beta.</p>", "<p>Gamma delta.</p>", ["Alpha beta."]),
    ("<p>The first sentence is here. The second one is here too. A third one only the intro has.</p>",
     "<p>The first sentence is here. The second one is here too. Then the article goes on.</p>",
     ["A third one only the intro has."]),
    ("<p>Lead repeated in the full text here.</p><p>A second intro paragraph of its own.</p>",
     "<p>Lead repeated in the full text here. More.</p>", ["A second intro paragraph of its own."]),
])
def test_repeated_intro_goes_and_the_rest_stays(intro, full, kept):
    assert [b.text for b in drop_repeated_intro(blocks(intro), blocks(full))] == kept


def test_render_html_sanitises():
    got = blocks('<p onclick="x()">Hi <a href="javascript:alert(1)">there</a> '
                 '<a href="/item/1.html" style="x">link</a> <b>bold</b><script>alert(1)</script></p>')
    html = render_html(got)
    assert html == f'<p>Hi there <a href="{ORIGIN}/item/1.html">link</a> <strong>bold</strong></p>'


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling policies")
@pytest.mark.parametrize("idle", [True, False])
def test_cleaning_workers_take_only_idle_cpu(idle):
    """A crawl's cleaning worker runs at idle priority (CACI_CLEANING_IDLE): when it held the core
    the event loop woke up on, the loop, which every fetch goes through, waited for it."""
    crawler = project_crawler(**{"CACI_CLEANING_WORKERS": 1, "CACI_CLEANING_IDLE": idle})
    crawler.stats.open_spider()
    pipeline = CleaningPipeline.from_crawler(crawler)
    pipeline.open_spider()
    page = RawPage(url=ORIGIN + "/publications/field-reports/item/7102-x.html",
                   html=(SITE / "item-7102.html").read_text(), fetched_at="2026-01-01T00:00:00+00:00")
    try:
        report = run_async(pipeline.process_item(page))  # answered: the worker has set itself up
        policy = os.sched_getscheduler(pipeline.pool[0].process.pid)
    finally:
        pipeline.close_spider()
    assert isinstance(report, Report)
    assert policy == (os.SCHED_IDLE if idle else os.SCHED_OTHER)
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the crawler itself keeps its priority


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker-process"])
def test_pipeline_turns_raw_pages_into_reports_or_failures(workers):

    crawler = project_crawler(**{"CACI_MIN_BODY_WORDS": 20, "CACI_CLEANING_WORKERS": workers})
    crawler.stats.open_spider()  # a bare crawler's stats collector needs opening by hand
    pipeline = CleaningPipeline.from_crawler(crawler)
    pipeline.open_spider()
    html = (SITE / "item-7102.html").read_text()
    other = object()
    items = [RawPage(url=ORIGIN + "/publications/field-reports/item/7102-x.html", html=html,
                     fetched_at="2026-01-01T00:00:00+00:00"),
             RawPage(url=ORIGIN + "/y", html="", fetched_at="t"),
             RawPage(url=ORIGIN + "/z", html=b"<p>bytes, not text</p>", fetched_at="t"),  # a bug's shape
             other]

    async def run_all():
        return [await pipeline.process_item(item) for item in items]

    try:
        report, empty, broken, passed = run_async(run_all())
    finally:
        pipeline.close_spider()
    assert isinstance(report, Report) and report.item_id == 7102
    assert isinstance(empty, PageFailure) and empty.reason == "parse: empty page: the response had no content"
    assert isinstance(broken, PageFailure) and broken.reason.startswith("parse: internal error: TypeError")
    assert passed is other
    assert crawler.stats.get_value("cleaning/k2") == 1
    assert crawler.stats.get_value("cleaning/failed") == 2


def test_pipeline_can_be_switched_off():
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        CleaningPipeline.from_crawler(project_crawler(**{"CACI_CLEANING_ENABLED": False}))


# --- fuzzing: random and mutated HTML never crashes the cleaner ----------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TAGS = ["p", "div", "br", "span", "em", "strong", "blockquote", "ul", "li", "script", "form", "img",
        "table", "td", "h2", "a", "iframe", "style"]
K2_CLASSES = ["itemView", "itemTitle", "itemDateCreated", "itemIntroText", "itemFullText",
              "itemHits", "itemTags", "catItemView", "MsoNormal", "share-buttons"]
TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)


@st.composite
def tag_soup(draw, depth=0):
    parts = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.integers(0, 4))
        if kind == 0 or depth > 3:
            parts.append(draw(TEXT))
        elif kind == 1:
            parts.append(f"<{draw(st.sampled_from(TAGS))}>")  # unclosed
        elif kind == 2:
            parts.append(f"</{draw(st.sampled_from(TAGS))}>")  # stray close
        else:
            tag, cls = draw(st.sampled_from(TAGS)), draw(st.sampled_from(K2_CLASSES))
            parts.append(f'<{tag} class="{cls}" onclick="x()">{draw(tag_soup(depth=depth + 1))}</{tag}>')
    return "".join(parts)


def check_never_crashes(html: str) -> None:
    try:
        report = clean_page(html, ORIGIN + "/publications/field-reports/item/1-x.html", min_words=MIN_WORDS)
    except CleaningError as exc:
        assert str(exc)  # a reason, always
        return
    assert report.title and report.word_count >= 20 and len(report.published) == 10
    assert "<script" not in report.body_html and "onclick" not in report.body_html


@pytest.mark.slow  # 300 examples
@settings(max_examples=300, deadline=None)
@given(tag_soup())
def test_fuzz_random_tag_soup(html):
    check_never_crashes(html)


FUZZ_PAGES = [fixture_html(p["file"]) for p in PAGES[:6]]


@pytest.mark.slow  # 150 examples
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FUZZ_PAGES), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 400),
                                                      st.sampled_from(["cut", "delete", "insert", "dup"])),
                                            min_size=1, max_size=6), TEXT)
def test_fuzz_mutated_fixture_pages(page, mutations, junk):
    """Real pages cut short, with spans deleted, duplicated or junk inserted anywhere."""
    html = page
    for where, length, how in mutations:
        at = int(where * len(html))
        if how == "cut":
            html = html[:at]
        elif how == "delete":
            html = html[:at] + html[at + length:]
        elif how == "insert":
            html = html[:at] + junk + html[at:]
        else:
            html = html[:at] + html[at:at + length] * 2 + html[at + length:]
    check_never_crashes(html)


def test_malformed_urls_in_a_page_do_not_crash_it():
    """Regression (found by the mutation fuzz test): a "[" in <base href> or a link raised ValueError."""
    html = fixture_html("item-7101.html").replace('<base href="https://www', '<base href="https://[www')
    html = html.replace("<p>Observers", '<p><a href="http://[bad/x">Observers</a>', 1)
    report = clean_page(html, ORIGIN + "/publications/field-reports/item/7101-x.html", min_words=MIN_WORDS)
    assert report.title == "KAZAKHSTAN: PARLIAMENT DEBATES NEW RULES FOR NGOS"
    assert "[bad" not in report.body_html


def test_workers_are_forked_only_by_a_process_with_one_thread():
    """reclean forks its workers (ready with the modules imported) when it has only its main
    thread, and spawns them otherwise (a thread may hold a lock when the process forks)."""
    import subprocess
    import sys
    import threading

    from pipelines.workers import start_method
    from tests.conftest import ROOT

    code = "from pipelines.workers import start_method; print(start_method())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["fork"]
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert start_method() == "spawn"
    finally:
        stop.set()
        other.join()


def test_a_dead_cleaning_worker_is_replaced_by_cleaning_in_the_crawler(caplog):
    """A cleaning worker killed mid-crawl (the OOM killer, say) loses no page: the page it had
    and the ones after it are cleaned in the crawler process, and the log says so once."""
    import asyncio
    import os
    import signal
    import time

    from pipelines.worker import WorkerDied, WorkerProcess

    crawler = project_crawler(**{"CACI_MIN_BODY_WORDS": 20, "CACI_CLEANING_WORKERS": 1})
    crawler.stats.open_spider()
    pipeline = CleaningPipeline.from_crawler(crawler)
    pipeline.open_spider()
    html = (SITE / "item-7102.html").read_text()
    page = RawPage(url=ORIGIN + "/publications/field-reports/item/7102-x.html", html=html,
                   fetched_at="2026-01-01T00:00:00+00:00")

    async def run_all():
        first_report = await pipeline.process_item(page)
        worker: WorkerProcess = pipeline.pool[0]
        worker_pid = worker.process.pid
        busy = asyncio.ensure_future(worker.call(time.sleep, 5))  # the pages below wait behind it
        waiting = [asyncio.ensure_future(pipeline.process_item(page)) for _ in range(3)]
        await asyncio.sleep(0.2)
        os.kill(worker_pid, signal.SIGKILL)
        after = await asyncio.gather(*waiting)
        with pytest.raises(WorkerDied):
            await busy
        return first_report, worker_pid, after

    try:
        first_report, worker_pid, after = run_async(run_all())
    finally:
        pipeline.close_spider()
    assert isinstance(first_report, Report) and worker_pid != os.getpid()
    assert [type(r) for r in after] == [Report] * 3 and all(r.item_id == 7102 for r in after)
    assert pipeline.pool == []
    assert caplog.text.count("A cleaning worker died") == 1
