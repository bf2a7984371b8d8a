"""The chart of a reserved-GPU search: what each count of reserved GPUs costs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...decide.summary import SimulationResult
from .drawing import figure_title, money_axis, new_figure, option_colours, style

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["reserved_search", "searched_reservations"]


def searched_reservations(result: SimulationResult) -> list[str]:
    """The stacks whose reserved GPUs the run searched, in the order of the options."""
    return [n for n, o in result.options.items() if o.reserved_search is not None]


def reserved_search(result: SimulationResult) -> Figure:
    """Expected total cost and CVaR95 of each searched stack against the GPUs it
    reserves, with the count chosen marked.

    Lines carry ``gid`` ``reserved:NAME:mean`` and ``reserved:NAME:cvar95``.
    """
    currency = result.scenario.currency
    colours = option_colours(result)
    searched = searched_reservations(result)
    with style():
        figure = new_figure(9.5, 4.2 * len(searched))
        findings = []
        for i, name in enumerate(searched):
            ax = figure.add_subplot(len(searched), 1, i + 1)
            option = result.options[name]
            candidates = option.reserved_search["candidates"]
            counts = [c["reserved_gpus"] for c in candidates]
            for key, line, label in (
                ("mean", "-", "expected total cost"),
                ("cvar95", ":", "mean of the costliest 5% (CVaR95)"),
            ):
                ax.plot(
                    counts,
                    [c[key] for c in candidates],
                    line,
                    marker="o",
                    ms=3,
                    lw=2,
                    color=colours[name],
                    label=label,
                    gid=f"reserved:{name}:{key}",
                )
            ax.axvline(option.reserved_gpus, color=colours[name], lw=1, alpha=0.6)
            money_axis(ax.yaxis, currency)
            ax.set_xlabel("GPUs reserved for the term")
            ax.set_title(option.label)
            ax.legend(loc="best")
            findings.append(f"{option.label}: reserve {option.reserved_gpus:,} GPUs")
        figure_title(figure, "; ".join(findings))
    return figure
