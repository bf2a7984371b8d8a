"""Scenario files in, validated and frozen: the bottom layer of the package.

``schema`` declares every key; ``load`` reads files and ``--set`` overrides; ``parse``
validates a document into the dataclasses of ``model``; ``distributions`` holds the
inverse CDFs of uncertain inputs; ``errors`` the exceptions every layer raises.

Names are imported on first use, so the command line's ``--help`` and its error
messages do not pay for NumPy.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import ScenarioError, SimulationError

__all__ = [
    "OPTIMIZE",
    "Correlation",
    "Option",
    "Requirements",
    "Route",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "StressSettings",
    "apply_overrides",
    "load_scenario",
    "parse_override",
    "parse_scenario",
]

_LAZY = {
    "OPTIMIZE": "model",
    "Correlation": "model",
    "Option": "model",
    "Requirements": "model",
    "Route": "model",
    "Scenario": "model",
    "StressSettings": "model",
    "apply_overrides": "load",
    "load_scenario": "load",
    "parse_override": "load",
    "parse_scenario": "parse",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
