"""What if the volume forecast is wrong: a stress grid and the break-even volume (no I/O).

Every run here is the engine's, on the main run's seed and its first
``[stress] paths`` paths (20,000 by default, never more than the main run), with only
the engine's ``volume_scale`` and ``growth_scale`` changed. Each input has its own
seeded stream per block, so these runs reuse every draw of each other and of the main
run (common random numbers): a difference between two of them is the shock, not noise.

- **Stress grid**: one run per pair of ``[stress]`` multipliers, on each path's
  realized volume level and realized growth rate.
- **Break-even volume**: for every option but the baseline, the smallest multiplier on
  realized volume, within [0.01, 100], at which P(cheaper than the baseline) reaches
  50% and 80%: a scan over :data:`SCAN` (9 multipliers, a factor sqrt(10) apart, and
  the grid's own volume multipliers at forecast growth), then, between the first
  scanned multiplier that reaches the target and the one
  below it, a bracketing search in log space (regula falsi with the Illinois
  modification, kept within one step of bisection's worst case) until the bracket
  is within :data:`TOLERANCE` (0.1%) relative. The upper end of the final bracket is reported:
  P(cheaper) reaches the target there, and not 0.1% below it. The search's runs cost
  only the option, the baseline and what they draw on (:func:`costed_with`): the
  same draws, in a fraction of the time.

:func:`stress_test` runs both, adds the sensitivity analysis
(:mod:`simulator.sensitivity`) and returns the result with the summary keys
``stress``, ``breakeven``, ``sensitivity`` and ``stress_method``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine.run import default_workers
from ..scenario.errors import ScenarioError
from ..scenario.model import Scenario
from ..scenario.requirements import relies_on
from .policy import simulate
from .sensitivity import VARIANCE_BINS, PathSample, sensitivity
from .summary import SimulationResult, summarize

if TYPE_CHECKING:  # concurrent.futures is imported when a stress test runs
    from concurrent.futures import Future

__all__ = [
    "REASONS",
    "SCAN",
    "TARGETS",
    "TOLERANCE",
    "Evaluator",
    "StressPoint",
    "breakeven_volumes",
    "collecting",
    "costed_with",
    "evaluate",
    "stress_grid",
    "stress_test",
    "volume_basis",
]

SCAN = tuple(10 ** (k / 2) for k in range(-4, 5))
"""Volume multipliers scanned first: 0.01 to 100, a factor sqrt(10) apart (1 among them).
The stress grid's volume multipliers at forecast growth join the scan."""

TOLERANCE = 0.001
"""Relative width to which the break-even multiplier is bisected."""

TARGETS = (0.5, 0.8)
"""The P(cheaper) levels whose break-even volume is sought."""

REASONS = {
    "cheaper_at_lowest_volume": "P(cheaper) already reaches the target at the lowest "
    "multiplier (0.01): the option wins at any volume in the range",
    "marginal_cost_not_below_baseline": "its marginal cost per request at high volume is "
    "not below the baseline's, so more volume does not help",
    "not_reached_by_highest_volume": "its marginal cost per request is below the baseline's, "
    "but P(cheaper) has not reached the target at 100 times the volume",
}
"""Why a break-even multiplier is null (the codes of ``breakeven.NAME.reason_p50``)."""


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


def costed_with(scenario: Scenario, name: str) -> tuple[str, ...]:
    """The options a run needs to compare ``name`` with the baseline: both, and every
    option they draw on (fallbacks, hybrid routes, a staged policy's stages), in
    scenario order."""
    needed = {*relies_on(scenario, scenario.baseline), *relies_on(scenario, name)}
    return tuple(n for n in scenario.options if n in needed)


def _restricted(scenario: Scenario, options: tuple[str, ...] | None) -> Scenario:
    """``scenario`` costing only ``options``. Its draws are the full scenario's: inputs,
    designs and monthly streams are keyed by name, and the inputs stay the same."""
    if options is None:
        return scenario
    kept = {n: scenario.options[n] for n in options}
    return dataclasses.replace(scenario, options=MappingProxyType(kept))


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
    )


Task = tuple[float, float, "tuple[str, ...] | None"]
"""A point to run: volume multiplier, growth multiplier, options costed (None: all)."""

# Set before worker processes fork, so a task carries only its multipliers.
_JOB: tuple[Scenario, int, int] | None = None


def _task(task: Task) -> StressPoint:
    assert _JOB is not None
    scenario, entropy, paths = _JOB
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
    """Runs stress points and remembers them; several at once on forked processes.

    Each point is one single-process engine run, so the points of a round run side by
    side (a point's answer does not depend on where it ran).

    Parameters
    ----------
    scenario, entropy, paths
        What to run: the main run's scenario and seed entropy, and how many of its
        first paths.
    workers
        Processes running points side by side (default: every available core).
    """

    def __init__(
        self, scenario: Scenario, *, entropy: int, paths: int, workers: int | None = None
    ) -> None:
        self.scenario = scenario
        self.entropy = entropy
        self.paths = paths
        self.workers = default_workers() if workers is None else workers
        self.points: dict[Task, StressPoint] = {}
        self._running: dict[Task, Future] = {}
        self._pool = None

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        global _JOB
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
            _JOB = None

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
        return [future.result() for future in futures]

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
        if self.workers > 1:
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

    def _parallel(self):
        global _JOB
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            _JOB = (self.scenario, self.entropy, self.paths)
            from ..engine.run import worker_initializer

            context = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=worker_initializer
            )
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


