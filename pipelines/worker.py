"""A worker process the event loop talks to over a socket pair: calls out, results back, no threads.

concurrent.futures' ProcessPoolExecutor serves each call through two threads of the calling
process (a queue feeder and a result manager); in the crawler they take the interpreter lock from
the event loop on every call (~160 µs of the crawler's CPU per call, measured, against ~35 µs
here). Here the loop writes each call to the socket and reads results as they come, like any
other connection. Kept free of Scrapy, so the process starts quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import pickle
import socket
import struct
import sys
from collections.abc import Callable, Iterator
from typing import Any

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")


def die_with_parent() -> None:
    """In a worker process: be terminated when the crawler process dies, even by SIGKILL,
    rather than linger (Linux's PR_SET_PDEATHSIG; elsewhere the pool's own shutdown does)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def lower_priority() -> None:
    """In a worker: take only CPU time nothing else wants (Linux's SCHED_IDLE; elsewhere nice 19)."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.nice(19)


class WorkerDied(RuntimeError):
    """The worker process ended before answering (killed, crashed, or closed)."""


def _serve(sock: socket.socket, initializer: Callable[[], None] | None) -> None:
    """The worker's loop: read a call, run it, send back its result or its exception."""
    if initializer is not None:
        initializer()
    stream = sock.makefile("rb")
    while True:
        header = stream.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return  # the crawler closed its end: done
        call_id, function, args = pickle.loads(stream.read(_HEADER.unpack(header)[0]))
        try:
            reply = (call_id, True, function(*args))
        except Exception as exc:  # noqa: BLE001 - the caller gets it, as from a local call
            reply = (call_id, False, exc)
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - an unpicklable result or exception
            data = pickle.dumps((call_id, False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        sock.sendall(_HEADER.pack(len(data)) + data)


class _Replies(asyncio.Protocol):
    """The crawler's end: frames results out of the byte stream and settles their futures."""

    def __init__(self, pending: dict[int, asyncio.Future]) -> None:
        self.pending = pending
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= _HEADER.size:
            size = _HEADER.unpack_from(self.buffer)[0]
            if len(self.buffer) < _HEADER.size + size:
                return
            call_id, ok, value = pickle.loads(self.buffer[_HEADER.size:_HEADER.size + size])
            del self.buffer[:_HEADER.size + size]
            future = self.pending.pop(call_id, None)
            if future is None or future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def connection_lost(self, exc: Exception | None) -> None:
        for future in self.pending.values():
            if not future.done():
                future.set_exception(WorkerDied("the worker process ended before answering"))
        self.pending.clear()


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Start spawned processes without the parent's main script.

    spawn runs the parent's main script again in the child (as `__mp_main__`) so that functions
    defined there can be unpickled; for `scrapy crawl` that script imports all of Scrapy, ~0.4 s
    of CPU per worker while the crawl starts, and the writer answers the loop that much later.
    A worker runs only functions of our modules, so the child is told there is no script.
    """
    main = sys.modules["__main__"]
    # spawn finds the script by the module's __spec__ (python -m) or else its __file__.
    spec, path = getattr(main, "__spec__", None), main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__spec__ = spec
        if path is not None:
            main.__file__ = path


class WorkerProcess:
    """One spawned process running module-level functions for the event loop: `await call(f, *args)`.

    Calls are answered in the order they were made, on the loop of the first call. Started by
    start_soon() or the first call; a worker that dies (or cannot start) fails every call in
    flight, and later ones, with WorkerDied.
    """

    def __init__(self, initializer: Callable[[], None] | None = None, name: str = "caci-worker") -> None:
        self.initializer = initializer
        self.name = name  # the process's (multiprocessing's) name: what it does, for the benchmarks
        self.process: Any = None
        self.transport: asyncio.Transport | None = None
        self.sock: socket.socket | None = None
        self.starting: asyncio.Future | None = None
        self.start_error: Exception | None = None
        self.pending: dict[int, asyncio.Future] = {}
        self.next_id = 0
        self.dead = False

    def start_soon(self) -> None:
        """Start the process now (it imports while the crawl goes on), so the first call need not
        wait the ~0.3 s that takes; the connection is made by the first call, on its loop."""
        if self.process is not None or self.dead or self.start_error is not None:
            return
        ours, theirs = socket.socketpair()
        # spawn, not fork: the crawler process has threads, and a forked lock can hang.
        process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(theirs, self.initializer), daemon=True, name=self.name)
        try:
            with _main_script_hidden():
                process.start()
        except Exception as exc:  # e.g. no process can be made: the first call says so
            ours.close()
            self.start_error = exc
            return
        finally:
            theirs.close()
        self.process, self.sock = process, ours

    async def _connect(self) -> None:
        self.start_soon()
        if self.start_error is not None:
            raise self.start_error
        self.transport, _ = await asyncio.get_running_loop().create_unix_connection(
            lambda: _Replies(self.pending), sock=self.sock)

    async def call(self, function: Callable[..., Any], *args: Any) -> Any:
        if self.dead:
            raise WorkerDied("the worker process has ended")
        if self.transport is None:
            # The first calls may come together: one connection, the others wait for it.
            if self.starting is None:
                self.starting = asyncio.ensure_future(self._connect())
            try:
                await self.starting
            except Exception as exc:  # e.g. no process can be made: the caller does the work itself
                self.dead = True
                raise WorkerDied(f"the worker process could not start: {type(exc).__name__}: {exc}") from exc
        assert self.transport is not None
        if self.transport.is_closing():
            self.dead = True
            raise WorkerDied("the worker process has ended")
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        data = pickle.dumps((self.next_id, function, args), protocol=pickle.HIGHEST_PROTOCOL)
        self.transport.write(_HEADER.pack(len(data)) + data)
        try:
            return await future
        except WorkerDied:
            self.dead = True
            raise

    def close(self, timeout: float = 30.0) -> None:
        """Close the socket (the worker then finishes the call it is on and exits) and wait for it."""
        if self.sock is not None:
            # Shut down at once: the transport's close() waits for the loop, which join() below
            # holds (or which has already ended, in a caller that ran its own loop).
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            try:
                if self.transport is None:
                    raise RuntimeError("never connected")
                self.transport.close()
            except RuntimeError:  # never connected, or its loop is closed
                self.sock.close()
            self.transport = self.sock = self.starting = None
        if self.process is not None:
            self.process.join(timeout)
            if self.process.is_alive():
                logger.warning("Worker process %s did not exit; terminating it", self.process.pid)
                self.process.terminate()
                self.process.join(5)
            self.process = None
