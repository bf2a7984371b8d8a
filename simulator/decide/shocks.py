"""Engine runs under a forecast shock, for the stress test (no I/O).

Every run here is the engine's, on the main run's seed and its first
``[stress] paths`` paths (20,000 by default, never more than the main run), with only
the engine's ``volume_scale`` and ``growth_scale`` changed. Each input has its own
seeded stream per block, so these runs reuse every draw of each other and of the main
run (common random numbers): a difference between two of them is the shock, not noise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from ..engine.executor import Executor, executor, result
from ..engine.run import default_workers
from ..scenario.errors import ScenarioError
from ..scenario.model import Scenario
from .policy import simulate
from .portfolio import assignment_total
from .summary import summarize

if TYPE_CHECKING:  # concurrent.futures is imported when a stress test runs
    from concurrent.futures import Future

__all__ = ["Evaluator", "StressPoint", "evaluate"]


@dataclass(frozen=True)
class StressPoint:
    """One run under a forecast shock: the multipliers and what each option costed
    in it did (``options`` names them; ``None`` for every option of the scenario)."""

    volume_scale: float
    growth_scale: float
    options: tuple[str, ...] | None
    p_cheaper: dict[str, float]
    savings_p50: dict[str, float]
    p_cheapest: dict[str, float]
    expected_regret: dict[str, float]
    mean_total: dict[str, float]
    first_month_p50: dict[str, float]
    portfolio: dict[str, float] | None = None
    """With a fixed portfolio assignment: its ``mean_total`` and ``p_cheaper`` than the
    baseline serving every workload."""


def _restricted(scenario: Scenario, options: tuple[str, ...] | None) -> Scenario:
    """``scenario`` costing only ``options``. Its draws are the full scenario's: inputs,
    designs and monthly streams are keyed by name, and the inputs stay the same."""
    if options is None:
        return scenario
    kept = {n: scenario.options[n] for n in options}
    return dataclasses.replace(scenario, options=MappingProxyType(kept), portfolio=None)


def evaluate(
    scenario: Scenario,
    *,
    entropy: int,
    paths: int,
    volume_scale: float = 1.0,
    growth_scale: float = 1.0,
    options: tuple[str, ...] | None = None,
) -> StressPoint:
    """Run ``scenario`` (costing only ``options``, if given) on one process under one
    forecast shock, and summarize it."""
    try:
        outcome = simulate(
            _restricted(scenario, options),
            paths=paths,
            seed=entropy,
            workers=1,
            volume_scale=volume_scale,
            growth_scale=growth_scale,
        )
    except ScenarioError as err:
        raise ScenarioError(
            f"in the stress test, at {volume_scale:g} times the volume and {growth_scale:g} "
            f"times the growth rate: {err.message}",
            key=err.key,
            file=err.file,
        ) from None
    result = summarize(outcome)
    costed = result.options
    return StressPoint(
        volume_scale=volume_scale,
        growth_scale=growth_scale,
        options=options,
        p_cheaper={n: v.p_cheaper for n, v in result.versus.items()},
        savings_p50={n: v.savings["p50"] for n, v in result.versus.items()},
        p_cheapest={n: o.p_cheapest for n, o in costed.items()},
        expected_regret={n: o.expected_regret for n, o in costed.items()},
        mean_total={n: o.total_cost.mean for n, o in costed.items()},
        first_month_p50={n: o.monthly_cost["p50"][0] for n, o in costed.items()},
        portfolio=_assignment(outcome),
    )


def _assignment(outcome) -> dict[str, float] | None:
    """The fixed assignment's mean total and P(cheaper) than the baseline for all."""
    portfolio = outcome.scenario.portfolio
    if portfolio is None or portfolio.assign == "optimize" or not outcome.portfolio:
        return None
    names = tuple(outcome.scenario.workloads)
    total = assignment_total(outcome.portfolio, [portfolio.assign[n] for n in names])
    base = assignment_total(outcome.portfolio, [outcome.scenario.baseline] * len(names))
    return {"mean_total": float(total.mean()), "p_cheaper": float(np.mean(total < base))}


