"""Workload inputs estimated from a usage export (``simulate fit``).

:func:`fit_usage` reads a CSV of one row per request (a time and the input and output
tokens of each request) or of daily or monthly totals (a date and a request or token
count) and returns a :class:`UsageFit`: the workload keys it estimates, each with how,
as a commented TOML fragment and as a short report.
"""

from __future__ import annotations

from pathlib import Path

from .fragment import Fitted, UsageFit
from .requests import fit_requests
from .series import fit_series
from .table import read_usage

__all__ = ["Fitted", "UsageFit", "fit_usage"]


def fit_usage(path: str | Path, *, hours_per_month: float = 730.0) -> UsageFit:
    """Fit workload inputs to a usage export.

    Parameters
    ----------
    path
        A CSV file with a header row. Times that are all midnights make a daily or
        monthly series; any other times, a request log.
    hours_per_month
        Hours in a month, as the scenario's ``hours_per_month``: turns a request rate
        into requests a month.

    Returns
    -------
    UsageFit

    Raises
    ------
    ScenarioError
        One line naming the file and, for a bad cell, its row (the header is row 1) and
        column.

    Examples
    --------
    >>> fit = fit_usage("tests/data/azure-llm-inference-2023-conv.csv")
    >>> fit.kind, fit.values["load_profile"]
    ('requests', 'flat')
    """
    table = read_usage(path)
    stamps = table.times()
    midnights = (stamps - stamps.astype("datetime64[D]")).astype("int64") == 0
    if midnights.all():
        kind, facts, fitted = fit_series(table, stamps)
    else:
        facts, fitted = fit_requests(table, hours_per_month)
        kind = "requests"
    return UsageFit(str(path), kind, tuple(facts), tuple(fitted))
