"""Reading scenario files and ``--set`` overrides.

``load_scenario`` reads a TOML file, applies ``--set`` overrides and validates the
result with :func:`~simulator.scenario.parse.parse_scenario`. Every problem is a
:class:`~simulator.scenario.errors.ScenarioError` naming the file, the key path and
what is allowed.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import ScenarioError, unknown
from .model import Scenario
from .parse import OPTIONAL_TABLES, parse_scenario

__all__ = ["load_scenario", "parse_override", "apply_overrides"]


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, override and validate a scenario file.

    Parameters
    ----------
    path
        A TOML scenario file.
    overrides
        ``KEY=VALUE`` strings as given to ``--set``; VALUE is a TOML value.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        When the file cannot be read or parsed, or any value is invalid.

    Examples
    --------
    >>> s = load_scenario("scenarios/logistics.toml", ["scenario.paths=1000"])
    >>> s.paths
    1000
    """
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("no such file", file=file) from None
    except IsADirectoryError:
        raise ScenarioError("is a folder, not a scenario file", file=file) from None
    except UnicodeDecodeError as err:
        raise ScenarioError(f"is not UTF-8 text ({err.reason})", file=file) from None
    except OSError as err:
        raise ScenarioError(f"cannot be read ({err.strerror})", file=file) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"is not valid TOML: {err}", file=file) from None
    overrides = tuple(overrides)
    try:
        document = apply_overrides(document, overrides)
        scenario = parse_scenario(document, source=file)
    except ScenarioError as err:
        raise err.with_file(file) from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return dataclasses.replace(scenario, source_sha256=digest, overrides=overrides)


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``KEY=VALUE`` into a dotted key and a TOML value.

    A VALUE that is not valid TOML is taken as a plain string, so
    ``scenario.name=Acme`` works without quotes.
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError(f"--set needs KEY=VALUE, got {text!r}", file="--set")
    parts = key.split(".")
    if any(not p.strip() for p in parts):
        raise ScenarioError(f"--set key {key!r} has an empty part", file="--set")
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        if any(c in value for c in '{}[]"='):
            raise ScenarioError(
                f"value {value!r} is not a valid TOML value", key=key, file="--set"
            ) from None
        parsed = value.strip()
    return key, parsed


def apply_overrides(document: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a copy of ``document`` with each ``KEY=VALUE`` override applied."""
    overrides = list(overrides)
    if not overrides:
        return document
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
