"""A public copy's time budget: each visitor a share of the server's time."""

from __future__ import annotations

import pytest

from scraper.web.limits import MAX_WAIT, TimeBudget, budget_middleware, visitor_of
from tests.conftest import run_async


def test_a_budget_refills_at_its_rate_up_to_its_burst():
    budget = TimeBudget(ms_per_second=50, burst_ms=1000, start_ms=100)
    assert budget.wait("a", 0.0) == 0  # a newcomer starts with 100 ms
    budget.charge("a", 0.0, 300)  # a costly page: 200 ms in debt
    assert budget.wait("a", 0.0) == pytest.approx(4.0, abs=0.01)  # 200 ms at 50 ms/s
    assert budget.wait("a", 4.1) == 0
    assert budget.wait("b", 0.0) == 0  # another visitor is not held by the first
    # Idle for long, then a 1.5 s request: saved up to the burst (1 s) and no more, so 0.5 s in debt.
    budget.charge("a", 1000.0, 1500)
    assert budget.wait("a", 1000.0) == pytest.approx(10.0, abs=0.01)


@pytest.mark.parametrize("client, headers, expected", [
    (("203.0.113.5", 1), [], "203.0.113.5"),
    (("127.0.0.1", 1), [(b"x-forwarded-for", b"10.9.9.9, 198.51.100.7")], "198.51.100.7"),  # the proxy's entry
    (("203.0.113.5", 1), [(b"x-forwarded-for", b"198.51.100.7")], "203.0.113.5"),  # not from our proxy: ignored
    (("127.0.0.1", 1), [], "127.0.0.1"),
])
def test_the_visitor_is_the_address_the_server_or_its_proxy_saw(client, headers, expected):
    assert visitor_of({"client": client, "headers": headers}) == expected


def test_a_visitor_out_of_time_is_held_then_refused_and_others_are_served():
    """Through the real middleware around a tiny ASGI app, with a clock the test moves."""
    now = [0.0]
    sleeps: list[float] = []

    async def app(scope, receive, send):
        now[0] += 0.3  # every page costs 300 ms
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def fake_sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    async def get(app, client, path="/db/reports/1"):
        sent = []

        async def send(message):
            sent.append(message)
        await app({"type": "http", "path": path, "client": (client, 1), "headers": []}, None, send)
        return sent[0]["status"]

    limited = budget_middleware(app, TimeBudget(ms_per_second=50, burst_ms=1000, start_ms=100),
                                clock=lambda: now[0], sleep=fake_sleep)
    assert run_async(get(limited, "1.1.1.1")) == 200  # 100 - 300: 200 ms in debt
    assert run_async(get(limited, "1.1.1.1")) == 200  # held 4 s for it, then served
    assert sleeps == [pytest.approx(4.001, abs=0.01)]
    # 300 ms in debt again: 6 s to wait, beyond MAX_WAIT: held that long, then refused (429)
    assert run_async(get(limited, "1.1.1.1")) == 429 and sleeps[-1] == MAX_WAIT
    assert run_async(get(limited, "2.2.2.2")) == 200  # another visitor is served at once
    assert run_async(get(limited, "1.1.1.1", "/-/static/app.css")) == 200  # files are free
