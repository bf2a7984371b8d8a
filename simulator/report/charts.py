"""Charts of a run: matplotlib figures, built here and saved only by the report.

Every chart function takes a :class:`~simulator.analysis.SimulationResult` and returns
a :class:`matplotlib.figure.Figure` drawn from the run's streamed aggregates (its
histograms and per-block counts), never from per-path arrays, so a chart costs the
same at any number of paths. Each option keeps one colour in every chart
(:func:`option_colours`), money axes read in $k/$M, and each title states what the
chart finds rather than what kind of chart it is.

matplotlib is imported on first use and drawn on the Agg canvas (no display needed).
:data:`CHARTS` lists the charts a report shows, in order; later analyses (sensitivity,
stress) add theirs there with a condition on the result.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..decide.summary import SimulationResult
from ..scenario.numbers import axis_money, money, share

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..scenario.model import Scenario

__all__ = [
    "CHARTS",
    "Chart",
    "breakeven_curves",
    "cheaper_by_year",
    "cost_curves",
    "monthly_fans",
    "option_colours",
    "savings_histograms",
    "setup_window",
    "stress_heatmap",
    "style",
    "tornado",
    "trigger_search",
    "volume_breakeven_curves",
]

BASELINE_COLOUR = "#4d4d4d"
"""The baseline is drawn in dark grey: the reference the others are measured against."""

PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#8c6d31",
    "#7f3c8d",
    "#11a579",
    "#e73f74",
)
"""Colours of the other options, in scenario order (Okabe-Ito first: colour-blind safe)."""

SETUP_COLOUR = "#8c8c8c"

STYLE: dict[str, Any] = {
    "text.parse_math": False,  # "$" in labels and titles is money, not TeX
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "svg.fonttype": "none",  # text stays text in SVG: selectable, searchable, small
}
"""matplotlib settings every chart is drawn and saved with."""

LOG_SCALE_RATIO = 100
"""S-curves spanning more than this factor between the cheapest and costliest paths
drawn are drawn on a log scale, so that no option is squeezed into a corner."""

_QUANTILE_GRID = np.linspace(0.005, 0.995, 199)
"""Where S-curves are drawn: the extreme 0.5% each side would only stretch the axis."""

_CDF_GRID = np.linspace(0.0, 1.0, 2001)
"""Quantiles read to rebuild a distribution's CDF from a histogram (0.05% apart)."""


@contextmanager
def style():
    """Draw (and save) with :data:`STYLE`."""
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def option_colours(result: SimulationResult) -> dict[str, str]:
    """One colour per option, the same in every chart: the baseline grey, the others
    from :data:`PALETTE` in scenario order."""
    colours, rivals = {}, 0
    for name in result.options:
        if name == result.scenario.baseline:
            colours[name] = BASELINE_COLOUR
        else:
            colours[name] = PALETTE[rivals % len(PALETTE)]
            rivals += 1
    return colours


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


# ---------------------------------------------------------------------------
# Helpers


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _title(figure: Figure, text: str) -> None:
    figure.suptitle(_wrap(text, 95), x=0.01, ha="left")


def _money_axis(axis, currency: str) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda x, _: axis_money(x, currency)))


def _share_axis(axis) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


_TITLE_WIDTH = {1: 90, 2: 48, 3: 30}
"""Characters per line of a panel title, by the number of columns."""


def _columns(panels: int) -> int:
    return 1 if panels == 1 else 2 if panels in (2, 4) else 3


def _grid(figure: Figure, panels: int, *, shared: bool):
    """Axes for ``panels`` small multiples (spare cells removed), and the column count.
    ``shared``: one scale on both axes for every panel."""
    columns = _columns(panels)
    rows = math.ceil(panels / columns)
    axes = figure.subplots(rows, columns, squeeze=False, sharex=shared, sharey=shared)
    flat = list(axes.flat)
    for spare in flat[panels:]:
        spare.remove()
    for i, ax in enumerate(flat[:panels]):
        # The lowest panel of each column carries the x tick labels.
        ax.tick_params(labelbottom=not shared or i + columns >= panels)
    return flat[:panels], columns


def _short(label: str, width: int = 40) -> str:
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


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


