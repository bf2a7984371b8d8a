"""Where the blocks run: local processes that never hang, runs in threads that keep to
themselves, arguments checked at the call, and a Dask cluster that gives the same bytes.

Everything that could hang runs in a loop, under a timeout, and checks that no process
of the run is left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from simulator import load_scenario, run
from simulator.engine.executor import InProcess, LocalProcesses, WorkerLost, executor
from simulator.report.pages import summary_json

from .conftest import SCENARIOS

LOGISTICS = str(SCENARIOS / "logistics.toml")
STARTUP = SCENARIOS / "startup.toml"


def _session_processes(session: int) -> list[int]:
    """Processes still alive (not zombies) in ``session``."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, sid = fields[0], int(fields[3])
        if sid == session and state != "Z":
            alive.append(int(entry.name))
    return alive


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _start(*arguments: str) -> subprocess.Popen:
    """A long run in a session (and process group) of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "simulator", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_workers(process: subprocess.Popen, count: int, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        workers = _children(process.pid)
        if len(workers) >= count:
            return workers
        time.sleep(0.05)
    raise AssertionError(f"no {count} workers within {timeout} s")


def _finish(process: subprocess.Popen, since: float) -> tuple[str, str]:
    try:
        stdout, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError("the run did not stop within 30 s") from None
    assert time.monotonic() - since < 10
    deadline = time.monotonic() + 10
    while _session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _session_processes(process.pid) == [], "a process of the run was left behind"
    return stdout, stderr


LONG = ("--paths", "5000000", "--workers", "2", "--no-report", "--max-minutes", "0")


@pytest.mark.parametrize("attempt", range(3))
def test_a_killed_worker_stops_the_run_at_once_with_one_line(attempt):
    process = _start(LOGISTICS, *LONG)
    victim = _wait_for_workers(process, 2)[attempt % 2]
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    stdout, stderr = _finish(process, killed)
    assert process.returncode == 1, stderr
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("simulate: error: a worker process died"), stderr
    assert "no report was written" in stderr


@pytest.mark.parametrize(
    ("sig", "status", "word"),
    [(signal.SIGTERM, 143, "terminated")] * 5 + [(signal.SIGINT, 130, "interrupted")] * 3,
)
def test_a_signal_to_the_whole_group_stops_it_every_time(sig, status, word):
    # What `systemd stop`, `kill -- -PGID` and Ctrl-C at a terminal do.
    process = _start(LOGISTICS, *LONG)
    _wait_for_workers(process, 2)
    os.killpg(process.pid, sig)
    stdout, stderr = _finish(process, time.monotonic())
    assert process.returncode == status, stderr
    assert stderr == f"simulate: {word}; no report was written\n"


# Workers killed while sending a result too large for the pipe to take at once: the
# pool's thread is then reading half a message, and must still end (the interpreter
# waits for it at exit). Each delay lands at another point of the sending.
_KILLED_WHILE_SENDING = """
import threading, time
from simulator.engine.executor import LocalProcesses

def large(context, n):
    return bytes(n)

for i in range(10):
    pool = LocalProcesses(2)
    futures = [pool.submit(large, 200_000_000) for _ in range(2)]
    time.sleep(0.05 * i)
    started = time.monotonic()
    pool.close(abandon=True)
    left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    print(round(time.monotonic() - started, 2), left, flush=True)
"""


def test_workers_killed_while_sending_a_result_leave_no_thread_waiting():
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WHILE_SENDING],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    started = time.monotonic()
    stdout, stderr = _finish(process, started)
    assert process.returncode == 0, stderr
    closes = [line.split(" ", 1) for line in stdout.splitlines()]
    assert len(closes) == 10, stdout
    for seconds, left in closes:
        assert float(seconds) < 2 and left == "[]", stdout


def _square_plus(context: int, x: int) -> int:
    return x * x + context


def _pid(context, _: int) -> int:
    time.sleep(0.05)
    return os.getpid()


def test_executors_hand_each_task_the_context():
    with executor(1, 10) as serial:
        assert isinstance(serial, InProcess)
        assert serial.map(_square_plus, range(5)) == [10, 11, 14, 19, 26]
    with executor(2, 10) as local:
        assert isinstance(local, LocalProcesses)
        assert local.map(_square_plus, range(5)) == [10, 11, 14, 19, 26]
        assert len(set(local.map(_pid, range(8))) - {os.getpid()}) == 2


def _exit_worker(context, _: int) -> None:
    os._exit(9)


def test_a_dead_local_worker_raises_worker_lost():
    for _ in range(3):
        with pytest.raises(WorkerLost, match="worker process died"), executor(2) as local:
            local.map(_exit_worker, range(4))


def test_two_runs_in_two_threads_each_get_their_own_results():
    scenarios = {
        "startup": load_scenario(STARTUP),
        "logistics": load_scenario(LOGISTICS),
    }
    alone = {
        name: summary_json(run(s, paths=8192, seed=5, workers=1)) for name, s in scenarios.items()
    }
    got: dict[str, str] = {}

    def one(name: str) -> None:
        got[name] = summary_json(run(scenarios[name], paths=8192, seed=5, workers=2))

    threads = [threading.Thread(target=one, args=(name,)) for name in scenarios]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
        assert not thread.is_alive(), "a run in a thread did not finish"
    assert got == alone


def test_wrong_argument_types_fail_at_the_call():
    scenario = load_scenario(STARTUP)
    with pytest.raises(TypeError, match="load_scenario"):
        run(str(STARTUP), paths=100)
    with pytest.raises(TypeError, match="load_scenario"):
        run(STARTUP, paths=100)
    for key, value in (("paths", True), ("paths", 100.0), ("seed", "1"), ("workers", 1.5)):
        with pytest.raises(TypeError, match=f"{key} must be a whole number"):
            run(scenario, **{key: value})
    with pytest.raises(TypeError, match="precision must be a number"):
        run(scenario, precision="0.01")
    with pytest.raises(TypeError, match="scheduler must be an address"):
        run(scenario, paths=100, scheduler=8786)
    # NumPy integers are whole numbers: the same run as with plain ints.
    plain = summary_json(run(scenario, paths=4096, seed=3, workers=1))
    numpy = summary_json(
        run(scenario, paths=np.int64(4096), seed=np.uint64(3), workers=np.int32(1))
    )
    assert numpy == plain


def test_a_cluster_run_gives_the_same_bytes_as_a_local_run(cluster):
    scenario = load_scenario(LOGISTICS)
    local = summary_json(run(scenario, paths=20_000, seed=11, workers=2))
    remote = summary_json(run(scenario, paths=20_000, seed=11, scheduler=cluster))
    assert remote == local
    assert json.loads(remote)["scenario"]["paths"] == 20_000


def test_a_stress_test_on_the_cluster_matches_the_local_one(cluster):
    scenario = load_scenario(STARTUP)
    local = run(scenario, paths=4096, seed=2, workers=2, stress=True)
    remote = run(scenario, paths=4096, seed=2, scheduler=cluster, stress=True)
    assert summary_json(remote) == summary_json(local)


def test_an_unreachable_scheduler_is_a_clear_error(monkeypatch):
    from simulator import ScenarioError

    monkeypatch.setattr("simulator.engine.executor.CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ScenarioError, match="cannot reach a Dask scheduler"):
        run(load_scenario(STARTUP), paths=4096, scheduler="tcp://127.0.0.1:9")
