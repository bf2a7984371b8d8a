"""Searching how many GPUs a stack should reserve.

``reserved_gpus = "optimize"`` is resolved before the run, on the run's own first
paths (``optimize_paths`` of them), like a staged policy's trigger: every candidate
count is costed on the same draws and the one with the lowest expected total cost is
fixed in the scenario the run then uses. The stack is costed on its own, serving from
month 0, whichever staged policy may also migrate to it.

The expected total is convex in the count (a reserved GPU costs the same every month,
the hours it saves fall as the count rises), so a grid over the GPUs the stack needs,
refined to every whole count between the best one's neighbours, finds the lowest on
those paths.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from ..costs.self_hosted import needed_gpus, totals_by_reservation
from ..engine.tally import cvar
from ..paths.batch import make_batch
from ..paths.sampling import Streams, plan_blocks, sample_inputs
from ..scenario.distributions import Fixed
from ..scenario.model import OPTIMIZE, Scenario

__all__ = ["ReservationSearch", "resolve_reservations", "search_batches", "search_reserved"]

# Counts tried evenly over 0 to the most GPUs needed, then every whole count between the
# best one's neighbours (or this many of them, evenly).
_GRID = 24
_REFINE = 16
# Paths costed together during the search.
_BATCH_BLOCKS = 4


@dataclass(frozen=True)
class ReservationSearch:
    """What the search of one stack's reserved GPUs tried and found.

    ``counts`` ascend from 0; ``mean`` and ``cvar95`` are the total cost over the
    horizon with each, on ``paths`` paths.
    """

    option: str
    paths: int
    counts: tuple[int, ...]
    mean: tuple[float, ...]
    cvar95: tuple[float, ...]

    @property
    def best(self) -> int:
        """The count with the lowest expected total cost (the fewest on a tie)."""
        return self.counts[int(np.argmin(self.mean))]

    @property
    def best_cvar95(self) -> int:
        """The count with the lowest CVaR95 of the total cost."""
        return self.counts[int(np.argmin(self.cvar95))]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "paths": self.paths,
            "reserved_min_cvar95": self.best_cvar95,
            "candidates": [
                {"reserved_gpus": n, "mean": m, "cvar95": c}
                for n, m, c in zip(self.counts, self.mean, self.cvar95, strict=True)
            ],
        }


def _even(low: int, high: int, count: int) -> list[int]:
    """Up to ``count`` whole numbers spread evenly from ``low`` to ``high``."""
    if high - low + 1 <= count:
        return list(range(low, high + 1))
    return sorted({round(x) for x in np.linspace(low, high, count)})


def search_batches(scenario: Scenario, entropy: int, paths: int) -> list:
    """The batches of a search before the run: its first ``paths`` paths seeded with
    ``entropy`` (the same draws the run will use), ``_BATCH_BLOCKS`` blocks each."""
    blocks = plan_blocks(paths)
    batches = []
    for i in range(0, len(blocks), _BATCH_BLOCKS):
        streams = Streams(entropy, blocks[i : i + _BATCH_BLOCKS])
        batches.append(make_batch(scenario, streams, sample_inputs(scenario, streams)))
    return batches


def search_reserved(scenario: Scenario, name: str, entropy: int, paths: int) -> ReservationSearch:
    """Cost stack ``name`` with candidate reserved counts on the first ``paths`` paths
    of a run seeded with ``entropy`` (the same draws the run itself will use)."""
    option = scenario.options[name]
    results: dict[int, tuple[float, float]] = {}
    with np.errstate(over="ignore", invalid="ignore"):
        batches = search_batches(scenario, entropy, paths)
        most = max(needed_gpus(option, b) for b in batches)

        def evaluate(counts: list[int]) -> None:
            counts = [n for n in counts if n not in results]
            if not counts:
                return
            per_batch = [totals_by_reservation(option, b, counts) for b in batches]
            for i, n in enumerate(counts):
                total = np.concatenate([totals[i] for totals in per_batch])
                results[n] = (float(total.mean()), cvar(total))

        evaluate(_even(0, math.ceil(most), _GRID))
        tried = sorted(results)
        i = tried.index(min(tried, key=lambda n: (results[n][0], n)))
        low, high = tried[max(i - 1, 0)], tried[min(i + 1, len(tried) - 1)]
        evaluate(_even(low, high, _REFINE))
    counts = tuple(sorted(results))
    return ReservationSearch(
        option=name,
        paths=sum(b.size for b in batches),
        counts=counts,
        mean=tuple(results[n][0] for n in counts),
        cvar95=tuple(results[n][1] for n in counts),
    )


def resolve_reservations(
    scenario: Scenario, entropy: int, paths: int
) -> tuple[Scenario, dict[str, ReservationSearch]]:
    """Fix every ``reserved_gpus = "optimize"`` of ``scenario`` at the count its search
    finds. A count fixed already, as in the scenario of a finished run (which the
    stress test runs again under shocks), is kept.

    Returns
    -------
    tuple
        The scenario with each such count a fixed quantity, and each search by option
        name. A scenario without one comes back as it is.
    """
    searches = {}
    quantities = dict(scenario.quantities)
    for name, option in scenario.options.items():
        if (
            option.params.get("reserved_gpus") == OPTIMIZE
            and option.path("reserved_gpus") not in quantities
        ):
            search = search_reserved(
                scenario, name, entropy, min(option.params["optimize_paths"], paths)
            )
            searches[name] = search
            quantities[option.path("reserved_gpus")] = Fixed(float(search.best))
    if not searches:
        return scenario, {}
    return dataclasses.replace(scenario, quantities=MappingProxyType(quantities)), searches
