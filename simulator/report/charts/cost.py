"""Charts of what each option costs over the horizon: how likely each total is, what
it costs month by month, and what it saves against the baseline.

Every chart function takes a :class:`~simulator.decide.summary.SimulationResult` and
returns a :class:`matplotlib.figure.Figure` drawn from the run's streamed aggregates
(its histograms and per-block counts), never from per-path arrays, so a chart costs the
same at any number of paths.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ...decide.summary import SimulationResult
from ...scenario.numbers import money, share
from .drawing import (
    SETUP_COLOUR,
    TITLE_WIDTH,
    column_count,
    figure_title,
    log_ticks,
    money_axis,
    new_figure,
    option_colours,
    panel_grid,
    share_axis,
    style,
    wrap,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ...scenario.model import Scenario

__all__ = [
    "cost_ranges",
    "LOG_SCALE_RATIO",
    "cost_curves",
    "monthly_fans",
    "savings_histograms",
    "setup_window",
]

LOG_SCALE_RATIO = 100
"""S-curves spanning more than this factor between the cheapest and costliest paths
drawn are drawn on a log scale, so that no option is squeezed into a corner."""

_QUANTILE_GRID = np.linspace(0.005, 0.995, 199)
"""Where S-curves are drawn: the extreme 0.5% each side would only stretch the axis."""

_CDF_GRID = np.linspace(0.0, 1.0, 2001)
"""Quantiles read to rebuild a distribution's CDF from a histogram (0.05% apart)."""


def setup_window(scenario: Scenario, name: str) -> tuple[float, float] | None:
    """Median and 95th percentile of an option's setup period, in months, from the
    scenario's ``options.NAME.setup_months`` quantity; a hybrid's is its longest
    route's. ``None`` when the option has no setup period."""
    option = scenario.options[name]
    if option.kind == "hybrid":
        windows = [w for r in option.routes if (w := setup_window(scenario, r.option))]
        if not windows:
            return None
        return max(w[0] for w in windows), max(w[1] for w in windows)
    dist = scenario.quantities.get(option.path("setup_months"))
    if dist is None:
        return None
    p50, p95 = (float(v) for v in dist.ppf(np.array([0.5, 0.95])))
    return (p50, p95) if p95 > 0 else None


