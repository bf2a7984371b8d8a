"""Ctrl-C and SIGTERM stop the ``simulate`` command in order, however they land.

Python's own SIGINT handler raises ``KeyboardInterrupt`` wherever the main thread
happens to be. Two places make that unreliable for a command line tool:

- inside a weakref callback, a ``__del__`` or an import lock's clean-up the exception
  cannot propagate: Python prints "Exception ignored" and goes on, and the run carries
  on as if Ctrl-C had never been pressed. Here such a swallowed stop is sent again to
  the main thread a moment later, when it is out of that callback.
- a ``KeyboardInterrupt`` is handled by others on the way: click turns one raised
  outside a command (while it parses the options) into "Aborted!" and status 1, and
  run as ``python -m simulator`` the interpreter dies by SIGINT at exit once one has
  left code run from a string (``dataclasses`` build classes that way while modules
  load), even when the command caught it and asked for status 130. Ctrl-C therefore
  raises :class:`Interrupted`, a ``BaseException`` of its own as SIGTERM's
  :class:`Terminated` is, which only the command catches.

:func:`catch_stop_signals` is called first thing by the command, before click, NumPy
or the package's own modules load; the library itself never installs handlers.
"""

from __future__ import annotations

import signal
import sys
import threading

__all__ = ["Interrupted", "Terminated", "STATUS", "catch_stop_signals"]


class Interrupted(BaseException):
    """Ctrl-C (SIGINT) in the main process."""


class Terminated(BaseException):
    """SIGTERM, raised in the main process so that a run unwinds as Ctrl-C does."""


STATUS = {Interrupted: 130, Terminated: 143}
"""Exit status for each stop: 128 plus the signal's number, as a shell reports it."""

_RAISED = {signal.SIGINT: Interrupted, signal.SIGTERM: Terminated}
_SIGNAL = {kind: number for number, kind in _RAISED.items()}

_RESEND_AFTER_S = 0.01
"""How long a swallowed stop waits before it is sent again: long enough for the callback
that swallowed it to have returned."""


def _stop(signum, frame):
    raise _RAISED[signum]


def _send_again(signum: int) -> None:
    signal.pthread_kill(threading.main_thread().ident, signum)


def _unraisable(previous):
    def hook(unraisable) -> None:
        kind = unraisable.exc_type
        if kind not in _SIGNAL:
            previous(unraisable)
            return
        # Sent from another thread: sent from this one, the handler would run at once,
        # still inside the callback that swallows it.
        try:
            resend = threading.Timer(_RESEND_AFTER_S, _send_again, (_SIGNAL[kind],))
            resend.daemon = True
            resend.start()
        except RuntimeError:  # the interpreter is shutting down: nothing left to stop
            pass

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