# ---------------------------------------------------------------------------
# The charts


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
        figure = _figure(9.5, 5.6)
        ax = figure.add_subplot()
        for name, option in result.options.items():
            histogram = result.paths.tally.histograms[f"total:{name}"]
            ax.plot(
                histogram.quantile(_QUANTILE_GRID),
                _QUANTILE_GRID,
                color=colours[name],
                lw=2.2,
                label=_wrap(
                    option.label + (" (baseline)" if name == scenario.baseline else ""), 60
                ),
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
            from matplotlib.ticker import LogLocator, NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel(f"Total cost over {months} months (log scale)")
        else:
            if low >= 0:
                ax.set_xlim(left=0)
            ax.set_xlabel(f"Total cost over {months} months")
        ax.set_ylabel("Share of paths costing at most this")
        _money_axis(ax.xaxis, currency)
        _share_axis(ax.yaxis)
        figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
        _title(figure, _cost_finding(result))
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
        figure = _figure(10, 1.2 + 2.5 * math.ceil(panels / _columns(panels)))
        axes, columns = _grid(figure, panels, shared=True)
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
                _wrap(option.label + suffix, _TITLE_WIDTH[columns]), color=colour, fontweight="bold"
            )
            _money_axis(ax.yaxis, currency)
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
        _title(figure, _fan_finding(result))
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
        figure = _figure(10, 1.2 + 2.7 * math.ceil(panels / _columns(panels)))
        axes, columns = _grid(figure, panels, shared=False)
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
                _wrap(result.options[name].label, _TITLE_WIDTH[columns]),
                color=colours[name],
                fontweight="bold",
            )
            _money_axis(ax.xaxis, currency)
            _share_axis(ax.yaxis)
            if i % columns == 0:
                ax.set_ylabel("Share of paths")
            if i + columns >= panels:
                ax.set_xlabel(f"Saving over {months} months (below zero: costs more)")
        _title(figure, _savings_finding(result))
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
        figure = _figure(9.5, 5.2)
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
                label=_wrap(result.options[name].label, 55),
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
        _share_axis(ax.yaxis)
        ax.set_ylabel("Share of paths cheaper than the baseline")
        ax.set_xlabel("Cumulative cost from month 1 to")
        figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
        _title(figure, _by_year_finding(result))
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
        figure = _figure(9.5, 5.2)
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
                label=_wrap(label, 55),
                gid=f"breakeven:{name}",
            )
            median = result.versus[name].breakeven_p50
            if median is not None:
                ax.plot(
                    [median], [0.5], "o", color=colours[name], ms=6, mec="white", label="_median"
                )
                medians.setdefault(median, []).append(name)
        for median, names in medians.items():
            ax.annotate(
                f"month {median}",
                (median, 0.5),
                xytext=(4, -12),
                textcoords="offset points",
                fontsize=8,
                color=colours[names[0]] if len(names) == 1 else "#333333",
            )
        ax.set_xlim(0.5, months + 0.5)
        ax.set_ylim(-0.03, 1.03)
        _share_axis(ax.yaxis)
        ax.set_xlabel("Month")
        ax.set_ylabel("Share of paths broken even by this month")
        figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
        _title(figure, _breakeven_finding(result))
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
        figure = _figure(9.5, 4.2 * len(searched))
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
            ax.xaxis.set_major_formatter(lambda v, _: axis_money(v, currency))
            _money_axis(ax.yaxis, currency)
            ax.set_xlabel("Trigger: monthly spend on the start option that starts migration")
            ax.set_title(result.options[name].label)
            ax.legend(loc="best")
        _title(figure, _trigger_finding(result, searched))
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


# ---------------------------------------------------------------------------
# The stress test, break-even volume and sensitivity (with --stress)

STRESS_CMAP = "RdBu"
"""Red where the option is rarely cheaper, blue where it usually is; white at 50%."""

TORNADO_INPUTS = 8
"""Inputs shown per tornado panel."""

LOW_COLOUR = "#56b4e9"
HIGH_COLOUR = "#d55e00"


def _multiplier(x: float) -> str:
    return f"{x:g}x"


