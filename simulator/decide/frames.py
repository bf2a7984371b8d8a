"""A run's summaries as pandas tables, for notebooks.

pandas is imported only here, when a table is asked for: a plain run never pays its
import.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .summary import SimulationResult

__all__ = ["OPTION_COLUMNS", "MONTHLY_STATISTICS", "option_frame", "monthly_frame", "html_summary"]

OPTION_COLUMNS = (
    "label",
    "kind",
    "mean",
    "sd",
    "p5",
    "p50",
    "p95",
    "cvar95",
    "p_cheaper",
    "p_cheapest",
    "breakeven_month",
    "excluded",
)
"""Columns of :func:`option_frame`, in order."""

MONTHLY_STATISTICS = ("p5", "p50", "p95")
"""Statistics of each month's cost in :func:`monthly_frame`."""


def option_frame(result: SimulationResult) -> pd.DataFrame:
    """One row per option: total cost over the horizon, and its standing.

    Returns
    -------
    pandas.DataFrame
        Indexed by option name, with the columns of :data:`OPTION_COLUMNS`: the total
        cost's mean, sd, percentiles and CVaR95; ``p_cheaper`` (share of paths cheaper
        than the baseline; missing for the baseline itself), ``p_cheapest``,
        ``breakeven_month`` (median month the option's cumulative cost falls below the
        baseline's; missing where fewer than half the paths break even) and
        ``excluded`` (the requirement an option breaks, or missing).
    """
    import pandas as pd

    rows = []
    for name, option in result.options.items():
        cost = option.total_cost
        versus = result.versus.get(name)
        rows.append(
            {
                "option": name,
                "label": option.label,
                "kind": option.kind,
                "mean": cost.mean,
                "sd": cost.sd,
                "p5": cost.p5,
                "p50": cost.p50,
                "p95": cost.p95,
                "cvar95": cost.cvar95,
                "p_cheaper": None if versus is None else versus.p_cheaper,
                "p_cheapest": option.p_cheapest,
                "breakeven_month": None if versus is None else versus.breakeven_p50,
                "excluded": option.excluded,
            }
        )
    frame = pd.DataFrame(rows).set_index("option")
    frame["p_cheaper"] = frame["p_cheaper"].astype(float)
    frame["breakeven_month"] = frame["breakeven_month"].astype("Int64")
    frame["excluded"] = frame["excluded"].astype("string")
    return frame[list(OPTION_COLUMNS)]


def monthly_frame(result: SimulationResult) -> pd.DataFrame:
    """Each month's cost of each option across paths.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``month`` (1 to the horizon); columns a two-level index
        (``option``, ``statistic``) with the statistics of :data:`MONTHLY_STATISTICS`.
        ``frame.stack(["option", "statistic"])`` gives the long form.
    """
    import pandas as pd

    columns = {
        (name, statistic): option.monthly_cost[statistic]
        for name, option in result.options.items()
        for statistic in MONTHLY_STATISTICS
    }
    months = pd.RangeIndex(1, result.scenario.horizon_months + 1, name="month")
    frame = pd.DataFrame(columns, index=months)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["option", "statistic"])
    return frame


def html_summary(result: SimulationResult) -> str:
    """A notebook's view of a run: what was run, the recommendation, the option table.

    Scenario text (names, labels) is escaped: it shows as text, never as markup.
    """
    scenario = result.scenario
    recommendation = result.extra.get("recommendation", {})
    facts = (
        f"{result.paths.paths:,} paths over {scenario.horizon_months} months, "
        f"seed {result.paths.seed if result.paths.seed is not None else result.paths.entropy}, "
        f"baseline {scenario.baseline}"
    )
    table = option_frame(result).to_html(float_format=lambda x: f"{x:,.4g}", na_rep="")
    parts = [f"<strong>{html.escape(scenario.name)}</strong>: {html.escape(facts)}"]
    if recommendation.get("rationale"):
        parts.append(f"<p>{html.escape(recommendation['rationale'])}</p>")
    return "<div>" + "\n".join([*parts, table]) + "</div>"
