"""The body as minimal, sanitised HTML."""

from __future__ import annotations

import html as html_lib

import nh3

from analyst.model import Block

SANITISER_TAGS = {"p", "blockquote", "ul", "ol", "li", "em", "strong", "a"}


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


def render_paragraphs(paragraphs: list[str]) -> str:
    """Plain paragraphs as sanitised `<p>` elements."""
    return nh3.clean("\n".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs), tags=SANITISER_TAGS)
