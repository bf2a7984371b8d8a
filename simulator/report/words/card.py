"""A number of the report's first screen."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Card"]


@dataclass(frozen=True)
class Card:
    """One number of the first screen: what it is, the number, and how to read it."""

    label: str
    value: str
    detail: str
