"""The byline: the first paragraph (or `<br>` line) that names the writers and the issue."""

from __future__ import annotations

from dataclasses import replace

from analyst.model import Block
from analyst.text import Byline, parse_byline


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
