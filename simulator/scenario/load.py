"""Reading scenario files and ``--set`` overrides.

``load_scenario`` reads a TOML file, applies ``--set`` overrides and validates the
result with :func:`~simulator.scenario.parse.parse_scenario` (``load_document`` reads
and overrides alike, leaving validation to its caller). Every problem is a
:class:`~simulator.scenario.errors.ScenarioError` naming the file, the key path and
what is allowed.

A scenario path may name anything, so the file is looked at before it is read: it
must be a regular file (a named pipe, a device such as ``/dev/zero``, a socket or a
folder is refused without being read, and the file is opened without blocking), of at
most :data:`~simulator.scenario.schema.MAX_FILE_BYTES` (no more than that and one byte
is ever read), whose tables and arrays nest at most
:data:`~simulator.scenario.schema.MAX_DEPTH` levels deep. ``--set`` values are held to
the same size and depth.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import os
import stat
import tomllib
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import ScenarioError, unknown
from .model import Scenario
from .notes import comment_notes
from .parse import OPTIONAL_TABLES, parse_scenario
from .schema import MAX_DEPTH, MAX_FILE_BYTES, check_structure

__all__ = [
    "load_document",
    "load_scenario",
    "parse_override",
    "apply_overrides",
    "read_regular_file",
]

_ALLOWED = f"a scenario is a regular file of at most {MAX_FILE_BYTES:,} bytes (10 MB)"
_TOO_DEEP = (
    f"nests tables and arrays too deeply to be read; at most {MAX_DEPTH} levels are "
    "allowed (a scenario needs 4)"
)


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, override and validate a scenario file.

    Parameters
    ----------
    path
        A TOML scenario file: a regular file of at most 10 MB.
    overrides
        ``KEY=VALUE`` strings as given to ``--set``; VALUE is a TOML value.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        When the file is not a regular file, is too large, cannot be read or parsed,
        nests too deeply, or any value is invalid.

    Examples
    --------
    >>> s = load_scenario("scenarios/logistics.toml", ["scenario.paths=1000"])
    >>> s.paths
    1000
    """
    file = str(path)
    document, data, text = _read_document(Path(path), file)
    overrides = tuple(overrides)
    try:
        document = apply_overrides(document, overrides)
        scenario = parse_scenario(document, source=file)
    except ScenarioError as err:
        raise err.with_file(file) from None
    digest = hashlib.sha256(data).hexdigest()
    notes = {**comment_notes(text), **scenario.notes}
    # A value given with --set is no longer the one its comment describes.
    changed = [item.partition("=")[0].strip() for item in overrides]
    notes = {
        k: v for k, v in notes.items() if not any(k == c or k.startswith(c + ".") for c in changed)
    }
    return dataclasses.replace(
        scenario, source_sha256=digest, overrides=overrides, notes=MappingProxyType(notes)
    )


def load_document(path: str | Path, overrides: Iterable[str] = ()) -> tuple[dict[str, Any], str]:
    """Read a scenario file as :func:`load_scenario` does and apply ``overrides``, but
    do not validate it: the document (as read from TOML) and its source, the file name
    to attribute errors to.

    Raises
    ------
    ScenarioError
        When the file is not a regular file, is too large, cannot be read or parsed,
        nests too deeply, or an override cannot be applied.
    """
    file = str(path)
    document, _, _ = _read_document(Path(path), file)
    try:
        return apply_overrides(document, overrides), file
    except ScenarioError as err:
        raise err.with_file(file) from None


def _read_document(path: Path, file: str) -> tuple[dict[str, Any], bytes, str]:
    """The TOML document in the file at ``path``, the file's bytes and its text."""
    data = read_regular_file(path, file)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError(f"is not UTF-8 text ({err.reason})", file=file) from None
    # Line endings as a file read in text mode has them (a lone CR too).
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"is not valid TOML: {err}", file=file) from None
    except RecursionError:  # the reader recurses: deep enough, it gives up first
        raise ScenarioError(_TOO_DEEP, file=file) from None
    try:
        check_structure(document)
    except ScenarioError as err:
        raise err.with_file(file) from None
    return document, data, text


