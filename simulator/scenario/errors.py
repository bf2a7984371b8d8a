"""The project's own exception types.

Every error a user can cause is a :class:`ScenarioError`; the CLI turns it into one
line and exit status 2 in exactly one place. The text of an error is always one line,
whatever the user wrote: the file name, the key path and anything a message quotes are
shown with control and bidirectional characters escaped
(:func:`~simulator.scenario.text.printable`), so a key holding a newline or an ANSI
escape sequence can neither forge a second line nor act on the terminal.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from .text import printable

__all__ = ["ScenarioError", "SimulationError", "quoted", "unknown"]

_QUOTED_MAX = 80
"""Most characters of a user's word that a message quotes (longer ones are cut)."""


class ScenarioError(ValueError):
    """A scenario, override or command-line value the simulator cannot accept.

    Parameters
    ----------
    message
        What is wrong and what is allowed.
    key
        Dotted key path inside the scenario (``options.api.uptime``), if any.
    file
        The scenario file (or other source, such as ``--set``), if known.
    """

    def __init__(self, message: str, *, key: str | None = None, file: str | None = None):
        self.message = message
        self.key = key
        self.file = file
        super().__init__(str(self))

    def __reduce__(self):
        # Keyword-only arguments: rebuilt explicitly when sent back from a worker.
        return (_rebuild, (self.message, self.key, self.file))

    def __str__(self) -> str:
        where = ": ".join(str(part) for part in (self.file, self.key) if part)
        return printable(f"{where}: {self.message}" if where else self.message)

    def with_file(self, file: str) -> ScenarioError:
        """Return the same error attributed to ``file`` (kept if already set)."""
        return ScenarioError(self.message, key=self.key, file=self.file or file)


def _rebuild(message: str, key: str | None, file: str | None) -> ScenarioError:
    return ScenarioError(message, key=key, file=file)


class SimulationError(RuntimeError):
    """A run that cannot be carried out (for example, a request the machine cannot hold).

    Its text is one line, control characters escaped, like a :class:`ScenarioError`'s.
    """

    def __str__(self) -> str:
        return printable(super().__str__())


def quoted(word: object) -> str:
    """A user's word quoted in a message: ``'word'``, cut to its first 80 characters.

    >>> quoted("gama")
    "'gama'"
    """
    text = str(word)
    if len(text) > _QUOTED_MAX:
        text = text[:_QUOTED_MAX] + "..."
    return f"'{text}'"


def unknown(word: str, what: str, choices: Iterable[str]) -> str:
    """Message for a name that is not one of ``choices``, suggesting the nearest.

    >>> unknown("gama", "a distribution", ["gamma", "normal"])
    "'gama' is not a distribution; did you mean 'gamma'? Expected one of: gamma, normal"
    """
    choices = list(choices)
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? Expected" if close else "expected"
    return f"{quoted(word)} is not {what}; {hint} one of: {', '.join(choices) or '(none)'}"
