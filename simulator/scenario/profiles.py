"""Load over the week: the shape of a workload's traffic hour by hour.

A ``load_profile`` is ``"flat"``, ``"business_hours"`` (the ten hours from 08:00 to
18:00, Monday to Friday, at three times the rate of every other hour of the week),
``"diurnal"`` (``1 + cos(2 pi (h - 14) / 24) / 3`` for hour of day ``h``: the busiest
hour at 14:00, twice the quietest), or 24 (hour of day) or 168 (hour of week from
Monday 00:00) non-negative numbers. Every profile is scaled to mean 1, so it shapes
the month's traffic without changing its volume.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import ScenarioError, quoted

__all__ = ["NAMED", "business_hours", "diurnal", "load_profile"]

HOURS_OF_WEEK = 168


def business_hours() -> tuple[float, ...]:
    """168 hours from Monday 00:00: 3 from 08:00 to 18:00 on weekdays, else 1."""
    return tuple(
        3.0 if day < 5 and 8 <= hour <= 17 else 1.0 for day in range(7) for hour in range(24)
    )


def diurnal() -> tuple[float, ...]:
    """24 hours of the day, peaking at 14:00 at twice the 02:00 trough."""
    return tuple(1.0 + math.cos(2.0 * math.pi * (h - 14) / 24) / 3.0 for h in range(24))


NAMED = {"flat": lambda: (1.0,), "business_hours": business_hours, "diurnal": diurnal}
"""The named profiles, each as its hours before scaling."""


def load_profile(value: Any, key: str) -> tuple[float, ...]:
    """A profile from the scenario, scaled to mean 1.

    Raises
    ------
    ScenarioError
        At ``key``: an unknown name, a list of another length, a negative or
        non-numeric hour, or a profile of zeros.
    """
    if isinstance(value, str):
        if value not in NAMED:
            names = ", ".join(f'"{n}"' for n in NAMED)
            raise ScenarioError(
                f"{quoted(value)} is not a load profile; expected one of {names}, or a "
                "list of 24 or 168 numbers",
                key=key,
            )
        hours = NAMED[value]()
    elif isinstance(value, list):
        if len(value) not in (24, HOURS_OF_WEEK):
            raise ScenarioError(
                f"holds {len(value)} numbers; a profile has 24 (hours of the day) or 168 "
                "(hours of the week from Monday 00:00)",
                key=key,
            )
        for i, x in enumerate(value):
            if isinstance(x, bool) or not isinstance(x, int | float) or not x >= 0 or math.isinf(x):
                raise ScenarioError(
                    f"hour {i} is {x!r}; every hour must be a finite number >= 0", key=key
                )
        hours = tuple(float(x) for x in value)
    else:
        raise ScenarioError(
            'must be "flat", "business_hours", "diurnal" or a list of 24 or 168 numbers',
            key=key,
        )
    mean = sum(hours) / len(hours)
    if not mean > 0:
        raise ScenarioError("is zero in every hour; some hour must carry traffic", key=key)
    return tuple(x / mean for x in hours)
