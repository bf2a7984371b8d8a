"""Realized volume paths: the forecast, bent by realization factors and monthly shocks.

Arrays over months and paths are laid out ``(months, paths)``: a month is one
contiguous row, so month-to-month recurrences are a handful of fast row operations.
"""

from __future__ import annotations

import numpy as np

__all__ = ["realized_volume"]


def realized_volume(
    requests_per_month,
    monthly_growth,
    *,
    months: int,
    paths: int = 1,
    volume_realization=1.0,
    growth_realization=1.0,
    growth_volatility=0.0,
    shocks: np.ndarray | None = None,
) -> np.ndarray:
    """Requests billed in each month, per path.

    ``V_t = R * volume_realization * (1 + g * growth_realization)**t
    * exp(growth_volatility * (e_1 + ... + e_t))`` with ``t = 0`` for the first month.

    Parameters
    ----------
    requests_per_month, monthly_growth, volume_realization, growth_realization, growth_volatility
        Numbers, or arrays of shape ``(paths,)``.
    months, paths
        Shape of the result (``paths`` is taken from the arrays when they have one).
    shocks
        Standard normal shocks ``e`` of shape ``(months, paths)``; row 0 is unused
        because the first month carries no shock. ``None`` means no volatility.

    Returns
    -------
    numpy.ndarray
        Shape ``(months, paths)``.
    """
    level = np.asarray(requests_per_month) * volume_realization
    growth = 1.0 + np.asarray(monthly_growth) * growth_realization
    paths = max(paths, level.size, growth.size, 0 if shocks is None else shocks.shape[1])
    volume = np.empty((months, paths))
    volume[0] = level
    if months == 1:
        return volume
    if shocks is None:
        steps = np.broadcast_to(growth, (months - 1, paths))
    else:
        steps = np.multiply(growth_volatility, shocks[1:])
        np.exp(steps, out=steps)
        steps *= growth
    # One multiplication per month: V_t = V_{t-1} * step_t.
    for t in range(1, months):
        np.multiply(volume[t - 1], steps[t - 1], out=volume[t])
    return volume
