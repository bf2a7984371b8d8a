"""Arguments of a run, checked where the library is called: a wrong type fails at the
call with a clear message, not later in a cost model or the report."""

from __future__ import annotations

import math
import operator
from pathlib import PurePath
from typing import Any

from ..scenario.errors import ScenarioError
from ..scenario.model import Scenario

__all__ = ["checked_scenario", "checked_scheduler", "whole_number", "real_number"]


def checked_scenario(value: Any) -> Scenario:
    """``value`` if it is a :class:`Scenario`; a :class:`TypeError` saying how to get one
    otherwise (a file name is the usual mistake)."""
    if isinstance(value, Scenario):
        return value
    if isinstance(value, str | PurePath):
        raise TypeError(
            f"run() takes a Scenario, not the file name {str(value)!r}: "
            "use run(load_scenario(path), ...)"
        )
    raise TypeError(f"run() takes a Scenario (from load_scenario), not {type(value).__name__}")


def whole_number(name: str, value: Any) -> int | None:
    """``value`` as an ``int`` (NumPy integers too), or ``None`` if it is ``None``.

    Raises
    ------
    TypeError
        For anything but an integer (``True``, ``2.0`` and ``"10"`` included).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a whole number, not {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{name} must be a whole number, not {type(value).__name__} {value!r}"
        ) from None


def real_number(name: str, value: Any) -> float | None:
    """``value`` as a finite ``float`` (NumPy floats and integers too), or ``None``."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        and not hasattr(value, "__float__")
    ):
        raise TypeError(f"{name} must be a number, not {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ScenarioError(f"{name} must be a finite number, got {value!r}", key=name)
    return number


def checked_scheduler(value: Any) -> str | None:
    """A Dask scheduler's address (``tcp://HOST:PORT``), or ``None``."""
    if value is None or isinstance(value, str) and value:
        return value
    raise TypeError(f"scheduler must be an address such as 'tcp://127.0.0.1:8786', not {value!r}")
