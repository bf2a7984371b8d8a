"""Charts of a run: matplotlib figures, built here and saved only by the report.

Every chart function takes a :class:`~simulator.decide.summary.SimulationResult` and
returns a :class:`matplotlib.figure.Figure`. :mod:`.drawing` holds the palette, style
and helpers every chart shares; :mod:`.cost` the charts of cost over the horizon;
:mod:`.timing` those of when (by year, break-even, the staged policy's trigger);
:mod:`.reservation` the search of reserved GPUs;
:mod:`.stress` those of the stress test, break-even volume and sensitivity.

:data:`CHARTS` lists the charts a report shows, in order; later analyses (sensitivity,
stress) add theirs there with a condition on the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...decide.summary import SimulationResult
from .cost import cost_curves, cost_ranges, monthly_fans, savings_histograms, setup_window
from .drawing import option_colours, style
from .reservation import reserved_search, searched_reservations
from .stress import stress_heatmap, tornado, volume_breakeven_curves
from .timing import breakeven_curves, cheaper_by_year, trigger_search

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "CHARTS",
    "Chart",
    "breakeven_curves",
    "cheaper_by_year",
    "cost_curves",
    "cost_ranges",
    "monthly_fans",
    "option_colours",
    "reserved_search",
    "savings_histograms",
    "setup_window",
    "stress_heatmap",
    "style",
    "tornado",
    "trigger_search",
    "volume_breakeven_curves",
]


@dataclass(frozen=True)
class Chart:
    """One chart of a report.

    ``slug`` names its PNG file and HTML anchor; ``caption`` says how to read it
    (``{baseline}`` and ``{months}`` are filled in); ``applies`` says whether a result
    has what the chart needs; ``analysis`` names the summary key of the optional
    analysis it shows (``stress``, ``breakeven``, ``sensitivity``; ``policy`` for a
    staged option's trigger search, ``reservation`` for a stack's reserved-GPU
    search), if any.
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
        "cost-ranges",
        "Total cost at a glance",
        "Each bar runs from the 5th to the 95th percentile of an option's total cost over "
        "{months} months (90% of simulated futures fall inside); the tick is the median, "
        "the dot the mean. The recommended option is first.",
        cost_ranges,
    ),
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
        "reserved-search",
        "How many GPUs to reserve",
        "Each searched stack's expected total cost over {months} months (solid) and mean "
        "of its costliest 5% of paths (dotted) for each count of reserved GPUs tried, on "
        "the run's first paths. The vertical line marks the count used for the run.",
        reserved_search,
        lambda result: bool(searched_reservations(result)),
        "reservation",
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
