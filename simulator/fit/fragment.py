"""What a fit found, written as a commented TOML fragment and as a short report."""

from __future__ import annotations

import math
import os
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..scenario.errors import ScenarioError
from ..scenario.text import printable

__all__ = ["Fitted", "UsageFit", "toml_value", "write_new"]

_WIDTH = 88
"""Width of the fragment's comments and wrapped arrays."""


@dataclass(frozen=True)
class Fitted:
    """One workload key estimated from the data.

    Attributes
    ----------
    key
        The workload key (``requests_per_month``).
    value
        Its value as the scenario takes it: a number, a string, a list of numbers or a
        distribution table (``{"dist": "lognormal", "p5": ..., "p95": ...}``).
    shown
        The value for people, with its uncertainty where it has one, in the report
        (``"14.5M a month (5.53 a second, standard error 0.7%)"``).
    how
        How it was estimated and from how much data: the fragment's comment and the
        report's note.
    """

    key: str
    value: Any
    shown: str
    how: str


@dataclass(frozen=True)
class UsageFit:
    """A usage file's fit: the workload keys it gives and what the data were.

    Attributes
    ----------
    file
        The usage file.
    kind
        ``"requests"`` (one row per request), ``"daily"`` or ``"monthly"`` totals.
    facts
        Sentences about the data: rows, span, order, anything set aside.
    fitted
        The estimated keys, in the order the fragment gives them.
    """

    file: str
    kind: str
    facts: tuple[str, ...]
    fitted: tuple[Fitted, ...]

    @property
    def values(self) -> dict[str, Any]:
        """The fitted keys and values, as a ``[workload]`` table holds them."""
        return {f.key: f.value for f in self.fitted}

    def fragment(self, workload: str | None = None) -> str:
        """The ``[workload]`` (or ``[workloads.NAME]``) table, each key with its comment.

        Parameters
        ----------
        workload
            Write ``[workloads.NAME]`` for a portfolio instead of ``[workload]``.
        """
        lines = _comment(
            f"Fitted by `simulate fit` from {printable(self.file)}. " + " ".join(self.facts)
        )
        lines += _comment(
            "Add the other required keys (or merge these into a scenario's table), and "
            "check each value against what you expect of the coming months."
        )
        lines.append(f"[workloads.{workload}]" if workload else "[workload]")
        for fitted in self.fitted:
            lines += _comment(fitted.how)
            lines.append(f"{fitted.key} = {toml_value(fitted.value, indent=len(fitted.key) + 3)}")
        return "\n".join(lines) + "\n"

    def report(self) -> str:
        """The fit report: what the data were, then each value and its uncertainty."""
        kind = {"requests": "one row per request", "daily": "daily totals"}.get(
            self.kind, "monthly totals"
        )
        lines = [f"Fit of {printable(self.file)} ({kind})"]
        lines += textwrap.wrap(" ".join(self.facts), _WIDTH)
        width = max(len(f.key) for f in self.fitted)
        lines += [f"  {f.key:<{width}}  {f.shown}" for f in self.fitted]
        return "\n".join(lines)


def _comment(text: str) -> list[str]:
    return ["# " + line for line in textwrap.wrap(printable(text), _WIDTH - 2)]


def toml_value(value: Any, *, indent: int = 0) -> str:
    """``value`` as TOML: numbers, strings, lists of numbers, and inline tables of those.

    Long lists wrap onto lines of at most 88 characters (inside an inline table too,
    which TOML allows for a value that spans lines).
    """
    if isinstance(value, dict):
        parts = [f"{k} = {toml_value(v, indent=indent)}" for k, v in value.items()]
        return "{ " + ", ".join(parts) + " }"
    if isinstance(value, (list, tuple)):
        items = [toml_value(v) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if indent + len(one_line) <= _WIDTH:
            return one_line
        body = textwrap.wrap(", ".join(items) + ",", _WIDTH - 4)
        return "[\n" + "\n".join("    " + line for line in body) + "\n]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return _number(float(value))


def _number(x: float) -> str:
    if not math.isfinite(x):
        raise ValueError(f"{x} has no TOML form in a scenario")
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return format(x, ".6g")


_EXISTS = "exists; give --force to replace it, or another --out"


def write_new(path: Path, text: str, *, force: bool) -> None:
    """Write ``text`` to ``path`` in one rename; an existing file only with ``force``.

    Raises
    ------
    ScenarioError
        When ``path`` exists (without ``force``) or cannot be written.
    """
    if path.exists() and not force:
        raise ScenarioError(_EXISTS, file=str(path))
    try:
        handle, staged = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise ScenarioError(f"cannot be written ({err.strerror})", file=str(path)) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        if force:
            os.replace(staged, path)
        else:
            os.link(staged, path)  # fails if the file appeared meanwhile: never replaced
    except FileExistsError:
        raise ScenarioError(_EXISTS, file=str(path)) from None
    except OSError as err:
        raise ScenarioError(f"cannot be written ({err.strerror})", file=str(path)) from None
    finally:
        if os.path.exists(staged):
            os.unlink(staged)
