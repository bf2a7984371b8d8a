"""What if the volume forecast is wrong: a stress grid and the break-even volume (no I/O).

Every run here is the engine's, on the main run's seed and its first ``[stress]
paths`` paths, with only the volume and growth scales changed, so that a difference
between two runs is the shock, not noise (common random numbers, :mod:`.shocks`).

- **Stress grid**: one run per pair of ``[stress]`` multipliers, on each path's
  realized volume level and realized growth rate.
- **Break-even volume**: for every option but the baseline, the smallest multiplier on
  realized volume at which P(cheaper than the baseline) reaches 50% and 80%
  (:mod:`.breakeven`).

:func:`stress_test` runs both, adds the sensitivity analysis
(:mod:`simulator.decide.sensitivity`) and returns the result with the summary keys
``stress``, ``breakeven``, ``sensitivity`` and ``stress_method``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ..scenario.model import Scenario
from .breakeven import SCAN, TOLERANCE, breakeven_volumes, volume_basis
from .policy import simulate
from .sensitivity import VARIANCE_BINS, PathSample, sensitivity
from .shocks import Evaluator
from .summary import SimulationResult

__all__ = ["collecting", "stress_grid", "stress_test"]


def stress_grid(
    evaluator: Evaluator,
    volume_realization: Iterable[float],
    growth_realization: Iterable[float],
    baseline: str,
) -> list[dict[str, Any]]:
    """The summary's ``stress`` rows: one per (volume, growth) multiplier pair, volume
    first, each option's P(cheaper), median savings (both null for the baseline),
    P(cheapest) and expected regret."""
    pairs = [(v, g) for v in volume_realization for g in growth_realization]
    return [_row(point, baseline) for point in evaluator.run(pairs)]


def _row(point, baseline: str) -> dict[str, Any]:
    """A ``stress`` row: the multipliers, each option, and the assignment if costed."""
    options = {}
    for name in point.p_cheapest:
        options[name] = {
            "p_cheaper": None if name == baseline else point.p_cheaper[name],
            "savings_p50": None if name == baseline else point.savings_p50[name],
            "p_cheapest": point.p_cheapest[name],
            "expected_regret": point.expected_regret[name],
        }
    row = {
        "volume_realization": point.volume_scale,
        "growth_realization": point.growth_scale,
        "options": options,
    }
    if point.portfolio is not None:
        row["portfolio"] = point.portfolio
    return row


def _by_workload(scenario: Scenario, entropy, paths, workers, scheduler) -> dict[str, list]:
    """``stress_by_workload``: each workload's volume shocked alone, the others at their
    forecast, every point costing the options and the assignment found."""
    out = {}
    for name in scenario.workloads:
        alone = dataclasses.replace(scenario, shocked_workload=name)
        with Evaluator(
            alone, entropy=entropy, paths=paths, workers=workers, scheduler=scheduler
        ) as evaluator:
            points = evaluator.run([(v, 1.0) for v in scenario.stress.volume_realization])
        out[name] = [_row(point, scenario.baseline) for point in points]
    return out


def collecting(scenario: Scenario, paths: int | None, path_sink=None, path_fields=None):
    """Get a main run ready for :func:`stress_test`: a :class:`PathSample` of its first
    ``[stress] sensitivity_paths`` paths (at most ``paths``), and the ``path_sink`` and
    ``path_fields`` to run with, which feed the sample and then ``path_sink``.

    Returns
    -------
    tuple
        ``(sample, path_sink, path_fields)``.
    """
    limit = scenario.stress.sensitivity_paths
    if paths is not None:
        limit = min(limit, paths)
    sample = PathSample(limit)
    if path_sink is None:
        fields: tuple[str, ...] | None = PathSample.fields
    elif path_fields is None:
        fields = None  # the other sink wants every array
    else:
        fields = tuple(dict.fromkeys((*path_fields, *PathSample.fields)))
    return sample, sample.then(path_sink), fields


def stress_test(
    result: SimulationResult,
    sample: PathSample | Mapping[str, Mapping[str, np.ndarray]] | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
) -> SimulationResult:
    """Stress grid, break-even volume and sensitivity of a finished run.

    Parameters
    ----------
    result
        The main run's result (its seed entropy and path count are reused).
    sample
        Per-path inputs and totals of the run's first paths, for the sensitivity
        analysis: a :class:`~simulator.decide.sensitivity.PathSample` collected during the run
        (as :func:`simulator.run` does with ``stress=True``). Without one, the arrays a
        run kept (``keep_paths``) are used, and failing those the first
        ``[stress] sensitivity_paths`` paths are run again (same seed: the same paths).
    workers
        Processes running stress points side by side (default: every available core).
    scheduler
        A Dask scheduler's address, to run the stress points on its cluster.

    Returns
    -------
    SimulationResult
        ``result`` with the summary keys ``stress``, ``breakeven``, ``sensitivity`` and
        ``stress_method`` added, and ``timings["stress_s"]``.
    """
    started = time.perf_counter()
    scenario = result.scenario
    settings = scenario.stress
    entropy = result.paths.entropy
    paths = min(settings.paths, result.paths.paths)
    baseline = scenario.baseline
    inputs, totals, used = _sensitivity_paths(result, sample, workers, scheduler)

    shocked = _with_assignment(scenario, result.extra.get("portfolio"))
    with Evaluator(
        shocked, entropy=entropy, paths=paths, workers=workers, scheduler=scheduler
    ) as evaluator:
        # Start every run the scan and the grid need at once, those at forecast growth
        # first: the break-even searches start from them while the rest of the grid runs.
        grid_points = [
            (v, g) for v in settings.volume_realization for g in settings.growth_realization
        ]
        scan = [(m, 1.0) for m in SCAN] if len(scenario.options) > 1 else []
        initial = scan + sorted(grid_points, key=lambda p: p[1] != 1.0)
        for v, g in initial:
            evaluator.submit((v, g, None))
        # Work of this process while the workers run.
        first_month, horizon = volume_basis(scenario, entropy=entropy, paths=paths)
        effects = sensitivity(inputs, totals, baseline)
        breakeven = breakeven_volumes(
            evaluator,
            baseline,
            first_month_requests=first_month,
            horizon_requests=horizon,
            also_scan=settings.volume_realization if 1.0 in settings.growth_realization else (),
        )
        grid = stress_grid(
            evaluator, settings.volume_realization, settings.growth_realization, baseline
        )
        curves = {n: evaluator.curve(n) for n in breakeven}
        runs = len(evaluator.points)
        workers_used = evaluator.workers
    method = {
        "paths": paths,
        "runs": runs,
        "volume_multiplier_range": [SCAN[0], SCAN[-1]],
        "tolerance": TOLERANCE,
        "requests_basis": "median first-month realized volume at the forecast (multiplier 1)",
        "first_month_requests_p50": first_month,
        "curve": {
            n: {"volume_multiplier": [m for m, _ in c], "p_cheaper": [p for _, p in c]}
            for n, c in curves.items()
        },
        "sensitivity_paths": used,
        "variance_bins": VARIANCE_BINS,
    }
    if shocked.workloads and settings.by_workload:
        extra_rows = {
            "stress_by_workload": _by_workload(shocked, entropy, paths, workers, scheduler)
        }
    else:
        extra_rows = {}
    extra = {
        **result.extra,
        **extra_rows,
        "stress": grid,
        "breakeven": breakeven,
        "sensitivity": {n: [e.to_dict() for e in items] for n, items in effects.items()},
        "stress_method": method,
    }
    timings = {
        **result.timings,
        "stress_s": time.perf_counter() - started,
        "stress_workers": float(workers_used),
    }
    return dataclasses.replace(result, extra=extra, timings=timings)


def _with_assignment(scenario: Scenario, found: Mapping[str, Any] | None) -> Scenario:
    """The scenario with its portfolio fixed to the assignment the run found, so each
    shock costs that assignment (and only its sets of workloads) beside every option."""
    if not found or found.get("assignment") is None:
        return scenario
    fixed = dataclasses.replace(scenario.portfolio, assign=MappingProxyType(found["assignment"]))
    return dataclasses.replace(scenario, portfolio=fixed)


def _sensitivity_paths(
    result: SimulationResult,
    sample: PathSample | Mapping[str, Any] | None,
    workers: int | None,
    scheduler: str | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """Inputs and totals of the run's first paths, and how many paths they cover."""
    limit = min(result.scenario.stress.sensitivity_paths, result.paths.paths)
    if sample is None and result.paths.record:
        sample = {"inputs": result.paths.draws, "totals": result.paths.totals}
    if sample is None:
        sample = PathSample(limit)
        simulate(
            result.scenario,
            paths=limit,
            seed=result.paths.entropy,
            workers=workers,
            scheduler=scheduler,
            path_sink=sample,
            path_fields=PathSample.fields,
        )
    if isinstance(sample, PathSample):
        inputs, totals = sample.inputs, sample.totals
    else:
        inputs, totals = dict(sample["inputs"]), dict(sample["totals"])
    inputs = {k: np.asarray(v)[:limit] for k, v in inputs.items()}
    totals = {k: np.asarray(v)[:limit] for k, v in totals.items()}
    used = min(limit, len(next(iter(totals.values()))))
    return inputs, totals, used