def stress_heatmap(result: SimulationResult) -> Figure:
    """P(cheaper than the baseline) over the stress grid: one panel per option that
    the grid moves (:func:`~simulator.narrative.stress_rivals`), volume multiplier
    across, growth multiplier up, each cell labelled with its share.

    The image of each panel carries ``gid`` ``stress-grid:NAME``; its array is
    ``P[growth index, volume index]``.
    """
    from .words import stress_rivals, stress_sentence

    rows = result.extra["stress"]
    volumes = sorted({r["volume_realization"] for r in rows})
    growths = sorted({r["growth_realization"] for r in rows})
    cells = {(r["volume_realization"], r["growth_realization"]): r["options"] for r in rows}
    chosen = stress_rivals(result)
    names = [n for n in result.versus if n in chosen]  # in scenario order
    colours = option_colours(result)
    with style():
        from matplotlib.patches import Rectangle

        panels = len(names)
        columns = _columns(panels)
        figure = _figure(10, 1.4 + 2.9 * math.ceil(panels / columns))
        axes, columns = _grid(figure, panels, shared=False)
        image = None
        for i, (ax, name) in enumerate(zip(axes, names, strict=True)):
            grid = np.array([[cells[(v, g)][name]["p_cheaper"] for v in volumes] for g in growths])
            image = ax.imshow(
                grid,
                origin="lower",
                cmap=STRESS_CMAP,
                vmin=0,
                vmax=1,
                aspect="auto",
                gid=f"stress-grid:{name}",
            )
            for (row, column), value in np.ndenumerate(grid):
                ax.text(
                    column,
                    row,
                    share(value),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if abs(value - 0.5) > 0.3 else "#222222",
                )
            if 1.0 in volumes and 1.0 in growths:
                ax.add_patch(
                    Rectangle(
                        (volumes.index(1.0) - 0.5, growths.index(1.0) - 0.5),
                        1,
                        1,
                        fill=False,
                        lw=2,
                        ec="#111111",
                        gid=f"stress-forecast:{name}",
                    )
                )
            ax.set_xticks(range(len(volumes)), [_multiplier(v) for v in volumes])
            ax.set_yticks(range(len(growths)), [_multiplier(g) for g in growths])
            ax.grid(False)
            ax.set_title(
                _wrap(result.options[name].label, _TITLE_WIDTH[columns]),
                color=colours[name],
                fontweight="bold",
            )
            if i % columns == 0:
                ax.set_ylabel("Growth rate x")
            if i + columns >= panels:
                ax.set_xlabel("Volume x (realized volume level)")
        if image is not None:
            bar = figure.colorbar(image, ax=axes, shrink=0.9, label="P(cheaper than the baseline)")
            _share_axis(bar.ax.yaxis)
        _title(figure, stress_sentence(result))
    return figure


def volume_breakeven_curves(result: SimulationResult) -> Figure:
    """P(cheaper than the baseline) against the multiplier on realized volume (log
    scale), one line per option, with the 50% and 80% levels and the break-even
    multipliers marked.

    Lines carry ``gid`` ``volume-curve:NAME``; the marks ``volume-breakeven:NAME:p50``
    and ``volume-breakeven:NAME:p80``; the levels ``volume-target:50%`` and
    ``volume-target:80%``; the forecast ``volume-forecast``.
    """
    from .words import breakeven_sentence

    curves = result.extra["stress_method"]["curve"]
    breakeven = result.extra["breakeven"]
    colours = option_colours(result)
    low, high = result.extra["stress_method"]["volume_multiplier_range"]
    with style():
        from matplotlib.ticker import FuncFormatter

        figure = _figure(9.5, 5.4)
        ax = figure.add_subplot()
        for level in (0.5, 0.8):
            ax.axhline(
                level, color="#999999", lw=1, ls="--", zorder=1, gid=f"volume-target:{level:.0%}"
            )
            ax.annotate(
                f"{level:.0%} of paths",
                (1, level),
                xycoords=("axes fraction", "data"),
                xytext=(-3, 3),
                textcoords="offset points",
                ha="right",
                fontsize=8,
                color="#666666",
            )
        ax.axvline(1, color="#444444", lw=1, ls=":", gid="volume-forecast")
        ax.annotate(
            "forecast",
            (1, 0),
            xycoords=("data", "axes fraction"),
            xytext=(3, 3),
            textcoords="offset points",
            va="bottom",
            fontsize=8,
            color="#444444",
        )
        for name, curve in curves.items():
            ax.plot(
                curve["volume_multiplier"],
                curve["p_cheaper"],
                color=colours[name],
                lw=2.2,
                label=_wrap(result.options[name].label, 55),
                gid=f"volume-curve:{name}",
            )
            for key, level in (("p50", 0.5), ("p80", 0.8)):
                multiplier = breakeven[name][f"volume_multiplier_{key}"]
                if multiplier is None:
                    continue
                ax.plot(
                    [multiplier],
                    [level],
                    "o",
                    color=colours[name],
                    ms=7,
                    mec="white",
                    mew=1,
                    label="_mark",
                    gid=f"volume-breakeven:{name}:{key}",
                )
        ax.set_xscale("log")
        ax.set_xlim(low, high)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _multiplier(x)))
        ax.set_ylim(-0.03, 1.03)
        _share_axis(ax.yaxis)
        ax.set_xlabel("Realized volume, times the forecast (log scale)")
        ax.set_ylabel("Share of paths cheaper than the baseline")
        figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
        _title(figure, breakeven_sentence(result))
    return figure


