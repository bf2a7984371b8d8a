"""Ctrl-C and SIGTERM stop the ``simulate`` command in order, however they land.

Python's own SIGINT handler raises ``KeyboardInterrupt`` wherever the main thread
happens to be. Two things make that unreliable for a command line tool:

- the exception can be swallowed: inside a weakref callback, a ``__del__`` or an
  import lock's clean-up Python prints "Exception ignored" and goes on, and C code
  that calls back into Python may clear an error it did not expect; the run then
  carries on as if Ctrl-C had never been pressed. Here a stop is therefore sent again
  to the main thread every few milliseconds until the command has caught it; while
  the stop is already unwinding the stack (a ``finally``, an ``except`` or an
  ``__exit__`` handling it is running) a repeat is let pass.
- a ``KeyboardInterrupt`` is handled by others on the way: click turns one raised
  outside a command (while it parses the options) into "Aborted!" and status 1, and
  run as ``python -m simulator`` the interpreter dies by SIGINT at exit once one has
  left code run from a string (``dataclasses`` build classes that way while modules
  load), even when the command caught it and asked for status 130. Ctrl-C therefore
  raises :class:`Interrupted`, a ``BaseException`` of its own as SIGTERM's
  :class:`Terminated` is, which only the command catches.

:func:`catch_stop_signals` is called first thing by the command, before click, NumPy
or the package's own modules load; the command calls :func:`stop_caught` once it has
caught the stop. The library itself never installs handlers.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

__all__ = ["Interrupted", "Terminated", "STATUS", "catch_stop_signals", "stop_caught", "stop_in"]


class Interrupted(BaseException):
    """Ctrl-C (SIGINT) in the main process."""


class Terminated(BaseException):
    """SIGTERM, raised in the main process so that a run unwinds as Ctrl-C does."""


STATUS = {Interrupted: 130, Terminated: 143}
"""Exit status for each stop: 128 plus the signal's number, as a shell reports it."""

_RAISED = {signal.SIGINT: Interrupted, signal.SIGTERM: Terminated}
_SIGNAL = {kind: number for number, kind in _RAISED.items()}

_RESEND_AFTER_S = 0.01
"""How often a stop is sent again until the command has caught it: long enough for a
callback that swallowed it to have returned."""

_raised = threading.Event()
_caught = threading.Event()


def stop_in(error: BaseException | None) -> BaseException | None:
    """The stop (:class:`Interrupted` or :class:`Terminated`) that ``error`` is, or was
    raised from or while handling; ``None`` if there is none."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, (Interrupted, Terminated)):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _unwinding() -> bool:
    """Whether the main thread is running code that handles a stop (in an ``except``,
    a ``finally`` or an ``__exit__``, or one handling an error raised meanwhile)."""
    return stop_in(sys.exc_info()[1]) is not None


def _stop(signum, frame):
    if not _raised.is_set():
        _raised.set()
        _send_until_caught(signum)
    elif _caught.is_set() or _unwinding():
        return  # the stop is on its way out: let its clean-up run
    raise _RAISED[signum]


def _send_until_caught(signum: int) -> None:
    # From another thread: sent from this one, the handler would run at once, still
    # inside any callback that swallowed it.
    def send() -> None:
        main = threading.main_thread().ident
        while not _caught.wait(_RESEND_AFTER_S):
            signal.pthread_kill(main, signum)

    with contextlib.suppress(RuntimeError):  # shutting down: nothing left to stop
        threading.Thread(target=send, name="stop-resend", daemon=True).start()


def stop_caught() -> None:
    """Tell the stop signals' handlers that the command has caught the stop: it is
    not sent again, and a repeat of it no longer raises."""
    _caught.set()


def _unraisable(previous):
    def hook(unraisable) -> None:
        # A stop swallowed where Python could only report it: sent again already.
        if unraisable.exc_type not in _SIGNAL:
            previous(unraisable)

    hook.previous = previous
    return hook


def catch_stop_signals() -> None:
    """Make SIGINT raise :class:`Interrupted` and SIGTERM :class:`Terminated` in the
    main thread, and send again any such stop that Python had to ignore. A SIGINT the
    process was started ignoring stays ignored.

    Idempotent; call it from the main thread before the command's heavy imports.
    """
    # A SIGINT ignored from the start (a job started in the background) stays ignored.
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    if getattr(sys.unraisablehook, "previous", None) is None:
        sys.unraisablehook = _unraisable(sys.unraisablehook)