def read_regular_file(
    path: Path,
    file: str,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    what: str = "scenario file",
    allowed: str = _ALLOWED,
) -> bytes:
    """The bytes of the regular file at ``path``, at most ``max_bytes`` of them.

    The path is looked at before it is opened, so a pipe or a device is never opened;
    it is opened without blocking and looked at again (it may have been replaced in
    between), and no more than the limit and one byte is ever read, however large the
    file is or grows.

    Raises
    ------
    ScenarioError
        Naming ``file``: missing, not a regular file, unreadable or too large. ``what``
        names the kind of file expected (``"scenario file"``, ``"usage file"``) and
        ``allowed`` says what such a file may be.
    """
    try:
        _check_kind(os.stat(path).st_mode, file, what, allowed)
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
        flags |= getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ScenarioError("no such file", file=file) from None
    except IsADirectoryError:
        raise ScenarioError(f"is a folder, not a {what}", file=file) from None
    except OSError as err:
        raise ScenarioError(f"cannot be read ({err.strerror})", file=file) from None
    try:
        with open(fd, "rb") as f:
            info = os.fstat(f.fileno())
            _check_kind(info.st_mode, file, what, allowed)
            if info.st_size > max_bytes:
                raise ScenarioError(f"is {info.st_size:,} bytes; {allowed}", file=file)
            data = f.read(max_bytes + 1)
    except OSError as err:
        raise ScenarioError(f"cannot be read ({err.strerror})", file=file) from None
    if len(data) > max_bytes:  # it grew after it was looked at
        raise ScenarioError(f"is more than {max_bytes:,} bytes; {allowed}", file=file)
    return data


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_kind(mode: int, file: str, expected: str, allowed: str) -> None:
    """Refuse anything but a regular file (a folder with a message of its own)."""
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ScenarioError(f"is a folder, not a {expected}", file=file)
    what = next((what for test, what in _KINDS if test(mode)), "not a regular file")
    if what != "not a regular file":
        what = f"{what}, not a regular file"
    raise ScenarioError(f"is {what}; {allowed}", file=file)


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``KEY=VALUE`` into a dotted key and a TOML value.

    A VALUE that is not valid TOML is taken as a plain string, so
    ``scenario.name=Acme`` works without quotes. A VALUE is held to the limits of a
    scenario file: at most 10 MB, tables and arrays nested at most 32 levels deep
    (counting the key's own), key names as in a file.
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(f"--set needs KEY=VALUE, got {_short(text)}", file="--set")
    parts = key.split(".")
    if any(not p.strip() for p in parts):
        raise ScenarioError(f"--set key {_short(key)} has an empty part", file="--set")
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            f"the value is {size:,} bytes; a --set value is at most {MAX_FILE_BYTES:,} "
            "bytes (10 MB), as a scenario file is",
            key=key,
            file="--set",
        )
    try:
        check_structure(None, parts)  # the key's own parts are key names too
        try:
            document = tomllib.loads(f"v = {value}")
        except RecursionError:
            raise ScenarioError(_TOO_DEEP.replace("nests", "the value nests"), key=key) from None
        if list(document) != ["v"]:
            raise tomllib.TOMLDecodeError("more than one value")
        parsed = document["v"]
        check_structure(parsed, parts)
    except tomllib.TOMLDecodeError:
        if any(c in value for c in '{}[]"='):
            raise ScenarioError(
                f"value {_short(value)} is not a valid TOML value", key=key, file="--set"
            ) from None
        parsed = value.strip()
    except ScenarioError as err:
        raise ScenarioError(err.message, key=err.key or key, file="--set") from None
    return key, parsed


def _short(text: str) -> str:
    """``repr(text)``, cut short when long."""
    return repr(text) if len(text) <= 80 else repr(text[:80]) + "..."


def apply_overrides(document: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a copy of ``document`` with each ``KEY=VALUE`` override applied."""
    overrides = list(overrides)
    if not overrides:
        return document
    check_structure(document)  # before it is copied (recursively)
    document = copy.deepcopy(document)
    for text in overrides:
        key, value = parse_override(text)
        *parents, leaf = key.split(".")
        node: Any = document
        walked: list[str] = []
        for part in parents:
            walked.append(part)
            if node is document and part in OPTIONAL_TABLES and part not in node:
                node[part] = {}  # an optional table the file leaves out, such as [business]
            if not isinstance(node, dict) or part not in node:
                choices = list(node) if isinstance(node, dict) else []
                where = ".".join(walked[:-1]) or "the scenario"
                raise ScenarioError(
                    unknown(part, f"a table in {where}", choices), key=key, file="--set"
                )
            node = node[part]
        if not isinstance(node, dict):
            raise ScenarioError(f"{'.'.join(parents)} is not a table", key=key, file="--set")
        node[leaf] = value
    return document
