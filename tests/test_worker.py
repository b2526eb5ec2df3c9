"""The worker process the event loop calls over a socket pair: results, errors, order, death, close."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from pipelines.worker import WorkerDied, WorkerProcess
from tests.conftest import run_async

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out


def echo(value):
    return value


def fail(message):
    raise ValueError(message)


def unpicklable():
    return lambda: None  # a lambda cannot be pickled back


def pid():
    return os.getpid()


def test_calls_return_results_and_raise_the_workers_exceptions(worker_process):
    """Results come back whole (a megabyte, in pieces of the stream), many calls at once each get
    their own, and an exception raised in the worker is raised to the caller as itself."""
    worker = worker_process

    async def run():
        big = os.urandom(1 << 20)
        results = await asyncio.gather(*(worker.call(echo, i) for i in range(200)))
        same = await worker.call(echo, big) == big
        with pytest.raises(ValueError, match="no such page"):
            await worker.call(fail, "no such page")
        with pytest.raises(RuntimeError):
            await worker.call(unpicklable)
        return results, same, await worker.call(pid)

    results, same, worker_pid = run_async(run())
    assert results == list(range(200)) and same
    assert worker_pid != os.getpid()


def test_a_killed_worker_fails_its_calls_with_worker_died(worker_process):
    """A worker killed mid-call: the call in flight and every later one raise WorkerDied (the
    caller then does the work itself), instead of waiting for an answer that never comes."""
    worker = worker_process

    async def run():
        worker_pid = await worker.call(pid)
        slow = asyncio.ensure_future(worker.call(__import__("time").sleep, 30))
        await asyncio.sleep(0.2)
        os.kill(worker_pid, signal.SIGKILL)
        with pytest.raises(WorkerDied):
            await asyncio.wait_for(slow, 20)
        with pytest.raises(WorkerDied):
            await worker.call(echo, 1)

    run_async(run())


def test_close_lets_the_worker_exit_by_itself():
    """close() ends the worker's loop (it sees the socket shut) rather than terminating it, also
    when the event loop that used it has already ended."""
    worker = WorkerProcess()
    run_async(worker.call(echo, 1))
    process = worker.process
    worker.close()
    assert not process.is_alive() and process.exitcode == 0


def test_calls_made_together_before_the_start_share_one_process(worker_process):
    """The first items of a crawl reach the pipeline together: they start one worker, not one each."""
    worker = worker_process

    async def run():
        return await asyncio.gather(*(worker.call(pid) for _ in range(20)))

    assert len(set(run_async(run()))) == 1


def test_a_worker_that_cannot_start_says_worker_died():
    """A worker that cannot be made (here its initializer cannot be sent to it) fails its calls
    with WorkerDied, the error the pipeline falls back on, not with an error that loses the page."""
    worker = WorkerProcess(initializer=lambda: None)  # a lambda cannot be pickled for spawn

    async def run():
        with pytest.raises(WorkerDied, match="could not start"):
            await worker.call(echo, 1)
        with pytest.raises(WorkerDied):
            await worker.call(echo, 1)

    try:
        run_async(run())
    finally:
        worker.close()


def test_a_worker_started_early_and_never_called_exits_at_close():
    """start_soon() at a crawl's opening, then a crawl with nothing for it (every page known):
    close() still ends it at once, by itself."""
    worker = WorkerProcess()
    worker.start_soon()
    process = worker.process
    assert process.is_alive()
    worker.close(timeout=10)
    assert not process.is_alive() and process.exitcode == 0


def main_script_ran() -> bool:
    """In a worker: whether spawn ran the parent's main script there (as a module named __mp_main__)."""
    import sys

    return sys.modules["__main__"].__name__ == "__mp_main__"


@pytest.mark.parametrize("how", ["script", "module"])
def test_a_worker_does_not_run_the_parents_main_script(tmp_path, how):
    """A crawl started as a script (`scrapy crawl`: Scrapy's console script) or as a module other
    than a package's __main__: its workers start without running it again, which cost each worker
    an import of all of Scrapy (~0.4 s of CPU) while the crawl started."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    (tmp_path / "crawl_main.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "from pipelines.worker import WorkerProcess\n"
        "from tests.conftest import run_async\n"
        "from tests.test_worker import main_script_ran\n"
        "if __name__ == '__main__':\n"
        "    worker = WorkerProcess()\n"
        "    try:\n"
        "        print(run_async(worker.call(main_script_ran)))\n"
        "    finally:\n"
        "        worker.close()\n")
    command = [sys.executable, "crawl_main.py"] if how == "script" else [sys.executable, "-m", "crawl_main"]
    out = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
