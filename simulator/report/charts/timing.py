"""Charts of when: how likely each option is to be cheaper than the baseline by each
year, when it breaks even, and the trigger at which a staged policy migrates.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ...decide.summary import SimulationResult
from ...scenario.numbers import axis_money, share
from .drawing import (
    figure_title,
    log_ticks,
    money_axis,
    new_figure,
    option_colours,
    share_axis,
    style,
    wrap,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["breakeven_curves", "cheaper_by_year", "trigger_search"]


def _year_labels(months: int, years: int) -> list[str]:
    labels = [f"end of year {k + 1}" for k in range(years)]
    if months % 12:
        labels[-1] = f"month {months}"
    return labels


def _end_labels(values: dict[str, float], gap: float) -> list[tuple[str, float, list[str]]]:
    """End-of-line labels: options whose shares read the same share one label; labels
    are placed from the top down at least ``gap`` apart. Returns (text, y, names)."""
    groups: dict[str, list[str]] = {}
    for name in sorted(values, key=values.get, reverse=True):
        groups.setdefault(share(values[name]), []).append(name)
    labels, floor = [], math.inf
    for text, names in groups.items():
        y = min(values[names[0]], floor - gap)
        labels.append((text, y, names))
        floor = y
    return labels


def cheaper_by_year(result: SimulationResult) -> Figure:
    """P(cheaper than the baseline) by year: for each option, the share of paths on
    which its cumulative cost through the end of each year is below the baseline's
    (the last point is the horizon).

    Lines carry ``gid`` ``by-year:NAME``.
    """
    scenario = result.scenario
    months = scenario.horizon_months
    colours = option_colours(result)
    years = len(next(iter(result.versus.values())).p_cheaper_by_year) if result.versus else 0
    x = np.arange(1, years + 1)
    with style():
        figure = new_figure(9.5, 5.2)
        ax = figure.add_subplot()
        ax.axhline(0.5, color="#999999", lw=1, ls="--", zorder=1)
        ax.annotate(
            "even odds",
            (0.7, 0.5),
            xytext=(0, 3),
            textcoords="offset points",
            fontsize=8,
            color="#666666",
        )
        for name, versus in result.versus.items():
            y = np.asarray(versus.p_cheaper_by_year)
            ax.plot(
                x,
                y,
                marker="o",
                lw=2.2,
                color=colours[name],
                label=wrap(result.options[name].label, 55),
                gid=f"by-year:{name}",
            )
        ends = {n: v.p_cheaper_by_year[-1] for n, v in result.versus.items()}
        for text, y, names in _end_labels(ends, gap=0.045):
            ax.annotate(
                text,
                (x[-1], y),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                fontsize=8.5,
                color=colours[names[0]] if len(names) == 1 else "#333333",
            )
        ax.set_xticks(x, _year_labels(months, years))
        ax.set_xlim(0.6, years + 0.6)
        ax.set_ylim(-0.03, 1.03)
        share_axis(ax.yaxis)
        ax.set_ylabel("Share of paths cheaper than the baseline")
        ax.set_xlabel("Cumulative cost from month 1 to")
        figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
        figure_title(figure, _by_year_finding(result))
    return figure


def _by_year_finding(result: SimulationResult) -> str:
    scenario = result.scenario
    base = result.options[scenario.baseline].label
    months = scenario.horizon_months
    late = []
    for name, versus in result.versus.items():
        by_year = versus.p_cheaper_by_year
        if by_year[0] < 0.5 <= by_year[-1]:
            year = next(k for k, p in enumerate(by_year) if p >= 0.5)
            late.append((year, name))
    if late:
        year, name = max(late)
        by_year = result.versus[name].p_cheaper_by_year
        when = _year_labels(months, len(by_year))[year]
        return (
            f"{result.options[name].label} pulls ahead of {base} only by {when}: "
            f"cheaper on {share(by_year[0])} of paths after year 1, {share(by_year[-1])} "
            f"by month {months}"
        )
    winners = [v for v in result.versus.values() if v.p_cheaper_by_year[-1] >= 0.5]
    if winners and len(winners) == len(result.versus):
        return f"Every option is cheaper than {base} on most paths from year 1 on"
    if not winners:
        return f"No option is cheaper than {base} on most paths, even by month {months}"
    return (
        f"By month {months}, {len(winners)} of {len(result.versus)} options are cheaper "
        f"than {base} on most paths"
    )


def breakeven_curves(result: SimulationResult) -> Figure:
    """Break-even month: for each option, the share of paths that have broken even
    against the baseline by each month (cumulative cost below the baseline's from that
    month to the horizon); the legend says how many never do.

    Lines carry ``gid`` ``breakeven:NAME``.
    """
    scenario = result.scenario
    months = scenario.horizon_months
    colours = option_colours(result)
    sums = result.paths.tally.totals()
    x = np.arange(1, months + 1)
    with style():
        figure = new_figure(9.5, 5.2)
        ax = figure.add_subplot()
        ax.axhline(0.5, color="#999999", lw=1, ls="--", zorder=1)
        medians: dict[int, list[str]] = {}
        for name in result.versus:
            counts = np.asarray(sums[f"breakeven:{name}"], dtype=float)
            paths = counts.sum()
            reached = np.cumsum(counts[1:]) / paths
            label = f"{result.options[name].label} (never: {share(counts[0] / paths)})"
            ax.step(
                x,
                reached,
                where="post",
                lw=2.2,
                color=colours[name],
                label=wrap(label, 55),
                gid=f"breakeven:{name}",
            )
            median = result.versus[name].breakeven_p50
            if median is not None:
                ax.plot(
                    [median], [0.5], "o", color=colours[name], ms=6, mec="white", label="_median"
                )
                medians.setdefault(median, []).append(name)
        # A label is about 6% of the axis wide: one too close to the last steps down.
        step, last = 0, -math.inf
        for median, names in sorted(medians.items()):
            step = step + 1 if median - last < 0.07 * months else 0
            last = median
            ax.annotate(
                f"month {median}",
                (median, 0.5),
                xytext=(4, -12 - 11 * step),
                textcoords="offset points",
                fontsize=8,
                color=colours[names[0]] if len(names) == 1 else "#333333",
            )
        ax.set_xlim(0.5, months + 0.5)
        ax.set_ylim(-0.03, 1.03)
        share_axis(ax.yaxis)
        ax.set_xlabel("Month")
        ax.set_ylabel("Share of paths broken even by this month")
        figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
        figure_title(figure, _breakeven_finding(result))
    return figure


def _breakeven_finding(result: SimulationResult) -> str:
    months = result.scenario.horizon_months
    timed = {n: v.breakeven_p50 for n, v in result.versus.items() if v.breakeven_p50 is not None}
    never = [n for n, v in result.versus.items() if v.breakeven_p50 is None]
    parts = []
    if timed:
        latest = max(timed, key=timed.get)
        parts.append(
            f"{result.options[latest].label} breaks even by month {timed[latest]} on half of "
            "the paths"
        )
    if never:
        labels = [result.options[n].label for n in never]
        if len(labels) == 1:
            parts.append(f"{labels[0]} does not break even within {months} months on most paths")
        else:
            names = ", ".join(labels[:-1]) + " and " + labels[-1]
            parts.append(f"{names} do not break even within {months} months on most paths")
    return "; ".join(parts) or "No option to compare with the baseline"


def trigger_search(result: SimulationResult) -> Figure:
    """Expected total cost and CVaR95 of each searched staged policy against its
    trigger, with the trigger chosen marked and staying put (never migrating) as a
    dashed line.

    Lines carry ``gid`` ``trigger:NAME:mean`` and ``trigger:NAME:cvar95``.
    """
    currency = result.scenario.currency
    colours = option_colours(result)
    searched = [n for n, o in result.options.items() if (o.policy or {}).get("search")]
    with style():
        figure = new_figure(9.5, 4.2 * len(searched))
        for i, name in enumerate(searched):
            ax = figure.add_subplot(len(searched), 1, i + 1)
            policy = result.options[name].policy
            candidates = policy["search"]["candidates"]
            # "Now" (a zero trigger) has no place on a log axis; the lowest trigger tried
            # above it migrates on nearly every path anyway.
            finite = [c for c in candidates if c["trigger_monthly_cost"]]
            never = candidates[-1]
            x = np.array([c["trigger_monthly_cost"] for c in finite])
            for key, style_, label in (
                ("mean", "-", "expected total cost"),
                ("cvar95", ":", "mean of the costliest 5% (CVaR95)"),
            ):
                ax.plot(
                    x,
                    [c[key] for c in finite],
                    style_,
                    marker="o",
                    ms=3,
                    lw=2,
                    color=colours[name],
                    label=label,
                    gid=f"trigger:{name}:{key}",
                )
                ax.axhline(never[key], color="#999999", lw=1, ls="--")
            ax.annotate(
                "never migrating",
                (x[-1], never["mean"]),
                xytext=(-4, 4),
                textcoords="offset points",
                ha="right",
                fontsize=8,
                color="#666666",
            )
            chosen = policy["trigger_monthly_cost"]
            if chosen:
                ax.axvline(chosen, color=colours[name], lw=1, alpha=0.6)
            ax.set_xscale("log")
            log_ticks(ax.xaxis)
            ax.xaxis.set_major_formatter(lambda v, _: axis_money(v, currency))
            money_axis(ax.yaxis, currency)
            ax.set_xlabel("Trigger: monthly spend on the start option that starts migration")
            ax.set_title(result.options[name].label)
            ax.legend(loc="best")
        figure_title(figure, _trigger_finding(result, searched))
    return figure


def _trigger_finding(result: SimulationResult, searched: list[str]) -> str:
    currency = result.scenario.currency
    parts = []
    for name in searched:
        trigger = result.options[name].policy["trigger_monthly_cost"]
        label = result.options[name].label
        if trigger is None:
            parts.append(f"{label}: never migrating is cheapest in expectation")
        else:
            parts.append(f"{label}: migrate once spend passes {axis_money(trigger, currency)}")
    return "; ".join(parts)
