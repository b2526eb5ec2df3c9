"""Datasette plugin: report bodies as paragraphs and highlighted search snippets, always escaped.

It acts only on databases whose metadata marks them as an archive (`plugins: caci-field-reports:
archive: true`, which `python -m scraper serve` writes for the file it serves): any other database
served by the same Datasette is shown exactly as Datasette shows it.
"""

from __future__ import annotations

import gc
import re
from typing import Any

from datasette import hookimpl
from datasette.utils import escape_fts as datasette_escape_fts
from datasette.utils import tilde_decode
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

import scraper.web.feeds as feeds
import scraper.web.reader as reader
from db import reading
from scraper.web.limits import TimeBudget, budget_middleware

# The canned "search" query's snippet() puts ** around matches.
_HIGHLIGHTED = re.compile(r"\*\*(.+?)\*\*", re.S)


def paragraphs_html(text: str) -> Markup:
    """Plain text with blank-line paragraphs as escaped <p> elements.

    The table listing shows only the first (caci.css); the row page shows them all.
    """
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    html = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return Markup(f'<div class="caci-body">{html}</div>')


def highlighted_html(snippet: str) -> Markup:
    """A search snippet with its matches in <mark>; everything else escaped."""
    escaped = str(escape(snippet))
    return Markup(_HIGHLIGHTED.sub(r"<mark>\1</mark>", escaped))


PLUGIN = "caci-field-reports"  # the name Datasette knows the plugin by: the distribution's
STYLESHEET = "caci.css"  # in scraper/web/static/, served by Datasette at /-/static-plugins/<PLUGIN>/


def is_archive(datasette: Any, database: str | None) -> bool:
    """Whether `database` is a Field Reports archive (its metadata says so)."""
    config = datasette.plugin_config(PLUGIN, database=database, fallback=False) if database else None
    return bool(config and config.get("archive"))


# What a search box accepts: words only (FTS5's quotes, operators and columns are not syntax a
# reader should have to know, and a stray one must not be an error page), and not so many that
# matching and snippet() keep the server busy: the first MAX_TERMS words, MAX_CHARS characters.
MAX_TERMS = 16
MAX_CHARS = 200
_WORD = re.compile(r"\w+")


def fts_query(text: str | None) -> str:
    """A valid FTS5 query for any input: its first words, each a quoted term (all must match);
    '""' (matches nothing) when there is no word, so an empty search is a form, not an error."""
    terms = _WORD.findall((text or "")[:MAX_CHARS])[:MAX_TERMS]
    return " ".join(f'"{t}"' for t in terms) or '""'


@hookimpl
def startup(datasette: Any) -> None:
    # A server's first seconds and its tail, both measured with bench/datasette_load.py:
    # Jinja compiles a template on its first use (~0.3 s of CPU on the first pages after a start,
    # on the one event loop: every reader arriving meanwhile waited behind it, up to 0.9 s), so
    # compile them all now (~0.6 s), before the server takes requests; and what exists once
    # started lives as long as the server, so a full garbage collection need not walk it again
    # (up to 42 ms with every request waiting, every ~100 pages; 5 ms frozen). A Datasette that
    # serves no archive is left as it is.
    if not any(is_archive(datasette, name) for name in datasette.databases):
        return
    env = datasette.jinja_env
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
    gc.freeze()


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    """A public copy (`serve --public`) shares the server's time among visitors (limits.py)."""
    config = (datasette.plugin_config(PLUGIN) or {}).get("time_budget")

    def wrap(app: Any) -> Any:
        if not config:
            return app
        return budget_middleware(app, TimeBudget(float(config["ms_per_second"]), float(config["burst_ms"]),
                                                 float(config["start_ms"])))

    return wrap


@hookimpl
def prepare_connection(conn: Any) -> None:
    # A new function name only: nothing changes for other databases on the same Datasette.
    conn.create_function("caci_search", 1, fts_query, deterministic=True)


def escape_fts_or_nothing(query: str) -> str:
    """Datasette's escape_fts (what a table's search box with `searchmode: escaped` runs), except
    that a query it escapes to nothing (a lone `"`) matches nothing instead of being the empty
    FTS5 query, a syntax error (HTTP 400). Any other query is escaped exactly as Datasette does."""
    return datasette_escape_fts(query) or '""'


@hookimpl(trylast=True, specname="prepare_connection")
def replace_escape_fts(conn: Any) -> None:
    # After Datasette's own functions (trylast), so this one is the escape_fts its queries call.
    conn.create_function("escape_fts", 1, escape_fts_or_nothing)


