"""Searching a staged policy's trigger: the monthly spend at which to start migrating.

A trigger of ``"optimize"`` is chosen before the run, on the run's own first paths
(``optimize_paths`` of them): every candidate trigger is costed on the same draws,
and the one with the lowest expected total cost is fixed in the scenario the run
then uses. Never migrating and migrating at once are among the candidates, so the
policy found is never worse, on those paths, than staying on ``start`` or moving to
``then`` straight away with ``start`` serving during the setup.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from ..costs.staged import highest_trigger, start_costs, totals_for_triggers
from ..engine import run as engine
from ..engine.run import PathResults
from ..engine.tally import cvar
from ..scenario.distributions import Fixed
from ..scenario.model import OPTIMIZE, Scenario
from .reservation import resolve_reservations, search_batches

__all__ = ["TriggerSearch", "resolve_searches", "resolve_triggers", "search_trigger", "simulate"]

# Triggers tried at this many quantiles of the highest trigger that migrates on each
# path, then at this many more between the best one's neighbours.
_GRID = 20
_REFINE = 8


@dataclass(frozen=True)
class TriggerSearch:
    """What the search of one staged option's trigger tried and found.

    ``triggers`` ascend, with ``inf`` for never migrating last; ``mean`` and
    ``cvar95`` are the total cost over the horizon with each, on ``paths`` paths.
    """

    option: str
    paths: int
    triggers: tuple[float, ...]
    mean: tuple[float, ...]
    cvar95: tuple[float, ...]
    p_migrates: tuple[float, ...]

    @property
    def best(self) -> float:
        """The trigger with the lowest expected total cost (never migrating on a tie)."""
        return _argmin_trigger(self.triggers, self.mean)

    @property
    def best_cvar95(self) -> float:
        """The trigger with the lowest CVaR95 of the total cost."""
        return _argmin_trigger(self.triggers, self.cvar95)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``null`` for never migrating)."""

        def trigger(x: float) -> float | None:
            return None if math.isinf(x) else x

        return {
            "paths": self.paths,
            "trigger_min_cvar95": trigger(self.best_cvar95),
            "candidates": [
                {"trigger_monthly_cost": trigger(t), "mean": m, "cvar95": c, "p_migrates": p}
                for t, m, c, p in zip(
                    self.triggers, self.mean, self.cvar95, self.p_migrates, strict=True
                )
            ],
        }


def _argmin_trigger(triggers: tuple[float, ...], values: tuple[float, ...]) -> float:
    values_ = np.asarray(values)
    lowest = values_.min()
    if values_[-1] <= lowest:  # staying put is as good as anything
        return triggers[-1]
    return triggers[int(np.argmin(values_))]


def _quantiles(values: np.ndarray, levels: np.ndarray) -> list[float]:
    if values.size == 0:
        return []
    return [float(x) for x in np.quantile(values, levels) if x > 0]


def _evaluate(search: tuple, triggers: list[float]) -> dict[float, tuple[float, float, float]]:
    """Mean and CVaR95 of the total cost, and the share of paths migrating, with each
    of ``triggers`` on the batches being searched (``search``: the option and batches)."""
    option, batches = search
    totals, migrates = defaultdict(list), defaultdict(list)
    with np.errstate(over="ignore", invalid="ignore"):
        for batch in batches:
            found = totals_for_triggers(option, batch, triggers)
            for trigger, (total, begin) in zip(triggers, found, strict=True):
                totals[trigger].append(total)
                migrates[trigger].append(begin < batch.scenario.horizon_months)
    results = {}
    for trigger in triggers:
        total = np.concatenate(totals[trigger])
        results[trigger] = (
            float(total.mean()),
            cvar(total),
            float(np.concatenate(migrates[trigger]).mean()),
        )
    return results


