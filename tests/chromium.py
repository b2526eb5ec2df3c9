"""One headless Chromium for many pages, driven over its DevTools pipe (the tests' browser).

Starting Chromium was most of a browser test's time (~0.9 s of CPU a page with `--dump-dom`); one
browser opens a tab per page instead (~0.3 s). The DevTools protocol runs over the pipe Chromium
reads on fd 3 and writes on fd 4 (`--remote-debugging-pipe`): JSON messages ended by a NUL byte.
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--hide-scrollbars"]

# What a page says to its console, uncaught errors and failed loads (Log) included: Chromium
# wrote these as ":CONSOLE" lines on its stderr when a page ran in a process of its own.
CONSOLE_EVENTS = ("Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded")


class Browser:
    """A headless Chromium; `visit(url)` loads a page in a new tab and returns its DOM."""

    def __init__(self, executable: str, profile: Path, timeout: float = 60) -> None:
        to_browser, self._to_browser = os.pipe()
        self._from_browser, from_browser = os.pipe()

        def onto_fds_3_and_4() -> None:  # where --remote-debugging-pipe looks for them
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=onto_fds_3_and_4)
        os.close(to_browser)
        os.close(from_browser)
        self.timeout = timeout
        self._buffer = b""
        self._last_id = 0
        self._events: list[dict[str, Any]] = []

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError(f"Chromium did not answer within {self.timeout} s")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise EOFError(f"Chromium closed its pipe (exit code {self.process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """A command's result; the events that arrive meanwhile are kept for `wait_for`."""
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._last_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            self._events.append(answer)

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        """The next event `method` of the tab `session` (one already received first)."""
        for index, event in enumerate(self._events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self._events.pop(index)
        deadline = time.monotonic() + self.timeout
        while True:
            event = self._receive(deadline)
            if event.get("method") == method and event.get("sessionId") == session:
                return event
            self._events.append(event)

    def visit(self, url: str, screenshot: Path | None = None, width: int = 1280,
              height: int = 900) -> tuple[str, list[str]]:
        """The DOM once the page loaded and its network went quiet (its scripts' fetches done),
        what it wrote to the console, and a screenshot of its first `height` pixels if asked."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        tab = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        try:
            for domain in ("Page", "Runtime", "Log"):
                self.send(f"{domain}.enable", tab)
            self.send("Page.setLifecycleEventsEnabled", tab, enabled=True)
            self.send("Emulation.setDeviceMetricsOverride", tab, width=width, height=height,
                      deviceScaleFactor=1, mobile=False)
            loader = self.send("Page.navigate", tab, url=url)["loaderId"]
            while True:  # networkIdle: no request for 500 ms after the load (the charts fetched and drawn)
                event = self.wait_for("Page.lifecycleEvent", tab)["params"]
                if event["name"] == "networkIdle" and event["loaderId"] == loader:
                    break
            self.send("Runtime.evaluate", tab, awaitPromise=True,  # and one frame painted
                      expression="new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))")
            dom = self.send("Runtime.evaluate", tab, expression="document.documentElement.outerHTML",
                            returnByValue=True)["result"]["value"]
            if screenshot:
                png = self.send("Page.captureScreenshot", tab, format="png")["data"]
                screenshot.write_bytes(base64.b64decode(png))
            console = [_said(event) for event in self._events
                       if event.get("sessionId") == tab and event.get("method") in CONSOLE_EVENTS]
        finally:
            self._events = [event for event in self._events if event.get("sessionId") != tab]
            self.send("Target.closeTarget", targetId=target)
        return dom, console

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, TimeoutError, EOFError, RuntimeError):
            self.process.kill()
        self.process.wait(timeout=30)
        os.close(self._to_browser)
        os.close(self._from_browser)


def _said(event: dict[str, Any]) -> str:
    """One console event as a line: its kind and text."""
    params = event["params"]
    if "entry" in params:  # Log.entryAdded
        entry = params["entry"]
        return f"{entry['level']}: {entry['text']} ({entry.get('url', '')})"
    if "exceptionDetails" in params:  # Runtime.exceptionThrown
        details = params["exceptionDetails"]
        return f"exception: {details.get('exception', {}).get('description', details['text'])}"
    return f"console.{params['type']}: " + " ".join(str(arg.get("value", arg.get("description")))
                                                      for arg in params["args"])
