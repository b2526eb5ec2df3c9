"""The sample site (a small Analyst of four sections, its faults on purpose) and the local server the demo and the tests use."""

from pathlib import Path

# Package data, so an installed copy can run the demo.
SITE = Path(__file__).resolve().parent / "site"