def search_trigger(scenario: Scenario, name: str, entropy: int, paths: int) -> TriggerSearch:
    """Cost staged option ``name`` with candidate triggers on the first ``paths`` paths
    of a run seeded with ``entropy`` (the same draws the run itself will use).

    The search runs in this process: each path is costed once for each month some
    candidate starts its migration in, the candidates of a round (the grid, then the
    refinement) all together (:func:`~simulator.costs.staged.totals_for_triggers`), so
    worker processes would each pay the first costing again for little.
    """
    option = scenario.options[name]
    with np.errstate(over="ignore", invalid="ignore"):
        batches = search_batches(scenario, entropy, paths)
        highest = np.concatenate(
            [
                highest_trigger(start_costs(option, b)[1], option.params["trigger_months"])
                for b in batches
            ]
        )

        # Triggers at quantiles of the per-path highest one that migrates: each step
        # moves the same share of paths from staying to migrating.
        finite = highest[np.isfinite(highest)]
        levels = (np.arange(_GRID) + 0.5) / _GRID
        grid = sorted({0.0, math.inf, *_quantiles(finite, levels)})
        search = (option, batches)
        results = _evaluate(search, grid)
        best = _argmin_trigger(tuple(results), tuple(r[0] for r in results.values()))
        if 0 < best < math.inf:
            i = grid.index(best)
            between = (finite > grid[i - 1]) & (finite < grid[i + 1])
            finer = _quantiles(finite[between], (np.arange(_REFINE) + 0.5) / _REFINE)
            results.update(_evaluate(search, [t for t in dict.fromkeys(finer) if t not in results]))
    triggers = tuple(sorted(results))
    return TriggerSearch(
        option=name,
        paths=sum(b.size for b in batches),
        triggers=triggers,
        mean=tuple(results[t][0] for t in triggers),
        cvar95=tuple(results[t][1] for t in triggers),
        p_migrates=tuple(results[t][2] for t in triggers),
    )


def resolve_triggers(
    scenario: Scenario, entropy: int, paths: int
) -> tuple[Scenario, dict[str, TriggerSearch]]:
    """Fix every ``"optimize"`` trigger of ``scenario`` at the trigger its search finds
    (:func:`search_trigger`). A trigger fixed already, as in the scenario of a
    finished run (which the stress test runs again under shocks), is kept.

    The search's paths are few (``optimize_paths``), so it runs in this process even
    when the run's batches go to worker processes or a cluster.

    Returns
    -------
    tuple
        The scenario with each such trigger a fixed quantity (``inf``: never migrate),
        and each search by option name. A scenario without one comes back as it is.
    """
    searches = {}
    quantities = dict(scenario.quantities)
    for name, option in scenario.options.items():
        if (
            option.kind == "staged"
            and option.params.get("trigger_monthly_cost") == OPTIMIZE
            and option.path("trigger_monthly_cost") not in quantities
        ):
            pilot = min(option.params["optimize_paths"], paths)
            search = search_trigger(scenario, name, entropy, pilot)
            searches[name] = search
            quantities[option.path("trigger_monthly_cost")] = Fixed(search.best)
    if not searches:
        return scenario, {}
    return dataclasses.replace(scenario, quantities=MappingProxyType(quantities)), searches


def resolve_searches(
    scenario: Scenario,
    entropy: int,
    paths: int,
    workers: int = 1,
    scheduler: str | None = None,
) -> tuple[Scenario, dict[str, Any]]:
    """Fix every ``"optimize"`` of ``scenario``: the reserved GPUs of stacks first
    (:func:`~simulator.decide.reservation.resolve_reservations`), then the triggers of
    staged policies (:func:`resolve_triggers`), which may migrate to such a stack.
    Both search in this process, whatever ``workers`` and ``scheduler`` (the
    signature of the engine's ``prepare``) say.

    Returns
    -------
    tuple
        The scenario with every search's result fixed, and each search by option name.
    """
    scenario, reservations = resolve_reservations(scenario, entropy, paths)
    scenario, triggers = resolve_triggers(scenario, entropy, paths)
    return scenario, {**reservations, **triggers}


def simulate(scenario: Scenario, **options: Any) -> PathResults:
    """:func:`simulator.engine.run.simulate` with every ``"optimize"`` searched first
    (reserved GPUs, then triggers), on the run's own first paths, and fixed in the
    scenario the run then uses.

    Parameters
    ----------
    scenario
        A validated scenario.
    **options
        The keyword options of :func:`simulator.engine.run.simulate`.

    Returns
    -------
    PathResults
        ``policies`` holds each search (see :class:`TriggerSearch` and
        :class:`~simulator.decide.reservation.ReservationSearch`).
    """
    return engine.simulate(scenario, prepare=resolve_searches, **options)
