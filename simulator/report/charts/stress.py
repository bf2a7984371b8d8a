"""Charts of the stress test, break-even volume and sensitivity analysis (with
``--stress``): P(cheaper) over the stress grid, P(cheaper) against volume, and a
tornado of what drives the savings. Each title is the sentence of
:mod:`simulator.report.words.stress` on the same finding.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ...decide.summary import SimulationResult
from ...scenario.numbers import share
from .drawing import (
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

__all__ = [
    "HIGH_COLOUR",
    "LOW_COLOUR",
    "STRESS_CMAP",
    "TORNADO_INPUTS",
    "stress_heatmap",
    "tornado",
    "volume_breakeven_curves",
]

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
    the grid moves (:func:`~simulator.report.words.stress.stress_rivals`), volume
    multiplier across, growth multiplier up, each cell labelled with its share.

    The image of each panel carries ``gid`` ``stress-grid:NAME``; its array is
    ``P[growth index, volume index]``.
    """
    from ..words.stress import stress_rivals, stress_sentence

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
        columns = column_count(panels)
        figure = new_figure(10, 1.4 + 2.9 * math.ceil(panels / columns))
        axes, columns = panel_grid(figure, panels, shared=False)
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
                wrap(result.options[name].label, TITLE_WIDTH[columns]),
                color=colours[name],
                fontweight="bold",
            )
            if i % columns == 0:
                ax.set_ylabel("Growth rate x")
            if i + columns >= panels:
                ax.set_xlabel("Volume x (realized volume level)")
        if image is not None:
            bar = figure.colorbar(image, ax=axes, shrink=0.9, label="P(cheaper than the baseline)")
            share_axis(bar.ax.yaxis)
        figure_title(figure, stress_sentence(result))
    return figure


def volume_breakeven_curves(result: SimulationResult) -> Figure:
    """P(cheaper than the baseline) against the multiplier on realized volume (log
    scale), one line per option, with the 50% and 80% levels and the break-even
    multipliers marked.

    Lines carry ``gid`` ``volume-curve:NAME``; the marks ``volume-breakeven:NAME:p50``
    and ``volume-breakeven:NAME:p80``; the levels ``volume-target:50%`` and
    ``volume-target:80%``; the forecast ``volume-forecast``.
    """
    from ..words.stress import breakeven_sentence

    curves = result.extra["stress_method"]["curve"]
    breakeven = result.extra["breakeven"]
    colours = option_colours(result)
    low, high = result.extra["stress_method"]["volume_multiplier_range"]
    with style():
        from matplotlib.ticker import FuncFormatter

        figure = new_figure(9.5, 5.4)
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
                label=wrap(result.options[name].label, 55),
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
        log_ticks(ax.xaxis)
        ax.set_xlim(low, high)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _multiplier(x)))
        ax.set_ylim(-0.03, 1.03)
        share_axis(ax.yaxis)
        ax.set_xlabel("Realized volume, times the forecast (log scale)")
        ax.set_ylabel("Share of paths cheaper than the baseline")
        figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
        figure_title(figure, breakeven_sentence(result))
    return figure


def _input_label(key: str) -> str:
    """An input's key path without the table every input shares a prefix with:
    ``workload.monthly_growth`` -> ``monthly_growth``, ``options.api.uptime`` ->
    ``api.uptime``."""
    return key.split(".", 1)[1] if key.startswith(("workload.", "options.")) else key


def _short(label: str, width: int = 40) -> str:
    return label if len(label) <= width else label[: width - 1].rstrip() + "…"


def tornado(result: SimulationResult) -> Figure:
    """Tornado chart of each option's savings against the baseline (the options nearest
    even odds, :func:`~simulator.report.words.stress.sensitivity_rivals`): per input,
    the median saving on paths with the input in its lowest and highest 10%, from the
    median of all paths; the :data:`TORNADO_INPUTS` inputs with the largest variance
    share.

    Bars carry ``gid`` ``tornado-low:NAME:INPUT`` and ``tornado-high:NAME:INPUT``.
    """
    from ..words.stress import sensitivity_rivals, sensitivity_sentence

    currency = result.scenario.currency
    effects = result.extra["sensitivity"]
    names = sensitivity_rivals(result)
    colours = option_colours(result)
    with style():
        from matplotlib.patches import Patch

        panels = len(names)
        columns = 1 if panels == 1 else 2
        figure = new_figure(11, 1.4 + 3.2 * math.ceil(panels / columns))
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
            money_axis(ax.xaxis, currency)
            ax.set_title(
                wrap(result.options[name].label, 34 if columns == 2 else 90),
                color=colours[name],
                fontweight="bold",
            )
            ax.set_xlabel("Median saving (below zero: costs more)", fontsize=9)
        handles = [
            Patch(color=LOW_COLOUR, label="input in its lowest 10%"),
            Patch(color=HIGH_COLOUR, label="input in its highest 10%"),
        ]
        figure.legend(handles=handles, loc="outside lower center", ncols=2)
        figure_title(figure, sensitivity_sentence(result))
    return figure
