"""Joomla content plugins' output inside article text: cloaked e-mail addresses, loaded modules."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from analyst.pages.common import Element

# What Joomla's e-mail cloaking (plg_content_emailcloak → JHtml email.cloak) prints where the
# address was, for readers without JavaScript (JLIB_HTML_CLOAKING).
CLOAKING_TEXT = "This email address is being protected from spambots. You need JavaScript enabled to view it."
# In the cloaking script: `var addy123 = 'info' + '&#64;';`, `addy123 = addy123 + 'caci' + '&#46;' + 'org';`
# and, when the link text differs, `var addy_text123 = '...';`.
_ADDY = re.compile(r"(?:var\s+)?(addy(?:_text)?)(\d+|[0-9a-f]{32})\s*=\s*((?:addy\d+|addy[0-9a-f]{32})\s*\+\s*)?"
                   r"((?:'(?:[^'\\]|\\.)*'\s*\+?\s*)+);")
_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'")
# What {loadposition x} / {loadmodule x} render: the module, in the "none" style or wrapped in a
# div.moduletable ("xhtml"); K2's own content module, and a Custom HTML module.
MODULE_CLASSES = ("moduletable", "k2ItemsBlock", "custom")


def _js_string(expr: str) -> str:
    """The value of a concatenation of single-quoted JavaScript string literals."""
    raw = "".join(_LITERAL.findall(expr))
    return html_lib.unescape(raw.replace("\\'", "'").replace("\\/", "/"))


def decode_cloak(script: str) -> tuple[str, str] | None:
    """(address, link text) from a Joomla e-mail cloaking script, or None if it is not one."""
    if "addy" not in script or "&#64;" not in script:
        return None
    parts: dict[str, str] = {}
    for name, _, appended, expr in _ADDY.findall(script):
        value = _js_string(expr)
        parts[name] = parts.get(name, "") + value if appended else value
    address = parts.get("addy")
    if not address or "@" not in address:
        return None
    return address, parts.get("addy_text") or address


def _is_element(node: Any) -> bool:
    return isinstance(node.tag, str)  # not a comment or processing instruction


def drop(node: Element) -> None:
    """Remove an element but not the text after it (its tail), as a DOM removal would."""
    parent = node.getparent()
    if parent is None:
        return
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def _replace(old: Element, new: Element) -> None:
    new.tail, old.tail = old.tail, None
    old.getparent().replace(old, new)


def _cloak_target(script: Element) -> Element | None:
    """The `<span id="cloak…">` a Joomla 3.5+ cloaking script fills, if it stands just before it."""
    match = re.search(r"getElementById\('(cloak[0-9a-f]+)'\)", script.text or "")
    if match:
        for sibling in script.itersiblings(preceding=True):
            if sibling.tag == "span" and sibling.get("id") == match.group(1):
                return sibling
    return None


def uncloak_emails(container: Element) -> int:
    """Put every cloaked address back as a mailto link, and drop the cloaking notice.

    Joomla 3.0-3.4 write the link with document.write and hide the notice with a second script;
    3.5 and later put the notice in a span that the script empties and fills. Either way the
    reader of the page sees the address, so the report carries the address.
    """
    found = 0
    for script in list(container.iter("script")):
        decoded = decode_cloak(script.text or "")
        if decoded is None:
            if CLOAKING_TEXT.split(".")[0] in (script.text or ""):
                drop(script)  # the older notice, written by its own script
            continue
        address, text = decoded
        link = script.makeelement("a", {"href": f"mailto:{address}"})
        link.text = text
        target = _cloak_target(script)
        if target is not None:
            _replace(target, link)
            drop(script)
        else:
            _replace(script, link)
        found += 1
    # A notice left without its script (a template that printed it as text) says nothing.
    for node in container.iter():
        if node.text and CLOAKING_TEXT[:40] in node.text:
            node.text = node.text.replace(CLOAKING_TEXT, "")
        if node is not container and node.tail and CLOAKING_TEXT[:40] in node.tail:
            node.tail = node.tail.replace(CLOAKING_TEXT, "")
    return found


def drop_modules(container: Element) -> int:
    """Remove modules that a {loadposition} tag rendered inside the text."""
    modules = [node for node in container.iterdescendants() if _is_element(node) and (
        set((node.get("class") or "").split()) & set(MODULE_CLASSES)
        or (node.get("id") or "").startswith("k2ModuleBox"))]
    for node in modules:
        drop(node)  # a module inside a dropped one goes with it; dropping it again changes nothing here
    return len(modules)


def expand_plugins(container: Element | None) -> None:
    """Undo what content plugins did to a body container, in place."""
    if container is None:
        return
    uncloak_emails(container)
    drop_modules(container)
