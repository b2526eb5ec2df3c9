"""The intro that the full text repeats: dropped where repeated, kept where it is not."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import replace

from analyst.model import Block
from analyst.text import words

_TEASER_END = re.compile(r"(\.\.\.|…)\s*$")
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
    if not intro:
        return intro
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
