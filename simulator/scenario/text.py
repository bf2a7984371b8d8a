"""Text from a scenario, made safe to show (pure functions).

Scenario text (labels, descriptions, names quoted in error messages, the file name)
reaches terminals, one-line error messages and report pages. A control character can
act on a terminal there (an ANSI escape sequence starts with ESC: it moves the cursor,
recolours or clears the screen, rewrites the window title) or forge a second line of a
one-line message; a bidirectional override or isolate makes text display in another
order than it is stored, so what a reader sees is not what the file says.

:func:`printable` replaces each such character by a visible escape, spelled as Python
spells it in a string literal (``\\n``, ``\\x1b``, ``\\u202e``): what was written stays
legible and nothing acts on the display. :func:`prose` does the same for running text,
where a line break or a tab is only layout and becomes a space. Kept at the bottom of
the package so that every layer shows text the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

__all__ = [
    "BIDI_CONTROLS",
    "describe_character",
    "first_unsafe",
    "printable",
    "printable_result",
    "prose",
]

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Unicode's bidirectional formatting characters: the Arabic letter mark, the left-to-right
and right-to-left marks, embeddings, overrides, isolates and their terminators."""

# C0 controls, DEL, C1 controls, the bidirectional controls, and the line and paragraph
# separators (which Python's str.splitlines and some renderers take as line breaks).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_LAYOUT = re.compile("[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROLS = {
    "\x00": "NULL",
    "\t": "TAB",
    "\n": "LINE FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: Any) -> str:
    """``text`` with every control character (C0, DEL, C1), bidirectional control and
    line or paragraph separator replaced by a visible escape; other text unchanged.

    The result holds no line break, so it is always one line, and applying it twice
    changes nothing more.

    >>> printable("Self-hosted\\x1b[2J\\n(H100)")
    'Self-hosted\\\\x1b[2J\\\\n(H100)'
    >>> printable("caf\\u00e9 \\u202eevil")
    'café \\\\u202eevil'
    """
    text = str(text)
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def prose(text: Any) -> str:
    """Running text: each run of line breaks and tabs becomes one space, then the rest
    as :func:`printable` makes it.

    >>> prose("Two lines\\nof\\ttext \\x07")
    'Two lines of text \\\\x07'
    """
    return printable(_LAYOUT.sub(" ", str(text)))


def first_unsafe(text: str) -> str | None:
    """The first character of ``text`` that :func:`printable` would escape, if any.

    >>> first_unsafe("ok\\u202e")
    '\\u202e'
    """
    found = _UNSAFE.search(text)
    return found.group() if found else None


def describe_character(char: str) -> str:
    """A character for an error message, readable whatever it is.

    >>> describe_character("\\x1b")
    'U+001B (a control character, ESCAPE)'
    >>> describe_character("\\u202e")
    'U+202E (a bidirectional control, RIGHT-TO-LEFT OVERRIDE)'
    >>> describe_character(" ")
    "' ' (U+0020 SPACE)"
    """
    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "")
    if char in BIDI_CONTROLS:
        return f"{code} (a bidirectional control, {name})"
    if not _UNSAFE.fullmatch(char):
        return f"'{char}' ({code} {name})" if name else code
    if name:  # the line and paragraph separators
        return f"{code} (a line break, {name})"
    known = _CONTROLS.get(char)
    return f"{code} (a control character{', ' + known if known else ''})"


_Func = TypeVar("_Func", bound=Callable[..., Any])


def printable_result(func: _Func) -> _Func:
    """Decorate a function that returns text (a string, or a list or tuple of strings)
    so that what it returns is :func:`printable`."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        if isinstance(result, str):
            return printable(result)
        if isinstance(result, list | tuple):
            return type(result)(printable(r) if isinstance(r, str) else r for r in result)
        return result

    return wrapper  # type: ignore[return-value]
