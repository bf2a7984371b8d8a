"""How sure a run is, in words (pure functions, no I/O).

:func:`paths_share` says a share of paths; :func:`cautions` warns when Monte Carlo
error could change a conclusion; :func:`input_rows` lists every uncertain input with
its distribution and sampled percentiles, so a reader can audit them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ...decide.summary import SimulationResult
from ...scenario.notes import note_of
from ...scenario.numbers import share
from ...scenario.text import printable, printable_result
from ...scenario.units import label_of, unit_of, with_unit, written

__all__ = [
    "InputRow",
    "MEAN_SE_LIMIT",
    "P_CHEAPER_SE_LIMIT",
    "cautions",
    "input_rows",
    "paths_share",
]

P_CHEAPER_SE_LIMIT = 0.01
"""A P(cheaper) whose standard error is above this gets a caution."""

MEAN_SE_LIMIT = 0.01
"""A mean total cost whose standard error, relative to the mean, is above this gets one."""


def paths_share(p: float) -> str:
    """``0.926`` -> ``"92.6% of paths"``; 1 -> ``"every path"``; 0 -> ``"no path"``."""
    if p >= 1:
        return "every path"
    if p <= 0:
        return "no path"
    text = share(p).replace(">", "more than ").replace("<", "fewer than ")
    return f"{text} of paths"


@printable_result
def cautions(result: SimulationResult) -> list[str]:
    """Warnings where Monte Carlo error is material: a P(cheaper) within two standard
    errors of even odds or with a standard error above :data:`P_CHEAPER_SE_LIMIT`, a
    mean total cost less precise than :data:`MEAN_SE_LIMIT`, or a precision target
    that was not met. Empty when the run is precise enough."""
    scenario = result.scenario
    paths = result.paths.paths
    notes = []
    for name, versus in result.versus.items():
        label = result.options[name].label
        p, se = versus.p_cheaper, versus.p_cheaper_se
        if se > 0 and abs(p - 0.5) < 2 * se:
            notes.append(
                f"Whether {label} is cheaper than the baseline is a coin flip at this "
                f"precision: P(cheaper) is {share(p)}, within two standard errors "
                f"({_points(se)} each) of 50%."
            )
        elif se > P_CHEAPER_SE_LIMIT:
            notes.append(
                f"P(cheaper) of {label} ({share(p)}) has a standard error of {_points(se)}."
            )
    errors = result.paths.tally.standard_errors(scenario.sampling)
    for name, option in result.options.items():
        relative = errors.get(f"mean:{name}", 0.0)
        if relative > MEAN_SE_LIMIT:
            notes.append(
                f"The mean total cost of {option.label} is uncertain by about "
                f"{relative:.1%} (one standard error)."
            )
    precision = result.extra.get("precision")
    if precision is not None and not precision["met"]:
        notes.append(
            f"The precision asked for (standard error {precision['target']:g}) was not reached "
            f"within {paths:,} paths; the worst standard error is "
            f"{precision['worst_standard_error']:.4f}."
        )
    if notes:
        notes.append(
            f"These come from simulating {paths:,} paths, not from the scenario: run more "
            "paths (--paths, or --precision to set a target) to narrow them."
        )
    return notes


def _points(se: float) -> str:
    return f"{se * 100:.2g} percentage points"


@dataclass(frozen=True)
class InputRow:
    """One uncertain input of a scenario, for the audit table."""

    key: str
    applies_to: str
    distribution: str
    p5: str
    p50: str
    p95: str
    label: str = ""
    source: str = ""


def input_rows(
    result: SimulationResult, sampled: Mapping[str, np.ndarray] | None = None
) -> list[InputRow]:
    """Every uncertain input: its dotted key and its name in words, what it belongs
    to, its distribution and its 5th, 50th and 95th percentiles as sampled
    (``sampled`` maps a key to those three numbers), or else as the distribution gives
    them, all in the input's unit (percentages as percentages), and its source note."""
    scenario = result.scenario
    rows = []
    for key in scenario.inputs:
        dist = scenario.quantities[key]
        values = sampled.get(key) if sampled else None
        if values is None:
            values = dist.ppf(np.array([0.05, 0.5, 0.95]))
        unit = unit_of(key)
        p5, p50, p95 = (with_unit(float(v), unit, scenario.currency) for v in values[:3])
        rows.append(
            InputRow(
                key=key,
                applies_to=printable(_owner(result, key)),
                distribution=written(dist, unit, scenario.currency),
                p5=p5,
                p50=p50,
                p95=p95,
                label=label_of(key),
                source=note_of(scenario.notes, key),
            )
        )
    return rows


def _owner(result: SimulationResult, key: str) -> str:
    parts = key.split(".")
    if parts[0] == "options" and parts[1] in result.options:
        return result.options[parts[1]].label
    if parts[0] == "workloads":
        return f"Workload {parts[1]}"
    return parts[0].capitalize()