# ---------------------------------------------------------------------------
# The stress grid


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
    rows = []
    for point in evaluator.run(pairs):
        options = {}
        for name in point.p_cheapest:
            options[name] = {
                "p_cheaper": None if name == baseline else point.p_cheaper[name],
                "savings_p50": None if name == baseline else point.savings_p50[name],
                "p_cheapest": point.p_cheapest[name],
                "expected_regret": point.expected_regret[name],
            }
        rows.append(
            {
                "volume_realization": point.volume_scale,
                "growth_realization": point.growth_scale,
                "options": options,
            }
        )
    return rows


# ---------------------------------------------------------------------------
# Break-even volume


@dataclass
class _Bracket:
    """A search for the multiplier at which one option's P(cheaper) reaches ``target``:
    at log multiplier ``low`` it falls short, at ``high`` it reaches it.

    Each try is the regula falsi point (Illinois-weighted: an end kept twice in a row
    has its weight halved, which pulls the next try towards it), projected onto a
    window around the midpoint that shrinks so that the search never takes more than
    one step beyond what bisection would (the projection of the ITP method, Oliveira
    and Takahashi 2020).
    """

    name: str
    target: float
    low: float
    p_low: float
    high: float
    p_high: float
    multiplier: float
    """The multiplier at ``high``, exactly as run."""
    moved: str = ""
    weight_low: float = 1.0
    weight_high: float = 1.0
    steps: int = 0

    def __post_init__(self) -> None:
        halvings = max(0, math.ceil(math.log2(self.width / math.log1p(TOLERANCE))))
        self.max_steps = halvings + 1

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def done(self) -> bool:
        return self.width <= math.log1p(TOLERANCE)

    def propose(self) -> float:
        """The next log multiplier to try (strictly inside the bracket)."""
        width = self.width
        middle = self.low + width / 2
        f_low = (self.p_low - self.target) * self.weight_low
        f_high = (self.p_high - self.target) * self.weight_high
        x = middle
        if f_high - f_low > 0:
            x = self.low + width * (-f_low) / (f_high - f_low)
        radius = math.log1p(TOLERANCE) / 2 * 2.0 ** (self.max_steps - self.steps) - width / 2
        x = min(max(x, middle - max(radius, 0.0)), middle + max(radius, 0.0))
        margin = min(width / 100, math.log1p(TOLERANCE) / 4)
        return min(max(x, self.low + margin), self.high - margin)

    def update(self, multiplier: float, p: float) -> None:
        """Take the P(cheaper) found at ``multiplier`` (inside the bracket)."""
        x = math.log(multiplier)
        self.steps += 1
        if p >= self.target:
            self.high, self.p_high, self.multiplier = x, p, multiplier
            self.weight_high = 1.0
            if self.moved == "high":
                self.weight_low /= 2
            self.moved = "high"
        else:
            self.low, self.p_low = x, p
            self.weight_low = 1.0
            if self.moved == "low":
                self.weight_high /= 2
            self.moved = "low"


