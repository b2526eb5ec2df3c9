"""Cleaning: separate a report's body from the site's chrome and read its metadata."""

from __future__ import annotations

import asyncio
import html as html_lib
import logging
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import nh3
from bs4 import NavigableString, Tag
from bs4.element import Comment, Doctype, ProcessingInstruction
from scrapy.exceptions import NotConfigured

from pipelines.plugins import expand_plugins
from pipelines.structure import digest_pieces, label_sections, take_author_bio
from scraper.items import PageFailure, RawPage, Report
from scraper.sections import NEWS_DIGEST, SECTIONS
from scraper.pages import ItemPage, ListingEntry, make_soup, parse_item
from scraper.text import Byline, clean_ws, parse_byline, parse_date, split_names, word_count, words
from scraper.urls import item_id, join_url

logger = logging.getLogger(__name__)

DEFAULT_MIN_BODY_WORDS = 20

# Elements whose content is never article text.
_DROP_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "button",
              "input", "select", "textarea", "img", "svg", "video", "audio", "figure", "map")
# A form is a widget (newsletter, search) unless a stray unclosed <form> swallowed the article.
_FORM_MAX_WORDS = 30
# Class/id fragments of widgets pasted into the full text: share buttons, captions, plugins.
_DROP_CLASS = re.compile(r"(share|social|addthis|sharethis|fb-|twitter|caption|credit|jcomments|"
                         r"itemImage|itemHits|itemDateModified|itemTags|itemRelated|itemNavigation)", re.I)
_BLOCK_TAGS = {"p", "div", "form", "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
               "table", "tr", "section", "article", "center", "pre", "dl", "dt", "dd", "address",
               "header", "footer", "aside", "main", "hr"}
_EM_TAGS = {"em", "i", "cite"}
_STRONG_TAGS = {"strong", "b"}
# Unexpanded Joomla plugin tags such as {jcomments on} or {loadposition x}.
_PLUGIN_TAG = re.compile(r"\{/?[a-z][\w-]*(?:\s[^{}]*)?\}", re.I)
# A paragraph that is exactly one of K2's own template strings (en-GB.com_k2.ini) strayed into a
# body, as pasted pages carry them: only these whole forms, so an article paragraph that merely
# starts like one ("Published in 1998, the survey ...", "Read together, ...") stays.
_CHROME_BLOCK = re.compile(
    r"^(read \d[\d,.]* times|"
    r"last modified on \w+, \d{1,2} \w+ \d{4}( \d{2}:\d{2})?|"
    r"published in (%s)|"
    r"tagged under( [^\s.,;:!?]+){0,6}|"
    r"(tweet|share|print|email|print this page)|back to top|related items|"
    r"more in this category:( «[^»]*)?( [^«»]*»)?)$" % "|".join(re.escape(s.name) for s in SECTIONS.values()),
    re.I,
)
_CAPTION = re.compile(r"^(photo|image|picture|source|credit|caption|courtesy|illustration|map)\b", re.I)
_TEASER_END = re.compile(r"(\.\.\.|…)\s*$")
# The site's own chrome (Joomla template modules): on a page without a K2 item, what is left
# after removing these is the page's own content, if it has any.
SITE_CHROME = ("header, nav, footer, #aside, .well, .moduletable, .acymailing_module, "
               ".itemToolbar, .itemSocialSharing, .itemRelated, .itemNavigation, form, script, style")
SANITISER_TAGS = {"p", "blockquote", "ul", "ol", "li", "em", "strong", "a"}


class CleaningError(ValueError):
    """The page holds no report we can store; the message is the recorded reason."""


class NotK2PageError(CleaningError):
    """A page without K2 item markup that the generic extractor could not use either."""


@dataclass
class Block:
    """One paragraph of a body: plain text, inline HTML, and what kind of block holds it."""

    kind: str  # "p", "quote" or "li"
    lines: list[tuple[str, str]] = field(default_factory=list)  # (text, html) per <br> line
    list_tag: str = "ul"
    has_image: bool = False

    @property
    def text(self) -> str:
        return clean_ws(" ".join(t for t, _ in self.lines))

    @property
    def html(self) -> str:
        return " ".join(h for _, h in self.lines if h.strip()).strip()


