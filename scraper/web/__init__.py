"""The archive in Datasette: the plugin (this package is what the `datasette` entry point names, so
Datasette also serves its static/ and templates/), the serve command, metadata, reader pages."""

from scraper.web.plugin import (
    asgi_wrapper,
    extra_css_urls,
    extra_template_vars,
    prepare_connection,
    register_output_renderer,
    register_routes,
    render_cell,
    replace_escape_fts,
    startup,
)

__all__ = ["asgi_wrapper", "extra_css_urls", "extra_template_vars", "prepare_connection", "register_output_renderer",
           "register_routes", "render_cell", "replace_escape_fts", "startup"]