def volume_basis(scenario: Scenario, *, entropy: int, paths: int) -> tuple[float, float]:
    """Median first-month realized volume (requests), and mean realized requests over
    the horizon, on the first ``paths`` paths of the run seeded by ``entropy``, at the
    scenario's own forecast (multiplier 1): the same draws the engine makes."""
    from ..paths.batch import make_batch
    from ..paths.sampling import BLOCK_SIZE, Streams, plan_blocks, sample_inputs

    first, total = [], 0.0
    blocks = plan_blocks(paths)
    step = max(1, 65_536 // BLOCK_SIZE)
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(0, len(blocks), step):
            streams = Streams(entropy, blocks[i : i + step])
            batch = make_batch(scenario, streams, sample_inputs(scenario, streams))
            first.append(batch.volume[0].copy())
            total += float(batch.volume.sum())
    return float(np.median(np.concatenate(first))), total / paths


def breakeven_volumes(
    evaluator: Evaluator,
    baseline: str,
    *,
    first_month_requests: float,
    horizon_requests: float,
    targets: Iterable[float] = TARGETS,
    also_scan: Iterable[float] = (),
) -> dict[str, dict[str, Any]]:
    """The summary's ``breakeven``: for every option but the baseline, the volume
    multiplier at which P(cheaper) reaches each target, as requests per month and as
    the baseline's monthly spend; null with a reason code where it is not reached.

    Parameters
    ----------
    evaluator
        Runs the points (its cache supplies the scan points already run).
    baseline
        The baseline option.
    first_month_requests
        Median first-month realized volume at multiplier 1 (requests).
    horizon_requests
        Mean realized requests over the horizon at multiplier 1, for the marginal cost
        per request at high volume.
    targets
        The P(cheaper) levels to reach.
    also_scan
        More volume multipliers to scan besides :data:`SCAN` (the stress grid's, at
        forecast growth); those outside [0.01, 100] are left out.
    """
    targets = tuple(targets)
    scenario = evaluator.scenario
    names = [n for n in scenario.options if n != baseline]
    if not names:
        return {}
    volumes = sorted({*SCAN, *(float(m) for m in also_scan if SCAN[0] <= m <= SCAN[-1])})
    scan = evaluator.run((m, 1.0) for m in volumes)
    brackets: list[_Bracket] = []
    found: dict[tuple[str, float], float | None] = {}
    reasons: dict[tuple[str, float], str | None] = {}
    # Marginal cost per request between the two highest scanned multipliers.
    top, below = scan[-1], scan[-2]
    extra_requests = (top.volume_scale - below.volume_scale) * horizon_requests
    marginal = {
        n: (top.mean_total[n] - below.mean_total[n]) / extra_requests if extra_requests else None
        for n in top.mean_total
    }
    for name in names:
        for target in targets:
            p = [point.p_cheaper[name] for point in scan]
            reached = [i for i, value in enumerate(p) if value >= target]
            if not reached:
                found[name, target] = None
                mine, base = marginal[name], marginal[baseline]
                slower = mine is not None and base is not None and mine >= base
                reasons[name, target] = (
                    "marginal_cost_not_below_baseline"
                    if slower
                    else "not_reached_by_highest_volume"
                )
            elif reached[0] == 0:
                found[name, target] = None
                reasons[name, target] = "cheaper_at_lowest_volume"
            else:
                i = reached[0]
                brackets.append(
                    _Bracket(
                        name,
                        target,
                        math.log(scan[i - 1].volume_scale),
                        p[i - 1],
                        math.log(scan[i].volume_scale),
                        p[i],
                        scan[i].volume_scale,
                    )
                )

    # Each search goes on as soon as its own last run is done (no rounds), so that the
    # workers stay busy; a search's steps depend on its own runs only.
    def step(bracket: _Bracket) -> Future:
        task = (math.exp(bracket.propose()), 1.0, costed_with(scenario, bracket.name))
        return evaluator.submit(task)

    from concurrent.futures import FIRST_COMPLETED, wait

    pending = {step(b): b for b in brackets if not b.done}
    while pending:
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            bracket = pending.pop(future)
            point = future.result()
            bracket.update(point.volume_scale, point.p_cheaper[bracket.name])
            if not bracket.done:
                pending[step(bracket)] = bracket
    for bracket in brackets:
        found[bracket.name, bracket.target] = bracket.multiplier
        reasons[bracket.name, bracket.target] = None

    out: dict[str, dict[str, Any]] = {}
    for name in names:
        entry: dict[str, Any] = {}
        for target in targets:
            key = f"p{round(target * 100)}"
            multiplier = found[name, target]
            spend = None
            if multiplier is not None:
                at = [p for (m, g, _), p in evaluator.points.items() if (m, g) == (multiplier, 1.0)]
                spend = at[0].first_month_p50[baseline]
            entry[f"volume_multiplier_{key}"] = multiplier
            entry[f"requests_per_month_{key}"] = (
                None if multiplier is None else multiplier * first_month_requests
            )
            entry[f"baseline_monthly_spend_{key}"] = spend
            entry[f"reason_{key}"] = reasons[name, target]
        entry["p_cheaper_at_lowest"] = scan[0].p_cheaper[name]
        entry["p_cheaper_at_highest"] = scan[-1].p_cheaper[name]
        entry["marginal_cost_per_request"] = marginal[name]
        entry["baseline_marginal_cost_per_request"] = marginal[baseline]
        out[name] = entry
    return out


# ---------------------------------------------------------------------------
# All of it


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
) -> SimulationResult:
    """Stress grid, break-even volume and sensitivity of a finished run.

    Parameters
    ----------
    result
        The main run's result (its seed entropy and path count are reused).
    sample
        Per-path inputs and totals of the run's first paths, for the sensitivity
        analysis: a :class:`~simulator.sensitivity.PathSample` collected during the run
        (as :func:`simulator.run` does with ``stress=True``). Without one, the arrays a
        run kept (``keep_paths``) are used, and failing those the first
        ``[stress] sensitivity_paths`` paths are run again (same seed: the same paths).
    workers
        Processes running stress points side by side (default: every available core).

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
    inputs, totals, used = _sensitivity_paths(result, sample, workers)

    with Evaluator(scenario, entropy=entropy, paths=paths, workers=workers) as evaluator:
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
    extra = {
        **result.extra,
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


def _sensitivity_paths(
    result: SimulationResult, sample: PathSample | Mapping[str, Any] | None, workers: int | None
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
