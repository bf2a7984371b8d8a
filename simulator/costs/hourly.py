"""Replicas hour by hour over a workload's load profile, averaged over the hours.

With a load profile, demand in hour ``h`` of a month is ``d * load_h``, with
``load_h = s + (1 - s) * profile_h * within_hour_burst`` (``s`` the deferrable share).
An autoscaled stack runs ``max(min_replicas, x * load_h)`` replicas in that hour
(``x`` the replicas per unit of load), so its month's replica-hours are the mean of
that over the profile's hours. Written as ``max(floor, level + scale * p_h)``, the mean
over the sorted profile is a sum over the hours above the point where the floor stops
binding, found by a binary search: a few passes over ``(months, paths)`` whatever the
number of hours.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mean_over_hours"]


def mean_over_hours(floor, level, scale, profile) -> np.ndarray:
    """``mean_h max(floor, level + scale * profile[h])``, elementwise.

    Parameters
    ----------
    floor
        A number, or an array broadcasting with ``level`` and ``scale``.
    level, scale
        Arrays (or numbers) that broadcast to the result's shape; ``scale >= 0``.
    profile
        The profile's hours (any order), non-negative.

    Returns
    -------
    numpy.ndarray
        The mean over the hours, in the broadcast shape.
    """
    hours = np.sort(np.asarray(profile, dtype=float))
    n = hours.size
    # above[k]: the sum of the hours from the k-th smallest on.
    above = np.concatenate([np.cumsum(hours[::-1])[::-1], [0.0]])
    level, scale = np.broadcast_arrays(np.asarray(level, float), np.asarray(scale, float))
    floor = np.broadcast_to(np.asarray(floor, float), level.shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        threshold = (floor - level) / scale
    # Hours below the threshold sit on the floor; where scale is 0, every hour does
    # when the floor is above the level, none when it is not.
    threshold = np.where(scale > 0, threshold, np.where(floor > level, np.inf, -np.inf))
    below = np.searchsorted(hours, threshold, side="left")
    total = floor * below + level * (n - below) + scale * above[below]
    return total / n
