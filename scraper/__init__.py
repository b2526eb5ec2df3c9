"""Scrapy project that harvests the CACI Analyst's Field Reports into SQLite."""

from __future__ import annotations

import importlib.util
from pathlib import Path

__version__ = "0.1.0"

# The project's three top-level packages have generic names that PyPI projects also use. They
# are meant to be installed into the project's own environment (.venv, or a Scrapyd
# environment of its own); where another `db` or `pipelines` comes first on the path anyway,
# say so at once rather than fail later in a confusing way.
SIBLINGS = ("analyst", "db", "pipelines", "sample")


def shadowed(root: Path = Path(__file__).resolve().parent.parent) -> list[str]:
    """Our sibling packages that resolve to something else than the folders beside this one."""
    wrong = []
    for name in SIBLINGS:
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin).resolve().parent.parent if spec and spec.origin else None
        if origin != root:
            wrong.append(f"{name} -> {spec.origin if spec else 'not found'}")
    return wrong


if _wrong := shadowed():
    raise ImportError(
        "caci-field-reports: another package shadows this project's own ("
        + "; ".join(_wrong) + "). Install the project into an environment of its own "
        "(python3 -m venv .venv && .venv/bin/pip install -e .), see the README's Packaging section."
    )