def _input_label(key: str) -> str:
    """An input's key path without the table every input shares a prefix with:
    ``workload.monthly_growth`` -> ``monthly_growth``, ``options.api.uptime`` ->
    ``api.uptime``."""
    return key.split(".", 1)[1] if key.startswith(("workload.", "options.")) else key


def tornado(result: SimulationResult) -> Figure:
    """Tornado chart of each option's savings against the baseline (the options nearest
    even odds, :func:`~simulator.narrative.sensitivity_rivals`): per input, the median
    saving on paths with the input in its lowest and highest 10%, from the median of
    all paths; the :data:`TORNADO_INPUTS` inputs with the largest variance share.

    Bars carry ``gid`` ``tornado-low:NAME:INPUT`` and ``tornado-high:NAME:INPUT``.
    """
    from .words import sensitivity_rivals, sensitivity_sentence

    currency = result.scenario.currency
    effects = result.extra["sensitivity"]
    names = sensitivity_rivals(result)
    colours = option_colours(result)
    with style():
        from matplotlib.patches import Patch

        panels = len(names)
        columns = 1 if panels == 1 else 2
        figure = _figure(11, 1.4 + 3.2 * math.ceil(panels / columns))
        axes = figure.subplots(math.ceil(panels / columns), columns, squeeze=False).flat
        axes = list(axes)
        for spare in axes[panels:]:
            spare.remove()
        for ax, name in zip(axes, names, strict=False):
            centre = result.versus[name].savings["p50"]
            shown = effects[name][:TORNADO_INPUTS]
            y = np.arange(len(shown))[::-1]
            for row, effect in zip(y, shown, strict=True):
                for key, colour, part in (
                    ("savings_p50_low", LOW_COLOUR, "low"),
                    ("savings_p50_high", HIGH_COLOUR, "high"),
                ):
                    value = effect[key]
                    bar = ax.barh(
                        row,
                        value - centre,
                        left=centre,
                        height=0.6 if part == "low" else 0.36,
                        color=colour,
                        lw=0,
                    )
                    bar.patches[0].set_gid(f"tornado-{part}:{name}:{effect['input']}")
            ax.axvline(centre, color="#222222", lw=1, gid=f"tornado-centre:{name}")
            ax.set_yticks(
                y,
                [
                    f"{_short(_input_label(e['input']), 36)} ({e['variance_share']:.0%})"
                    for e in shown
                ],
                fontsize=8,
            )
            ax.grid(axis="y", visible=False)
            _money_axis(ax.xaxis, currency)
            ax.set_title(
                _wrap(result.options[name].label, 34 if columns == 2 else 90),
                color=colours[name],
                fontweight="bold",
            )
            ax.set_xlabel("Median saving (below zero: costs more)", fontsize=9)
        handles = [
            Patch(color=LOW_COLOUR, label="input in its lowest 10%"),
            Patch(color=HIGH_COLOUR, label="input in its highest 10%"),
        ]
        figure.legend(handles=handles, loc="outside lower center", ncols=2)
        _title(figure, sensitivity_sentence(result))
    return figure


# ---------------------------------------------------------------------------
# What a report shows


