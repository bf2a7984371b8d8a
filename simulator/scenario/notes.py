"""Where each number in a scenario comes from, as its author wrote it.

TOML readers drop comments, but a scenario's comments are where its sources live, so the
loader keeps them: a key's note is a ``source = "..."`` in its distribution table, else
the comment on its own line, else the comment lines above it (a comment above several
keys written together, with no blank line between them, is the note of each).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .text import printable

__all__ = ["MAX_NOTE", "comment_notes", "note_of", "table_notes"]

_HEADER = re.compile(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
MAX_NOTE = 1000
"""Longest note kept (a ``source`` longer than this is refused; a comment is cut)."""


def comment_notes(text: str) -> dict[str, str]:
    """Each key's comment in scenario ``text``: dotted key path (``options.api.uptime``,
    ``options.hybrid.routes[0].share``) to the comment's words, ``#`` and line breaks
    taken out."""
    notes: dict[str, str] = {}
    table = ""
    arrays: dict[str, int] = {}
    above: list[str] = []  # the comment lines since the last blank line or note use
    current = ""  # the note of the keys written together below a comment
    lines = iter(text.split("\n"))
    for line in lines:
        stripped = line.strip()
        if not stripped:
            above, current = [], ""
            continue
        if stripped.startswith("#"):
            if not above:
                current = ""
            above.append(stripped.lstrip("#").strip())
            continue
        if above:
            current, above = " ".join(above), []
        header = _HEADER.match(line)
        if header:
            name = _dotted(header.group(2))
            if header.group(1) == "[[":
                arrays[name] = arrays.get(name, -1) + 1
                name = f"{name}[{arrays[name]}]"
            if current:  # a comment just above a table's header is the table's note
                notes[name] = printable(current)[:MAX_NOTE]
            table, current = name, ""
            continue
        key = _KEY.match(line)
        if key is None:
            continue
        path = ".".join(p for p in (table, _dotted(key.group(1))) if p)
        value = line[key.end() :]
        trailing = _comment(value)
        note = trailing if trailing else current
        if note:
            notes[path] = printable(note)[:MAX_NOTE]
        _skip_continuation(value, lines)
    return notes


def table_notes(document: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """The ``source = "..."`` of every distribution table in ``document``, by key path."""
    found: dict[str, str] = {}
    for key, value in document.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            if "dist" in value and isinstance(value.get("source"), str):
                found[path] = printable(value["source"])[:MAX_NOTE]
            elif "dist" not in value:
                found.update(table_notes(value, path))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    found.update(table_notes(item, f"{path}[{i}]"))
    return found


def note_of(notes: Mapping[str, str], key: str) -> str:
    """The note of ``key``, or of the nearest table or key above it that has one
    (``escalation_rate = { hosted = 0.1 }`` notes each of its rates); ``""`` if none."""
    while key:
        if key in notes:
            return notes[key]
        cut = max(key.rfind("."), key.rfind("["))
        key = key[:cut] if cut > 0 else ""
    return ""


def _dotted(text: str) -> str:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return ".".join(p.strip("\"'") for p in parts)


def _unquoted(text: str):
    """``(index, character)`` of each character of a TOML line outside its strings."""
    quote, escaped = None, False
    for i, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        else:
            yield i, char


def _comment(value: str) -> str:
    """The comment ending a value's line: from the first ``#`` outside a string."""
    start = next((i for i, char in _unquoted(value) if char == "#"), None)
    return "" if start is None else value[start + 1 :].strip()


def _skip_continuation(value: str, lines) -> None:
    """Read past the rest of a value that spans lines: a multi-line string, or an array
    or inline table whose brackets close on a later line."""
    for fence in ('"""', "'''"):
        if value.count(fence) % 2 == 1:
            for line in lines:
                if fence in line:
                    return
            return
    depth = _depth(value)
    while depth > 0:
        line = next(lines, None)
        if line is None:
            return
        depth += _depth(line)


def _depth(text: str) -> int:
    """How many more brackets ``text`` opens than closes, outside strings and comments."""
    depth = 0
    for _, char in _unquoted(text):
        if char == "#":
            break
        depth += (char in "[{") - (char in "]}")
    return depth
