"""The tests' command runner: `python -m scrapy crawl ...` and `python -m scraper ...` forked from a
Python that has already imported Scrapy and the project, instead of a Python started afresh.

A command's start was most of a short test crawl (~0.75 s of CPU importing Scrapy, Twisted and the
project, of ~1-2 s), and the suite starts ~100 of them on two cores. Here one server process per
test worker imports them once; each command is a fork of it that takes the test's argv, working
folder, environment and stdin/stdout/stderr, runs the module as `python -m` would (as `__main__`,
its SystemExit or uncaught exception ending the process as in a fresh interpreter), and is a real
process of its own: its pid, signals, locks, exit code. What cannot be shared is never imported
before the fork: Twisted's reactor (the command installs its own) and threads.
`CACI_TESTS_FRESH_PYTHON=1` runs every command in a new interpreter instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# What a command imports before its first request (Scrapy's commands, engine, HTTP handler; the
# project's settings, spiders, pipelines, storage). Nothing here may install the reactor.
PRELOAD = ("scrapy.cmdline", "scrapy.crawler", "scrapy.core.engine", "scrapy.core.downloader.handlers.http11",
           "scrapy.core.downloader.handlers.http2", "scrapy.extensions.httpcache", "scrapy.downloadermiddlewares.retry",
           "scrapy.spidermiddlewares.offsite", "scraper.cli", "scraper.settings", "scraper.commands.crawl",
           "scraper.spiders.analyst", "scraper.cron", "scraper.reclean", "scraper.doctor", "scraper.archive",
           "scraper.middlewares", "scraper.extensions", "scraper.monitor", "pipelines.report", "pipelines.extract",
           "db")


def serve(path: str) -> None:
    """Fork a command per request on the Unix socket `path`, until stdin closes (the test worker ended)."""
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # a module of another Scrapy version: the command imports what it needs
            pass
    if "twisted.internet.reactor" in sys.modules:
        raise SystemExit("forkserver: a preloaded module installed Twisted's reactor")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    print("ready", flush=True)
    running: dict[int, socket.socket] = {}
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [], 0.02 if running else 1)
        if sys.stdin in ready and not sys.stdin.buffer.read1(1):
            return
        if listener in ready:
            connection, _ = listener.accept()
            message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                listener.close()
                for other in running.values():
                    other.close()
                _run_command(json.loads(message), fds, connection)  # never returns
            for fd in fds:
                os.close(fd)
            _tell(connection, pid=pid)
            running[pid] = connection
        while running:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            connection = running.pop(pid)
            _tell(connection, returncode=os.waitstatus_to_exitcode(status))
            connection.close()


def _tell(connection: socket.socket, **news: int) -> None:
    """Send `news` to a test that may have gone (failed before it waited): then to no one."""
    with contextlib.suppress(OSError):
        connection.send(json.dumps(news).encode())


def _run_command(request: dict[str, Any], fds: list[int], connection: socket.socket) -> None:
    """In the forked child: become the command, then exit as a fresh interpreter would."""
    connection.close()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [request["module"], *request["args"]]
    runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
    raise SystemExit(0)  # up through serve() to the interpreter: threads joined, atexit run, exit 0


class ForkServer:
    """The per-worker server; `popen(...)` starts a command as a fork of it."""

    def __init__(self, folder: Path, root: Path) -> None:
        self.path = str(folder / "forkserver.sock")
        self.process = subprocess.Popen(
            [sys.executable, "-c", f"from tests.forkserver import serve; serve({self.path!r})"],
            cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        if self.process.stdout.readline() != b"ready\n":
            raise RuntimeError(f"the fork server did not start (exit code {self.process.wait()})")

    def popen(self, module: str, args: list[str], cwd: Path, env: dict[str, str],
              stdout: int | None = subprocess.PIPE, stderr: int | None = subprocess.PIPE) -> ForkedProcess:
        return ForkedProcess(self.path, module, args, cwd, env, stdout, stderr)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


class ForkedProcess:
    """The part of subprocess.Popen the tests use (text mode), for a command forked by the server."""

    def __init__(self, path: str, module: str, args: list[str], cwd: Path, env: dict[str, str],
                 stdout: int | None, stderr: int | None) -> None:
        ends, mine = [os.open(os.devnull, os.O_RDONLY)], []
        for fd, wanted in ((1, stdout), (2, stderr)):
            if wanted == subprocess.PIPE:
                read, write = os.pipe()
                ends.append(write)
                mine.append(os.fdopen(read, "r", encoding="utf-8", errors="replace"))
            else:  # DEVNULL, or None: this process's own
                ends.append(os.open(os.devnull, os.O_WRONLY) if wanted == subprocess.DEVNULL else os.dup(fd))
                mine.append(None)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._socket.connect(path)
            request = {"module": module, "args": list(args), "cwd": str(cwd), "env": dict(env)}
            socket.send_fds(self._socket, [json.dumps(request).encode()], ends)
        finally:
            for fd in ends:
                os.close(fd)
        self.stdout, self.stderr = mine
        self.args = [sys.executable, "-m", module, *args]
        self.pid: int = json.loads(self._socket.recv(4096))["pid"]
        self.returncode: int | None = None
        self._output: dict[str, list[bytes]] = {"stdout": [], "stderr": []}  # kept across communicate() calls

    def poll(self) -> int | None:
        return self.wait(timeout=0) if select.select([self._socket], [], [], 0)[0] else self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._socket], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(self.args, timeout)
            self.returncode = json.loads(self._socket.recv(4096))["returncode"]
            self._socket.close()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, timeout: float | None = None) -> tuple[str | None, str | None]:
        """Everything the command wrote, once it has ended (read as it comes: a full pipe would stall
        it); after a timeout, a second call goes on where the first stopped, as Popen's does."""
        deadline = None if timeout is None else time.monotonic() + timeout
        streams = (("stdout", self.stdout), ("stderr", self.stderr))
        reading = {stream.fileno(): (name, stream) for name, stream in streams
                   if stream is not None and not stream.closed}
        while reading:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select(list(reading), [], [], left)
            if not ready:
                raise subprocess.TimeoutExpired(self.args, timeout)
            for fd in ready:
                if data := os.read(fd, 1 << 16):
                    self._output[reading[fd][0]].append(data)
                else:
                    reading.pop(fd)[1].close()
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        out, err = (b"".join(self._output[name]).decode("utf-8", "replace") if stream is not None else None
                    for name, stream in streams)
        return out, err
