"""How every chart is drawn: one colour per option, the matplotlib style, and the
figure, title, panel and axis helpers the charts share.

Each option keeps one colour in every chart (:func:`option_colours`), money axes read
in $k/$M, and each title states what the chart finds rather than what kind of chart it
is. matplotlib is imported on first use and drawn on the Agg canvas (no display needed).
"""

from __future__ import annotations

import math
import textwrap
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ...decide.summary import SimulationResult
from ...scenario.numbers import axis_money

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "BASELINE_COLOUR",
    "PALETTE",
    "SETUP_COLOUR",
    "STYLE",
    "TITLE_WIDTH",
    "column_count",
    "figure_title",
    "log_ticks",
    "money_axis",
    "new_figure",
    "option_colours",
    "panel_grid",
    "share_axis",
    "style",
    "wrap",
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


def wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters (never at hyphens)."""
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def new_figure(width: float, height: float) -> Figure:
    """An empty figure of ``width`` by ``height`` inches on the Agg canvas, laid out by
    matplotlib's constrained layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def figure_title(figure: Figure, text: str) -> None:
    """Title ``figure`` with ``text`` (what the chart finds), left-aligned and wrapped
    to the figure's width (about 8.5 characters of bold 12-point text an inch)."""
    figure.suptitle(wrap(text, int(figure.get_figwidth() * 8.5)), x=0.01, ha="left")


def log_ticks(axis) -> None:
    """Ticks of a log-scaled ``axis`` at 1, 2 and 5 of each decade, and no minor tick
    labels: matplotlib's are TeX, which this style leaves unparsed ("$" is money)."""
    from matplotlib.ticker import LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_minor_formatter(NullFormatter())


def money_axis(axis, currency: str) -> None:
    """Tick labels of ``axis`` as amounts of ``currency`` ($k, $M)."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda x, _: axis_money(x, currency)))


def share_axis(axis) -> None:
    """Tick labels of ``axis`` as whole percentages of 1."""
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


TITLE_WIDTH = {1: 90, 2: 48, 3: 30}
"""Characters per line of a panel title, by the number of columns."""


def column_count(panels: int) -> int:
    """Columns of a grid of ``panels`` small multiples: 1, 2 (for 2 or 4) or 3."""
    return 1 if panels == 1 else 2 if panels in (2, 4) else 3


def panel_grid(figure: Figure, panels: int, *, shared: bool):
    """Axes for ``panels`` small multiples (spare cells removed), and the column count.
    ``shared``: one scale on both axes for every panel."""
    columns = column_count(panels)
    rows = math.ceil(panels / columns)
    axes = figure.subplots(rows, columns, squeeze=False, sharex=shared, sharey=shared)
    flat = list(axes.flat)
    for spare in flat[panels:]:
        spare.remove()
    for i, ax in enumerate(flat[:panels]):
        # The lowest panel of each column carries the x tick labels.
        ax.tick_params(labelbottom=not shared or i + columns >= panels)
    return flat[:panels], columns
