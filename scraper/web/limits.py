"""A public copy's fairness: each visitor gets a share of the server's time, not all of it.

`serve --public` turns it on (the plugin's `time_budget` setting). Every visitor (an address;
behind a proxy on this machine, the address the proxy adds last to X-Forwarded-For) earns
`ms_per_second` of server time each second, up to `burst_ms`; each request is charged what it
took. A visitor with no time left waits for it (an idle wait costs the server nothing), so a loop
of costly requests, or of cheap ones back to back, slows that visitor and not every reader; one
who would wait longer than MAX_WAIT is held that long and then answered 429 with Retry-After (an
answer at once would only bring the next request at once), and one with MAX_IN_FLIGHT requests
open already is answered 429 at once. (A flood of connections is a proxy's to stop: docs.)
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

# Files every page loads (the stylesheet, Datasette's own CSS and JS): cheap, and never charged.
FREE_PREFIXES = ("/-/static/", "/-/static-plugins/", "/favicon.ico")
MAX_VISITORS = 10_000  # remembered at once; idle ones (with a full budget) are forgotten first
LOOPBACK = ("127.", "::1")
# Charged at least, whatever the app measured: accepting the connection and parsing the request
# cost the server too (~1-2 ms a request, which a flood of cheap requests multiplies).
MIN_CHARGE_MS = 10.0
MAX_WAIT = 5.0  # seconds a request may be held for its visitor's time
MAX_IN_FLIGHT = 4  # requests of one visitor open at once (a browser opens up to 6, for files mostly free)


@dataclass
class TimeBudget:
    """Server time per visitor, in milliseconds. Pure (the clock is passed in), so it is tested alone."""

    ms_per_second: float
    burst_ms: float
    # What a visitor not seen before starts with: a page or two. Starting full, six newcomers
    # looping at once spent 6 × burst_ms of server time before any limit applied.
    start_ms: float = 50.0
    balances: dict[str, tuple[float, float]] = field(default_factory=dict)  # visitor -> (balance, when)

    def _balance(self, visitor: str, now: float) -> float:
        balance, when = self.balances.get(visitor, (min(self.start_ms, self.burst_ms), now))
        return min(self.burst_ms, balance + (now - when) * self.ms_per_second)

    def wait(self, visitor: str, now: float) -> float:
        """Seconds until `visitor` may be served again: 0 when they may now."""
        balance = self._balance(visitor, now)
        return 0.0 if balance > 0 else -balance / self.ms_per_second + 0.001

    def charge(self, visitor: str, now: float, ms: float) -> None:
        self.balances[visitor] = (self._balance(visitor, now) - ms, now)
        if len(self.balances) > MAX_VISITORS:
            for key in [k for k in self.balances if self._balance(k, now) >= min(self.start_ms, self.burst_ms)]:
                del self.balances[key]


def visitor_of(scope: dict[str, Any]) -> str:
    """The client's address; behind a proxy on this machine, the one that proxy saw (the last
    X-Forwarded-For entry: the earlier ones are whatever the client chose to send)."""
    client = (scope.get("client") or ("?", 0))[0]
    if client.startswith(LOOPBACK):
        for name, value in scope.get("headers") or []:
            if name == b"x-forwarded-for" and (last := value.decode("latin-1").split(",")[-1].strip()):
                return last
    return client


def _leave(in_flight: Counter[str], visitor: str) -> None:
    in_flight[visitor] -= 1
    if not in_flight[visitor]:
        del in_flight[visitor]


def budget_middleware(app: Callable, budget: TimeBudget, clock: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], Any] = asyncio.sleep) -> Callable:
    """ASGI middleware: `app` for visitors with time left, 429 at once for the others."""

    in_flight: Counter[str] = Counter()

    async def limited(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(FREE_PREFIXES):
            await app(scope, receive, send)
            return
        visitor = visitor_of(scope)
        wait = budget.wait(visitor, clock())
        if wait > MAX_WAIT or in_flight[visitor] >= MAX_IN_FLIGHT:
            if in_flight[visitor] < MAX_IN_FLIGHT:
                in_flight[visitor] += 1
                try:
                    await sleep(MAX_WAIT)
                finally:
                    _leave(in_flight, visitor)
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"retry-after", str(max(1, math.ceil(wait))).encode())]})
            await send({"type": "http.response.body",
                        "body": b"Too many requests from one visitor: please wait a moment.\n"})
            return
        in_flight[visitor] += 1
        try:
            if wait:
                await sleep(wait)
            started = clock()
            try:
                await app(scope, receive, send)
            finally:
                finished = clock()
                budget.charge(visitor, finished, max(MIN_CHARGE_MS, (finished - started) * 1000))
        finally:
            _leave(in_flight, visitor)

    return limited