Task = tuple[float, float, "tuple[str, ...] | None"]
"""A point to run: volume multiplier, growth multiplier, options costed (None: all)."""


def _task(job: tuple[Scenario, int, int], task: Task) -> StressPoint:
    scenario, entropy, paths = job
    v, g, options = task
    return evaluate(
        scenario,
        entropy=entropy,
        paths=paths,
        volume_scale=v,
        growth_scale=g,
        options=options,
    )


class Evaluator:
    """Runs stress points and remembers them; several at once on worker processes or a
    cluster.

    Each point is one single-process engine run, so the points of a round run side by
    side (a point's answer does not depend on where it ran).

    Parameters
    ----------
    scenario, entropy, paths
        What to run: the main run's scenario and seed entropy, and how many of its
        first paths.
    workers
        Processes running points side by side (default: every available core).
    scheduler
        A Dask scheduler's address, to run the points on its cluster instead.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        entropy: int,
        paths: int,
        workers: int | None = None,
        scheduler: str | None = None,
    ) -> None:
        self.scenario = scenario
        self.entropy = entropy
        self.paths = paths
        self.workers = default_workers() if workers is None else workers
        self.scheduler = scheduler
        self.points: dict[Task, StressPoint] = {}
        self._running: dict[Task, Future] = {}
        self._pool = None

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.close(abandon=kind is not None)

    def close(self, *, abandon: bool = False) -> None:
        """Stop the workers, if any were started (at once with ``abandon``)."""
        if self._pool is not None:
            self._pool.close(abandon=abandon)
            self._pool = None

    def run(
        self,
        scales: Iterable[tuple[float, float]],
        options: tuple[str, ...] | None = None,
    ) -> list[StressPoint]:
        """The points at each ``(volume_scale, growth_scale)`` (costing only
        ``options`` if given), running those not run yet."""
        return self.run_tasks([(float(v), float(g), options) for v, g in scales])

    def run_tasks(self, tasks: Iterable[Task]) -> list[StressPoint]:
        """The point of each task, running those not run yet, side by side."""
        futures = [self.submit(task) for task in tasks]
        return [result(future) for future in futures]

    def submit(self, task: Task) -> Future:
        """Start running ``task`` (at once, if it has been run before or there is a
        single worker): a future of its point, which is remembered when done."""
        from concurrent.futures import Future

        v, g, options = task
        task = (float(v), float(g), options)
        if task in self.points:
            done: Future = Future()
            done.set_result(self.points[task])
            return done
        if task in self._running:
            return self._running[task]
        if self.workers > 1 or self.scheduler is not None:
            future = self._parallel().submit(_task, task)
            self._running[task] = future
            future.add_done_callback(lambda f: self._remember(task, f))
            return future
        done = Future()
        done.set_result(
            evaluate(
                self.scenario,
                entropy=self.entropy,
                paths=self.paths,
                volume_scale=task[0],
                growth_scale=task[1],
                options=options,
            )
        )
        self._remember(task, done)
        return done

    def _remember(self, task: Task, future: Future) -> None:
        if not future.cancelled() and future.exception() is None:
            self.points[task] = future.result()
        self._running.pop(task, None)

    def _parallel(self) -> Executor:
        if self._pool is None:
            job = (self.scenario, self.entropy, self.paths)
            self._pool = executor(self.workers, job, scheduler=self.scheduler)
        return self._pool

    def curve(self, name: str, growth_scale: float = 1.0) -> list[tuple[float, float]]:
        """``(volume multiplier, P(cheaper))`` of option ``name`` at every point run so
        far at ``growth_scale``, by multiplier."""
        found = {
            point.volume_scale: point.p_cheaper[name]
            for (v, g, _), point in self.points.items()
            if g == growth_scale and name in point.p_cheaper
        }
        return sorted(found.items())
