"""Realized volume paths: the forecast, bent by realization factors and monthly shocks."""

from __future__ import annotations

import numpy as np

__all__ = ["realized_volume"]


def realized_volume(
    requests_per_month,
    monthly_growth,
    *,
    months: int,
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
        Scalars or arrays of shape ``(paths, 1)``.
    months
        Horizon length.
    shocks
        Standard normal shocks ``e`` of shape ``(paths, months)``; column 0 is unused
        because the first month carries no shock. ``None`` means no volatility.

    Returns
    -------
    numpy.ndarray
        Shape ``(paths, months)`` (or ``(1, months)`` when every argument is a scalar).
    """
    t = np.arange(months)
    level = np.asarray(requests_per_month) * volume_realization
    growth = 1.0 + np.asarray(monthly_growth) * growth_realization
    volume = level * np.power(growth, t)
    if shocks is not None:
        walk = np.cumsum(shocks, axis=1)
        walk -= shocks[:, :1]  # e_1 .. e_t for month t, nothing for month 0
        volume = volume * np.exp(np.asarray(growth_volatility) * walk)
    return np.atleast_2d(volume)
