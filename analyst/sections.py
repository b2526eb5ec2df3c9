"""The Analyst's sections: a section is configuration (a slug and a name), not code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    slug: str  # as in /publications/<slug>.html
    name: str  # as the site writes it ("Published in <name>")

    @property
    def path(self) -> str:
        return f"/publications/{self.slug}"


SECTIONS: dict[str, Section] = {s.slug: s for s in (
    Section("field-reports", "Field Reports"),
    Section("analytical-articles", "Analytical Articles"),
    Section("feature-articles", "Feature Articles"),
    Section("news-digest", "News Digest"),
)}
NEWS_DIGEST = "News Digest"


def parse_sections(value: str | None) -> list[Section]:
    """`"all"`, or slugs separated by commas, as Sections; an unknown slug is a ValueError."""
    if value is None or value.strip() == "all":
        return list(SECTIONS.values())
    slugs = [s.strip() for s in value.split(",") if s.strip()]
    if not slugs:
        raise ValueError(f"no section given; name sections with commas ({', '.join(SECTIONS)}) or all")
    unknown = [s for s in slugs if s not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)} or all")
    return [SECTIONS[s] for s in slugs]


def section_for_path(category_path: str) -> Section:
    """The section of a listing path (/publications/<slug>); an unknown one is named from its slug."""
    slug = category_path.rstrip("/").rsplit("/", 1)[-1]
    return SECTIONS.get(slug) or Section(slug, slug.replace("-", " ").title())
