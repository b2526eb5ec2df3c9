"""The tests' command runner: a command forked from the fork server ends as a new Python would."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, _env, start_command

pytestmark = pytest.mark.slow  # starts servers, crawls or processes: `pytest -m "not slow"` leaves it out

COMMANDS = {  # what each ending looks like: a refusal, a usage error, SystemExit(str), success
    "crawl refused": ("scrapy", ["crawl", "field_reports", "-a", "start_url=ftp://example.org/x"]),
    "usage error": ("scraper", ["reclean", "--since", "yesterday"]),
    "SystemExit(message)": ("json.tool", []),
    "help": ("scraper", ["--help"]),
}


def fresh(module: str, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=_env(), capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("kind", COMMANDS)
def test_a_forked_command_exits_and_prints_as_a_fresh_python(kind):
    module, args = COMMANDS[kind]
    forked = start_command(module, args)
    out, err = forked.communicate(timeout=60)
    expected = fresh(module, args)
    assert forked.returncode == expected.returncode
    assert out == expected.stdout
    assert err.strip().splitlines()[-1:] == expected.stderr.strip().splitlines()[-1:]


def test_a_forked_command_is_a_process_of_its_own(tmp_path):
    """Its own pid, folder and environment; a signal it does not handle ends it as it would any process."""
    probe = tmp_path / "probe.py"
    probe.write_text("import os, time\nprint(os.getpid(), os.getcwd(), os.environ.get('PROBE'), flush=True)\n"
                     "time.sleep(60)\n")
    process = start_command("probe", [], cwd=tmp_path, env={"PROBE": "yes"})
    line = process.stdout.readline().split()
    assert line == [str(process.pid), str(tmp_path), "yes"]
    time.sleep(0.1)
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == -signal.SIGTERM


def test_a_command_whose_test_went_away_leaves_the_server_serving(tmp_path):
    """A test that fails before waiting for its command drops the connection; the server's word
    that the command ended then has nowhere to go, and the next command must still start."""
    (tmp_path / "nap.py").write_text("import time\ntime.sleep(0.3)\n")
    abandoned = start_command("nap", [], cwd=tmp_path)
    del abandoned  # its connection closed, as when a failed test's locals go
    time.sleep(0.8)  # the nap ends, the server reports it to nobody
    forked = start_command(*COMMANDS["help"])
    out, _ = forked.communicate(timeout=60)
    assert forked.returncode == 0 and "usage:" in out
