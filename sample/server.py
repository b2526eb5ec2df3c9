"""A small local HTTP server for a saved copy of the site: tests, the demo and manual crawls.

It serves a folder holding `routes.json` (path + query -> file, status, content type, charset)
in the same format as the reference mirror, rewrites the real site's absolute URLs to its own
origin, logs every request, and can answer 503 to the first N requests of a route
(`"fail_first": N`, with a `"retry_after": s` header if given) so retries get exercised. Fault routes for the reliability tests:
`"delay": s` (answer late), `"redirect": url` (302 elsewhere), `"truncate": n` (close the
connection after n bytes of a longer promised body), and routes without a file that generate
`"size"` bytes, `"gzip"`-encoded if asked (a decompression bomb).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import threading
import time
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SITE_ORIGIN = b"https://www.cacianalyst.org"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gives up (a timeout test, a cancelled oversized download) is expected.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class SiteServer:
    """Serves `root` (routes.json, pages beside it or in site/) on 127.0.0.1.

    Use as a context manager; `.url` is its origin, `.requests` what it was asked for.
    """

    def __init__(self, root: str | Path, port: int = 0, fail_first: dict[str, int] | None = None,
                 missing: set[str] | frozenset[str] = frozenset(), delay: float = 0.0,
                 validators: bool = True) -> None:
        self.root = Path(root)
        # The reference mirror keeps its pages in site/ beside routes.json; ours keeps them together.
        self.files = self.root / "site" if (self.root / "site").is_dir() else self.root
        self._fail_first = dict(fail_first or {})
        self.reload()
        self.missing = set(missing)
        self.delay = delay  # seconds before each answer: a slow server, for interrupting crawls
        self.validators = validators  # send ETag/Last-Modified and answer 304 to a matching request
        self.requests: list[dict[str, str]] = []
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", port), self._handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    def reload(self) -> None:
        """Read routes.json again (a test changed the site)."""
        self.routes: dict[str, dict[str, Any]] = json.loads((self.root / "routes.json").read_text())
        for path, times in self._fail_first.items():
            self.routes[path] = self.routes[path] | {"fail_first": times}

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def conditional(self) -> list[str]:
        """Paths requested with If-None-Match / If-Modified-Since."""
        with self._lock:
            return [r["path"] for r in self.requests if r["conditional"]]

    def paths(self) -> list[str]:
        with self._lock:
            return [r["path"] for r in self.requests]

    def start(self) -> SiteServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def respond(self, path: str, headers: Any) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            self.requests.append({"path": path, "ua": headers.get("User-Agent", ""), "t": time.monotonic(),
                                  "conditional": bool(headers.get("If-None-Match") or headers.get("If-Modified-Since"))})
            self._hits[path] += 1
            hit = self._hits[path]
        if self.delay:
            time.sleep(self.delay)
        route = self.routes.get(path)
        if route is None or path in self.missing:
            return 404, b"<html><body><h1>404 - Article not found</h1></body></html>", {"Content-Type": "text/html"}
        if hit <= route.get("fail_first", 0):
            busy = {"Content-Type": "text/html"}
            if "retry_after" in route:  # how long the server asks a client to wait
                busy["Retry-After"] = str(route["retry_after"])
            return 503, b"<html><body>Service Unavailable</body></html>", busy
        if route.get("delay"):
            time.sleep(route["delay"])
        if "redirect" in route:
            location = route["redirect"].replace(SITE_ORIGIN.decode(), self.url)
            return route.get("status", 302), b"", {"Location": location, "Content-Type": "text/html"}
        if "file" not in route:  # a generated body: size bytes, optionally gzip-encoded
            return self._generated(route)
        file = self.files / route["file"]
        body = file.read_bytes().replace(SITE_ORIGIN, self.url.encode())
        ctype = route.get("type", "text/html")
        if route.get("charset"):
            ctype += f"; charset={route['charset']}"
        out = {"Content-Type": ctype}
        status = route.get("status", 200)
        if self.validators and status == 200:
            etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
            out |= {"ETag": etag, "Last-Modified": formatdate(file.stat().st_mtime, usegmt=True),
                    "Cache-Control": "no-cache"}
            if headers.get("If-None-Match") == etag:
                return 304, b"", out
        return status, body, out

    @staticmethod
    def _generated(route: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
        body = b"<html><body>" + b"x" * route.get("size", 0) + b"</body></html>"
        headers = {"Content-Type": "text/html; charset=utf-8"}
        if route.get("gzip"):
            body = gzip.compress(body, compresslevel=9)
            headers["Content-Encoding"] = "gzip"
        return route.get("status", 200), body, headers

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                status, body, headers = server.respond(self.path, self.headers)
                truncate = server.routes.get(self.path, {}).get("truncate")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if truncate:  # promise the whole body, send a part, hang up
                    self.wfile.write(body[:truncate])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