@hookimpl
def extra_css_urls(database: str | None, datasette: Any) -> list[str]:
    if database is None:  # the home page, which shows the archives served
        shown = any(is_archive(datasette, name) for name in datasette.databases)
    else:
        shown = is_archive(datasette, database)
    return [datasette.urls.static_plugins(PLUGIN, STYLESHEET)] if shown else []


@hookimpl
def extra_template_vars(template: str, database: str | None, table: str | None, view_name: str,
                        request: Any, datasette: Any) -> Any:
    async def template_vars() -> dict[str, Any]:
        found: dict[str, Any] = {"caci_archive": is_archive(datasette, database)}
        if view_name == "index":  # the home page: the archive(s) at a glance, then Datasette's list
            found["caci_homes"] = [await reader.home_vars(datasette, name) for name in datasette.databases
                                   if is_archive(datasette, name)]
        elif found["caci_archive"] and template == "query.html":
            query = request.url_vars.get("table") if request else None
            if query == "country" and request.args.get("name"):
                found |= await reader.country_vars(datasette, database, request.args["name"])
            elif query == "search":  # the search form's sections and countries
                found["caci_sections"] = [s["section"] for s in await reader.rows(datasette, database, reading.SECTIONS)]
                found["caci_countries"] = sorted(c["country"] for c in await reader.rows(datasette, database, reading.COUNTRIES))
        elif found["caci_archive"] and view_name == "row" and table == "reports":
            pk = request.url_vars.get("pks") if request else None
            rows = await datasette.get_database(database).execute(
                "select * from reports where id = :id", {"id": pk})
            if rows.rows:
                found |= await reader.report_vars(datasette, database, dict(rows.rows[0]))
        return found

    return template_vars


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    """/<database>/-/crawls: the operator's view of an archive's crawls (linked from the home page)."""
    async def crawls(request: Any) -> Response:
        database = tilde_decode(request.url_vars["database"])  # as urls.database() wrote it ("caci~2E2026")
        if database not in datasette.databases or not is_archive(datasette, database):
            return Response.text("Not found: no archive of that name is served here", status=404)
        context = {"database": database, "caci_crawls": await reader.crawl_vars(datasette, database, recent=True)}
        return Response.html(await datasette.render_template("caci_crawls.html", context, request=request))

    return [(r"^/(?P<database>[^/]+)/-/crawls$", crawls)]


@hookimpl
def register_output_renderer(datasette: Any) -> list[dict[str, Any]]:
    """`.bib` and `.ris` downloads of a report (or of any result with its title, date and URL)."""
    def renderer(extension: str) -> dict[str, Any]:
        return {
            "extension": extension,
            "render": lambda rows: reader.citations(extension, rows),
            "can_render": lambda columns, database, datasette: (
                is_archive(datasette, database) and reader.can_cite(columns)),
        }

    def feed(rows: list[Any], request: Any, query_name: str | None, database: str) -> Response:
        title = (datasette.metadata("queries", database=database) or {}).get(query_name, {}).get("title")
        words = request.args.get("q") or request.args.get("name")  # a search's words, an author, a country
        title = f"{title or query_name or database}{f': {words}' if words else ''}"
        base = f"{request.scheme}://{request.host}"

        def archive_page(report_id: Any) -> str:
            return base + datasette.urls.row(database, "reports", str(report_id))

        return Response(feeds.atom(rows, request.url, title, archive_page),
                        content_type="application/atom+xml; charset=utf-8")

    return [renderer("bib"), renderer("ris"),
            {"extension": "atom", "render": feed,
             "can_render": lambda columns, database, datasette: (
                 is_archive(datasette, database) and feeds.can_render(columns))}]


def lead_html(text: str) -> Markup:
    """A report's first paragraph, escaped, marked "…" when more follows: what a table listing
    shows of a body (the report's own page shows all of it, from the row template)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    more = '<span class="caci-more"> …</span>' if len(paragraphs) > 1 else ""
    return Markup(f'<div class="caci-body"><p>{escape(paragraphs[0]) if paragraphs else ""}{more}</p></div>')


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str,
                datasette: Any) -> Markup | None:
    # Column first: this runs for every cell of every page, and is_archive reads the metadata.
    if column not in ("body", "snippet") or not isinstance(value, str) or not is_archive(datasette, database):
        return None
    if column == "body" and table == "reports":
        # Listing 50 reports, whole bodies were most of the page's time and size, and hidden.
        return lead_html(value)
    if column == "body" and table == "report_versions":
        return paragraphs_html(value)
    if column == "snippet" and table is None:
        return highlighted_html(value)
    return None
