"""A stop signal that Python or a library swallowed (raised inside a ``__del__``, a
weakref callback, an import lock's clean-up, an ``except BaseException``) is sent
again until the command has caught it, so the command still stops."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from .conftest import ROOT

# The handler runs inside __del__, where its exception is printed as "ignored" and
# dropped; the sleep after it is where the stop must land instead.
SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    from simulator.stops import Interrupted, Terminated, catch_stop_signals

    catch_stop_signals()

    class Swallows:
        def __del__(self):
            os.kill(os.getpid(), signal.{name})
            sum(range(1000))  # the handler runs here, inside __del__

    Swallows()
    start = time.monotonic()
    try:
        time.sleep(10)
        print("not stopped")
    except (Interrupted, Terminated) as stop:
        print(type(stop).__name__, round(time.monotonic() - start, 1))
    """
)


STOPS = pytest.mark.parametrize(
    ("name", "raised"), [("SIGINT", "Interrupted"), ("SIGTERM", "Terminated")]
)


def _run(script: str, name: str) -> subprocess.CompletedProcess:
    """``script`` with ``{name}`` the signal's name, run as a person at a terminal would
    (SIGINT not ignored, whatever the test runner's children inherit)."""
    return subprocess.run(
        [sys.executable, "-c", script.format(name=name)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@STOPS
def test_a_swallowed_stop_is_sent_again(name, raised):
    done = _run(SCRIPT, name)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{raised} 0.0\n"
    assert done.stderr == ""


# A library that swallows every exception, ours included, while the stop lands; and a
# clean-up that takes a while once it is on its way out, which the repeats must not cut.
SWALLOWED = textwrap.dedent(
    """
    import os, signal, sys, time
    from simulator.stops import Interrupted, Terminated, catch_stop_signals, stop_caught

    catch_stop_signals()
    try:
        os.kill(os.getpid(), signal.{name})
        sum(range(1000))  # the handler runs here
    except BaseException:
        pass
    start = time.monotonic()
    try:
        try:
            time.sleep(10)
            print("not stopped")
        finally:
            time.sleep(0.3)  # some thirty repeats arrive meanwhile
            print("cleaned up")
    except (Interrupted, Terminated) as stop:
        stop_caught()
        print(type(stop).__name__, round(time.monotonic() - start, 1))
    time.sleep(0.1)  # caught: nothing more is sent
    print("done")
    """
)


@STOPS
def test_a_stop_is_sent_again_until_caught_but_never_into_its_clean_up(name, raised):
    done = _run(SWALLOWED, name)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"cleaned up\n{raised} 0.3\ndone\n"
    assert done.stderr == ""


WRAPPED = textwrap.dedent(
    """
    import os, signal
    from simulator.stops import catch_stop_signals, stop_caught, stop_in

    catch_stop_signals()

    class Field:
        def __set_name__(self, owner, name):
            os.kill(os.getpid(), signal.{name})
            sum(range(1000))  # the handler runs here, while the class is made

    try:
        class Made:
            field = Field()
    except Exception as error:
        stop_caught()
        print(type(error).__name__, type(stop_in(error)).__name__)
    """
)


@STOPS
def test_a_stop_wrapped_by_python_is_still_found(name, raised):
    # Python turns an exception raised in __set_name__ into a RuntimeError; the command
    # must still see the stop in it (simulator.cli.base, simulator.__main__).
    done = _run(WRAPPED, name)
    assert (done.stdout, done.stderr) == (f"RuntimeError {raised}\n", "")


def test_a_sigint_ignored_from_the_start_stays_ignored():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import signal; from simulator.stops import catch_stop_signals; "
            "catch_stop_signals(); print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert done.stdout == "True\n", done.stderr
