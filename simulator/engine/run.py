"""Run a scenario: blocks of paths, common random numbers, streaming aggregates.

Paths are split into fixed-size blocks (:data:`~simulator.paths.sampling.BLOCK_SIZE`), each
seeded from its own child of ``SeedSequence(seed)``. Batches of blocks are costed
together, every option on the same draws, and folded into a
:class:`~simulator.engine.tally.Tally`; batches may run on several worker processes. The
outcome depends only on the scenario, the seed and the number of paths.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..costs import monthly_total, option_costs, per_path_total
from ..costs.pooled import portfolio_paths
from ..paths.batch import make_batch
from ..paths.sampling import BLOCK_SIZE, Block, Streams, plan_blocks, sample_inputs
from ..scenario.errors import ScenarioError
from ..scenario.model import Scenario
from ..scenario.requirements import exclusions, latency_met
from .arguments import checked_scenario, checked_scheduler, real_number, whole_number
from .executor import executor, result
from .tally import MAX_COST, Tally, breakeven_months, year_ends

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_COST",
    "PathResults",
    "Prepare",
    "breakeven_months",
    "default_workers",
    "discount_factors",
    "simulate",
    "year_ends",
]

DEFAULT_CHUNK_SIZE = 16_384
"""Paths costed together in one batch (rounded up to whole blocks)."""

Prepare = Callable[[Scenario, int, int, int, "str | None"], tuple[Scenario, dict[str, Any]]]
"""``prepare(scenario, entropy, paths, workers, scheduler) -> (scenario, policies)``,
run first."""


@dataclass
class PathResults:
    """The outcome of a run: streaming aggregates, and per-path arrays if kept.

    Attributes
    ----------
    tally
        Histograms and per-block sums of every option (see :class:`~simulator.engine.tally.Tally`).
    policies
        What ``prepare`` found before the run (the trigger search of each staged option
        whose trigger was ``"optimize"``; ``scenario`` then holds the trigger found).
    record
        With ``keep_paths``: dotted names (``total:api``, ``npv:api``, ``cash:api``,
        ``monthly:api``, ``breakeven:self_hosted``, ``by_year:self_hosted``,
        ``component:api:traffic``, ``input:workload.monthly_growth``,
        ``note:policy:migration_month``) to per-path arrays; otherwise empty.
    portfolio
        With a ``[portfolio]``: per path, each candidate's cost for each set of
        workloads (see :func:`~simulator.costs.pooled.portfolio_paths`), for the search.
    """

    scenario: Scenario
    paths: int
    seed: int | None
    entropy: int
    workers: int
    tally: Tally
    record: dict[str, np.ndarray] = field(default_factory=dict)
    precision: float | None = None
    elapsed_s: float = 0.0
    policies: dict[str, Any] = field(default_factory=dict)
    portfolio: dict[str, np.ndarray] = field(default_factory=dict)

    def __repr__(self) -> str:
        kept = f", {len(self.record)} per-path arrays kept" if self.record else ""
        seed = f"seed {self.seed}" if self.seed is not None else f"entropy {self.entropy}"
        return f"<PathResults {self.scenario.name!r}: {self.paths:,} paths, {seed}{kept}>"

    def to_frame(self):
        """One row per kept path: every sampled input and every option's total cost
        (the columns of the report's ``paths.csv``; needs ``keep_paths``).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``path``; columns ``input:KEY``, then ``total:NAME``.
        """
        from .frames import path_frame

        if not self.record:
            raise ValueError("per-path arrays were not kept: run with keep_paths=True")
        return path_frame(self.record)

    def _kept(self, prefix: str) -> dict[str, np.ndarray]:
        if not self.record:
            raise ValueError("per-path arrays were not kept: run with keep_paths=True")
        return {k[len(prefix) :]: v for k, v in self.record.items() if k.startswith(prefix)}

    @property
    def totals(self) -> dict[str, np.ndarray]:
        """Option name to total cost per path (needs ``keep_paths``)."""
        return self._kept("total:")

    @property
    def npv(self) -> dict[str, np.ndarray]:
        """Option name to discounted cost per path (needs ``keep_paths``)."""
        return self._kept("npv:")

    @property
    def cash(self) -> dict[str, np.ndarray]:
        """Option name to cash cost per path, the total without downtime (needs
        ``keep_paths``)."""
        return self._kept("cash:")

    @property
    def monthly(self) -> dict[str, np.ndarray]:
        """Option name to monthly cost, shape ``(paths, months)`` (needs ``keep_paths``)."""
        return self._kept("monthly:")

    @property
    def breakeven(self) -> dict[str, np.ndarray]:
        """Rival name to its 1-based break-even month per path, 0 for never."""
        return self._kept("breakeven:")

    @property
    def cheaper_by_year(self) -> dict[str, np.ndarray]:
        """Rival name to cheaper-than-baseline at each year end, ``(paths, years)``."""
        return self._kept("by_year:")

    @property
    def draws(self) -> dict[str, np.ndarray]:
        """Dotted key path of each uncertain input to its sampled values."""
        return self._kept("input:")

    @property
    def components(self) -> dict[str, dict[str, np.ndarray]]:
        """Option name to each cost component's total per path."""
        out: dict[str, dict[str, np.ndarray]] = {}
        for key, values in self._kept("component:").items():
            name, component = key.split(":", 1)
            out.setdefault(name, {})[component] = values
        return out


PORTFOLIO = "portfolio"
"""The prefix of the per-path arrays of the portfolio search in a batch's record."""


def discount_factors(scenario: Scenario) -> np.ndarray:
    """Weight of each month in the NPV: ``(1 + discount_rate)**(-t/12)``."""
    t = np.arange(scenario.horizon_months)
    return np.power(1.0 + scenario.discount_rate, -t / 12)


def default_workers() -> int:
    """Worker processes to use by default: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _new_tally(scenario: Scenario) -> Tally:
    # Exclusions known before the run (a latency requirement is judged on the paths).
    excluded = tuple(exclusions(scenario, {}))
    return Tally(tuple(scenario.options), scenario.baseline, discount_factors(scenario), excluded)


def _cost_batch(
    scenario: Scenario,
    entropy: int,
    blocks: list[Block],
    keep: bool | tuple[str, ...],
    tally: Tally,
    scales: tuple[float, float] = (1.0, 1.0),
    limit: int | None = None,
) -> dict[str, np.ndarray]:
    """Sample and cost one batch of blocks, count it into ``tally``, and return its
    per-path arrays if ``keep`` (all of them, or those whose names start with one of
    the prefixes ``keep`` lists) and the batch starts before path ``limit`` (if any).
    ``scales`` are the volume and growth multipliers."""
    if limit is not None and blocks[0][0] * BLOCK_SIZE >= limit:
        keep = False
    streams = Streams(entropy, blocks)
    # Extreme inputs may overflow; the totals are checked once the run is complete.
    with np.errstate(over="ignore", invalid="ignore"):
        draws = sample_inputs(scenario, streams)
        batch = make_batch(scenario, streams, draws, volume_scale=scales[0], growth_scale=scales[1])
        monthly, components = {}, {}
        for name in scenario.options:
            parts = option_costs(batch, name)
            monthly[name] = monthly_total(parts, batch.shape)
            components[name] = {k: per_path_total(v, batch.shape) for k, v in parts.items()}
        notes = {name: dict(batch.notes.get(name, {})) for name in scenario.options}
        for name, met in latency_met(scenario, batch).items():
            notes[name]["latency_met"] = met
        outcome = tally.add(blocks, monthly, components, notes)
    record: dict[str, np.ndarray] = {}
    if keep:
        record.update(outcome)
        record.update({f"monthly:{n}": m.T for n, m in monthly.items()})
        record.update({f"input:{k}": v for k, v in draws.items()})
        for name, parts in components.items():
            record.update({f"component:{name}:{k}": v for k, v in parts.items()})
        for name, values in notes.items():
            record.update({f"note:{name}:{k}": v for k, v in values.items()})
        if isinstance(keep, tuple):
            record = {k: v for k, v in record.items() if k.startswith(keep)}
    if scenario.portfolio is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            record.update(portfolio_paths(batch, shocked=scales != (1.0, 1.0)))
    batch.release()
    return record


# Batches submitted to each worker ahead of the one being consumed.
_IN_FLIGHT_PER_WORKER = 2

# Blocks in the first round of a run to a precision, and at least in each later one.
_ROUND_BLOCKS = 16


@dataclass
class _Job:
    """What every batch of one run shares, handed to each worker once. A local worker
    keeps its own copy, with ``tally`` the batches it costed are counted into."""

    scenario: Scenario
    entropy: int
    keep: bool | tuple[str, ...]
    scales: tuple[float, float]
    limit: int | None
    barrier: Any = None
    tally: Tally | None = None


def _batch_in_worker(job: _Job, group: list[Block]) -> dict[str, np.ndarray]:
    """Cost one batch in a local worker, counting it into the worker's own tally (sent
    back once at the end: a tally, with its histograms, costs far more to ship than a
    batch's per-path arrays); return its kept per-path arrays."""
    if job.tally is None:
        job.tally = _new_tally(job.scenario)
    return _cost_batch(job.scenario, job.entropy, group, job.keep, job.tally, job.scales, job.limit)


def _flush(job: _Job, _: int) -> Tally | None:
    """Hand back the worker's tally (``None`` if it costed nothing) and start afresh.

    Every worker takes exactly one of these tasks: each waits at the barrier until all
    of them hold one.
    """
    job.barrier.wait()
    tally, job.tally = job.tally, None
    return tally


def _batch_with_tally(job: _Job, group: list[Block]) -> tuple[dict[str, np.ndarray], Tally]:
    """Cost one batch on a worker that keeps nothing (a cluster's): its kept arrays
    and a tally of its own."""
    tally = _new_tally(job.scenario)
    record = _cost_batch(job.scenario, job.entropy, group, job.keep, tally, job.scales, job.limit)
    return record, tally


def _run_batches(
    scenario: Scenario,
    entropy: int,
    groups: list[list[Block]],
    keep: bool | tuple[str, ...],
    workers: int,
    tally: Tally,
    scales: tuple[float, float] = (1.0, 1.0),
    limit: int | None = None,
    scheduler: str | None = None,
) -> Iterator[tuple[Tally, list[tuple[list[Block], dict]]]]:
    """Yield (tally, [(batch, kept paths)]): each batch in path order, with ``tally``
    itself when it is already counted in it, else with the tally to merge. In a single
    process the batches are counted straight into ``tally``."""
    if scheduler is None and (workers <= 1 or len(groups) < 2):
        for group in groups:
            record = _cost_batch(scenario, entropy, group, keep, tally, scales, limit)
            yield tally, [(group, record)]
        return
    job = _Job(scenario, entropy, keep, scales, limit)
    if scheduler is None:
        import multiprocessing  # only for parallel runs: it costs a noticeable import

        workers = min(workers, len(groups))
        job.barrier = multiprocessing.get_context("fork").Barrier(workers)
        # Sample one path first, so that lazy imports and tabulated inverse CDFs are
        # made once here and inherited by the forked workers instead of made in each.
        sample_inputs(scenario, Streams(entropy, [(0, 1)]))
    with executor(workers, job, scheduler=scheduler) as pool:
        task = _batch_in_worker if pool.holds_state else _batch_with_tally
        # A few batches per worker in flight, submitted as results are taken: a slow
        # consumer (paths.csv) must not let finished batches pile up in memory.
        ahead = _IN_FLIGHT_PER_WORKER * pool.workers
        pending = deque(pool.submit(task, g) for g in groups[:ahead])
        for i, group in enumerate(groups):
            done = result(pending.popleft())
            if i + ahead < len(groups):
                pending.append(pool.submit(task, groups[i + ahead]))
            if pool.holds_state:
                yield tally, [(group, done)]
            else:
                yield done[1], [(group, done[0])]
        if pool.holds_state:
            for part in pool.map(_flush, range(pool.workers)):
                if part is not None:
                    yield part, []


def simulate(
    scenario: Scenario,
    *,
    paths: int | None = None,
    seed: int | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    precision: float | None = None,
    keep_paths: bool = False,
    path_sink: Callable[[int, dict[str, np.ndarray]], None] | None = None,
    path_fields: tuple[str, ...] | None = None,
    progress: Callable[[int, int], None] | None = None,
    volume_scale: float = 1.0,
    growth_scale: float = 1.0,
    path_limit: int | None = None,
    prepare: Prepare | None = None,
    scheduler: str | None = None,
) -> PathResults:
    """Sample and cost every path of ``scenario``.

    Parameters
    ----------
    scenario
        A validated scenario.
    paths, seed
        Override the scenario's ``paths`` and ``seed``. With no seed anywhere, fresh
        entropy is drawn and recorded in the result so the run can be repeated.
    chunk_size
        Paths costed together (rounded up to whole blocks of 4096); affects memory and
        speed only, never the results.
    workers
        Processes costing batches in parallel (default: every available core);
        results are identical to a single worker.
    precision
        Add blocks until the standard error of every P(cheaper) and of every option's
        mean total cost (relative to that mean) is at most this, with ``paths`` as the
        cap (see :meth:`~simulator.engine.tally.Tally.standard_errors`). The result is that of
        a plain run with the number of paths it ends with.
    keep_paths
        Also keep every per-path array (memory grows with paths).
    path_sink
        Called as ``path_sink(first_path, arrays)`` with each batch's per-path arrays
        (named as in :attr:`PathResults.record`), in path order, as batches finish:
        a way to stream every path to disk in flat memory.
    path_fields
        Name prefixes (``"input:"``, ``"total:"``...) of the arrays the sink needs;
        the others are not sent back from worker processes. Default: all.
    progress
        Called as ``progress(paths_done, paths_total)`` after each batch.
    volume_scale, growth_scale
        Forecast shocks on the same draws: multiply every path's realized volume level
        (``requests_per_month * volume_realization``) and realized growth rate
        (``monthly_growth * growth_realization``). At 1 (the default) the run is exactly
        the scenario's; any other value changes nothing else, so runs that differ only
        in these share every random number (common random numbers).
    path_limit
        Send per-path arrays to ``path_sink`` only for batches that start before this
        path (the sink then gets empty arrays for the others): for a sink that keeps
        only the run's first paths.
    prepare
        Called as ``prepare(scenario, entropy, paths, workers, scheduler)`` before the
        first batch;
        returns the scenario to run and what it found, kept as
        :attr:`PathResults.policies`. :func:`simulator.decide.policy.simulate` passes
        the trigger search here, so the engine never imports the decisions above it.
    scheduler
        The address of a Dask distributed scheduler (``tcp://HOST:PORT``) to cost the
        batches on instead of local processes; the results are the same to the byte.

    Returns
    -------
    PathResults
    """
    scenario = checked_scenario(scenario)
    paths, seed, chunk_size, workers = (
        whole_number(key, value)
        for key, value in (
            ("paths", paths),
            ("seed", seed),
            ("chunk_size", chunk_size),
            ("workers", workers),
        )
    )
    precision, volume_scale, growth_scale = (
        real_number(key, value)
        for key, value in (
            ("precision", precision),
            ("volume_scale", volume_scale),
            ("growth_scale", growth_scale),
        )
    )
    scheduler = checked_scheduler(scheduler)
    paths = scenario.paths if paths is None else paths
    seed = scenario.seed if seed is None else seed
    chunk_size = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
    workers = default_workers() if workers is None else workers
    if paths < 1:
        raise ScenarioError(f"paths must be at least 1, got {paths}", key="paths")
    if chunk_size < 1:
        raise ScenarioError(f"chunk size must be at least 1, got {chunk_size}", key="chunk_size")
    if workers < 1:
        raise ScenarioError(f"workers must be at least 1, got {workers}", key="workers")
    if seed is not None and seed < 0:
        raise ScenarioError(f"seed must be >= 0, got {seed}", key="seed")
    if precision is not None and not precision > 0:
        raise ScenarioError(f"precision must be above 0, got {precision}", key="precision")
    for key, scale in (("volume_scale", volume_scale), ("growth_scale", growth_scale)):
        if not (math.isfinite(scale) and scale >= 0):
            raise ScenarioError(f"{key} must be a finite number >= 0, got {scale}", key=key)
    scales = (float(volume_scale), float(growth_scale))
    entropy = np.random.SeedSequence().entropy if seed is None else seed

    started = time.perf_counter()
    policies: dict[str, Any] = {}
    if prepare is not None:
        scenario, policies = prepare(scenario, entropy, paths, workers, scheduler)
    tally = _new_tally(scenario)
    kept: list[dict[str, np.ndarray]] = []
    portfolio: list[dict[str, np.ndarray]] = []
    per_batch = max(1, math.ceil(chunk_size / BLOCK_SIZE))

    def run_blocks(blocks: list[Block], done: int) -> None:
        groups = [blocks[i : i + per_batch] for i in range(0, len(blocks), per_batch)]
        if keep_paths or (path_sink is not None and path_fields is None):
            wanted: bool | tuple[str, ...] = True
        else:
            wanted = tuple(path_fields) if path_sink is not None else False
        runs = _run_batches(
            scenario, entropy, groups, wanted, workers, tally, scales, path_limit, scheduler
        )
        for part, batches in runs:
            if part is not tally:
                tally.merge(part)
            for group, record in batches:
                pooled = {k: record.pop(k) for k in list(record) if k.startswith(PORTFOLIO)}
                if pooled:
                    portfolio.append(pooled)
                if path_sink is not None:
                    path_sink(group[0][0] * BLOCK_SIZE, record)
                if keep_paths:
                    kept.append(record)
                done += sum(n for _, n in group)
            if progress is not None:
                progress(done, paths)

    if precision is None:
        used = paths
        run_blocks(plan_blocks(paths), 0)
    else:
        used, goal = 0, min(paths, _ROUND_BLOCKS * BLOCK_SIZE)
        while True:
            run_blocks([b for b in plan_blocks(goal) if b[0] * BLOCK_SIZE >= used], used)
            used = goal
            worst = max(tally.standard_errors(scenario.sampling).values(), default=0.0)
            if worst <= precision or used >= paths:
                break
            # Standard errors shrink as 1/sqrt(paths): aim a little past the estimate.
            wanted = max(used * (worst / precision) ** 2 * 1.1, used + _ROUND_BLOCKS * BLOCK_SIZE)
            goal = min(paths, math.ceil(wanted / BLOCK_SIZE) * BLOCK_SIZE)
    record = {key: np.concatenate([r[key] for r in kept]) for key in kept[0]} if keep_paths else {}
    pooled = (
        {k: np.concatenate([p[k] for p in portfolio]) for k in portfolio[0]} if portfolio else {}
    )
    return PathResults(
        scenario=scenario,
        paths=used,
        seed=seed,
        entropy=entropy,
        workers=workers,
        tally=tally,
        record=record,
        precision=precision,
        elapsed_s=time.perf_counter() - started,
        policies=policies,
        portfolio=pooled,
    )