def _binned(histogram, bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Chart bins (edges, share of paths in each) of a streamed histogram.

    The CDF is rebuilt from quantiles 0.05% apart; bins span the middle 99% of values
    and zero is always an edge, so no bar straddles break-even.
    """
    values = np.asarray(histogram.quantile(_CDF_GRID))
    low, high = float(values[10]), float(values[-11])  # 0.5% and 99.5%
    if high <= low:
        low, high = histogram.min, histogram.max
    if high <= low:  # every path the same
        width = max(abs(low) * 0.02, 1.0)
        return np.array([low - width / 2, low + width / 2]), np.array([1.0])
    width = (high - low) / bins
    edges = width * np.arange(math.floor(low / width), math.ceil(high / width) + 1)
    return edges, np.diff(np.interp(edges, values, _CDF_GRID))


def cost_curves(result: SimulationResult) -> Figure:
    """Cost S-curves: for each option, the share of paths whose total cost over the
    horizon is at most a given amount, with the 5th, 50th and 95th percentiles marked.

    Lines carry ``gid`` ``cost-curve:NAME`` (the curve) and ``cost-marks:NAME``
    (the three percentiles).
    """
    scenario = result.scenario
    currency, months = scenario.currency, scenario.horizon_months
    colours = option_colours(result)
    with style():
        figure = new_figure(9.5, 5.6)
        ax = figure.add_subplot()
        for name, option in result.options.items():
            histogram = result.paths.tally.histograms[f"total:{name}"]
            ax.plot(
                histogram.quantile(_QUANTILE_GRID),
                _QUANTILE_GRID,
                color=colours[name],
                lw=2.2,
                label=wrap(option.label + (" (baseline)" if name == scenario.baseline else ""), 60),
                gid=f"cost-curve:{name}",
            )
            cost = option.total_cost
            ax.plot(
                [cost.p5, cost.p50, cost.p95],
                [0.05, 0.5, 0.95],
                "o",
                color=colours[name],
                ms=6,
                mec="white",
                mew=1,
                label="_marks",
                gid=f"cost-marks:{name}",
            )
        for level, text in ((0.05, "p5"), (0.5, "p50"), (0.95, "p95")):
            ax.axhline(level, color="#b3b3b3", lw=0.8, ls=":", zorder=0)
            ax.annotate(
                text,
                (1, level),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                ha="left",
                va="center",
                fontsize=8,
                color="#666666",
            )
        ax.set_ylim(0, 1)
        low, high = ax.dataLim.x0, ax.dataLim.x1
        if low > 0 and high / low > LOG_SCALE_RATIO:
            ax.set_xscale("log")
            log_ticks(ax.xaxis)
            ax.set_xlabel(f"Total cost over {months} months (log scale)")
        else:
            if low >= 0:
                ax.set_xlim(left=0)
            ax.set_xlabel(f"Total cost over {months} months")
        ax.set_ylabel("Share of paths costing at most this")
        money_axis(ax.xaxis, currency)
        share_axis(ax.yaxis)
        figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
        figure_title(figure, _cost_finding(result))
    return figure


def _cost_finding(result: SimulationResult) -> str:
    scenario = result.scenario
    currency, months = scenario.currency, scenario.horizon_months
    options = result.options
    best = min(options.values(), key=lambda o: o.total_cost.p50)
    base = options[scenario.baseline]
    text = f"{best.label} has the lowest median cost, {money(best.total_cost.p50, currency)}"
    if best.name != base.name:
        text += (
            f" over {months} months against {money(base.total_cost.p50, currency)} for the baseline"
        )
    widest = max(options.values(), key=lambda o: o.total_cost.p95 - o.total_cost.p5)
    if len(options) > 1:
        cost = widest.total_cost
        text += (
            f". Widest risk: {widest.label}, {money(cost.p5, currency)} to "
            f"{money(cost.p95, currency)} on 90% of paths"
        )
    return text


def cost_ranges(result: SimulationResult) -> Figure:
    """Each option's total cost as one bar from its 5th to its 95th percentile, the
    median marked on it and the mean as a dot: small enough to read on a phone, for
    the first screen of a report. The recommended option is listed first.

    Bars carry ``gid`` ``cost-range:NAME``.
    """
    scenario = result.scenario
    currency, months = scenario.currency, scenario.horizon_months
    colours = option_colours(result)
    chosen = result.extra.get("recommendation", {}).get("option")
    names = sorted(result.options, key=lambda n: (n != chosen, result.options[n].total_cost.mean))
    from matplotlib.ticker import MaxNLocator

    with style():
        figure = new_figure(5.0, 1.2 + 0.7 * len(names))
        ax = figure.add_subplot()
        for row, name in enumerate(names):
            cost = result.options[name].total_cost
            ax.barh(
                row, cost.p95 - cost.p5, left=cost.p5, height=0.5, color=colours[name],
                alpha=0.85, gid=f"cost-range:{name}",
            )  # fmt: skip
            ax.plot([cost.p50] * 2, [row - 0.3, row + 0.3], color="#1f1f1f", lw=1.6)
            ax.plot(cost.mean, row, "o", color="white", mec="#1f1f1f", ms=5, mew=1.2)
        labels = [wrap(result.options[n].label, 24) for n in names]
        ax.set_yticks(range(len(names)), labels, fontsize=10)
        ax.tick_params(axis="x", labelsize=10)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_xlim(left=0)
        ax.xaxis.set_major_locator(MaxNLocator(5))  # room for "$1.25M" at 500 px
        money_axis(ax.xaxis, currency)
        ax.set_xlabel(f"Total cost over {months} months", fontsize=10)
        figure_title(figure, wrap("Total cost: 90% range, median and mean", 44))
    return figure


def monthly_fans(result: SimulationResult) -> Figure:
    """Monthly cost per option, one panel each on a shared scale: the band holds the
    middle 90% of paths (5th to 95th percentile), the line is the median, and the grey
    span is the setup period (median, then lighter to the 95th percentile).

    Artists carry ``gid`` ``fan-band:NAME``, ``fan-median:NAME`` and ``fan-setup:NAME``.
    """
    scenario = result.scenario
    currency, months = scenario.currency, scenario.horizon_months
    colours = option_colours(result)
    x = np.arange(1, months + 1)
    with style():
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        panels = len(result.options)
        figure = new_figure(10, 1.2 + 2.5 * math.ceil(panels / column_count(panels)))
        axes, columns = panel_grid(figure, panels, shared=True)
        any_setup = False
        for i, (ax, (name, option)) in enumerate(zip(axes, result.options.items(), strict=True)):
            monthly = option.monthly_cost
            colour = colours[name]
            window = setup_window(scenario, name)
            if window is not None:
                any_setup = True
                p50, p95 = min(window[0], months), min(window[1], months)
                ax.axvspan(
                    0.5, 0.5 + p50, color=SETUP_COLOUR, alpha=0.22, lw=0, gid=f"fan-setup:{name}"
                )
                if p95 > p50:
                    ax.axvspan(0.5 + p50, 0.5 + p95, color=SETUP_COLOUR, alpha=0.09, lw=0)
                ax.annotate(
                    f"setup ~{window[0]:.0f} mo",
                    (0.5, 1),
                    xycoords=("data", "axes fraction"),
                    xytext=(3, -3),
                    textcoords="offset points",
                    ha="left",
                    va="top",
                    fontsize=7.5,
                    color="#444444",
                )
            ax.fill_between(
                x,
                monthly["p5"],
                monthly["p95"],
                color=colour,
                alpha=0.25,
                lw=0,
                gid=f"fan-band:{name}",
            )
            ax.plot(x, monthly["p50"], color=colour, lw=2, gid=f"fan-median:{name}")
            suffix = " (baseline)" if name == scenario.baseline else ""
            ax.set_title(
                wrap(option.label + suffix, TITLE_WIDTH[columns]), color=colour, fontweight="bold"
            )
            money_axis(ax.yaxis, currency)
            ax.set_xlim(0.5, months + 0.5)
            if i % columns == 0:
                ax.set_ylabel("Cost per month")
            if i + columns >= panels:
                ax.set_xlabel("Month")
        if panels:
            # Owned hardware's resale value is a credit: the last month may be negative.
            lowest = min(min(o.monthly_cost["p5"]) for o in result.options.values())
            axes[0].set_ylim(bottom=min(0.0, lowest * 1.05))
        handles = [
            Patch(color="#999999", alpha=0.35, label="middle 90% of paths (p5-p95)"),
            Line2D([], [], color="#555555", lw=2, label="median (p50)"),
        ]
        if any_setup:
            handles.append(
                Patch(color=SETUP_COLOUR, alpha=0.3, label="setup period (median; lighter: to p95)")
            )
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8.5)
        figure_title(figure, _fan_finding(result))
    return figure


def _fan_finding(result: SimulationResult) -> str:
    scenario = result.scenario
    currency, months = scenario.currency, scenario.horizon_months
    last = {n: o.monthly_cost["p50"][-1] for n, o in result.options.items()}
    high = max(last, key=last.get)
    low = min(last, key=last.get)
    label = result.options
    text = (
        f"In month {months}, {label[high].label} costs {money(last[high], currency)} "
        "a month at the median"
    )
    if low != high:
        text += f"; {label[low].label} {money(last[low], currency)}"
    return text


def savings_histograms(result: SimulationResult) -> Figure:
    """What each option saves against the baseline over the horizon, one panel each:
    the share of paths per band of savings (middle 99% of paths), bars left of zero
    (the option costs more) in grey, P(cheaper) written on each panel.

    Bars carry ``gid`` ``savings-bar:NAME:K``; the zero and median lines ``savings-zero:NAME``
    and ``savings-median:NAME``.
    """
    scenario = result.scenario
    currency, months = scenario.currency, scenario.horizon_months
    colours = option_colours(result)
    with style():
        panels = len(result.versus)
        figure = new_figure(10, 1.2 + 2.7 * math.ceil(panels / column_count(panels)))
        axes, columns = panel_grid(figure, panels, shared=False)
        for i, (ax, (name, versus)) in enumerate(zip(axes, result.versus.items(), strict=True)):
            edges, mass = _binned(result.paths.tally.histograms[f"savings:{name}"])
            centres = (edges[:-1] + edges[1:]) / 2
            bars = ax.bar(
                edges[:-1],
                mass,
                width=np.diff(edges),
                align="edge",
                color=[colours[name] if c > 0 else "#bdbdbd" for c in centres],
                lw=0,
            )
            bars.set_label("_bars")
            for k, patch in enumerate(bars):
                patch.set_gid(f"savings-bar:{name}:{k}")
            ax.axvline(0, color="#222222", lw=1, gid=f"savings-zero:{name}")
            ax.axvline(
                versus.savings["p50"],
                color=colours[name],
                lw=1.2,
                ls="--",
                gid=f"savings-median:{name}",
            )
            median = versus.savings["p50"]
            median_text = (
                f"median saving {money(median, currency)}"
                if median >= 0
                else f"median: costs {money(-median, currency)} more"
            )
            ax.set_ylim(0, mass.max() * 1.3)  # room for the note above the bars
            ax.text(
                0.98,
                0.96,
                f"cheaper on {share(versus.p_cheaper)} of paths\n{median_text}",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=8.5,
                color="#222222",
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1.5},
            )
            ax.set_title(
                wrap(result.options[name].label, TITLE_WIDTH[columns]),
                color=colours[name],
                fontweight="bold",
            )
            money_axis(ax.xaxis, currency)
            share_axis(ax.yaxis)
            if i % columns == 0:
                ax.set_ylabel("Share of paths")
        # One label for every panel: under each, it ran past the figure and its neighbours.
        figure.supxlabel(f"Saving over {months} months (below zero: costs more)", fontsize=10)
        figure_title(figure, _savings_finding(result))
    return figure


def _savings_finding(result: SimulationResult) -> str:
    scenario = result.scenario
    base = result.options[scenario.baseline].label
    if not result.versus:
        return f"{base} is the only option"
    winners = sum(v.p_cheaper > 0.5 for v in result.versus.values())
    best = max(result.versus.values(), key=lambda v: v.savings["p50"])
    total = len(result.versus)
    lead = (
        f"No option is cheaper than {base} on most paths"
        if winners == 0
        else f"{winners} of {total} options are cheaper than {base} on most paths"
    )
    if best.savings["p50"] <= 0:
        return lead
    return (
        f"{lead}; {result.options[best.name].label} saves the most, "
        f"{money(best.savings['p50'], scenario.currency)} at the median"
    )