@dataclass(frozen=True)
class Chart:
    """One chart of a report.

    ``slug`` names its PNG file and HTML anchor; ``caption`` says how to read it
    (``{baseline}`` and ``{months}`` are filled in); ``applies`` says whether a result
    has what the chart needs; ``analysis`` names the summary key of the optional
    analysis it shows (``stress``, ``breakeven``, ``sensitivity``; ``policy`` for a
    staged option's trigger search), if any.
    """

    slug: str
    heading: str
    caption: str
    draw: Callable[[SimulationResult], Figure]
    applies: Callable[[SimulationResult], bool] = lambda result: True
    analysis: str | None = None


def _has_rivals(result: SimulationResult) -> bool:
    return bool(result.versus)


CHARTS: list[Chart] = [
    Chart(
        "cost-curves",
        "Total cost: how likely each amount is",
        "Each curve is one option. Read across from a share of paths to the total cost "
        "over {months} months that that share of paths stays within; dots mark the 5th, "
        "50th (median) and 95th percentiles. A curve further left is cheaper; a flatter "
        "curve is riskier.",
        cost_curves,
    ),
    Chart(
        "monthly-cost",
        "Cost month by month",
        "One panel per option, on the same scale. The line is the median monthly cost, "
        "the band holds the middle 90% of paths, the grey span is the setup period "
        "(while the stack is built, the option may still pay for traffic elsewhere).",
        monthly_fans,
    ),
    Chart(
        "savings",
        "Savings against the baseline",
        "How much each option saves over {months} months compared with {baseline}, path "
        "by path. Coloured bars: paths where it is cheaper; grey bars: paths where it costs "
        "more. The dashed line is the median saving. The extreme 0.5% of paths at each end "
        "are left off.",
        savings_histograms,
        _has_rivals,
    ),
    Chart(
        "cheaper-by-year",
        "Probability of being cheaper than the baseline, by year",
        "The share of paths on which each option's cumulative cost, from month 1 to the "
        "end of each year, is below {baseline}'s. Above the dashed line, the option is "
        "the better bet at that point.",
        cheaper_by_year,
        _has_rivals,
    ),
    Chart(
        "breakeven",
        "When each option breaks even",
        "The share of paths on which the option has broken even by each month: its "
        "cumulative cost is below {baseline}'s from that month to the horizon. The dot "
        "marks the median month; the legend gives the share of paths that never break "
        "even within {months} months.",
        breakeven_curves,
        _has_rivals,
    ),
    Chart(
        "trigger-search",
        "When to migrate: the trigger",
        "Each staged policy's expected total cost over {months} months (solid) and mean "
        "of its costliest 5% of paths (dotted) for each trigger tried, on the run's "
        "first paths. Dashed lines: never migrating. The vertical line marks the trigger "
        "used for the run.",
        trigger_search,
        lambda result: any((o.policy or {}).get("search") for o in result.options.values()),
        "policy",
    ),
    Chart(
        "stress-grid",
        "If the volume forecast is too optimistic",
        "Each cell is the share of paths on which the option is cheaper than {baseline} "
        "when every path's realized volume and realized growth rate are multiplied by the "
        "factors on the axes (the same sampled futures in every cell, so differences are "
        "the shock, not noise). The outlined cell is the forecast itself.",
        stress_heatmap,
        lambda result: "stress" in result.extra and bool(result.versus),
        "stress",
    ),
    Chart(
        "volume-breakeven",
        "How much volume each option needs",
        "The share of paths on which each option is cheaper than {baseline} over "
        "{months} months, as the realized volume of every path is multiplied by the "
        "factor on the axis (1 is the forecast; growth as forecast). Dots mark where the "
        "share reaches 50% and 80%: the break-even volumes.",
        volume_breakeven_curves,
        lambda result: "breakeven" in result.extra and bool(result.versus),
        "breakeven",
    ),
    Chart(
        "sensitivity",
        "What drives the savings",
        "For each option, the inputs that move its saving against {baseline} most, "
        "largest share of variance first (in brackets; inputs by key path, without the "
        "leading workload. or options.). Bars run from the median saving of all paths to "
        "the median saving on the paths where the input is in its lowest 10% and in its "
        "highest 10%.",
        tornado,
        lambda result: bool(result.extra.get("sensitivity")),
        "sensitivity",
    ),
]
"""The charts of a report, in order."""
