"""Cut a body container into blocks: paragraphs, quotations and list items, widgets and chrome left out."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from dataclasses import replace

from analyst.model import Block
from analyst.pages.common import Element
from analyst.sections import SECTIONS
from analyst.text import clean_ws, word_count, words
from analyst.urls import join_url
from pipelines.plugins import expand_plugins

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
_HAS_WORD = re.compile(r"\w")  # the quick test; words() (NFKC first) decides the rest
_CAPTION = re.compile(r"^(photo|image|picture|source|credit|caption|courtesy|illustration|map)\b", re.I)

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
        if len(self._lines) == 1 and not self._lines[0][0] and not self._image:
            # Nothing collected (every block element flushes on entry and exit): only reset.
            self._waiting = []
            self._pending_breaks = 0
            return
        lines = [(clean_ws("".join(t)), clean_ws("".join(h))) for t, h in self._lines]
        lines = [(t, h) for t, h in lines if t]
        if lines or self._image:
            self.blocks.append(Block(kind, lines, list_tag, has_image=self._image))
        self._lines = [([], [])]
        self._waiting = []
        self._pending_breaks = 0
        self._image = False


def _children(node: Element) -> Iterator[Element | str]:
    """A node's content in document order: text, child elements, the text after each child.
    Comments and processing instructions are left out, the text after them is not."""
    if node.text:
        yield node.text
    for child in node:
        if isinstance(child.tag, str):
            yield child
        if child.tail:
            yield child.tail


def _is_junk(node: Element) -> bool:
    if node.tag in _DROP_TAGS:
        return True
    if node.tag == "form":
        return word_count(" ".join(node.xpath(".//text()[not(ancestor::script or ancestor::style)]"))) \
            <= _FORM_MAX_WORDS
    if node.get("aria-hidden") == "true" or "display:none" in (node.get("style") or "").replace(" ", ""):
        return True
    marker = " ".join((node.get("class") or "").split()) + " " + (node.get("id") or "")
    return bool(marker.strip()) and bool(_DROP_CLASS.search(marker))


def _walk_inline(node: Element | str, out: _BlockWriter, kind: str, list_tag: str) -> None:
    if isinstance(node, str):
        out.text(node, html_lib.escape(node, quote=False))
        return
    name = node.tag
    if name == "img":
        out.image()
        return
    if _is_junk(node):
        return
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
    for child in _children(node):
        _walk_inline(child, out, kind, list_tag)
    if href:
        out.text("", "</a>")
    elif wrap:
        out.text("", f"</{wrap}>")


def _walk_blocks(node: Element, out: _BlockWriter, kind: str = "p", list_tag: str = "ul") -> None:
    """Walk a block container: every block element ends the paragraph being collected."""
    name = node.tag
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
    for child in _children(node):
        if not isinstance(child, str) and child.tag in _BLOCK_TAGS and not _is_junk(child):
            out.flush_paragraph(kind, list_tag)
            _walk_blocks(child, out, kind, list_tag)
        else:
            _walk_inline(child, out, kind, list_tag)
    out.flush_paragraph(kind, list_tag)


def extract_blocks(container: Element | None, base: str) -> list[Block]:
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
        lines = [(t, h) for t, h in lines if _HAS_WORD.search(t) or words(t)]
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
