"""Ctrl-C and SIGTERM during a real run: one line, exit 130 or 143, no traceback, the
earlier report left whole, no staging folder, no worker left running."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from .conftest import SCENARIOS

LOGISTICS = str(SCENARIOS / "logistics.toml")


def _restore_interrupts():
    # A test runner started in the background may hand its children SIGINT ignored;
    # the command must see it as a person at a terminal would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("sig", "status", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_signal_during_a_run_leaves_the_earlier_report_whole(tmp_path, sig, status, word):
    out = tmp_path / "report"
    command = [sys.executable, "-m", "simulator", LOGISTICS, "--out", str(out)]
    subprocess.run([*command, "--paths", "2000"], check=True, capture_output=True, timeout=120)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    # Long enough to be caught in the middle, with both workers busy.
    run = subprocess.Popen(
        [*command, "--paths", "5000000", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_restore_interrupts,
    )
    time.sleep(2.0)
    assert run.poll() is None, "the run ended before it could be interrupted"
    stopped = time.monotonic()
    run.send_signal(sig)
    # communicate() returns only once every process holding the pipes has exited,
    # workers included.
    stdout, stderr = run.communicate(timeout=30)
    assert time.monotonic() - stopped < 10
    assert run.returncode == status
    assert stderr == f"simulate: {word}; no report was written\n"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def _handles_sigterm(pid: int) -> bool:
    """Whether the process has its own SIGTERM handler yet (bit 15 of SigCgt), which
    the command installs before anything but the interpreter's start-up has run."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        caught = next(line for line in status if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) >> (signal.SIGTERM - 1) & 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/status")
def test_a_stop_at_any_moment_of_a_starting_run_ends_in_one_line(tmp_path):
    # From the handlers' installation on: the imports, option parsing, loading, sizing,
    # the trigger search, the workers' start. Each in turn with both signals.
    command = [sys.executable, "-m", "simulator", LOGISTICS, "--out", str(tmp_path / "r")]
    for step in range(16):
        sig, status, word = (
            (signal.SIGINT, 130, "interrupted")
            if step % 2 == 0
            else (signal.SIGTERM, 143, "terminated")
        )
        run = subprocess.Popen(
            [*command, "--paths", "5000000", "--workers", "2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_restore_interrupts,
        )
        deadline = time.monotonic() + 30
        while not _handles_sigterm(run.pid):
            assert time.monotonic() < deadline, "the command never installed its handlers"
            time.sleep(0.001)
        time.sleep(0.04 * step)
        run.send_signal(sig)
        stdout, stderr = run.communicate(timeout=30)
        assert (run.returncode, stdout) == (status, ""), (step, stderr)
        assert stderr.startswith(f"simulate: {word}") and stderr.count("\n") == 1, (step, stderr)
    assert [p.name for p in tmp_path.iterdir()] == []
