"""Structure inside a body: analytical articles' section labels and author bio, digest pieces."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from analyst.model import Block
from analyst.text import clean_ws, word_count

# "BACKGROUND:", "Background:", "BACKGROUND -", or capitals with no colon at all.
_LABEL = re.compile(r"^(?:(BACKGROUND|IMPLICATIONS|CONCLUSIONS?)\b\s*[:.\-–—]?|"
                    r"(background|implications|conclusions?)\s*:)\s*(.*)$", re.I | re.S)
_BIO = re.compile(r"^AUTHOR[’'`]?S?[’'`]?\s+BIO(?:GRAPHY)?\s*[:.\-–—]?\s*(.*)$", re.I | re.S)
_SOURCE = re.compile(r"\s*\(([^()]{2,160})\)\s*$")


def _with_text(block: Block, text: str, html_text: str) -> Block:
    return replace(block, lines=[(text, html_text)])


def _label_of(text: str) -> tuple[str, str] | None:
    m = _LABEL.match(text)
    if not m:
        return None
    upper, lower, rest = m.group(1), m.group(2), m.group(3)
    if upper and not upper.isupper() and not re.match(r"^\w+\s*:", text):
        return None  # "Background checks were ..." is a sentence, not a label
    label = (upper or lower).upper()
    return ("CONCLUSIONS" if label == "CONCLUSION" else label), rest


def label_sections(blocks: list[Block]) -> list[Block]:
    """Write the BACKGROUND / IMPLICATIONS / CONCLUSIONS labels as "LABEL: " at the start of
    their paragraphs, whether the page had them bold, in capitals without a colon, or as a
    heading paragraph of their own (merged into the paragraph that follows)."""
    out: list[Block] = []
    pending: str | None = None
    for block in blocks:
        found = _label_of(block.text)
        if found and not found[1].strip():  # a heading alone: it labels the next paragraph
            pending = found[0]
            continue
        if pending:
            block = _with_text(block, f"{pending}: {block.text}", f"<strong>{pending}:</strong> {block.html}")
            pending = None
        elif found:
            label, rest = found
            html_rest = re.sub(r"^(<(strong|b|em)>)?\s*" + re.escape(label[:6]) + r"\w*\s*[:.\-–—]?\s*(</\2>)?\s*",
                               "", block.html, flags=re.I)
            block = _with_text(block, f"{label}: {clean_ws(rest)}", f"<strong>{label}:</strong> {html_rest}")
        out.append(block)
    return out


def take_author_bio(blocks: list[Block]) -> str | None:
    """Remove the closing "AUTHOR'S BIO:" paragraph (or a heading and its paragraph) and return it."""
    for i in range(len(blocks) - 1, max(-1, len(blocks) - 4), -1):
        m = _BIO.match(blocks[i].text)
        if not m:
            continue
        bio_parts = [m.group(1)] + [b.text for b in blocks[i + 1:]]
        del blocks[i:]
        bio = clean_ws(" ".join(p for p in bio_parts if p))
        return bio or None
    return None


@dataclass
class DigestPiece:
    position: int
    headline: str
    text: str
    source: str | None


def _is_headline(text: str, html_text: str) -> bool:
    if not text or word_count(text) > 20 or text.endswith((".", ",", ";")) and not text.isupper():
        return False
    letters = [c for c in text if c.isalpha()]
    capitals = bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.8
    bold = bool(re.fullmatch(r"\s*<(strong|b)>.*</\1>\s*", html_text, re.S))
    return capitals or bold


def digest_pieces(blocks: list[Block]) -> list[DigestPiece]:
    """A news digest's pieces: each a headline (bold or capitals), its text, its (source)."""
    pieces: list[DigestPiece] = []
    headline: str | None = None
    texts: list[str] = []

    def close() -> None:
        if headline and texts:
            text = " ".join(texts)
            m = _SOURCE.search(text)
            source = clean_ws(m.group(1)) if m else None
            pieces.append(DigestPiece(len(pieces) + 1, headline, clean_ws(text[:m.start()] if m else text),
                                      source))

    for block in blocks:
        lines = list(block.lines)
        if _is_headline(*lines[0]):
            close()
            headline, texts = clean_ws(lines[0][0]), []
            lines = lines[1:]  # a headline may share its paragraph with the text, split by <br>
        if headline is not None:
            texts.extend(t for t, _ in lines if t)
    close()
    return pieces
