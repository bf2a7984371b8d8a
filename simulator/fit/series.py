"""Fitting daily or monthly totals: growth with its uncertainty, and volatility.

Daily rows are summed into calendar months, keeping the whole months only (those the
rows span from their first day to their last). With ``y_t`` the log volume of month
``t``, ``b`` is the least-squares slope of ``y`` on ``t`` (months of 365.25/12 days:
one per calendar month), ``monthly_growth = exp(b) - 1`` and ``growth_volatility`` is
the standard deviation of the month-to-month changes ``y_{t+1} - y_t`` less ``b``
(over ``k - 1`` for ``k`` changes; changes over a gap of ``d`` months count as ``d``
months, scaled by ``1/sqrt(d)``).

The growth's uncertainty is a ``normal`` with ``sd = exp(b) * se(b)``, ``se(b)`` the
standard error of the slope under the model the simulator samples: log volume a random
walk around its trend with the fitted volatility. For weights ``w_t = (t - tbar) /
sum (t - tbar)^2`` the slope's error is ``sum w_t W_t`` for a random walk ``W``, so
``se(b)^2 = volatility^2 * sum_s sum_t w_s w_t min(s, t)`` (months from the first).
The textbook formula for independent errors would understate it several times over.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario.numbers import count
from .fragment import Fitted
from .table import UsageTable

__all__ = ["MIN_MONTHS", "fit_series", "growth_fit"]

MIN_MONTHS = 3
"""Fewest (whole) months a growth fit takes."""


def fit_series(table: UsageTable, stamps: np.ndarray) -> tuple[str, list[str], list[Fitted]]:
    """The kind (``"daily"`` or ``"monthly"``), facts and fitted keys of a series.

    Raises
    ------
    ScenarioError
        At a repeated date or a bad count; or when too few whole months remain, or a
        month's volume is 0.
    """
    volume, unit = _volume(table)
    dates = pd.Series(stamps)
    repeated = dates.duplicated()
    if repeated.any():
        row = int(np.argmax(repeated.to_numpy()))
        first = int(np.argmax((dates == dates.iloc[row]).to_numpy()))
        raise table.error(
            f"repeats the date {_day(dates.iloc[row])} of row {first + 2}; daily or monthly "
            "totals hold one row per date",
            row=row,
            role="time",
        )
    order = np.argsort(stamps, kind="stable")
    dates, volume = dates.iloc[order].reset_index(drop=True), volume[order]
    gaps = dates.diff().dt.days.dropna()
    monthly = len(dates) > 1 and (dates.dt.day == 1).all() and gaps.median() >= 28
    facts = [
        f"{len(dates):,} {'monthly' if monthly else 'daily'} rows of {unit}, from "
        f"{_day(dates.iloc[0])} to {_day(dates.iloc[-1])}."
    ]
    if monthly:
        months = list(dates.dt.to_period("M"))
        totals = volume
    else:
        months, totals, note = _whole_months(dates, volume)
        facts += note
    if len(totals) < MIN_MONTHS:
        raise table.error(
            f"covers {len(totals)} whole month{'s' * (len(totals) != 1)}; a growth fit needs "
            f"at least {MIN_MONTHS} (daily rows count a month when they span its first and "
            "last day)"
        )
    zero = np.flatnonzero(totals <= 0)
    if zero.size:
        raise table.error(
            f"month {months[zero[0]]} totals 0 {unit}; growth is fitted on log volume, so "
            "every month needs some"
        )
    index = np.array([m.ordinal for m in months], dtype=float)
    b, se, volatility = growth_fit(index - index[0], np.log(totals))
    facts.append(f"{len(totals)} months fitted, {months[0]} to {months[-1]}.")
    growth = float(np.expm1(b))
    sd = float(np.exp(b) * se)
    fitted = [
        Fitted(
            "monthly_growth",
            {"dist": "normal", "mean": round(growth, 5), "sd": round(sd, 5)},
            f"{growth:.2%} a month, standard error {sd:.2%}",
            f"exp(b) - 1 for b the least-squares slope of log monthly {unit} over "
            f"{len(totals)} months; sd exp(b) * se(b), se(b) under a random walk of the "
            "fitted volatility around the trend.",
        ),
        Fitted(
            "growth_volatility",
            round(volatility, 5),
            f"{volatility:.4f}",
            "The standard deviation of month-to-month changes of log monthly "
            f"{unit} less b ({len(totals) - 1} changes).",
        ),
    ]
    if unit == "requests":
        fitted.insert(
            0,
            Fitted(
                "requests_per_month",
                round(float(totals[-1])),
                f"{count(totals[-1])} ({months[-1]})",
                f"The last whole month, {months[-1]}: the scenario's first month is the "
                "one it starts in, so raise this by the growth of the months in between.",
            ),
        )
    return ("monthly" if monthly else "daily"), facts, fitted


def growth_fit(months: np.ndarray, log_volume: np.ndarray) -> tuple[float, float, float]:
    """``(b, se(b), volatility)`` of log volume at ``months`` from the first (see the
    module); ``months`` increasing, at least three of them."""
    t = np.asarray(months, dtype=float)
    y = np.asarray(log_volume, dtype=float)
    centred = t - t.mean()
    weights = centred / np.dot(centred, centred)
    b = float(np.dot(weights, y))
    steps = np.diff(t)
    changes = (np.diff(y) - b * steps) / np.sqrt(steps)
    volatility = float(np.sqrt(np.dot(changes, changes) / (len(changes) - 1)))
    elapsed = t - t[0]
    covariance = np.minimum.outer(elapsed, elapsed)
    se = volatility * float(np.sqrt(weights @ covariance @ weights))
    return b, se, volatility


def _volume(table: UsageTable) -> tuple[np.ndarray, str]:
    if "requests" in table.roles:
        return table.numbers("requests", "a request count"), "requests"
    if "tokens" in table.roles:
        return table.numbers("tokens", "a token count"), "tokens"
    if "input" in table.roles and "output" in table.roles:
        tokens = table.numbers("input", "a token count") + table.numbers("output", "a token count")
        return tokens, "tokens"
    raise table.error(
        "holds dates but no volume column; daily or monthly totals need a requests "
        "column (requests, request_count, num_model_requests) or a tokens column "
        "(tokens, total_tokens, or input_tokens and output_tokens)"
    )


def _whole_months(dates: pd.Series, volume: np.ndarray):
    months = dates.dt.to_period("M")
    first, last = dates.iloc[0], dates.iloc[-1]
    whole = [
        m for m in months.unique()
        if m.start_time >= first.normalize() and m.end_time.normalize() <= last
    ]  # fmt: skip
    frame = pd.DataFrame({"month": months, "volume": volume})
    kept = frame[frame["month"].isin(whole)]
    totals = kept.groupby("month", sort=True)["volume"].sum()
    days = sum(m.days_in_month for m in whole)
    note = []
    if len(whole) and days > len(kept):
        note.append(f"{days - len(kept):,} days of the whole months have no row (taken as 0).")
    left = len(frame) - len(kept)
    if left:
        note.append(f"{left:,} rows in partial months at either end are left out.")
    return list(totals.index), totals.to_numpy(dtype=float), note


def _day(stamp) -> str:
    return str(pd.Timestamp(stamp).date())