class _BlockWriter:
    """Collects inline text and HTML into blocks while the container is walked."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.blocks: list[Block] = []
        self._lines: list[tuple[list[str], list[str]]] = [([], [])]
        self._waiting: list[tuple[str, str]] = []
        self._pending_breaks = 0
        self._image = False

    def text(self, text: str, html_text: str) -> None:
        # White space and opening tags wait for the next real text: a `<br>` pair between them
        # must still end the paragraph, and the tag must open in the paragraph it belongs to.
        if not text.strip() and not html_text.startswith("</"):
            self._waiting.append((text, html_text))
            return
        if text.strip():
            if self._pending_breaks >= 2 and any(s.strip() for s in self._lines[-1][0]):
                self.flush_paragraph()
            elif self._pending_breaks == 1 and any(s.strip() for s in self._lines[-1][0]):
                self._lines.append(([], []))
            self._pending_breaks = 0
        for t, h in [*self._waiting, (text, html_text)]:
            self._lines[-1][0].append(t)
            self._lines[-1][1].append(h)
        self._waiting = []

    def line_break(self) -> None:
        self._pending_breaks += 1

    def image(self) -> None:
        self._image = True

    def flush_paragraph(self, kind: str = "p", list_tag: str = "ul") -> None:
        lines = [(clean_ws("".join(t)), clean_ws("".join(h))) for t, h in self._lines]
        lines = [(t, h) for t, h in lines if t]
        if lines or self._image:
            self.blocks.append(Block(kind, lines, list_tag, has_image=self._image))
        self._lines = [([], [])]
        self._waiting = []
        self._pending_breaks = 0
        self._image = False


def _is_junk(node: Tag) -> bool:
    if node.name in _DROP_TAGS:
        return True
    if node.name == "form":
        return word_count(node.get_text(" ")) <= _FORM_MAX_WORDS
    if node.get("aria-hidden") == "true" or "display:none" in (node.get("style") or "").replace(" ", ""):
        return True
    marker = " ".join(node.get("class") or []) + " " + (node.get("id") or "")
    return bool(marker.strip()) and bool(_DROP_CLASS.search(marker))


def _walk_inline(node: Tag | NavigableString, out: _BlockWriter, kind: str, list_tag: str) -> None:
    if isinstance(node, (Comment, Doctype, ProcessingInstruction)):
        return
    if isinstance(node, NavigableString):
        text = str(node)
        out.text(text, html_lib.escape(text, quote=False))
        return
    if node.name == "img":
        out.image()
        return
    if _is_junk(node):
        return
    name = node.name
    if name == "br":
        out.line_break()
        return
    if name in _BLOCK_TAGS:
        _walk_blocks(node, out, kind, list_tag)
        return
    wrap = "em" if name in _EM_TAGS else "strong" if name in _STRONG_TAGS else None
    href = node.get("href") if name == "a" else None
    if href and not href.strip().lower().startswith(("http:", "https:", "mailto:", "/", "#")) and ":" in href:
        href = None  # javascript: and friends
    href = join_url(out.base, href) if href else None
    if href:
        out.text("", f'<a href="{html_lib.escape(href)}">')
    elif wrap:
        out.text("", f"<{wrap}>")
    for child in node.children:
        _walk_inline(child, out, kind, list_tag)
    if href:
        out.text("", "</a>")
    elif wrap:
        out.text("", f"</{wrap}>")


def _walk_blocks(node: Tag, out: _BlockWriter, kind: str = "p", list_tag: str = "ul") -> None:
    """Walk a block container: every block element ends the paragraph being collected."""
    name = node.name
    if name == "blockquote":
        kind = "quote"
    elif name in ("ul", "ol"):
        list_tag = name
    elif name in ("li", "dd", "dt") and kind != "quote":
        kind = "li" if name == "li" else kind
    if name == "hr":
        out.flush_paragraph(kind, list_tag)
        return
    out.flush_paragraph(kind if kind != "li" else "p", list_tag)
    for child in node.children:
        if isinstance(child, Tag) and child.name in _BLOCK_TAGS and not _is_junk(child):
            out.flush_paragraph(kind, list_tag)
            _walk_blocks(child, out, kind, list_tag)
        else:
            _walk_inline(child, out, kind, list_tag)
    out.flush_paragraph(kind, list_tag)


def extract_blocks(container: Tag | None, base: str) -> list[Block]:
    """The paragraphs of a body container, in order, without widgets, plugin tags or blanks."""
    if container is None:
        return []
    expand_plugins(container)
    out = _BlockWriter(base)
    _walk_blocks(container, out)
    blocks: list[Block] = []
    after_image = False
    for block in out.blocks:
        lines = [(clean_ws(_PLUGIN_TAG.sub("", t)), _PLUGIN_TAG.sub("", h)) for t, h in block.lines]
        lines = [(t, h) for t, h in lines if words(t)]
        block = replace(block, lines=lines)
        # An image's caption is the short line in or right after the image's paragraph.
        if (block.has_image or after_image) and block.lines and _is_caption(block):
            after_image = False
            continue
        after_image = block.has_image and not block.lines
        if block.lines and not _CHROME_BLOCK.match(block.text):
            blocks.append(block)
    return blocks


def _is_caption(block: Block) -> bool:
    if word_count(block.text) > 40:
        return False
    html_text = block.html
    return bool(_CAPTION.match(block.text)) or (
        html_text.startswith(("<em>", "<strong>")) and html_text.endswith(("</em>", "</strong>")))


def take_byline(blocks: list[Block]) -> Byline | None:
    """Remove a leading byline (a whole paragraph, or its first `<br>` line) and parse it."""
    if not blocks:
        return None
    first = blocks[0]
    if byline := parse_byline(first.text):
        blocks.pop(0)
        return byline
    if len(first.lines) > 1 and (byline := parse_byline(first.lines[0][0])):
        blocks[0] = replace(first, lines=first.lines[1:])
        return byline
    return None


# Where one sentence ends and the next begins: after . ! ? or …, closing quotes, a space, then
# an opening quote or a capital or digit.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"”’)]*\s+(?=[\"“‘(]?[A-Z0-9])")


def _repeated_in(text: str, full_words: str) -> bool:
    """Whether the words of `text` stand, in order and together, in the full text's words.

    Compared on word tokens, so retyped entities, quotes, spacing and paragraph splits do not
    hide a repeat; a teaser cut short with "..." is compared without its (maybe cut) last word.
    """
    tokens = words(text)
    if _TEASER_END.search(text):
        tokens = tokens[:-1]
    return not tokens or f" {' '.join(tokens)} " in full_words


def drop_repeated_intro(intro: list[Block], full: list[Block]) -> list[Block]:
    """The intro without what the full text repeats: whole paragraphs, or leading sentences.

    An intro the full text repeats whole (or joins, or cuts short with "...") goes; an intro the
    full text does not repeat stays; where only some of its sentences are repeated, the others
    stay, so nothing of the article is lost.
    """
    full_words = f" {' '.join(words(' '.join(b.text for b in full)))} "
    if not full_words.strip():
        return intro
    kept: list[Block] = []
    for block in intro:
        if _repeated_in(block.text, full_words):
            continue
        sentences = _SENTENCE_BREAK.split(block.text)
        # Short sentences ("Yes.") match anywhere by chance: they stay unless the block goes.
        rest = [s for s in sentences if len(words(s)) < 4 or not _repeated_in(s, full_words)]
        if len(rest) == len(sentences):
            kept.append(block)
        elif rest:
            text = " ".join(rest)
            kept.append(replace(block, lines=[(text, html_lib.escape(text, quote=False))]))
    return kept


def render_html(blocks: list[Block]) -> str:
    """Minimal HTML of the body (p, blockquote, lists, em/strong, links), sanitised by nh3."""
    parts: list[str] = []
    open_group: tuple[str, str] | None = None
    for block in blocks:
        group = ("quote", "blockquote") if block.kind == "quote" else (
            ("li", block.list_tag) if block.kind == "li" else None)
        if group != open_group:
            if open_group:
                parts.append(f"</{open_group[1]}>")
            if group:
                parts.append(f"<{group[1]}>")
            open_group = group
        parts.append(f"<li>{block.html}</li>" if block.kind == "li" else f"<p>{block.html}</p>")
    if open_group:
        parts.append(f"</{open_group[1]}>")
    return nh3.clean(
        "\n".join(parts),
        tags=SANITISER_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )


def _report_dates(page_date: str | None, listing: ListingEntry | None,
                  byline: Byline | None) -> tuple[str, str]:
    if page_date:
        return page_date, "item"
    if byline and byline.issue_date:
        return byline.issue_date, "byline"
    if listing and listing.published:
        return listing.published, "listing"
    raise CleaningError("no date: the page has no parsable itemDateCreated, no dated byline and no listing date")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _finish(url: str, dates: tuple[str, str], body: str, min_words: int, issue_date: str | None,
            **fields: Any) -> Report:
    """The Report, with what every extraction fills the same way; too short a body is refused."""
    count = word_count(body)
    if count < min_words:
        raise CleaningError(f"no article text: {count} words of body (fewer than {min_words})")
    published, date_source = dates
    return Report(url=url, item_id=item_id(url), published=published, date_source=date_source,
                  issue_date=issue_date, body=body, word_count=count, **fields)


def clean_k2(page: ItemPage, url: str, listing: ListingEntry | None, fetched_at: str,
             min_words: int, section: str | None = None) -> Report:
    base = page.base
    intro = extract_blocks(page.intro, base)
    full = extract_blocks(page.fulltext, base)
    byline = take_byline(intro) or take_byline(full)
    if byline is None:
        take_byline(full)
    blocks = label_sections(drop_repeated_intro(intro, full) + full)
    author_bio = take_author_bio(blocks)
    category = page.category or section
    pieces = digest_pieces(blocks) if category == NEWS_DIGEST else []
    title = page.title or (listing.title if listing else None)
    if not title:
        raise CleaningError("no title: the item has no itemTitle and the listing gave none")
    # The byline names the writers; without one, what K2 prints for the item's author does.
    authors = list(byline.authors) if byline and byline.authors else (
        split_names(page.k2_author) if page.k2_author else [])
    return _finish(
        url, _report_dates(page.created, listing, byline), "\n\n".join(b.text for b in blocks),
        min_words, byline.issue_date if byline else None,
        title=title,
        author=" and ".join(authors) or None,
        authors=authors,
        category=category,
        hits=page.hits,
        tags=page.tags,
        body_html=render_html(blocks),
        extraction="k2",
        fetched_at=fetched_at,
        author_bio=author_bio,
        digest_items=[asdict(p) for p in pieces],
    )


def clean_generic(html: str, url: str, listing: ListingEntry | None, fetched_at: str,
                  min_words: int, section: str | None = None) -> Report:
    """A page without K2 item markup: trafilatura's extraction, flagged as `generic`."""
    import trafilatura

    soup = make_soup(html)
    for node in soup.select(SITE_CHROME):
        node.decompose()
    doc = trafilatura.bare_extraction(str(soup), url=url, with_metadata=True, include_comments=False,
                                      include_tables=False)
    text = (doc.text if doc is not None else "") or ""
    paragraphs = [clean_ws(line) for line in text.splitlines() if clean_ws(line)]
    byline = parse_byline(paragraphs[0]) if paragraphs else None
    if byline:
        paragraphs = paragraphs[1:]
    title = clean_ws(getattr(doc, "title", None)) or (listing.title if listing else None)
    if not title:
        raise CleaningError("no title: not a K2 item page and no title could be extracted")
    authors = list(byline.authors) if byline else (
        [clean_ws(a) for a in re.split(r";|\band\b", doc.author) if clean_ws(a)]
        if getattr(doc, "author", None) else [])
    return _finish(
        url, _report_dates(parse_date(getattr(doc, "date", None)), listing, byline),
        "\n\n".join(paragraphs), min_words, byline.issue_date if byline else None,
        title=title,
        author=" and ".join(authors) or None,
        authors=authors,
        category=section,
        tags=list(getattr(doc, "tags", None) or []),
        body_html=nh3.clean("\n".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs),
                            tags=SANITISER_TAGS),
        extraction="generic",
        fetched_at=fetched_at,
    )


