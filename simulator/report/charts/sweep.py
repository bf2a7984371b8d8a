"""Charts of a sweep: which option the grid's values recommend, and how each option's
chance of beating the baseline moves across the grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...decide.sweep import SweepResult, toml_text
from .drawing import (
    BASELINE_COLOUR,
    PALETTE,
    figure_title,
    new_figure,
    panel_grid,
    share_axis,
    style,
    wrap,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["NONE_COLOUR", "decision_map", "p_cheaper_lines", "sweep_colours", "value_label"]

NONE_COLOUR = "#ffffff"
"""Cells where every option breaks a requirement: no recommendation."""

MAX_PANELS = 6
"""Most panels a chart draws: beyond, the grid's later keys are held at their first values."""


def value_label(value, width: int = 18) -> str:
    """A grid value as the axes show it: as TOML writes it, shortened."""
    text = toml_text(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def sweep_colours(sweep: SweepResult) -> dict[str, str]:
    """One colour per option, as in the run's report: the baseline grey, the others
    from the palette in scenario order."""
    colours, rivals = {}, 0
    for name in sweep.options:
        if name == sweep.scenario.baseline:
            colours[name] = BASELINE_COLOUR
        else:
            colours[name] = PALETTE[rivals % len(PALETTE)]
            rivals += 1
    return colours


def _values(sweep: SweepResult, key: str) -> list:
    seen: dict[str, object] = {}
    for row in sweep.rows:
        seen.setdefault(toml_text(row[key]), row[key])
    return list(seen.values())


def _facets(sweep: SweepResult, held: tuple[str, ...]) -> tuple[list[tuple], bool]:
    """The combinations of the ``held`` keys each panel shows, and whether some were
    left out (beyond :data:`MAX_PANELS`, the later keys stay at their first values)."""
    import itertools

    combos = list(itertools.product(*(_values(sweep, k) for k in held)))
    if len(combos) <= MAX_PANELS:
        return combos, False
    first = tuple(_values(sweep, k)[0] for k in held[1:])
    return [(v, *first) for v in _values(sweep, held[0])][:MAX_PANELS], True


def _matches(row: dict, keys: tuple[str, ...], values: tuple) -> bool:
    return all(toml_text(row[k]) == toml_text(v) for k, v in zip(keys, values, strict=True))


def _facet_title(keys: tuple[str, ...], values: tuple) -> str:
    return ", ".join(f"{k} = {value_label(v)}" for k, v in zip(keys, values, strict=True))


def decision_map(sweep: SweepResult) -> Figure:
    """The recommended option at every combination of the first two grid keys (one
    panel per combination of the others)."""
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    keys = sweep.keys
    x_key, y_key = keys[0], keys[1] if len(keys) > 1 else None
    held = keys[2:]
    xs = _values(sweep, x_key)
    ys = _values(sweep, y_key) if y_key else [None]
    facets, cut = _facets(sweep, held) if held else ([()], False)
    colours = sweep_colours(sweep)
    names = list(sweep.options)
    palette = ListedColormap([colours[n] for n in names] + [NONE_COLOUR])
    chosen = {r["recommendation"] for r in sweep.rows}
    with style():
        figure = new_figure(9.0, 2.4 + 0.45 * len(ys) * (1 if len(facets) < 3 else 1.4))
        axes, _ = panel_grid(figure, len(facets), shared=True)
        for ax, facet in zip(axes, facets, strict=True):
            cells = np.full((len(ys), len(xs)), len(names))
            for row in sweep.rows:
                if held and not _matches(row, held, facet):
                    continue
                i = next(j for j, y in enumerate(ys) if y_key is None or _same(row[y_key], y))
                k = next(j for j, x in enumerate(xs) if _same(row[x_key], x))
                if row["recommendation"] is not None:
                    cells[i, k] = names.index(row["recommendation"])
            ax.imshow(
                cells, cmap=palette, vmin=-0.5, vmax=len(names) + 0.5, aspect="auto",
                origin="lower",
            )  # fmt: skip
            ax.set_xticks(range(len(xs)), [value_label(x) for x in xs], rotation=30, ha="right")
            ax.set_yticks(range(len(ys)), [value_label(y) for y in ys] if y_key else [""])
            ax.grid(False)
            ax.set_xlabel(x_key)
            if y_key:
                ax.set_ylabel(y_key)
            if held:
                ax.set_title(wrap(_facet_title(held, facet), 48))
        legend = [Patch(color=colours[n], label=wrap(sweep.options[n], 40)) for n in names]
        legend = [p for p, n in zip(legend, names, strict=True) if n in chosen]
        if None in chosen:
            legend.append(Patch(facecolor=NONE_COLOUR, edgecolor="#999999", label="none allowed"))
        figure.legend(handles=legend, loc="outside lower center", ncols=min(3, len(legend)))
        title = "Recommended option at each point of the grid"
        if cut:
            title += f" (later keys at their first values; {MAX_PANELS} panels at most)"
        figure_title(figure, title)
    return figure


def _same(a, b) -> bool:
    return toml_text(a) == toml_text(b)


def p_cheaper_lines(sweep: SweepResult) -> Figure:
    """P(cheaper than the baseline) of each option along the first grid key, one line
    per value of the second (the later keys at their first values)."""
    keys = sweep.keys
    x_key = keys[0]
    y_key = keys[1] if len(keys) > 1 else None
    xs = _values(sweep, x_key)
    ys = _values(sweep, y_key)[:8] if y_key else [None]
    later = {k: _values(sweep, k)[0] for k in keys[2:]}
    rivals = [n for n in sweep.options if n != sweep.scenario.baseline][:MAX_PANELS]
    colours = sweep_colours(sweep)
    with style():
        figure = new_figure(9.0, 2.2 + 2.4 * ((len(rivals) + 1) // 2 if len(rivals) > 1 else 1))
        axes, columns = panel_grid(figure, max(1, len(rivals)), shared=True)
        for ax, name in zip(axes, rivals, strict=False):
            for shade, y in enumerate(ys):
                points = []
                for k, x in enumerate(xs):
                    for row in sweep.rows:
                        if (
                            _same(row[x_key], x)
                            and (y_key is None or _same(row[y_key], y))
                            and all(_same(row[lk], lv) for lk, lv in later.items())
                        ):
                            points.append((k, row[f"{name}.p_cheaper"]))
                            break
                alpha = 1.0 - 0.6 * shade / max(1, len(ys) - 1)
                label = None if y_key is None else f"{y_key} = {value_label(y)}"
                ax.plot(
                    [k for k, _ in points], [p for _, p in points], marker="o",
                    color=colours[name], alpha=alpha, label=label,
                )  # fmt: skip
            ax.set_ylim(-0.02, 1.02)
            share_axis(ax.yaxis)
            ax.set_xticks(range(len(xs)), [value_label(x) for x in xs], rotation=30, ha="right")
            ax.set_title(wrap(sweep.options[name], {1: 90, 2: 48, 3: 30}[columns]))
            ax.set_xlabel(x_key)
        if y_key is not None and rivals:
            axes[0].legend(loc="best")
        figure_title(figure, "Chance of costing less than the baseline, across the grid")
    return figure