def clean_page(html: str, url: str, listing: ListingEntry | None = None,
               fetched_at: str | None = None, min_words: int = DEFAULT_MIN_BODY_WORDS,
               prefer_canonical: bool = False, section: str | None = None) -> Report:
    """The clean report of one item page; raises CleaningError with the reason if there is none.

    `prefer_canonical` reports the page's `<link rel="canonical">` as its URL (for saved files,
    whose own location says nothing about the report).
    """
    if not html or not html.strip():
        raise NotK2PageError("empty page: the response had no content")
    fetched_at = fetched_at or _now()
    page = parse_item(html, url)
    if prefer_canonical and page.canonical:
        url = page.canonical
    if page.is_k2_item:
        return clean_k2(page, url, listing, fetched_at, min_words, section)
    try:
        return clean_generic(html, url, listing, fetched_at, min_words, section)
    except CleaningError as exc:
        raise NotK2PageError(str(exc)) from exc


def cleaning_workers(setting: str | int | None) -> int:
    """Worker processes for cleaning: "auto" leaves one core to Scrapy and uses the rest (≤ 2)."""
    if setting in (None, "", "auto"):
        return min(2, (os.cpu_count() or 1) - 1)
    return max(0, int(setting))


def _die_with_parent() -> None:
    """In a cleaning worker: be terminated when the crawler process dies, even by SIGKILL,
    rather than linger (Linux's PR_SET_PDEATHSIG; elsewhere the pool's own shutdown does)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _clean_or_fail(item: RawPage, min_words: int) -> Report | PageFailure:
    """Clean one page; every way it can go wrong becomes a PageFailure with the reason."""
    k2_markup: bool | None = True
    try:
        return clean_page(item.html, item.url, item.listing, item.fetched_at, min_words,
                          section=item.section)
    except NotK2PageError as exc:
        reason, k2_markup = f"parse: {exc}", False
    except CleaningError as exc:
        reason = f"parse: {exc}"
    except Exception as exc:  # noqa: BLE001 - a bug must not lose the page: record it instead
        logger.exception("Unexpected error cleaning %s", item.url)
        reason, k2_markup = f"parse: internal error: {type(exc).__name__}: {exc}", None
    listing = item.listing
    return PageFailure(url=item.url, reason=reason, fetched_at=item.fetched_at,
                       listing_title=listing.title if listing else None,
                       listing_date=listing.published if listing else None, k2_markup=k2_markup)


class CleaningPipeline:
    """Turns each RawPage into a Report, or into a PageFailure that says why it could not.

    Cleaning is CPU work (HTML trees); with CACI_CLEANING_WORKERS > 0 it runs in worker
    processes, so parsing pages and fetching the next ones use different cores.
    """

    def __init__(self, stats: Any, min_words: int = DEFAULT_MIN_BODY_WORDS, workers: int = 0) -> None:
        self.stats = stats
        self.min_words = min_words
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> CleaningPipeline:
        settings = crawler.settings
        if not settings.getbool("CACI_CLEANING_ENABLED", True):
            raise NotConfigured("CACI_CLEANING_ENABLED is off")
        return cls(crawler.stats, settings.getint("CACI_MIN_BODY_WORDS", DEFAULT_MIN_BODY_WORDS),
                   cleaning_workers(settings.get("CACI_CLEANING_WORKERS", "auto")))

    def open_spider(self) -> None:
        if self.workers:
            # spawn, not fork: the crawler process has threads, and a forked lock can hang.
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_die_with_parent)

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    async def _clean(self, item: RawPage) -> Report | PageFailure:
        if self.pool is None:
            return _clean_or_fail(item, self.min_words)
        try:
            return await asyncio.wrap_future(self.pool.submit(_clean_or_fail, item, self.min_words))
        except BrokenProcessPool:
            logger.error("A cleaning worker died; cleaning in the crawler process from now on")
            self.pool = None
            return _clean_or_fail(item, self.min_words)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawPage):
            return item
        result = await self._clean(item)
        if isinstance(result, PageFailure):
            self.stats.inc_value("cleaning/failed")
            logger.warning("Cannot clean %s: %s", item.url, result.reason)
            return result
        self.stats.inc_value(f"cleaning/{result.extraction}")
        if result.date_source != "item":
            self.stats.inc_value(f"cleaning/date_from_{result.date_source}")
            logger.info("%s has no item date; used the %s date %s", item.url,
                        result.date_source, result.published)
        return result
